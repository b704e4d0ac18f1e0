-- Synapse-compatible JSON schema registry: organizations and their ACLs, schemas, immutable
-- schema versions and the dependencies ($refs) between them.

CREATE TABLE registry_organizations (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    created_by bigint NOT NULL REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The ACL's own version and dates; its entries are in registry_acl_entries.
    acl_etag uuid NOT NULL DEFAULT gen_random_uuid(),
    acl_changed_at timestamptz NOT NULL DEFAULT now()
);

-- Synapse organization ids are plain numbers; start where they look real.
ALTER SEQUENCE registry_organizations_id_seq RESTART WITH 1000;

-- Names are unique case-insensitively; the first spelling is the canonical one.
CREATE UNIQUE INDEX registry_organizations_name_key ON registry_organizations (lower(name));

-- principal_id is a principals.id or one of Synapse's group ids (authenticated users,
-- public), so it carries no foreign key.
CREATE TABLE registry_acl_entries (
    organization_id bigint NOT NULL REFERENCES registry_organizations(id) ON DELETE CASCADE,
    principal_id bigint NOT NULL,
    access_types text[] NOT NULL,
    PRIMARY KEY (organization_id, principal_id)
);

-- No cascade from organizations: an organization that still holds schemas cannot go.
CREATE TABLE registry_schemas (
    id bigserial PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES registry_organizations(id),
    name text NOT NULL,
    created_by bigint NOT NULL REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX registry_schemas_name_key ON registry_schemas (organization_id, lower(name));

-- One row per version. A semantic version is unique per schema (NULLs, the unversioned
-- creates, are not).
-- job_token names the job that created the version: a job never creates two.
CREATE TABLE registry_schema_versions (
    id bigserial PRIMARY KEY,
    schema_id bigint NOT NULL REFERENCES registry_schemas(id) ON DELETE CASCADE,
    semantic_version text,
    body json NOT NULL,                        -- json keeps the author's key order
    sha256_hex text NOT NULL,
    created_by bigint NOT NULL REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    job_token text UNIQUE,
    CONSTRAINT registry_schema_versions_semver_key UNIQUE (schema_id, semantic_version)
);

ALTER SEQUENCE registry_schema_versions_id_seq RESTART WITH 10000;

CREATE INDEX registry_schema_versions_latest ON registry_schema_versions (schema_id, id DESC);

-- Every non-local $ref of a version: to a pinned version (depends_on_version_id set) or to
-- whatever is the latest version of a schema (depends_on_version_id NULL). The foreign keys
-- keep a referenced schema or version from being deleted even if a check were missed.
CREATE TABLE registry_dependencies (
    version_id bigint NOT NULL REFERENCES registry_schema_versions(id) ON DELETE CASCADE,
    depends_on_schema_id bigint NOT NULL REFERENCES registry_schemas(id),
    depends_on_version_id bigint REFERENCES registry_schema_versions(id)
);

CREATE INDEX registry_dependencies_version ON registry_dependencies (version_id);
CREATE INDEX registry_dependencies_schema ON registry_dependencies (depends_on_schema_id);
CREATE INDEX registry_dependencies_pinned ON registry_dependencies (depends_on_version_id);
