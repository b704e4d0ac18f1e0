-- ER batch ingest in chunks: an accepted batch is staged as chunks of up to 1000 items, so that
-- several workers can process one batch at once, each chunk in one transaction.
--
-- er_batches keeps one row per batch (its job, its collection), the chunks hang off it and go
-- with it: whatever removes the batch (its job's last step, a cancel, the reconciler's sweep)
-- removes its chunks. `items` stays for batches staged before this migration; the worker
-- splits those into chunks when it first meets one.

ALTER TABLE er_batches ALTER COLUMN items DROP NOT NULL;

CREATE TABLE er_batch_chunks (
    transaction_id text NOT NULL REFERENCES er_batches(transaction_id) ON DELETE CASCADE,
    chunk_no integer NOT NULL,
    item_count integer NOT NULL,
    -- The chunk's items as one JSON array, written by the gateway's encoder: text, because
    -- PostgreSQL never looks inside, so parsing it on the way in would be wasted work.
    items text NOT NULL,
    -- A worker claims a chunk (attempts + 1, claimed_at) before its transaction; a claim older
    -- than a job lease belongs to a worker that died, and the chunk is claimed again.
    attempts integer NOT NULL DEFAULT 0,
    claimed_at timestamptz,
    done boolean NOT NULL DEFAULT false,
    PRIMARY KEY (transaction_id, chunk_no)
);
-- Staged once, read once, deleted: compressing it would cost more than it saves.
ALTER TABLE er_batch_chunks ALTER COLUMN items SET STORAGE EXTERNAL;
