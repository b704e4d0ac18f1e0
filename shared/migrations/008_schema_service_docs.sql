-- Apollo schema service, part three: what the public Apollo pages need (issue 10).

-- messagetypes and eventtypes are plain JSON-schema types beside entity and relationship types.
ALTER TABLE type_schemas DROP CONSTRAINT type_schemas_schema_type_check;
ALTER TABLE type_schemas ADD CONSTRAINT type_schemas_schema_type_check
    CHECK (schema_type IN ('entitytypes', 'relationshiptypes', 'messagetypes', 'eventtypes'));

-- The doc's per-version system data: sysState (new -> published) and sysCorrelationId.
-- Versions a sync generated come from a published release, so they start out published.
ALTER TABLE type_schemas
    ADD COLUMN state text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'published')),
    ADD COLUMN correlation_id text,
    ADD COLUMN state_changed_at timestamptz;
UPDATE type_schemas SET state = 'published' WHERE release_version IS NOT NULL;
CREATE INDEX type_schemas_current_by_type ON type_schemas (schema_type, type_id) WHERE is_current;

-- A deleted collection's id stays taken ("409 if schema collection already exist or is now
-- deleted"): ER collections bound to it must not silently pick up a new namesake.
CREATE TABLE deleted_schema_collections (
    id_key text PRIMARY KEY,                   -- lower(id), like schema_collections.id_key
    id text NOT NULL,
    deleted_by bigint REFERENCES principals(id),
    deleted_at timestamptz NOT NULL DEFAULT now()
);

-- Who may change a schema collection: one role per (collection, principal), a role implies
-- every lower one: owner > admin > editor. Reading needs no role (apollo_read suffices).
CREATE TABLE schema_collection_grants (
    collection_id text NOT NULL REFERENCES schema_collections(id) ON DELETE CASCADE,
    principal_id bigint NOT NULL REFERENCES principals(id),
    role text NOT NULL CHECK (role IN ('editor', 'admin', 'owner')),
    granted_by bigint REFERENCES principals(id),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, principal_id)
);
CREATE INDEX schema_collection_grants_principal ON schema_collection_grants (principal_id);
INSERT INTO schema_collection_grants (collection_id, principal_id, role, granted_by)
SELECT id, created_by, 'owner', created_by FROM schema_collections;

-- A posted entity-type hierarchy: each child's parent (NULL: a root). Without rows the
-- hierarchy is derived from the entity types' parents.
CREATE TABLE schema_hierarchy (
    collection_id text NOT NULL REFERENCES schema_collections(id) ON DELETE CASCADE,
    child_id text NOT NULL,
    parent_id text,
    position integer NOT NULL,                 -- keeps the posted order of siblings
    PRIMARY KEY (collection_id, child_id)
);

-- One sample object per schema version.
CREATE TABLE schema_samples (
    type_id text NOT NULL,
    version integer NOT NULL,
    sample json NOT NULL,                      -- json keeps the client's key order
    created_by bigint REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (type_id, version),
    FOREIGN KEY (type_id, version) REFERENCES type_schemas (type_id, version) ON DELETE CASCADE
);
