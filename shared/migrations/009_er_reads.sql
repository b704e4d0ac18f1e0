-- Apollo ER reads: item versions, and the labels and geometry of version 1.2 entities, kept by
-- the database itself so that the write path (shared/er/store.py) stays as it is.
--
-- * Every upsert that replaces an item keeps the previous version: a BEFORE UPDATE trigger
--   bumps `version`, and a statement trigger copies the replaced rows (its OLD TABLE) into
--   er_*_versions in one INSERT per statement, not one per row.
-- * `labels`, `geo_location` and `geo_boundary` are generated from the stored body, so $filter
--   and $orderby=distanceto(...) run on indexed columns. PostGIS is not assumed: the built-in
--   point and polygon types (with their GiST operator classes) are enough for the documented
--   filters. These functions never raise: a malformed value gives NULL, never a failed upsert.

CREATE FUNCTION er_labels(doc json) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN json_typeof(doc) = 'array' THEN ARRAY(
        SELECT e #>> '{}' FROM json_array_elements(doc) AS e WHERE json_typeof(e) = 'string'
    ) END
$$;

CREATE FUNCTION er_geo_point(doc json) RETURNS point
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    c jsonb;
BEGIN
    IF doc IS NULL OR json_typeof(doc) <> 'object' THEN
        RETURN NULL;
    END IF;
    c := jsonb_path_query_first(doc::jsonb, 'strict $.** ? (@.type == "Point").coordinates');
    IF jsonb_typeof(c) <> 'array' OR jsonb_typeof(c -> 0) <> 'number'
       OR jsonb_typeof(c -> 1) <> 'number' THEN
        RETURN NULL;
    END IF;
    RETURN point((c ->> 0)::float8, (c ->> 1)::float8);
EXCEPTION WHEN others THEN  -- e.g. 1e-400, which JSON allows and float8 does not
    RETURN NULL;
END
$$;

-- Both take the first geometry of their type anywhere in a GeoJSON value (a bare geometry, a
-- Feature or a FeatureCollection). A polygon keeps the outer ring of the first Polygon (holes and further polygons are not kept).
CREATE FUNCTION er_geo_polygon(doc json) RETURNS polygon
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    ring jsonb;
    vertices text;
BEGIN
    IF doc IS NULL OR json_typeof(doc) <> 'object' THEN
        RETURN NULL;
    END IF;
    ring := jsonb_path_query_first(doc::jsonb, 'strict $.** ? (@.type == "Polygon").coordinates')
        -> 0;
    IF jsonb_typeof(ring) <> 'array' OR jsonb_array_length(ring) < 3 THEN
        RETURN NULL;
    END IF;
    IF EXISTS (
        SELECT 1 FROM jsonb_array_elements(ring) AS v
        WHERE jsonb_typeof(v) <> 'array' OR jsonb_typeof(v -> 0) <> 'number'
           OR jsonb_typeof(v -> 1) <> 'number'
    ) THEN
        RETURN NULL;
    END IF;
    SELECT string_agg(format('(%s,%s)', v ->> 0, v ->> 1), ',' ORDER BY n)
    INTO vertices FROM jsonb_array_elements(ring) WITH ORDINALITY AS r(v, n);
    RETURN polygon('(' || vertices || ')');
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

ALTER TABLE er_entities
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN labels text[] GENERATED ALWAYS AS (er_labels(body -> 'labels')) STORED,
    ADD COLUMN geo_location point GENERATED ALWAYS AS (er_geo_point(body -> 'geoLocation')) STORED,
    ADD COLUMN geo_boundary polygon
        GENERATED ALWAYS AS (er_geo_polygon(body -> 'geoBoundary')) STORED;
ALTER TABLE er_relationships ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE INDEX er_entities_labels ON er_entities USING gin (labels) WHERE labels IS NOT NULL;
CREATE INDEX er_entities_geo_location ON er_entities USING gist (geo_location)
    WHERE geo_location IS NOT NULL;
CREATE INDEX er_entities_geo_boundary ON er_entities USING gist (geo_boundary)
    WHERE geo_boundary IS NOT NULL;

-- Every version an upsert replaced; the current one stays in er_entities / er_relationships.
CREATE TABLE er_entity_versions (
    collection_id text NOT NULL REFERENCES er_collections(id) ON DELETE CASCADE,
    id text NOT NULL,
    version integer NOT NULL,
    entity_type text NOT NULL,
    body json NOT NULL,
    transaction_id text NOT NULL,
    written_at timestamptz NOT NULL,
    PRIMARY KEY (collection_id, id, version)
);
CREATE TABLE er_relationship_versions (
    collection_id text NOT NULL REFERENCES er_collections(id) ON DELETE CASCADE,
    id text NOT NULL,
    version integer NOT NULL,
    relationship_type text NOT NULL,
    body json NOT NULL,
    transaction_id text NOT NULL,
    written_at timestamptz NOT NULL,
    PRIMARY KEY (collection_id, id, version)
);

CREATE FUNCTION er_next_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE FUNCTION er_keep_entity_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO er_entity_versions
        (collection_id, id, version, entity_type, body, transaction_id, written_at)
    SELECT collection_id, id, version, entity_type, body, transaction_id, updated_at
    FROM replaced
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION er_keep_relationship_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO er_relationship_versions
        (collection_id, id, version, relationship_type, body, transaction_id, written_at)
    SELECT collection_id, id, version, relationship_type, body, transaction_id, updated_at
    FROM replaced
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER er_entities_next_version BEFORE UPDATE ON er_entities
    FOR EACH ROW EXECUTE FUNCTION er_next_version();
CREATE TRIGGER er_relationships_next_version BEFORE UPDATE ON er_relationships
    FOR EACH ROW EXECUTE FUNCTION er_next_version();
CREATE TRIGGER er_entities_keep_versions AFTER UPDATE ON er_entities
    REFERENCING OLD TABLE AS replaced
    FOR EACH STATEMENT EXECUTE FUNCTION er_keep_entity_versions();
CREATE TRIGGER er_relationships_keep_versions AFTER UPDATE ON er_relationships
    REFERENCING OLD TABLE AS replaced
    FOR EACH STATEMENT EXECUTE FUNCTION er_keep_relationship_versions();

-- Status logs name the job that wrote them through their transaction: sysRequestorId and
-- GET /apollo/status/{transactionId} find an ER batch's job by its transaction id.
CREATE INDEX jobs_by_transaction ON jobs ((request ->> 'transactionId'))
    WHERE kind LIKE 'er\_%';
CREATE INDEX status_logs_by_collection ON status_logs (collection_id, seq);
