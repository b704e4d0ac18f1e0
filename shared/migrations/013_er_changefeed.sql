-- The change feed of each ER collection (shared/changefeed/), and the indexes graph reads walk.
--
-- Events are written by triggers on the item tables, in the transaction that changes the items:
-- whatever writes them (upserts, deletes, a migration, psql), no change is missed and none is
-- reported that did not commit. One statement-level trigger per table and event reads the
-- statement's transition table, so a chunk of 1000 upserts costs one INSERT here, not 1000.
--
-- Sequence ids are per collection and gap-free: each collection's counter row is updated by the
-- transaction that adds events, and its row lock is held to commit. So sequence order is commit
-- order within a collection, and a reader that has seen sequence N never sees a later commit
-- appear below N (what a global sequence cannot promise: ids are taken before commit).

CREATE TABLE er_changefeed_counters (
    collection_id text PRIMARY KEY REFERENCES er_collections(id) ON DELETE CASCADE,
    last_sequence bigint NOT NULL DEFAULT 0,
    -- Events up to this sequence have been removed by retention; asking for them is a 410.
    pruned_through bigint NOT NULL DEFAULT 0
);

CREATE TABLE er_changefeed (
    collection_id text NOT NULL REFERENCES er_collections(id) ON DELETE CASCADE,
    sequence_id bigint NOT NULL,
    notification_id uuid NOT NULL DEFAULT gen_random_uuid(),
    notification_type text NOT NULL CHECK (notification_type IN ('Created', 'Updated', 'Deleted')),
    item_kind text NOT NULL CHECK (item_kind IN ('entity', 'relationship')),
    item_id text NOT NULL,
    item_type text NOT NULL,
    item_version integer NOT NULL,
    transaction_id text NOT NULL,
    -- The commit's moment is unknown inside it; statement time is the nearest stable one.
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (collection_id, sequence_id)
);
CREATE INDEX er_changefeed_by_time ON er_changefeed (recorded_at);

-- TG_ARGV[0]: the table's type column. `changed` is the statement's transition table (its new
-- rows, or its old ones for a delete).
CREATE FUNCTION er_changefeed_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE TG_TABLE_NAME WHEN 'er_entities' THEN 'entity' ELSE 'relationship' END;
    event text := CASE TG_OP WHEN 'INSERT' THEN 'Created' WHEN 'UPDATE' THEN 'Updated'
                  ELSE 'Deleted' END;
    touched text;
    -- A row carries the transaction that wrote it; a delete names its own (shared/er/delete.py
    -- sets it for its transaction), else the event would name the row's last writer.
    deleted_by text := CASE TG_OP WHEN 'DELETE' THEN
        nullif(current_setting('brickyard.transaction_id', true), '') END;
BEGIN
    -- Rows of a collection being deleted (a cascade) are no events: its feed goes with it.
    INSERT INTO er_changefeed_counters (collection_id)
    SELECT DISTINCT c.collection_id FROM changed c JOIN er_collections k ON k.id = c.collection_id
    ORDER BY 1
    ON CONFLICT DO NOTHING;
    EXECUTE format($sql$
        WITH changed_rows AS (
            SELECT c.collection_id, c.id, c.%1$I AS item_type, c.version, c.transaction_id,
                   row_number() OVER (PARTITION BY c.collection_id ORDER BY c.id) AS n
            FROM changed c JOIN er_collections k ON k.id = c.collection_id
        ), wanted AS (
            SELECT collection_id, max(n) AS n FROM changed_rows GROUP BY collection_id
        ), bumped AS (
            UPDATE er_changefeed_counters c SET last_sequence = c.last_sequence + w.n
            FROM wanted w WHERE c.collection_id = w.collection_id
            RETURNING c.collection_id, c.last_sequence - w.n AS base
        )
        INSERT INTO er_changefeed
            (collection_id, sequence_id, notification_type, item_kind, item_id, item_type,
             item_version, transaction_id)
        SELECT r.collection_id, b.base + r.n, $1, $2, r.id, r.item_type, r.version,
               coalesce($3, r.transaction_id)
        FROM changed_rows r JOIN bumped b USING (collection_id)
    $sql$, TG_ARGV[0]) USING event, kind, deleted_by;
    -- Delivered at commit only, once per collection and transaction (NOTIFY folds repeats):
    -- shared/changefeed/wake.py passes it on to Redis, where feed readers wait.
    FOR touched IN EXECUTE 'SELECT DISTINCT collection_id FROM changed' LOOP
        PERFORM pg_notify('brickyard_changefeed', TG_TABLE_SCHEMA || ' ' || touched);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER er_entities_feed_insert AFTER INSERT ON er_entities
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_record('entity_type');
CREATE TRIGGER er_entities_feed_update AFTER UPDATE ON er_entities
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_record('entity_type');
CREATE TRIGGER er_entities_feed_delete AFTER DELETE ON er_entities
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_record('entity_type');
CREATE TRIGGER er_relationships_feed_insert AFTER INSERT ON er_relationships
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_record('relationship_type');
CREATE TRIGGER er_relationships_feed_update AFTER UPDATE ON er_relationships
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_record('relationship_type');
CREATE TRIGGER er_relationships_feed_delete AFTER DELETE ON er_relationships
    REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_record('relationship_type');

-- Graph walks go from a source entity (out) or to a destination entity (in); a delete looks for
-- the relationships that still reference an entity, from any collection.
CREATE INDEX er_relationships_by_source ON er_relationships (collection_id, source_entity_id);
CREATE INDEX er_relationships_by_destination
    ON er_relationships (destination_collection_id, destination_entity_id);
