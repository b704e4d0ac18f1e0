-- Apollo schema service: schema collections and their versioned entity-type and
-- relationship-type schemas. The ER service reads these tables through shared.schemas.catalog.

CREATE TABLE schema_collections (
    id text PRIMARY KEY,                       -- as its creator spelled it, e.g. Brick_1_4
    id_key text NOT NULL UNIQUE,               -- lower(id): ids are unique case-insensitively
    namespace text NOT NULL UNIQUE,            -- upper(id): the prefix of its type ids, BRICK_1_4
    release_line text NOT NULL DEFAULT 'brick',
    release_version text,                      -- the release it was last synced to
    created_by bigint NOT NULL REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per version of a type schema. Type ids carry their collection's namespace
-- (BRICK_1_4__AHU, BRICK_1_4__feeds_Equipment_Equipment), so they are globally unique.
--
-- metadata, entity types:
--   {"class": "AHU", "topClass": "Equipment", "parents": ["HVAC_Equipment"],
--    "ancestors": ["HVAC_Equipment", "Equipment"], "definition": "...", "deprecated": false}
-- metadata, relationship types:
--   {"relation": "feeds", "source": "Equipment", "destination": "Equipment",
--    "pairs": [{"source": "Equipment", "destination": "Equipment"}, ...]}
-- Class names in metadata carry no namespace, so entities of collections bound to different
-- releases can be compared. A pair admits subclasses: a (source, destination) entity pair is
-- allowed when some pair names the source's class or one of its ancestors, and likewise the
-- destination's.
CREATE TABLE type_schemas (
    type_id text NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    collection_id text NOT NULL REFERENCES schema_collections(id) ON DELETE CASCADE,
    schema_type text NOT NULL CHECK (schema_type IN ('entitytypes', 'relationshiptypes')),
    schema json NOT NULL,                      -- json keeps the author's key order
    content_sha256 text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    is_current boolean NOT NULL,               -- the newest version of this type
    active boolean NOT NULL DEFAULT true,      -- false once the type left its release or was deleted
    release_version text,
    created_by bigint REFERENCES principals(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (type_id, version)
);

CREATE UNIQUE INDEX type_schemas_one_current ON type_schemas (type_id) WHERE is_current;
CREATE INDEX type_schemas_current_by_collection
    ON type_schemas (collection_id, schema_type, type_id) WHERE is_current;
CREATE INDEX type_schemas_tags ON type_schemas USING gin (tags);
