-- Relationships' derived fields as the Apollo docs show them (shared/er/derived.py):
-- brickRelationshipType = <namespace>__<relation>, brickRelationshipName = <relation>, and for
-- each end brick*EntityType (its top class) and brick*EntitySubType (its type), as the end's
-- entity derives them. Rows written before keep their values in `derived` and `body` rewritten
-- to the new ones, or a client re-sending them would be refused ("cannot change").
--
-- Not an upsert: the version triggers of 009 stay out of it (no version bump, no history row).

ALTER TABLE er_relationships DISABLE TRIGGER er_relationships_next_version;
ALTER TABLE er_relationships DISABLE TRIGGER er_relationships_keep_versions;

WITH fresh AS (
    SELECT r.collection_id, r.id,
           jsonb_build_object(
               'brickRelationshipType',
               split_part(r.relationship_type, '__', 1) || '__'
                   || coalesce(t.metadata ->> 'relation', r.relationship_type),
               'brickRelationshipName', coalesce(t.metadata ->> 'relation', r.relationship_type),
               'brickSourceEntityType', s.derived ->> 'brickEntityType',
               'brickSourceEntitySubType', s.derived ->> 'brickEntitySubType',
               'brickDestinationEntityType', d.derived ->> 'brickEntityType',
               'brickDestinationEntitySubType', d.derived ->> 'brickEntitySubType'
           ) AS derived
    FROM er_relationships r
    JOIN type_schemas t ON t.type_id = r.relationship_type AND t.is_current
    JOIN er_entities s ON s.collection_id = r.collection_id AND s.id = r.source_entity_id
    JOIN er_entities d
      ON d.collection_id = r.destination_collection_id AND d.id = r.destination_entity_id
    WHERE r.relationship_type LIKE '%\_\_%'
)
UPDATE er_relationships r
SET derived = f.derived,
    -- The body keeps the client's key order: known keys are replaced in place, new ones follow.
    body = (
        SELECT json_object_agg(k, v ORDER BY n)
        FROM (
            SELECT e.key AS k,
                   CASE WHEN f.derived ? e.key THEN (f.derived -> e.key)::json ELSE e.value END
                       AS v,
                   e.n
            FROM json_each(r.body) WITH ORDINALITY AS e(key, value, n)
            UNION ALL
            SELECT x.key, x.value::json, 1000000 + x.n
            FROM jsonb_each(f.derived) WITH ORDINALITY AS x(key, value, n)
            WHERE NOT EXISTS (SELECT 1 FROM json_each(r.body) AS b WHERE b.key = x.key)
        ) AS merged
    )
FROM fresh f
WHERE r.collection_id = f.collection_id AND r.id = f.id
  AND f.derived ->> 'brickSourceEntityType' IS NOT NULL
  AND f.derived ->> 'brickDestinationEntityType' IS NOT NULL;

ALTER TABLE er_relationships ENABLE TRIGGER er_relationships_next_version;
ALTER TABLE er_relationships ENABLE TRIGGER er_relationships_keep_versions;
