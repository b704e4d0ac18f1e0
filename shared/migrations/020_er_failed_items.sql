-- The failed items of each async ER batch, kept with their reasons so that they can be shown and
-- sent again once their cause is fixed (the dashboard's retry, `brickyard retry`). A batch's
-- staged items are removed when its job ends, whatever ends it; a trigger copies the failed ones
-- out just before, so no write path has to remember to.
-- (Numbered 020 to stay clear of the numbers other work in progress is taking.)

CREATE TABLE er_failed_items (
    transaction_id text NOT NULL,
    collection_id text NOT NULL,
    item_kind text NOT NULL CHECK (item_kind IN ('entity', 'relationship')),
    item_id text NOT NULL,
    position integer NOT NULL,
    reason text NOT NULL,
    item json NOT NULL,                           -- the item as it was sent
    failed_at timestamptz NOT NULL DEFAULT now(),
    retried_in text,                              -- the transaction that resubmitted it
    PRIMARY KEY (transaction_id, item_kind, item_id)
);

CREATE FUNCTION keep_failed_items() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    -- Most batches have no failure: one index probe settles it.
    IF NOT EXISTS (SELECT 1 FROM status_logs
                   WHERE transaction_id = OLD.transaction_id AND state = 'Failed') THEN
        RETURN OLD;
    END IF;
    INSERT INTO er_failed_items
        (transaction_id, collection_id, item_kind, item_id, position, reason, item)
    SELECT OLD.transaction_id, OLD.collection_id, OLD.item_kind, l.item_id, l.position,
           l.message, e.item
    FROM er_batch_chunks c
    CROSS JOIN LATERAL json_array_elements(c.items::json) AS e(item)
    JOIN status_logs l ON l.transaction_id = OLD.transaction_id
                      AND l.item_kind = OLD.item_kind AND l.item_id = e.item->>'id'
    WHERE c.transaction_id = OLD.transaction_id AND l.state = 'Failed'
    ON CONFLICT DO NOTHING;
    RETURN OLD;
END
$$;

-- BEFORE: the chunks go with the batch (ON DELETE CASCADE), so they are read while still there.
CREATE TRIGGER er_batches_keep_failed_items BEFORE DELETE ON er_batches
FOR EACH ROW EXECUTE FUNCTION keep_failed_items();
