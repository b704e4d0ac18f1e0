-- Admission control counts a principal's unfinished jobs (and their staged items) each time it
-- records one: this keeps that count to the principal's own unfinished rows.
CREATE INDEX jobs_unfinished_by_principal ON jobs (principal_id) WHERE state = 'PROCESSING';
