-- A first sync's Ajera answers for the extract of a record type that refers to others (contacts, projects),
-- read at the run's start while the types they refer to are still being written (include/sync/extract_ahead.py).
-- One row per list call (request: the entity and its filters, record_key ''), one per key a Get asked for
-- (answer 'null' when Ajera did not return it), and one 'done' row once every read is kept.
CREATE TABLE IF NOT EXISTS extract_read_ahead (
    run_id       TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    request      TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    answer       TEXT NOT NULL,               -- JSON: the list's rows, or the one record
    PRIMARY KEY (run_id, record_type, request, record_key)
);
