-- Each attempt of a job, for its dashboard page: the worker that claimed it and when (the
-- lease owner is cleared when the job finishes, so who ran it was lost), and the traceback of
-- a crash (a bug in the handler: a 500), which otherwise lived only in the worker's log.
-- Arrays on the row rather than a table of attempts: the claim stays one UPDATE, no insert.
ALTER TABLE jobs
    ADD COLUMN attempt_workers text[] NOT NULL DEFAULT '{}',
    ADD COLUMN attempt_started_at timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN crash_traceback text;

-- Each finished import's summary (`brickyard import` sends it when it ends), for the dashboard's
-- Imports page: the importer is a client of the API, and its journals stay on its own machine.
CREATE TABLE import_summaries (
    id bigserial PRIMARY KEY,
    principal_id integer NOT NULL,
    collection_id text NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    summary jsonb NOT NULL,
    refusals jsonb NOT NULL,                       -- {reason: count}
    transactions text[] NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_summaries_by_principal ON import_summaries (principal_id, finished_at DESC);
