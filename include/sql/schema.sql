-- The sync's own tables. Runs on SQLite (default) and PostgreSQL (production, CI).
-- Timestamps are ISO-8601 UTC text with a fixed width ("2026-01-31T12:00:00.000000+00:00") so they sort
-- and compare the same way on both databases. {serial_pk} is the one dialect-specific piece: the loader
-- replaces it with the dialect's auto-numbered primary key. A CHECK's {action_kinds} and the like are the
-- values of the enum the code writes there (include/sync/enums.py, listed in db._VALUES), so they are written
-- once. Every statement is idempotent (a table made before a CHECK was added keeps its old definition).

CREATE TABLE IF NOT EXISTS sync_run (
    run_id        TEXT PRIMARY KEY,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL CHECK (status IN ({run_statuses})),
    mode          TEXT NOT NULL CHECK (mode IN ({modes})),
    dry_run       INTEGER NOT NULL,
    record_types  TEXT NOT NULL,              -- comma-separated, in dependency order
    window_start  TEXT,
    window_end    TEXT,
    options       TEXT NOT NULL,              -- JSON of the run's params
    summary       TEXT                        -- JSON: counts per record type and action
);

-- One logical mapping table per record type (partitioned by record_type), so the engine stays generic.
CREATE TABLE IF NOT EXISTS record_mapping (
    record_type     TEXT NOT NULL,
    ajera_key       TEXT NOT NULL,
    crm_key         TEXT NOT NULL,
    match_method    TEXT NOT NULL CHECK (match_method IN ({link_methods})),
    ajera_modified  TEXT,                     -- last-synced LastModifiedDate on the Ajera side
    crm_modified    TEXT,                     -- last-synced ModDate on the CRM side
    ajera_hash      TEXT,                     -- hash of the synced fields as last synced (NULL: never synced)
    crm_hash        TEXT,
    ajera_fields    TEXT,                     -- JSON: the synced fields as last synced, for the per-field merge
    crm_fields      TEXT,
    linked_run_id   TEXT NOT NULL,
    linked_at       TEXT NOT NULL,
    synced_at       TEXT,
    PRIMARY KEY (record_type, ajera_key),
    CONSTRAINT uq_record_mapping_crm UNIQUE (record_type, crm_key)
);

CREATE TABLE IF NOT EXISTS watermark (
    system            TEXT NOT NULL,          -- ajera | crm
    record_type       TEXT NOT NULL,
    modified_through  TEXT NOT NULL,          -- largest modified date seen by a successful run
    run_id            TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (system, record_type)
);

-- What extract read this run. payload is NULL for rows known only from the key/name sweep.
CREATE TABLE IF NOT EXISTS staged_record (
    run_id        TEXT NOT NULL,
    system        TEXT NOT NULL,
    record_type   TEXT NOT NULL,
    record_key    TEXT NOT NULL,
    record_name   TEXT NOT NULL,
    modified      TEXT,
    flagged       INTEGER NOT NULL,
    record_group  TEXT,                       -- what a per-group cap counts by (a contact's firm)
    content_hash  TEXT,
    payload       TEXT,                       -- JSON {"raw": ..., "fields": ...}
    quarantined   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, system, record_type, record_key)
);

-- Each record as the sync last saw it, listed or read (the bare columns; no payload). A run's picture of a
-- system is this table: its extract writes what it staged here in the same transaction, and a deletion sweep
-- removes what it no longer listed. What the run read whole (payload, hash) stays in staged_record.
CREATE TABLE IF NOT EXISTS seen_record (
    system        TEXT NOT NULL,
    record_type   TEXT NOT NULL,
    record_key    TEXT NOT NULL,
    record_name   TEXT NOT NULL,
    modified      TEXT,
    flagged       INTEGER NOT NULL,
    record_group  TEXT,
    quarantined   INTEGER NOT NULL DEFAULT 0,  -- as the last validation of the record left it
    run_id        TEXT NOT NULL,               -- the run that last staged it
    PRIMARY KEY (system, record_type, record_key)
);

-- The plan: one row per action, grouped in batches that the mapped apply tasks work through.
CREATE TABLE IF NOT EXISTS planned_action (
    run_id       TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    planned_by   TEXT NOT NULL CHECK (planned_by IN ({planned_by})),
    batch_no     INTEGER NOT NULL,            -- -1: held back by the batch cap
    action       TEXT NOT NULL CHECK (action IN ({action_kinds})),
    ajera_key    TEXT,
    crm_key      TEXT,
    record_name  TEXT NOT NULL,
    detail       TEXT NOT NULL,               -- JSON, by action: include/sync/actions.py (to_row, from_row)
    status       TEXT NOT NULL CHECK (status IN ({action_statuses})),
    message      TEXT,
    PRIMARY KEY (run_id, record_type, seq)
);

CREATE TABLE IF NOT EXISTS integration_log (
    id           {serial_pk},
    run_id       TEXT NOT NULL,
    logged_at    TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ({directions})),
    action       TEXT NOT NULL CHECK (action IN ({log_actions})),
    ajera_key    TEXT,
    crm_key      TEXT,
    record_name  TEXT,
    message      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    id              {serial_pk},
    run_id          TEXT NOT NULL,
    system          TEXT NOT NULL,
    record_type     TEXT NOT NULL,
    record_key      TEXT,
    record_name     TEXT,
    reason          TEXT NOT NULL,
    payload         TEXT,
    quarantined_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS match_suggestion (
    id               {serial_pk},
    record_type      TEXT NOT NULL,
    ajera_key        TEXT NOT NULL,
    crm_key          TEXT NOT NULL,
    ajera_name       TEXT NOT NULL,
    crm_name         TEXT NOT NULL,
    score            REAL NOT NULL,
    method           TEXT NOT NULL,           -- normalised | fuzzy
    status           TEXT NOT NULL CHECK (status IN ({suggestion_statuses})),
    proposed_run_id  TEXT NOT NULL,
    proposed_at      TEXT NOT NULL,
    decided_at       TEXT,
    CONSTRAINT uq_match_suggestion UNIQUE (record_type, ajera_key, crm_key)
);

CREATE TABLE IF NOT EXISTS sync_conflict (
    id           {serial_pk},
    run_id       TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    ajera_key    TEXT NOT NULL,
    crm_key      TEXT NOT NULL,
    field_name   TEXT NOT NULL,
    ajera_value  TEXT,
    crm_value    TEXT,
    resolution   TEXT NOT NULL CHECK (resolution IN ({resolutions})),
    reason       TEXT NOT NULL,
    logged_at    TEXT NOT NULL
);

-- What each extract's sweep saw: the watermark may advance that far and no further.
CREATE TABLE IF NOT EXISTS extract_sweep (
    run_id         TEXT NOT NULL,
    system         TEXT NOT NULL,
    record_type    TEXT NOT NULL,
    swept_through  TEXT,                      -- newest modified date in the sweep
    PRIMARY KEY (run_id, system, record_type)
);

CREATE TABLE IF NOT EXISTS project_batch (
    run_id         TEXT NOT NULL,
    record_type    TEXT NOT NULL,
    batch_no       INTEGER NOT NULL,
    action_count   INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ({batch_statuses})),
    PRIMARY KEY (run_id, record_type, batch_no)
);

-- Records whose write failed: later runs pick them up again until they succeed or turn poison.
CREATE TABLE IF NOT EXISTS failed_record (
    record_type  TEXT NOT NULL,
    system       TEXT NOT NULL,               -- the system the record was read from
    record_key   TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    poison       INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (record_type, system, record_key)
);

-- What a record waits for, run after run (its firm to be synced, room under the contact cap, an Ajera
-- template): logged the run it is first seen (a new reason is a new note), then only counted as still
-- pending. A note that is not raised again (the record went through, or its reason changed) is removed.
CREATE TABLE IF NOT EXISTS pending_note (
    record_type    TEXT NOT NULL,
    ajera_key      TEXT NOT NULL,             -- '' when the note is about a CRM record alone
    crm_key        TEXT NOT NULL,             -- '' when the note is about an Ajera record alone
    action         TEXT NOT NULL CHECK (action IN ({pending_note_actions})),
    message        TEXT NOT NULL,
    first_run_id   TEXT NOT NULL,
    last_run_id    TEXT NOT NULL,
    first_seen_at  TEXT NOT NULL,
    PRIMARY KEY (record_type, ajera_key, crm_key, message)
);

-- Review decisions taken in the UI (Sync Details page), each also a row of review_action and of the log.
-- A conflict left for review, decided "take Ajera's" (winner ajera) or "take the CRM's": the next run
-- writes the winner's value across and sets applied_run_id; a later conflict on the field is a new row.
CREATE TABLE IF NOT EXISTS conflict_decision (
    record_type     TEXT NOT NULL,
    ajera_key       TEXT NOT NULL,
    crm_key         TEXT NOT NULL,
    field_name      TEXT NOT NULL,
    winner          TEXT NOT NULL CHECK (winner IN ({systems})),
    conflict_id     BIGINT NOT NULL,          -- the sync_conflict row it answers
    decided_by      TEXT NOT NULL,
    decided_at      TEXT NOT NULL,
    applied_run_id  TEXT,                     -- NULL until a run has written it
    applied_at      TEXT,
    PRIMARY KEY (record_type, ajera_key, crm_key, field_name)
);

-- A quarantined or poison record a person asked to try again: the next run reads it in full.
CREATE TABLE IF NOT EXISTS record_retry (
    record_type    TEXT NOT NULL,
    system         TEXT NOT NULL,
    record_key     TEXT NOT NULL,
    quarantine_id  BIGINT,                    -- the quarantine row it answers (NULL for a poison record)
    requested_by   TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    read_run_id    TEXT,                      -- the run that read it again
    PRIMARY KEY (record_type, system, record_key)
);

-- The audit trail: who did what, when, from the UI.
CREATE TABLE IF NOT EXISTS review_action (
    id           {serial_pk},
    acted_at     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ({review_actions})),
    record_type  TEXT NOT NULL,
    ajera_key    TEXT,
    crm_key      TEXT,
    detail       TEXT NOT NULL                -- what was decided, in words
);

CREATE INDEX IF NOT EXISTS ix_integration_log_run ON integration_log (run_id, record_type);
CREATE INDEX IF NOT EXISTS ix_planned_action_batch ON planned_action (run_id, record_type, batch_no);
CREATE INDEX IF NOT EXISTS ix_sync_conflict_pair ON sync_conflict (record_type, ajera_key, crm_key, field_name);
CREATE INDEX IF NOT EXISTS ix_quarantine_record ON quarantine (record_type, system, record_key);

-- One row while a sync run holds the lease (include/sync/lock.py): the run, and until when it lasts. One
-- sync run at a time per sync database, backfill runs too (Airflow's max_active_runs does not cover them):
-- the DAG's first task waits for it, every step renews it, the last task releases it.
CREATE TABLE IF NOT EXISTS sync_lease (
    lease_name   TEXT PRIMARY KEY,            -- always 'sync': one sync per sync database
    holder       TEXT NOT NULL,               -- the run id holding it
    acquired_at  TEXT NOT NULL,
    expires_at   TEXT NOT NULL                -- renewed by every step of the holding run
);

-- The record types whose first sync was applied in full: until then every run matches names first-time.
CREATE TABLE IF NOT EXISTS first_sync (
    record_type   TEXT PRIMARY KEY,
    run_id        TEXT NOT NULL,
    completed_at  TEXT NOT NULL
);

-- Which DDL the tables match (a hash of the schema*.sql statements): a task finding its own skips the DDL.
CREATE TABLE IF NOT EXISTS sync_schema (
    fingerprint  TEXT NOT NULL
);
