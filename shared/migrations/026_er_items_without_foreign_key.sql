-- Entities and relationships no longer carry a foreign key to their collection: PostgreSQL
-- checked it row by row (a lock and an index probe of er_collections for every item), which
-- was about a fifth of a chunk's upsert. The guarantees stay, kept per statement instead:
-- - each upsert takes the collection row's KEY SHARE lock once (shared/er/store/writes.py) and
--   writes nothing if the collection is gone, so no item outlives or precedes its collection;
-- - deleting a collection deletes its items, as the cascade did, from the trigger below. The
--   delete waits for the upserts holding that lock, so their items are among those it deletes.
-- The item history tables keep their foreign keys: only re-upserts write them.
ALTER TABLE er_entities DROP CONSTRAINT er_entities_collection_id_fkey;
ALTER TABLE er_relationships DROP CONSTRAINT er_relationships_collection_id_fkey;

CREATE FUNCTION er_collections_drop_items() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The collections are already gone, so the change feed records no event for these rows.
    DELETE FROM er_relationships r USING gone g WHERE r.collection_id = g.id;
    DELETE FROM er_entities e USING gone g WHERE e.collection_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER er_collections_drop_items AFTER DELETE ON er_collections
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION er_collections_drop_items();
