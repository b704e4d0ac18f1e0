-- The ontology graph of a schema collection (docs/apollo-ontology.md), built from its active
-- types and read without recomputation. built_generation is the collection's types_generation
-- (migration 025) the graph was built from: a read that finds it stale rebuilds first.
CREATE TABLE ontology_graphs (
    collection_id text PRIMARY KEY REFERENCES schema_collections(id) ON DELETE CASCADE,
    built_generation uuid NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    entity_types integer NOT NULL,
    objects integer NOT NULL
);

-- Each active entity type with what its brickMetadata shows.
CREATE TABLE ontology_entity_types (
    collection_id text NOT NULL REFERENCES ontology_graphs(collection_id) ON DELETE CASCADE,
    type_id text NOT NULL,
    top_type_id text NOT NULL,
    name text NOT NULL,
    PRIMARY KEY (collection_id, type_id)
);

-- A type and each of its ancestors (itself included): what an inherited read joins on.
CREATE TABLE ontology_lineage (
    collection_id text NOT NULL REFERENCES ontology_graphs(collection_id) ON DELETE CASCADE,
    type_id text NOT NULL,
    ancestor_id text NOT NULL,
    PRIMARY KEY (collection_id, type_id, ancestor_id)
);

-- One ontology object per active relationship type: its relation between two top classes.
CREATE TABLE ontology_objects (
    collection_id text NOT NULL REFERENCES ontology_graphs(collection_id) ON DELETE CASCADE,
    object_id text NOT NULL,
    relation text NOT NULL,
    relation_type_id text NOT NULL,
    source_id text NOT NULL,
    destination_id text NOT NULL,
    inverse_relation text,
    PRIMARY KEY (collection_id, object_id)
);
CREATE INDEX ontology_objects_relation ON ontology_objects (collection_id, relation_type_id);

-- The (source, destination) entity types each object admits (its rules' pairs).
CREATE TABLE ontology_ends (
    collection_id text NOT NULL,
    object_id text NOT NULL,
    source_id text NOT NULL,
    destination_id text NOT NULL,
    FOREIGN KEY (collection_id, object_id)
        REFERENCES ontology_objects(collection_id, object_id) ON DELETE CASCADE
);
CREATE INDEX ontology_ends_source ON ontology_ends (collection_id, source_id);
CREATE INDEX ontology_ends_destination ON ontology_ends (collection_id, destination_id);
