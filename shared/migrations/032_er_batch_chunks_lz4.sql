-- Staged chunks compressed with lz4 where the server has it, as 028 did for job results: a
-- 10000-relationship batch's ten 157 kB chunks took 28-66 ms to store with the default pglz and
-- 14-18 with lz4 (asyncpg, one unnest INSERT, 3 rounds; issue 21), time spent inside the
-- gateway's accept, before its 202. Reading them back costs the same. A server without lz4 keeps
-- pglz; chunks staged before this read as they are.
DO $$
BEGIN
    ALTER TABLE er_batch_chunks ALTER COLUMN items SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
