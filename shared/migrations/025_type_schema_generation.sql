-- A stamp per schema collection that every change to its type schemas renews, in the changing
-- statement's transaction: the ER service keeps the schemas it validates against in memory,
-- keyed by it, and learns that they are stale from the collection row it reads anyway to check
-- access. Random rather than a counter: one process may serve several databases or schemas (the
-- tests do), whose collections share ids, and a counter would repeat across them. (A synchronous batch read its types' schemas twice per call before: two round trips
-- and about a millisecond of PostgreSQL's time out of ten.)
ALTER TABLE schema_collections ADD COLUMN types_generation uuid NOT NULL DEFAULT gen_random_uuid();

CREATE FUNCTION type_schemas_bump_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE schema_collections s SET types_generation = gen_random_uuid()
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
