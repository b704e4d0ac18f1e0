-- Principals, access tokens and the durable record of every asynchronous job.

CREATE TABLE principals (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Start principal ids where Synapse user ids look real, so clients never see 0 or 1.
ALTER SEQUENCE principals_id_seq RESTART WITH 3350000;

CREATE TABLE access_tokens (
    id bigserial PRIMARY KEY,
    token_sha256 text NOT NULL UNIQUE,
    principal_id bigint NOT NULL REFERENCES principals(id),
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz
);

CREATE TABLE jobs (
    token text PRIMARY KEY,
    kind text NOT NULL,
    principal_id bigint NOT NULL REFERENCES principals(id),
    state text NOT NULL DEFAULT 'PROCESSING' CHECK (state IN ('PROCESSING', 'COMPLETE', 'FAILED')),
    progress_current bigint NOT NULL DEFAULT 0,
    progress_total bigint NOT NULL DEFAULT 0,
    progress_message text NOT NULL DEFAULT '',
    -- json, not jsonb: what clients sent and get back keeps its key order.
    request json NOT NULL,
    result json,
    error_status integer,
    error_message text,
    error_details jsonb,
    attempts integer NOT NULL DEFAULT 0,
    etag uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    changed_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE INDEX jobs_principal_created ON jobs (principal_id, created_at DESC);
