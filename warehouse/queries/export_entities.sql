-- `broadsheet export`: entities, as one file (not entity_key, the 64-bit key loads and queries join by).
select * exclude (entity_key) from entities
