-- The change feed's trigger no longer calls pg_notify. A transaction that has notified takes one
-- database-wide lock at commit and keeps it until its commit is flushed, so every writer of
-- items committed one after the other: at 16 concurrent synchronous batches this was about a
-- tenth of the throughput and of the p99. Readers are now woken by the writers themselves,
-- through Redis, after they commit (shared/changefeed/wake.py `announce`); whatever else
-- writes items (a migration, psql) is announced by the feed keeper's pass within a second.
-- The events are sorted once per statement, not once per array: the four arrays come from one
-- aggregation over the same sorted rows, so they stay aligned whatever the order.
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
        SELECT c.collection_id, count(*), event, 'entity', array_agg(c.id),
               array_agg(c.entity_type), array_agg(c.version),
               array_agg(coalesce(deleted_by, c.transaction_id))
        FROM (SELECT c.* FROM changed c JOIN er_collections k ON k.id = c.collection_id
              ORDER BY c.collection_id, c.id) AS c
        GROUP BY c.collection_id;
    ELSE
        INSERT INTO er_changefeed_blocks
            (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
             item_versions, transaction_ids)
        SELECT c.collection_id, count(*), event, 'relationship', array_agg(c.id),
               array_agg(c.relationship_type), array_agg(c.version),
               array_agg(coalesce(deleted_by, c.transaction_id))
        FROM (SELECT c.* FROM changed c JOIN er_collections k ON k.id = c.collection_id
              ORDER BY c.collection_id, c.id) AS c
        GROUP BY c.collection_id;
    END IF;
    RETURN NULL;
END
$$;
