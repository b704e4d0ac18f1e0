-- The job core's guarantees: PostgreSQL is the source of truth, Redis only delivers.
-- A running job holds a lease (owner and expiry) that its worker renews; the reconciler
-- re-enqueues every unfinished job that no queue holds and no live lease covers.

ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('PROCESSING', 'COMPLETE', 'FAILED', 'CANCELLED'));

ALTER TABLE jobs
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
    -- Idempotency-Key: the same key from the same principal returns the first job.
    ADD COLUMN idempotency_key text,
    ADD COLUMN request_sha256 text;

CREATE INDEX jobs_unfinished ON jobs (created_at) WHERE state = 'PROCESSING';
CREATE UNIQUE INDEX jobs_idempotency ON jobs (principal_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- A staged batch belongs to its job, so whatever ends the job can find and remove it.
ALTER TABLE er_batches ADD COLUMN job_token text;
CREATE INDEX er_batches_job ON er_batches (job_token);
