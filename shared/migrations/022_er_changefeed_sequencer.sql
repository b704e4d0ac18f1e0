-- Change-feed sequence ids are given after commit, by one sequencer, instead of by the writing
-- transaction (013).
--
-- 013 had each writing transaction bump its collection's counter row and hold that row's lock
-- until commit: every writer of a collection waited for the one before it to commit, so
-- concurrent batches (and the chunks of one batch on several workers) ran one at a time.
-- Now a writer only appends its events to er_changefeed_pending, which no one else writes to
-- in place. er_changefeed_sequence() moves committed events into er_changefeed, numbering them
-- per collection from the counter row, one pass at a time (a transaction-scoped advisory lock).
-- The promises stay: ids are gap-free per collection, and a reader that has seen id N never
-- sees a later event appear below N, since only the sequencer, one pass after the other, hands
-- out ids. Readers run a pass first (shared/changefeed/store.py), so a read after a write sees
-- it; the feed bridge (shared/changefeed/wake.py) runs one every second as well.

CREATE TABLE er_changefeed_pending (
    event_no bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: a collection's delete leaves its pending events, which the next pass
    -- drops, and writers skip the per-row key check.
    collection_id text NOT NULL,
    notification_type text NOT NULL,
    item_kind text NOT NULL,
    item_id text NOT NULL,
    item_type text NOT NULL,
    item_version integer NOT NULL,
    transaction_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp()
);

-- Same arguments and events as 013's; only the destination changes.
CREATE OR REPLACE FUNCTION er_changefeed_record() RETURNS trigger
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
    EXECUTE format($sql$
        INSERT INTO er_changefeed_pending
            (collection_id, notification_type, item_kind, item_id, item_type, item_version,
             transaction_id)
        SELECT c.collection_id, $1, $2, c.id, c.%1$I, c.version, coalesce($3, c.transaction_id)
        FROM changed c JOIN er_collections k ON k.id = c.collection_id
        ORDER BY c.collection_id, c.id
    $sql$, TG_ARGV[0]) USING event, kind, deleted_by;
    -- Delivered at commit only, once per collection and transaction (NOTIFY folds repeats):
    -- shared/changefeed/wake.py passes it on to Redis, where feed readers wait.
    FOR touched IN EXECUTE 'SELECT DISTINCT collection_id FROM changed' LOOP
        PERFORM pg_notify('brickyard_changefeed', TG_TABLE_SCHEMA || ' ' || touched);
    END LOOP;
    RETURN NULL;
END
$$;

-- One pass: every committed pending event gets the next sequence id of its collection; how
-- many events were numbered.
CREATE FUNCTION er_changefeed_sequence() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    live text[];
    numbered_count bigint;
BEGIN
    -- A statement of its own: the move below takes its snapshot after the previous pass
    -- committed, so no event is numbered twice.
    PERFORM pg_advisory_xact_lock(hashtext('brickyard changefeed sequencer ' || current_schema()));
    -- Only collections locked here (key share) have their events numbered: a collection's
    -- delete either finished first (its events are then dropped) or waits for this pass.
    -- Events of a collection created since are left to the next pass.
    SELECT array_agg(id) INTO live FROM (
        SELECT k.id FROM er_collections k
        WHERE k.id IN (SELECT DISTINCT collection_id FROM er_changefeed_pending)
        ORDER BY k.id FOR KEY SHARE
    ) AS locked;
    WITH moved AS (
        DELETE FROM er_changefeed_pending p
        WHERE p.collection_id = ANY(live)
           OR NOT EXISTS (SELECT 1 FROM er_collections k WHERE k.id = p.collection_id)
        RETURNING *
    ), numbered AS (
        SELECT m.*, row_number() OVER (PARTITION BY m.collection_id ORDER BY m.event_no) AS n
        FROM moved m WHERE m.collection_id = ANY(live)
    ), wanted AS (
        SELECT collection_id, max(n) AS n FROM numbered GROUP BY collection_id
    ), bumped AS (
        INSERT INTO er_changefeed_counters AS c (collection_id, last_sequence)
        SELECT collection_id, n FROM wanted
        ON CONFLICT (collection_id) DO UPDATE
        SET last_sequence = c.last_sequence + EXCLUDED.last_sequence
        RETURNING c.collection_id, c.last_sequence
    )
    INSERT INTO er_changefeed
        (collection_id, sequence_id, notification_type, item_kind, item_id, item_type,
         item_version, transaction_id, recorded_at)
    SELECT r.collection_id, b.last_sequence - w.n + r.n, r.notification_type, r.item_kind,
           r.item_id, r.item_type, r.item_version, r.transaction_id, r.recorded_at
    FROM numbered r JOIN wanted w USING (collection_id) JOIN bumped b USING (collection_id);
    GET DIAGNOSTICS numbered_count = ROW_COUNT;
    RETURN numbered_count;
END
$$;

-- Events 013's triggers wrote are already numbered; nothing is pending at this point.
