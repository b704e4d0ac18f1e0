-- Each attempt of a job, for its dashboard page: the worker that claimed it and when (the
-- lease owner is cleared when the job finishes, so who ran it was lost), and the traceback of
-- a crash (a bug in the handler: a 500), which otherwise lived only in the worker's log.
-- Arrays on the row rather than a table of attempts: the claim stays one UPDATE, no insert.
ALTER TABLE jobs
    ADD COLUMN attempt_workers text[] NOT NULL DEFAULT '{}',
    ADD COLUMN attempt_started_at timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN crash_traceback text;
