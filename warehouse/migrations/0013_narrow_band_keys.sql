-- MinHash band keys of 32 bits instead of 64 (issues 22 and 18).
--
-- A load finds its new articles' near-duplicate candidates by reading the whole band_key column: 32 keys
-- per article, 256 MB of 64-bit keys at a million articles, read on every load (no index pays, see
-- benchmarks/RESULTS.md) and held in the loading process's memory until it closes the warehouse. 32-bit
-- keys halve both. A key is now the low 32 bits of the old one (warehouse/minhash.py band_keys: the first
-- 4 bytes of the band's 8-byte BLAKE2b digest), so the keys already stored are converted here and keep
-- matching the keys of new articles. Keys shared by chance, more likely with 32 bits (at a million
-- articles about one new article in four meets one), only add a candidate: a near duplicate is decided by
-- comparing the whole signatures, never by a key alone.

create table minhash_bands__new (
    band_key    integer not null,
    article_id  varchar not null
);
insert into minhash_bands__new
select
    cast(case when band_key & 4294967295 >= 2147483648 then (band_key & 4294967295) - 4294967296
              else band_key & 4294967295 end as integer),
    article_id
from minhash_bands;
drop table minhash_bands;
alter table minhash_bands__new rename to minhash_bands;
