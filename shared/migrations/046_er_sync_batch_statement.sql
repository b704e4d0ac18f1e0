-- A synchronous ER batch writes its rows, its status logs and its completed job in one statement
-- (shared/er/store/sync_batch.py), outside a transaction block: no BEGIN, no COMMIT, no separate
-- round trip for the logs or the job. The upsert may skip a row that a concurrent batch created
-- differently; the records and the job, written beside it in the same statement, would then be
-- wrong, so the statement checks how many rows it wrote and fails (SQLSTATE BY001, everything
-- rolled back) unless it wrote them all. The gateway then runs the batch the older way, in a
-- transaction that corrects those records before it commits.
CREATE FUNCTION er_all_written(written bigint, expected integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF written <> expected THEN
        RAISE EXCEPTION 'the upsert wrote % of % rows', written, expected
            USING ERRCODE = 'BY001';
    END IF;
    RETURN true;
END
$$;

-- Since migration 024 an item's status-log record is written whole, final, by the transaction
-- that writes the item (the update at the end of its processing that migration 010 kept 60% of
-- each page free for happens only when a reader wrote the Requested record first). Full pages:
-- in psql, 100-record inserts into a table holding 100000 cost 12.0-13.5 backend CPU-µs per
-- record instead of 13.0-14.5 at fillfactor 40. Applies to pages written from now on.
ALTER TABLE status_logs SET (fillfactor = 100);
