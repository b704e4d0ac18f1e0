-- A counter per schema collection that every change to its type schemas bumps, in the changing
-- statement's transaction: the ER service keeps the schemas it validates against in memory,
-- keyed by it, and learns that they are stale from the collection row it reads anyway to check
-- access. (A synchronous batch read its types' schemas twice per call before: two round trips
-- and about a millisecond of PostgreSQL's time out of ten.)
ALTER TABLE schema_collections ADD COLUMN types_generation bigint NOT NULL DEFAULT 0;

CREATE FUNCTION type_schemas_bump_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE schema_collections s SET types_generation = s.types_generation + 1
    WHERE s.id IN (SELECT DISTINCT collection_id FROM changed);
    RETURN NULL;
END
$$;

CREATE TRIGGER type_schemas_generation_insert AFTER INSERT ON type_schemas
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION type_schemas_bump_generation();
CREATE TRIGGER type_schemas_generation_update AFTER UPDATE ON type_schemas
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION type_schemas_bump_generation();
CREATE TRIGGER type_schemas_generation_delete AFTER DELETE ON type_schemas
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION type_schemas_bump_generation();
