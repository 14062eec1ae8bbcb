-- The last whole copy read of each record a run would otherwise read again while it is left alone (a
-- flagged record not created, a record with a pending note, every consultant vendor): a quiet run stages
-- the copy instead of asking the API again, as long as the record has not changed since (include/sync/copies.py).
CREATE TABLE IF NOT EXISTS record_copy (
    record_type  TEXT NOT NULL,
    system       TEXT NOT NULL,
    record_key   TEXT NOT NULL,
    modified     TEXT,                        -- the record's own modified date, as read
    raw          TEXT NOT NULL,               -- the record as the API returned it (JSON)
    read_run_id  TEXT NOT NULL,
    PRIMARY KEY (record_type, system, record_key)
);

-- The last time each extract listed every key of its record type (the deletion sweep, include/sync/sweeps.py).
CREATE TABLE IF NOT EXISTS full_sweep (
    record_type  TEXT NOT NULL,
    system       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    swept_at     TEXT NOT NULL,
    PRIMARY KEY (record_type, system)
);
