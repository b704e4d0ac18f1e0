-- An item's versions across a delete and a re-create (issue 20, 1).
--
-- Until now a delete kept nothing (the deleted version went with its row), and a re-created item
-- started again at version 1, so its versions collided with the deleted item's kept ones and
-- 009's `ON CONFLICT DO NOTHING` dropped them: /versions showed a version 1 twice, then lost an
-- acknowledged write, while the change feed had every event.
--
-- Now an item's versions count on across deletes, per (collection, id), whatever writes them:
-- * a delete keeps the version it removes, and adds a tombstone, the next version, with
--   `deleted` set (the removed body, the deleting transaction, the moment of the delete);
-- * a re-created item continues after its last tombstone: a statement trigger on insert
--   renumbers the inserted rows that have one (its own statement's fresh snapshot sees every
--   tombstone of the id, since a delete that raced the insert has committed before the insert
--   could go ahead) and writes their Created events with those numbers. The upserts are
--   unchanged, and only rows actually inserted pay for the look-up, not re-upserts;
-- * the feed's Deleted event carries the tombstone's version.
-- So create, update, delete, create, update read v1 to v5 in history and in the feed alike.

ALTER TABLE er_entity_versions ADD COLUMN deleted boolean NOT NULL DEFAULT false;
ALTER TABLE er_relationship_versions ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- Only tombstones: every inserted row is looked up here, and they stay few.
CREATE INDEX er_entity_versions_tombstones
    ON er_entity_versions (collection_id, id, version) WHERE deleted;
CREATE INDEX er_relationship_versions_tombstones
    ON er_relationship_versions (collection_id, id, version) WHERE deleted;

-- Items deleted before: their history (if any was kept) gets the tombstone it lacked, right
-- after its last kept version (the version the delete removed was not kept), named after the
-- last Delete status log of the item when there is one.
INSERT INTO er_entity_versions
    (collection_id, id, version, entity_type, body, transaction_id, written_at, deleted)
SELECT DISTINCT ON (v.collection_id, v.id)
       v.collection_id, v.id, v.version + 1, v.entity_type, v.body,
       coalesce(d.transaction_id, v.transaction_id), coalesce(d.enqueued_at, now()), true
FROM er_entity_versions v
LEFT JOIN LATERAL (
    SELECT l.transaction_id, l.enqueued_at FROM status_logs l
    WHERE l.collection_id = v.collection_id AND l.item_kind = 'entity' AND l.item_id = v.id
      AND l.request_action = 'Delete'
    ORDER BY l.seq DESC LIMIT 1
) AS d ON true
WHERE NOT EXISTS (
    SELECT 1 FROM er_entities e WHERE e.collection_id = v.collection_id AND e.id = v.id
)
ORDER BY v.collection_id, v.id, v.version DESC;
INSERT INTO er_relationship_versions
    (collection_id, id, version, relationship_type, body, transaction_id, written_at, deleted)
SELECT DISTINCT ON (v.collection_id, v.id)
       v.collection_id, v.id, v.version + 1, v.relationship_type, v.body,
       coalesce(d.transaction_id, v.transaction_id), coalesce(d.enqueued_at, now()), true
FROM er_relationship_versions v
LEFT JOIN LATERAL (
    SELECT l.transaction_id, l.enqueued_at FROM status_logs l
    WHERE l.collection_id = v.collection_id AND l.item_kind = 'relationship'
      AND l.item_id = v.id AND l.request_action = 'Delete'
    ORDER BY l.seq DESC LIMIT 1
) AS d ON true
WHERE NOT EXISTS (
    SELECT 1 FROM er_relationships r WHERE r.collection_id = v.collection_id AND r.id = v.id
)
ORDER BY v.collection_id, v.id, v.version DESC;

-- 009's bump, unless the statement sets the version itself (the renumbering below), and the
-- keeping of replaced versions and their Updated events, unless renumbering: that is no upsert.
DROP TRIGGER er_entities_next_version ON er_entities;
DROP TRIGGER er_relationships_next_version ON er_relationships;
CREATE TRIGGER er_entities_next_version BEFORE UPDATE ON er_entities
    FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION er_next_version();
CREATE TRIGGER er_relationships_next_version BEFORE UPDATE ON er_relationships
    FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION er_next_version();
DROP TRIGGER er_entities_keep_versions ON er_entities;
DROP TRIGGER er_relationships_keep_versions ON er_relationships;
DROP TRIGGER er_entities_feed_update ON er_entities;
DROP TRIGGER er_relationships_feed_update ON er_relationships;
CREATE TRIGGER er_entities_keep_versions AFTER UPDATE ON er_entities
    REFERENCING OLD TABLE AS replaced FOR EACH STATEMENT
    WHEN (current_setting('brickyard.renumbering', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION er_keep_entity_versions();
CREATE TRIGGER er_relationships_keep_versions AFTER UPDATE ON er_relationships
    REFERENCING OLD TABLE AS replaced FOR EACH STATEMENT
    WHEN (current_setting('brickyard.renumbering', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION er_keep_relationship_versions();
CREATE TRIGGER er_entities_feed_update AFTER UPDATE ON er_entities
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    WHEN (current_setting('brickyard.renumbering', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION er_changefeed_record();
CREATE TRIGGER er_relationships_feed_update AFTER UPDATE ON er_relationships
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    WHEN (current_setting('brickyard.renumbering', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION er_changefeed_record();

-- Items re-created before: their current version may be at or below a kept one (the
-- collision above). It moves past them, so their next upsert keeps it instead of dropping it.
SELECT set_config('brickyard.renumbering', 'on', true);
UPDATE er_entities e SET version = m.last + 1
FROM (SELECT collection_id, id, max(version) AS last FROM er_entity_versions
      GROUP BY collection_id, id) AS m
WHERE e.collection_id = m.collection_id AND e.id = m.id AND e.version <= m.last;
UPDATE er_relationships r SET version = m.last + 1
FROM (SELECT collection_id, id, max(version) AS last FROM er_relationship_versions
      GROUP BY collection_id, id) AS m
WHERE r.collection_id = m.collection_id AND r.id = m.id AND r.version <= m.last;
SELECT set_config('brickyard.renumbering', '', true);

-- A re-created item's rows take the version after their last tombstone, then every inserted row
-- gets its Created event (what 027's insert trigger did), with the version it has now.
CREATE FUNCTION er_entities_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('brickyard.renumbering', 'on', true);
    WITH fresh AS (
        SELECT c.collection_id, c.id, c.entity_type, c.transaction_id,
               coalesce(t.version, 0) + 1 AS version, t.version IS NOT NULL AS continued
        FROM changed c JOIN er_collections k ON k.id = c.collection_id
        LEFT JOIN LATERAL (
            SELECT v.version FROM er_entity_versions v
            WHERE v.collection_id = c.collection_id AND v.id = c.id AND v.deleted
            ORDER BY v.version DESC LIMIT 1
        ) AS t ON true
    ), renumbered AS (
        UPDATE er_entities e SET version = f.version
        FROM fresh f
        WHERE f.continued AND e.collection_id = f.collection_id AND e.id = f.id
    )
    INSERT INTO er_changefeed_blocks
        (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
         item_versions, transaction_ids)
    SELECT f.collection_id, count(*), 'Created', 'entity', array_agg(f.id),
           array_agg(f.entity_type), array_agg(f.version), array_agg(f.transaction_id)
    FROM (SELECT * FROM fresh ORDER BY collection_id, id) AS f
    GROUP BY f.collection_id;
    PERFORM set_config('brickyard.renumbering', '', true);
    RETURN NULL;
END
$$;

CREATE FUNCTION er_relationships_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('brickyard.renumbering', 'on', true);
    WITH fresh AS (
        SELECT c.collection_id, c.id, c.relationship_type, c.transaction_id,
               coalesce(t.version, 0) + 1 AS version, t.version IS NOT NULL AS continued
        FROM changed c JOIN er_collections k ON k.id = c.collection_id
        LEFT JOIN LATERAL (
            SELECT v.version FROM er_relationship_versions v
            WHERE v.collection_id = c.collection_id AND v.id = c.id AND v.deleted
            ORDER BY v.version DESC LIMIT 1
        ) AS t ON true
    ), renumbered AS (
        UPDATE er_relationships r SET version = f.version
        FROM fresh f
        WHERE f.continued AND r.collection_id = f.collection_id AND r.id = f.id
    )
    INSERT INTO er_changefeed_blocks
        (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
         item_versions, transaction_ids)
    SELECT f.collection_id, count(*), 'Created', 'relationship', array_agg(f.id),
           array_agg(f.relationship_type), array_agg(f.version), array_agg(f.transaction_id)
    FROM (SELECT * FROM fresh ORDER BY collection_id, id) AS f
    GROUP BY f.collection_id;
    PERFORM set_config('brickyard.renumbering', '', true);
    RETURN NULL;
END
$$;

DROP TRIGGER er_entities_feed_insert ON er_entities;
DROP TRIGGER er_relationships_feed_insert ON er_relationships;
CREATE TRIGGER er_entities_inserted AFTER INSERT ON er_entities
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_entities_inserted();
CREATE TRIGGER er_relationships_inserted AFTER INSERT ON er_relationships
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION er_relationships_inserted();

-- A delete keeps the removed version and its tombstone, in one INSERT per statement. Rows of a
-- collection being deleted keep nothing: their history goes with the collection. The deleting
-- transaction names itself as for the feed (shared/er/store/deletes.py).
CREATE FUNCTION er_keep_deleted_entities() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    deleted_by text := nullif(current_setting('brickyard.transaction_id', true), '');
BEGIN
    INSERT INTO er_entity_versions
        (collection_id, id, version, entity_type, body, transaction_id, written_at, deleted)
    SELECT g.collection_id, g.id, g.version + s.n, g.entity_type, g.body,
           CASE s.n WHEN 0 THEN g.transaction_id ELSE coalesce(deleted_by, g.transaction_id) END,
           CASE s.n WHEN 0 THEN g.updated_at ELSE now() END, s.n = 1
    FROM gone g JOIN er_collections k ON k.id = g.collection_id
    CROSS JOIN (VALUES (0), (1)) AS s(n)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION er_keep_deleted_relationships() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    deleted_by text := nullif(current_setting('brickyard.transaction_id', true), '');
BEGIN
    INSERT INTO er_relationship_versions
        (collection_id, id, version, relationship_type, body, transaction_id, written_at,
         deleted)
    SELECT g.collection_id, g.id, g.version + s.n, g.relationship_type, g.body,
           CASE s.n WHEN 0 THEN g.transaction_id ELSE coalesce(deleted_by, g.transaction_id) END,
           CASE s.n WHEN 0 THEN g.updated_at ELSE now() END, s.n = 1
    FROM gone g JOIN er_collections k ON k.id = g.collection_id
    CROSS JOIN (VALUES (0), (1)) AS s(n)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER er_entities_keep_deleted AFTER DELETE ON er_entities
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION er_keep_deleted_entities();
CREATE TRIGGER er_relationships_keep_deleted AFTER DELETE ON er_relationships
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION er_keep_deleted_relationships();

-- 027's events (now for updates and deletes), but a Deleted event carries the tombstone's
-- version (the removed one + 1), as history shows it.
CREATE OR REPLACE FUNCTION er_changefeed_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    event text := CASE TG_OP WHEN 'INSERT' THEN 'Created' WHEN 'UPDATE' THEN 'Updated'
                  ELSE 'Deleted' END;
    -- A row carries the transaction that wrote it; a delete names its own (shared/er/delete.py
    -- sets it for its transaction), else the event would name the row's last writer.
    deleted_by text := CASE TG_OP WHEN 'DELETE' THEN
        nullif(current_setting('brickyard.transaction_id', true), '') END;
    bump integer := CASE TG_OP WHEN 'DELETE' THEN 1 ELSE 0 END;
BEGIN
    -- Rows of a collection being deleted (a cascade) are no events: its feed goes with it.
    IF TG_TABLE_NAME = 'er_entities' THEN
        INSERT INTO er_changefeed_blocks
            (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
             item_versions, transaction_ids)
        SELECT c.collection_id, count(*), event, 'entity', array_agg(c.id),
               array_agg(c.entity_type), array_agg(c.version + bump),
               array_agg(coalesce(deleted_by, c.transaction_id))
        FROM (SELECT c.* FROM changed c JOIN er_collections k ON k.id = c.collection_id
              ORDER BY c.collection_id, c.id) AS c
        GROUP BY c.collection_id;
    ELSE
        INSERT INTO er_changefeed_blocks
            (collection_id, event_count, notification_type, item_kind, item_ids, item_types,
             item_versions, transaction_ids)
        SELECT c.collection_id, count(*), event, 'relationship', array_agg(c.id),
               array_agg(c.relationship_type), array_agg(c.version + bump),
               array_agg(coalesce(deleted_by, c.transaction_id))
        FROM (SELECT c.* FROM changed c JOIN er_collections k ON k.id = c.collection_id
              ORDER BY c.collection_id, c.id) AS c
        GROUP BY c.collection_id;
    END IF;
    RETURN NULL;
END
$$;
