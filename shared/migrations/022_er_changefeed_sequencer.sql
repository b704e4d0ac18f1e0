-- The change feed stored as blocks, numbered after commit by one sequencer.
--
-- 013 wrote one row per event and had each writing transaction bump its collection's counter
-- row, holding that row's lock until commit: every writer of a collection waited for the one
-- before it to commit, so concurrent batches (and the chunks of one batch on several workers)
-- ran one at a time, and a chunk of 1000 upserts paid for 1000 feed rows and their indexes.
--
-- Now each statement that changes items appends one block per collection: its events as
-- arrays, in one row, with no sequence ids yet; no writer touches another's rows. One
-- sequencer pass at a time (a transaction-scoped advisory lock) gives the committed blocks
-- their ids, a block's events the consecutive ids from `first_sequence`. The promises stay: ids
-- are gap-free per collection, and a reader that has seen id N never sees an event appear below
-- N, since only the sequencer, one pass after the other, hands out ids. Readers run a pass
-- first (shared/changefeed/store.py), so a read after a write sees it; the feed bridge
-- (shared/changefeed/wake.py) runs one every second as well.

CREATE TABLE er_changefeed_blocks (
    block_no bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: a collection's delete leaves its unnumbered blocks, which the next pass
    -- drops (numbered ones go with the collection, below).
    collection_id text NOT NULL,
    first_sequence bigint,                    -- NULL until the sequencer numbers the block
    last_sequence bigint,
    event_count integer NOT NULL,
    notification_type text NOT NULL CHECK (notification_type IN ('Created', 'Updated', 'Deleted')),
    item_kind text NOT NULL CHECK (item_kind IN ('entity', 'relationship')),
    item_ids text[] NOT NULL,
    item_types text[] NOT NULL,
    item_versions integer[] NOT NULL,
    transaction_ids text[] NOT NULL,
    -- Events written before this migration keep their ids; later ones derive theirs
    -- (shared/changefeed/store.py) from the collection and sequence id, which never repeat.
    notification_ids uuid[],
    -- The commit's moment is unknown inside it; statement time is the nearest stable one.
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp()
);
CREATE UNIQUE INDEX er_changefeed_blocks_by_sequence
    ON er_changefeed_blocks (collection_id, last_sequence) WHERE first_sequence IS NOT NULL;
CREATE INDEX er_changefeed_blocks_unnumbered
    ON er_changefeed_blocks (block_no) WHERE first_sequence IS NULL;
CREATE INDEX er_changefeed_blocks_by_time ON er_changefeed_blocks (recorded_at);

-- The numbered events of 013's table, one block each, then the table goes.
INSERT INTO er_changefeed_blocks
    (collection_id, first_sequence, last_sequence, event_count, notification_type, item_kind,
     item_ids, item_types, item_versions, transaction_ids, notification_ids, recorded_at)
SELECT collection_id, sequence_id, sequence_id, 1, notification_type, item_kind,
       ARRAY[item_id], ARRAY[item_type], ARRAY[item_version], ARRAY[transaction_id],
       ARRAY[notification_id], recorded_at
FROM er_changefeed;
DROP TABLE er_changefeed;

-- Same events as 013's. Static SQL only (013 built its statement with EXECUTE format, planned
-- again on every call: a cost each statement paid twice, as an upsert fires both the insert and
-- the update trigger); an empty transition table costs one cached plan that finds nothing.
CREATE OR REPLACE FUNCTION er_changefeed_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    event text := CASE TG_OP WHEN 'INSERT' THEN 'Created' WHEN 'UPDATE' THEN 'Updated'
                  ELSE 'Deleted' END;
    -- A row carries the transaction that wrote it; a delete names its own (shared/er/delete.py
    -- sets it for its transaction), else the event would name the row's last writer.
    deleted_by text := CASE TG_OP WHEN 'DELETE' THEN
        nullif(current_setting('brickyard.transaction_id', true), '') END;
BEGIN
    -- Rows of a collection being deleted (a cascade) are no events: its feed goes with it.
    IF TG_TABLE_NAME = 'er_entities' THEN
        INSERT INTO er_changefeed_blocks
            (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
             item_versions, transaction_ids)
        SELECT c.collection_id, count(*), event, 'entity', array_agg(c.id ORDER BY c.id),
               array_agg(c.entity_type ORDER BY c.id), array_agg(c.version ORDER BY c.id),
               array_agg(coalesce(deleted_by, c.transaction_id) ORDER BY c.id)
        FROM changed c JOIN er_collections k ON k.id = c.collection_id
        GROUP BY c.collection_id;
    ELSE
        INSERT INTO er_changefeed_blocks
            (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
             item_versions, transaction_ids)
        SELECT c.collection_id, count(*), event, 'relationship', array_agg(c.id ORDER BY c.id),
               array_agg(c.relationship_type ORDER BY c.id), array_agg(c.version ORDER BY c.id),
               array_agg(coalesce(deleted_by, c.transaction_id) ORDER BY c.id)
        FROM changed c JOIN er_collections k ON k.id = c.collection_id
        GROUP BY c.collection_id;
    END IF;
    -- Delivered at commit only, once per collection and transaction (NOTIFY folds repeats):
    -- shared/changefeed/wake.py passes it on to Redis, where feed readers wait.
    PERFORM pg_notify('brickyard_changefeed', TG_TABLE_SCHEMA || ' ' || touched.collection_id)
    FROM (SELECT DISTINCT collection_id FROM changed) AS touched;
    RETURN NULL;
END
$$;

-- Numbered blocks go with their collection, as 013's events did.
CREATE FUNCTION er_changefeed_forget_collection() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM er_changefeed_blocks b USING gone g WHERE b.collection_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER er_collections_forget_feed AFTER DELETE ON er_collections
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION er_changefeed_forget_collection();

-- One pass: every committed unnumbered block gets the next sequence ids of its collection, in
-- the order the blocks were written; how many events were numbered.
CREATE FUNCTION er_changefeed_sequence() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    live text[];
    numbered_count bigint;
BEGIN
    -- A statement of its own: what follows takes its snapshot after the previous pass
    -- committed, so no block is numbered twice.
    PERFORM pg_advisory_xact_lock(hashtext('brickyard changefeed sequencer ' || current_schema()));
    -- Only collections locked here (key share) have their blocks numbered: a collection's
    -- delete either finished first (its blocks are then dropped) or waits for this pass.
    -- Blocks of a collection created since are left to the next pass.
    SELECT array_agg(id) INTO live FROM (
        SELECT k.id FROM er_collections k
        WHERE k.id IN (SELECT DISTINCT collection_id FROM er_changefeed_blocks
                       WHERE first_sequence IS NULL)
        ORDER BY k.id FOR KEY SHARE
    ) AS locked;
    DELETE FROM er_changefeed_blocks b
    WHERE b.first_sequence IS NULL
      AND NOT EXISTS (SELECT 1 FROM er_collections k WHERE k.id = b.collection_id);
    WITH waiting AS (
        SELECT b.block_no, b.collection_id, b.event_count,
               sum(b.event_count) OVER (PARTITION BY b.collection_id ORDER BY b.block_no)
                   AS running
        FROM er_changefeed_blocks b
        WHERE b.first_sequence IS NULL AND b.collection_id = ANY(live)
    ), wanted AS (
        SELECT collection_id, max(running) AS n FROM waiting GROUP BY collection_id
    ), bumped AS (
        INSERT INTO er_changefeed_counters AS c (collection_id, last_sequence)
        SELECT collection_id, n FROM wanted
        ON CONFLICT (collection_id) DO UPDATE
        SET last_sequence = c.last_sequence + EXCLUDED.last_sequence
        RETURNING c.collection_id, c.last_sequence
    ), numbered AS (
        UPDATE er_changefeed_blocks b
        SET first_sequence = u.last_sequence - w.n + x.running - x.event_count + 1,
            last_sequence = u.last_sequence - w.n + x.running
        FROM waiting x JOIN wanted w USING (collection_id) JOIN bumped u USING (collection_id)
        WHERE b.block_no = x.block_no
        RETURNING b.event_count
    )
    SELECT coalesce(sum(event_count), 0) INTO numbered_count FROM numbered;
    RETURN numbered_count;
END
$$;
