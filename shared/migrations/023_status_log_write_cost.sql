-- Status-log rows are written for every item of every batch, and each index is paid for on
-- each row (the 10000 Requested rows of an asynchronous batch are written before its 202).
--
-- * `id` (the record's public identifier) is never looked up: its unique index on random UUIDs
--   cost a random index page per row. gen_random_uuid() values do not collide in practice.
-- * `enqueued_at` only serves the startTime/endTime filters, and rows arrive in time order: a
--   BRIN index answers those ranges at a fraction of a B-tree's upkeep.
ALTER TABLE status_logs DROP CONSTRAINT status_logs_id_key;
DROP INDEX status_logs_by_enqueued;
CREATE INDEX status_logs_by_enqueued ON status_logs USING brin (enqueued_at);
