-- Files uploaded for the Apollo "import from a file" calls (POST /apollo/er/entities or
-- /relationships with a fileName header and no body): each principal's own, by name, replaced by
-- a later upload of the same name. The import reads the file when it is called, so a file is kept
-- until it is replaced; a day-old upload is swept when the next one arrives.
CREATE TABLE er_uploaded_files (
    principal_id bigint NOT NULL REFERENCES principals(id),
    file_name text NOT NULL,
    content bytea NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, file_name)
);
