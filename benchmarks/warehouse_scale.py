"""The warehouse at scale: a synthetic warehouse of N articles (default one million), its load time, and
the latency of every SQL cookbook query and of search.

The warehouse is generated inside DuckDB, with the real migrations and views: sources, entities and
topics are drawn with Zipf-like popularity (rank = floor(n ** u), density ~ 1/rank), about 6.5
entities and 3 topics per article (2 subtopics under each of the first two), places in 30 countries
(three in four of them cities), 3% of URLs revised once, 10% of articles copies of an earlier story, 5%
undated, rejections at a few percent. Then a run's worth of new articles is staged and
loaded through the real load path (anti-duplicate inserts, clustering against the MinHash bands of
all stored articles), and each cookbook query is timed (first run, then the best of three).
Each figure is the wall time and the measuring process's CPU seconds (all DuckDB threads): on a shared
machine the CPU seconds are the fairer comparison. Results are appended to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/warehouse_scale.py --articles 1000000 [--folder /tmp/scale] [--no-search]

Generating a million articles takes minutes: ``--generate-only`` builds the warehouse and stops, and
``--reuse`` measures a warehouse kept from an earlier run (a copy of it, to compare two commits on the
same data; the first writer's connection applies any newer migrations, and that time is reported).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from results import append_section, markdown_table

from broadsheet.config.records import Article, Batch, Enrichment, Entity, Salience, TopicScore
from broadsheet.config.settings import DedupSettings, TopicSettings, WarehouseSettings
from broadsheet.tasks.enrich import taxonomy_for
from broadsheet.tasks.extract import article_id, content_hash
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.loading import load_staged
from broadsheet.warehouse.migrate import MIGRATIONS_DIR
from broadsheet.warehouse.runs import record_topics
from broadsheet.warehouse.search import open_index, refresh_index, search_text
from broadsheet.warehouse.staging import stage_batch, staging_dir

VOCABULARY = ("government", "council", "minister", "election", "vote", "party", "budget", "tax", "bank",
              "market", "shares", "inflation", "rates", "court", "police", "report", "hospital", "health",
              "vaccine", "school", "teachers", "students", "rail", "tram", "airport", "port", "harbour",
              "river", "flood", "storm", "drought", "energy", "solar", "wind", "oil", "gas", "prices", "wages",
              "strike", "union", "company", "profit", "factory", "workers", "trade", "exports", "talks",
              "summit", "treaty", "army", "border", "refugees", "climate", "science", "research", "museum",
              "festival", "film", "music", "football", "match", "league", "coach", "players", "season",
              "record",)

# Places get one of these countries (a quarter of them the country itself, the rest its cities, with
# coordinates), so the explorer's map has places to count.
COUNTRIES = ["US", "GB", "FR", "DE", "IE", "PT", "ES", "IT", "NL", "PL", "UA", "TR", "EG", "NG", "KE", "ZA", "IN",
             "CN", "JP", "KR", "ID", "AU", "BR", "AR", "MX", "CA", "RU", "IR", "IL", "SA"]

COOKBOOK: dict[str, str] = {
    "latest_articles: newest 20": "select title, source_id, article_date from latest_articles "
                                  "order by first_seen_at desc limit 20",
    "daily_entity_counts: top entities of a week": "select name, sum(stories) as stories from daily_entity_counts "
                                                   "where day between date '2025-06-01' and date '2025-06-07' "
                                                   "group by name order by stories desc limit 10",
    "entity_cooccurrence: an entity's companions": "select entity_b, articles from entity_cooccurrence "
                                                   "where entity_a = 'Entity 2' order by articles desc limit 10",
    "entity_companions('Entity 2')": "select name, articles, stories from entity_companions('Entity 2') limit 10",
    "topic_trends: weekly stories per topic": "select date_trunc('week', day) as week, label, sum(stories) "
                                              "from topic_trends group by all order by week desc, 3 desc limit 20",
    "source_health: all sources": "select * from source_health order by fetch_success_rate limit 10",
    "duplicate_clusters: biggest stories": "select original_title, copies, sources from duplicate_clusters "
                                           "limit 10",
    "article_versions: revised articles": "select canonical_url, versions from latest_articles where versions > 1 "
                                          "order by first_seen_at desc limit 10",
    "entity_mention_counts: top 10": "select name, articles, mentions from entity_mention_counts limit 10",
    "topic_article_counts": "select label, articles from topic_article_counts",
}


def generate(conn: duckdb.DuckDBPyConnection, articles: int) -> None:
    """Fill a migrated warehouse with ``articles`` synthetic articles and everything about them."""
    entities = max(1000, articles // 5)
    conn.execute("select setseed(0.42)")
    conn.execute("create temp table vocabulary as select unnest(?::varchar[]) as word, "
                 "row_number() over () - 1 as n", [list(VOCABULARY)])
    words = len(VOCABULARY)
    conn.execute("""
        insert into sources select 'source-' || i, 'feed', 'https://s' || i || '.example/feed.xml', '1h',
            timestamptz '2025-01-01', timestamptz '2025-01-01' from range(200) t(i)""")
    conn.execute("""
        insert into runs (run_id, flow, status, started_at, ended_at)
        select 'run-' || d, 'ingest', 'completed', timestamptz '2025-01-01' + to_days(d::int),
               timestamptz '2025-01-01' + to_days(d::int) + interval 10 minute from range(365) t(d)""")
    conn.execute(f"""
        create temp table base as
        select i,
               md5('a' || i)[:32] as article_id,
               case when i % 33 = 1 then i - 1 else i end as url_number,
               floor(pow(200, random()))::int - 1 as source_number,
               floor(random() * 365)::int as day,
               random() < 0.05 as undated,
               -- a copy of an earlier article that is not a copy itself ((i * k) % i, used before, was 0)
               case when i > 100 and i % 10 = 0 then (hash(i) % (i - 1))::bigint // 10 * 10 + 1 end as copy_of
        from range({articles}) t(i)""")
    conn.execute(f"""
        insert into articles
        select b.article_id, 'https://s' || b.source_number || '.example/a/' || b.url_number,
               'https://s' || b.source_number || '.example/a/' || b.url_number, 'source-' || b.source_number,
               md5('p' || b.i)[:32],
               (select string_agg(word, ' ') from vocabulary where n in
                   (b.i % {words}, (b.i * 7) % {words}, (b.i * 13) % {words}, (b.i * 31) % {words})),
               ['Reporter ' || (b.i % 500)],
               case when b.undated then null else timestamptz '2025-01-01' + to_days(b.day) + to_hours(b.i % 24) end,
               timestamptz '2025-01-01' + to_days(b.day) + to_hours(b.i % 24) + interval 30 minute,
               'en', 's' || b.source_number || '.example',
               repeat('Story ' || b.i || ' about ' || (b.i % 977) || ' and ' || (b.i % 331) || '. ', 12) as body,
               md5('h' || b.i), 'synthetic', 'run-' || b.day, length(body)
        from base b""")
    conn.execute("""
        insert into pages
        select page_id, url, url, source_id, 'text/html', ''::blob, 20000, first_seen_at from articles
        where page_id is not null""")
    conn.execute(f"""
        insert into rejections (rejection_id, run_id, stage, url, source_id, error_type, message, transient,
                                rejected_at)
        select nextval('rejection_ids'), 'run-' || (i % 365),
               case when i % 3 = 0 then 'fetch' else 'extract' end, 'https://s' || (i % 200) || '.example/x/' || i,
               'source-' || floor(pow(200, random()))::int - 1,
               case when i % 3 = 0 then 'http_status' else 'no_text' end, 'synthetic', false,
               timestamptz '2025-01-01' + to_days((i % 365)::int)
        from range({articles // 25}) t(i)""")
    conn.execute(f"""
        insert into entities (entity_id, name, entity_type, normalized_name, first_seen_at, country_code,
                              latitude, longitude, gazetteer_id)
        select 'e' || i, 'Entity ' || i, ['person', 'organization', 'place'][i % 3 + 1], 'entity ' || i,
               timestamptz '2025-01-01', place.country,
               case when place.is_city then ((i * 37) % 150) - 70.0 end,
               case when place.is_city then ((i * 53) % 360) - 180.0 end,
               case when place.is_city then 'city:' || i
                    when place.country is not null then 'country:' || place.country end
        from range(1, {entities} + 1) t(i),
             lateral (select case when i % 3 = 2 then (?::varchar[])[(i // 3) % {len(COUNTRIES)} + 1] end as country,
                             i % 3 = 2 and (i // 3) % 4 <> 0 as is_city) as place""", [COUNTRIES])
    conn.execute(f"""
        insert into article_entities
        select distinct on (article_id, entity_id) article_id, entity_id, 1 + (j % 4), j = 0, j < 3, j * 40,
               0.5, 'synthetic'
        from (select b.article_id, j, 'e' || floor(pow({entities}, random()))::int as entity_id
              from base b, range(3 + (b.i % 8)::int) r(j))""")
    conn.execute("""
        insert into mentions select article_id, entity_id, replace(entity_id, 'e', 'Entity '), first_char + 1,
               first_char + 9, false, 'synthetic' from article_entities""")
    record_topics(conn, taxonomy_for(TopicSettings()))
    conn.execute("""
        insert into article_topics
        select b.article_id, t.topic_id, 0.6 - r * 0.1, r, t.taxonomy_version, 'synthetic'
        from (select article_id, floor(pow(17, random()))::int - 1 as first_topic from base) b, range(1, 4) q(r),
             (select topic_id, taxonomy_version, row_number() over (order by topic_id) - 1 as n from topics) t
        where t.n = (b.first_topic + (r - 1) * 5) % 17""")
    conn.execute("""
        insert into article_subtopics
        select picked.article_id, picked.topic_id, picked.topic_id || '/' || picked.number,
               'subtopic ' || picked.number || ' of ' || picked.topic_id, 3,
               picked.topic_id || '/' || picked.number % 4, 'group ' || picked.number % 4 || ' of ' || picked.topic_id,
               0.5 - picked.rank * 0.1, picked.rank, 'synthetic'
        from (select article_topics.article_id, article_topics.topic_id, q.rank,
                     (floor(pow(12, random()))::int + q.rank) % 12 as number
              from article_topics, range(1, 3) q(rank)
              where article_topics.rank <= 2) as picked""")
    conn.execute("""
        insert into article_clusters
        select b.article_id, coalesce(md5('a' || b.copy_of)[:32], b.article_id),
               case when b.copy_of is not null then 'near' when b.url_number <> b.i then 'revision'
                    else 'original' end, 0.9, null, [], timestamptz '2025-01-01',
               null  -- article_key: rebuild_derived sets it
        from base b""")
    conn.execute("insert into minhash_bands "
                 "select ((hash(article_id, band) % 4294967296)::bigint - 2147483648)::integer, article_id "
                 "from article_clusters, range(32) t(band)")
    conn.execute("drop table base")
    rebuild_derived(conn)


def rebuild_derived(conn: duckdb.DuckDBPyConnection) -> None:
    """Versions, clusters and aggregates as migrations 0010, 0012 and 0014 compute them for a warehouse loaded
    before them (loads keep them): the tables are built again by the migrations' own statements."""
    conn.execute("update entities set entity_key = md5_number_lower(entity_id)")
    conn.execute("update article_clusters set article_key = md5_number_lower(article_id)")
    for table in ("article_facts", "topic_day_stories", "story_clusters", "entity_mention_totals"):
        conn.execute(f"drop table {table}")
    conn.execute((MIGRATIONS_DIR / "0010_add_article_facts.sql").read_text(encoding="utf-8"))
    derived = (MIGRATIONS_DIR / "0012_add_story_and_topic_aggregates.sql").read_text(encoding="utf-8")
    conn.execute("create table article_facts__new" + derived.split("create table article_facts__new", 1)[1])
    conn.execute((MIGRATIONS_DIR / "0014_add_explorer_facts.sql").read_text(encoding="utf-8"))


def new_batch(number: int, size: int) -> Batch:
    """``size`` fresh articles with enrichments, as a flow's batch would carry them."""
    found: list[Article] = []
    enrichments = []
    for k in range(size):
        words = [VOCABULARY[(number * 131 + k * 17 + w * w) % len(VOCABULARY)] for w in range(120)]
        text = f"Batch {number} story {k}. " + " ".join(words)
        digest = content_hash(text)
        url = f"https://new.example/{number}/{k}"
        item = Article(article_id(url, digest), url, url, "source-new", f"New {number}-{k}", (), None, "en",
                       "new.example", text, digest, time_now(), "benchmark")
        entity = Entity(f"e{1 + k}", f"Entity {1 + k}", "person", f"entity {1 + k}")
        found.append(item)
        enrichments.append(Enrichment(item.article_id, (entity,), (), (TopicScore("politics", 0.5, 1),),
                                      "synthetic", "synthetic", "x", (Salience(entity.entity_id, 1, True, True, 0,
                                                                               0.9),)))
    return Batch(found, enrichments)


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def timed_cpu(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, this process's CPU seconds (every thread), and the result of ``action``."""
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - start, time.process_time() - cpu, result


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_queries(conn: duckdb.DuckDBPyConnection, skip: list[str]) -> list[list[str]]:
    rows = []
    for name, sql in COOKBOOK.items():
        if any(word in name for word in skip):
            continue
        first, first_cpu, result = timed_cpu(lambda sql=sql: conn.execute(sql).fetchall())
        best, best_cpu, _ = min((timed_cpu(lambda sql=sql: conn.execute(sql).fetchall()) for _ in range(3)),
                                 key=lambda timing: timing[0])
        rows.append([name, f"{first * 1000:.0f}", f"{first_cpu:.2f}", f"{best * 1000:.0f}", f"{best_cpu:.2f}",
                     str(len(result))])
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000, help="articles in the synthetic warehouse")
    parser.add_argument("--batches", type=int, default=10, help="batches of 50 new articles loaded after")
    parser.add_argument("--folder", type=Path, default=None, help="where the warehouse is built (a temp folder)")
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit while generating and querying")
    parser.add_argument("--no-search", action="store_true", help="skip the full-text index build and search")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--generate-only", action="store_true", help="build the warehouse, then stop")
    parser.add_argument("--reuse", action="store_true", help="measure the warehouse already in --folder")
    parser.add_argument("--skip", action="append", default=[], help="skip the queries whose name holds this")
    options = parser.parse_args()
    folder = options.folder or Path(tempfile.mkdtemp(prefix="broadsheet-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    settings = WarehouseSettings(path=folder / "scale.duckdb")
    if options.reuse and settings.path.exists():
        generate_seconds = 0.0
        size_before = settings.path.stat().st_size / 1e6
        opened, opened_cpu, conn = timed_cpu(lambda: connect(settings))  # applies newer migrations
        conn.execute("checkpoint")
        print(f"opened (migrations applied) in {opened:.1f}s, {opened_cpu:.1f} CPU s", flush=True)
    else:
        for stale in folder.glob("scale.duckdb*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        conn = connect(settings)
        conn.execute(f"set memory_limit = '{options.memory_limit}'")
        generate_seconds, _ = timed(lambda: generate(conn, options.articles))
        conn.execute("checkpoint")
        size_before, opened, opened_cpu = 0.0, 0.0, 0.0
    counts = {t: conn.execute(f"select count(*) from {t}").fetchone()[0]  # type: ignore[index]
              for t in ("articles", "article_entities", "article_topics", "minhash_bands", "entities")}
    blocks = conn.execute("select used_blocks from pragma_database_size()").fetchone()[0]  # type: ignore[index]
    conn.close()
    size_mb = settings.path.stat().st_size / 1e6
    print(f"generated in {generate_seconds:.1f}s: {counts}, {size_mb:.0f} MB ({size_before:.0f} MB before opening), "
          f"{blocks} used blocks", flush=True)
    if options.generate_only:
        return

    batch_times = []
    for number in range(options.batches):
        stage_batch(new_batch(number, 50), "bench", staging_dir(settings.path))
        conn = connect(settings)
        seconds, cpu, _ = timed_cpu(lambda conn=conn: load_staged(conn, staging_dir(settings.path), DedupSettings()))
        conn.close()
        batch_times.append((seconds, cpu))
        print(f"batch {number}: {seconds:.2f}s, {cpu:.2f} CPU s", flush=True)

    # Not connect(read_only=True): a reader's configuration is locked, and the queries need memory_limit.
    conn = duckdb.connect(str(settings.path), read_only=True, config={"memory_limit": options.memory_limit})
    conn.execute("set timezone = 'UTC'")
    query_rows = measure_queries(conn, options.skip)
    conn.close()

    search_rows = []
    if not options.no_search:
        index = open_index(settings)
        build, _ = timed(lambda: refresh_index(index))
        first, hits = timed(lambda: search_text(index, "harbour flood storm"))
        best = min(timed(lambda: search_text(index, "harbour flood storm"))[0] for _ in range(3))
        index.close()
        search_rows = [["full-text index build (all latest articles)", f"{build * 1000:.0f}", "", "", "", ""],
                       ["search 'harbour flood storm' (BM25, top 10)", f"{first * 1000:.0f}", "", f"{best * 1000:.0f}",
                        "", str(len(hits))]]
        print(search_rows, flush=True)
    print(f"peak resident memory {peak_memory_mb():.0f} MB", flush=True)

    if not options.no_record:
        record(options, counts, size_mb, generate_seconds, (opened, opened_cpu), batch_times,
               query_rows + search_rows)


def record(options: argparse.Namespace, counts: dict[str, int], size_mb: float, generate_seconds: float,
           opened: tuple[float, float], batch_times: list[tuple[float, float]], rows: list[list[str]]) -> None:
    walls = sorted(t for t, _ in batch_times)
    cpus = sorted(c for _, c in batch_times)
    facts = {
        "articles": f"{options.articles:,}", "rows": ", ".join(f"{t} {n:,}" for t, n in counts.items()),
        "warehouse file": f"{size_mb:,.0f} MB", "memory_limit": options.memory_limit,
        "peak resident memory": f"{peak_memory_mb():,.0f} MB",
        "generate (synthetic bulk insert, SQL)": f"{generate_seconds:.1f} s" if not options.reuse else "reused",
        "open (migrations applied)": f"{opened[0]:.1f} s, {opened[1]:.1f} CPU s",
        "load through the real path (batches of 50 new articles: staged JSON, anti-duplicate inserts, "
        "MinHash clustering against every stored article)": f"median {walls[len(walls) // 2]:.2f} s "
        f"({cpus[len(cpus) // 2]:.2f} CPU s), max {walls[-1]:.2f} s per batch ({options.batches} batches)",
    }
    body = markdown_table(["query", "first run (ms)", "first run (CPU s)", "best of 3 (ms)", "best of 3 (CPU s)",
                           "rows"], rows)
    append_section("Warehouse at scale (benchmarks/warehouse_scale.py)", facts, body)


if __name__ == "__main__":
    main()
