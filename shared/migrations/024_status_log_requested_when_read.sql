-- The Requested records of an asynchronous batch are written when first needed, not before its
-- 202.
--
-- Writing 10000 Requested records (and their five indexes) was most of the time to the 202, and
-- each chunk then updated the same 1000 records again. Now a chunk's transaction inserts its
-- items' whole records (Requested at the batch's acceptance, Processing, the final state) as a
-- synchronous batch does, and the items of chunks not yet processed get their Requested records
-- from er_write_requested_logs() the first time anything may read them: a status-log read
-- (shared/statuslog/store.py runs it when a chunk is waiting) and the removal of a batch (the
-- trigger below; a cancel or a failure then fails them). A reader sees every item of an accepted
-- batch, as before; a record once written keeps its seq, so pages stay stable.

ALTER TABLE er_batches ADD COLUMN correlation_id text;
-- Batches staged before this migration: their jobs' requests know it.
UPDATE er_batches b SET correlation_id = coalesce(j.request ->> 'correlationId', b.transaction_id)
FROM jobs j WHERE j.token = b.job_token;
UPDATE er_batches SET correlation_id = transaction_id WHERE correlation_id IS NULL;
ALTER TABLE er_batches ALTER COLUMN correlation_id SET NOT NULL;

ALTER TABLE er_batch_chunks
    ADD COLUMN first_position integer,
    -- The chunk's Requested records exist (written early by a reader, or by the old staging).
    ADD COLUMN logs_written boolean NOT NULL DEFAULT false;
-- Chunks staged before this migration had their Requested records written with them.
UPDATE er_batch_chunks c SET first_position = p.first_position, logs_written = true
FROM (SELECT transaction_id, chunk_no,
             coalesce(sum(item_count) OVER (PARTITION BY transaction_id ORDER BY chunk_no
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                 AS first_position
      FROM er_batch_chunks) AS p
WHERE c.transaction_id = p.transaction_id AND c.chunk_no = p.chunk_no;
ALTER TABLE er_batch_chunks ALTER COLUMN first_position SET NOT NULL;
CREATE INDEX er_batch_chunks_unlogged ON er_batch_chunks (transaction_id, chunk_no)
    WHERE NOT done AND NOT logs_written;

-- Requested records for the items of every chunk (of one transaction, or of all) that is neither
-- processed nor logged; how many were written. A chunk being processed is waited for: its
-- transaction writes its items' records itself.
CREATE FUNCTION er_write_requested_logs(only_transaction text) RETURNS bigint
LANGUAGE sql SET search_path FROM CURRENT AS $$
WITH waiting AS (
    SELECT c.transaction_id, c.chunk_no FROM er_batch_chunks c
    WHERE NOT c.done AND NOT c.logs_written
      AND (only_transaction IS NULL OR c.transaction_id = only_transaction)
    ORDER BY c.transaction_id, c.chunk_no
    FOR UPDATE
), marked AS (
    UPDATE er_batch_chunks c SET logs_written = true
    FROM waiting w
    WHERE c.transaction_id = w.transaction_id AND c.chunk_no = w.chunk_no
      AND NOT c.done AND NOT c.logs_written
    RETURNING c.transaction_id, c.items, c.first_position
), written AS (
    INSERT INTO status_logs
        (transaction_id, correlation_id, collection_id, item_kind, item_id, position, state,
         state_history, enqueued_at)
    SELECT b.transaction_id, b.correlation_id, b.collection_id, b.item_kind, e.item ->> 'id',
           m.first_position + e.n - 1, 'Requested',
           jsonb_build_array(jsonb_build_object(
               'state', 'Requested',
               'timestamp', to_char(b.created_at AT TIME ZONE 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
           b.created_at
    FROM marked m
    JOIN er_batches b ON b.transaction_id = m.transaction_id
    CROSS JOIN LATERAL json_array_elements(m.items::json) WITH ORDINALITY AS e(item, n)
    ON CONFLICT (transaction_id, item_kind, item_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM written
$$;

CREATE FUNCTION er_batches_log_requested() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM er_write_requested_logs(OLD.transaction_id);
    RETURN OLD;
END
$$;

-- BEFORE: the chunks go with the batch (ON DELETE CASCADE), so they are read while still there.
CREATE TRIGGER er_batches_log_requested BEFORE DELETE ON er_batches
FOR EACH ROW EXECUTE FUNCTION er_batches_log_requested();
