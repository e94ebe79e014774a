-- Entities (and their aliases) no mention points to any more: left behind when re-enrichment moved
-- every mention of an entity to another one (a new gazetteer key, an alias correction).
delete from entity_aliases
where entity_id not in (select mentions.entity_id from mentions);

delete from entities
where entity_id not in (select mentions.entity_id from mentions);
