-- A finished batch's stored and failed item counts, kept beside its result so that lists of
-- jobs (the dashboard's) can tell "completed with failures" from a clean COMPLETE without
-- reading each result (a 10000-item batch's is about 2 MB). NULL for jobs that are no batch.
ALTER TABLE jobs ADD COLUMN items_stored integer, ADD COLUMN items_failed integer;

-- Any job's result may be recorded: only an array counts, anything else is no batch.
CREATE FUNCTION json_array_length_or_null(value json) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN json_typeof(value) = 'array' THEN json_array_length(value) END
$$;
