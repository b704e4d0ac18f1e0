-- Apollo schema service, part two: the release catalog, what each collection follows, and the
-- server secret that signs paging tokens.

-- One row per release a collection can sync from: the built-in Brick versions (generated from
-- brickschema's Brick.ttl on first use, then reused by every process) and the releases an
-- administrator published. bundle is the normalised, namespace-free bundle (shared.releases.bundle).
CREATE TABLE schema_releases (
    release_line text NOT NULL,
    version text NOT NULL,
    origin text NOT NULL CHECK (origin IN ('builtin', 'published')),
    -- builtin: sha256 of Brick.ttl and the generator version; published: of the bundle.
    -- A builtin row whose hash no longer matches the installed file is generated again.
    source_sha256 text NOT NULL,
    bundle jsonb NOT NULL,
    tags text[] NOT NULL,                      -- the release's tag vocabulary
    entity_type_count integer NOT NULL,
    relationship_type_count integer NOT NULL,
    created_by bigint REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (release_line, version)
);

-- pinned_version: the release a sync without 'version' brings the collection to; NULL means
-- the newest release of its line. synced_versions: per schema type, the release it was last
-- synced to, e.g. {"entitytypes": "1.4"}.
ALTER TABLE schema_collections
    ADD COLUMN pinned_version text,
    ADD COLUMN synced_versions jsonb NOT NULL DEFAULT '{}';

CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- 32 random bytes (gen_random_uuid is in core Postgres; pgcrypto is not needed).
INSERT INTO server_secrets (name, secret)
VALUES ('paging', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

-- Keyset paging of a collection's schemas carrying a tag, over all versions.
CREATE INDEX type_schemas_by_collection_version
    ON type_schemas (collection_id, schema_type, type_id, version);
