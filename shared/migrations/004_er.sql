-- Apollo ER service: ER collections bound to a schema collection, who may use them, the
-- entities and relationships they hold, batches waiting for a worker, and the status log
-- (one record per item per transaction) that tracker URLs point at.

-- No foreign key to schema_collections: the schema service may drop a schema collection, and
-- then every item of a bound ER collection simply fails validation ("type not found").
CREATE TABLE er_collections (
    id text PRIMARY KEY,                       -- as its creator spelled it
    id_key text NOT NULL UNIQUE,               -- lower(id): ids are unique case-insensitively
    schema_collection_id text NOT NULL,
    created_by bigint NOT NULL REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One role per (collection, principal); a role implies every lower one:
-- owner > admin > readwrite > readonly.
CREATE TABLE er_collection_grants (
    collection_id text NOT NULL REFERENCES er_collections(id) ON DELETE CASCADE,
    principal_id bigint NOT NULL REFERENCES principals(id),
    role text NOT NULL CHECK (role IN ('readonly', 'readwrite', 'admin', 'owner')),
    granted_by bigint REFERENCES principals(id),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, principal_id)
);
CREATE INDEX er_collection_grants_principal ON er_collection_grants (principal_id);

-- body is the object as served (derived brick* fields included); derived repeats those
-- fields so an upsert can refuse to change them with one comparison.
CREATE TABLE er_entities (
    collection_id text NOT NULL REFERENCES er_collections(id) ON DELETE CASCADE,
    id text NOT NULL,
    entity_type text NOT NULL,
    derived jsonb NOT NULL,
    body json NOT NULL,                        -- json keeps the client's key order
    transaction_id text NOT NULL,              -- the last batch that wrote it
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, id)
);
CREATE INDEX er_entities_by_type ON er_entities (collection_id, entity_type, id);

CREATE TABLE er_relationships (
    collection_id text NOT NULL REFERENCES er_collections(id) ON DELETE CASCADE,
    id text NOT NULL,
    relationship_type text NOT NULL,
    source_entity_id text NOT NULL,
    destination_collection_id text NOT NULL,   -- = collection_id unless across collections
    destination_entity_id text NOT NULL,
    derived jsonb NOT NULL,
    body json NOT NULL,
    transaction_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, id)
);
CREATE INDEX er_relationships_by_type ON er_relationships (collection_id, relationship_type, id);

-- The items of an accepted batch until its job finishes (the job's own request stays small,
-- so job status polls do not carry up to 10000 items back).
CREATE TABLE er_batches (
    transaction_id text PRIMARY KEY,
    collection_id text NOT NULL,
    item_kind text NOT NULL CHECK (item_kind IN ('entity', 'relationship')),
    items json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- seq orders pages; id is the record's public identifier. position is the item's place in its
-- batch, so results list items in the order they were sent.
CREATE TABLE status_logs (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    transaction_id text NOT NULL,
    correlation_id text NOT NULL,
    collection_id text NOT NULL,
    item_kind text NOT NULL CHECK (item_kind IN ('entity', 'relationship')),
    item_id text NOT NULL,
    position integer NOT NULL,
    request_action text NOT NULL DEFAULT 'Upsert',
    state text NOT NULL CHECK (state IN ('Requested', 'Processing', 'Completed', 'Failed')),
    message text NOT NULL DEFAULT '',
    retry_count integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    received_at timestamptz,
    state_history jsonb NOT NULL,
    UNIQUE (transaction_id, item_kind, item_id)
);
CREATE INDEX status_logs_by_item ON status_logs (item_id);
CREATE INDEX status_logs_by_correlation ON status_logs (correlation_id);
CREATE INDEX status_logs_by_enqueued ON status_logs (enqueued_at);
