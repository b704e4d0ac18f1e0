-- Admission's lock and count in one call, so that recording a job costs one round trip for
-- them instead of two (and none of its own when the insert calls it). The count runs after
-- the lock is granted in a snapshot of its own (each statement of a VOLATILE function takes
-- a fresh one), so it sees every job that a submitter holding the lock before committed.
CREATE FUNCTION admission_queued(
    for_principal integer, recording_token text, OUT queued_jobs bigint, OUT queued_items bigint
) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('brickyard admission'), for_principal);
    SELECT count(*), coalesce(sum(coalesce(staged.items, 1)), 0)
    INTO queued_jobs, queued_items
    FROM jobs
    LEFT JOIN LATERAL (
        SELECT sum(chunk.item_count) AS items
        FROM er_batches batch
        JOIN er_batch_chunks chunk ON chunk.transaction_id = batch.transaction_id AND NOT chunk.done
        WHERE batch.job_token = jobs.token
    ) staged ON true
    WHERE jobs.principal_id = for_principal AND jobs.state = 'PROCESSING'
      AND jobs.token <> recording_token;
END
$$;
