-- name: clear_staged
DELETE FROM staged_record WHERE run_id = :run_id AND system = :system AND record_type = :record_type;

-- name: insert_staged
INSERT INTO staged_record (run_id, system, record_type, record_key, record_name, modified, flagged, record_group, content_hash, payload)
VALUES (:run_id, :system, :record_type, :record_key, :record_name, :modified, :flagged, :record_group, :content_hash, :payload);

-- name: select_staged
SELECT record_key, record_name, modified, flagged, record_group, content_hash, payload, quarantined
FROM staged_record WHERE run_id = :run_id AND system = :system AND record_type = :record_type
ORDER BY record_key;

-- name: quarantine_staged
UPDATE staged_record SET quarantined = 1
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND record_key = :record_key;

-- name: record_sweep
INSERT INTO extract_sweep (run_id, system, record_type, swept_through)
VALUES (:run_id, :system, :record_type, :swept_through)
ON CONFLICT (run_id, system, record_type) DO UPDATE SET swept_through = excluded.swept_through;

-- name: swept_through
SELECT swept_through FROM extract_sweep WHERE run_id = :run_id AND system = :system AND record_type = :record_type;

-- name: max_staged_modified
SELECT MAX(modified) FROM staged_record
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND payload IS NOT NULL;

-- name: purge_old_staging
-- Snapshots and plans of finished runs are only needed to debug a recent run; the integration log,
-- mappings, conflicts and quarantine are kept.
DELETE FROM staged_record WHERE run_id IN (
    SELECT run_id FROM sync_run WHERE finished_at IS NOT NULL AND finished_at < :before);

-- name: purge_old_plans
DELETE FROM planned_action WHERE run_id IN (
    SELECT run_id FROM sync_run WHERE finished_at IS NOT NULL AND finished_at < :before);

-- name: purge_old_batches
DELETE FROM project_batch WHERE run_id IN (
    SELECT run_id FROM sync_run WHERE finished_at IS NOT NULL AND finished_at < :before);

-- name: select_staged_by_keys
SELECT record_key, record_name, modified, flagged, record_group, content_hash, payload, quarantined
FROM staged_record WHERE run_id = :run_id AND system = :system AND record_type = :record_type
  AND record_key IN :keys;

-- name: select_quarantined_staged
SELECT record_key FROM staged_record
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND quarantined = 1;

-- name: quarantine_keys_of_run
SELECT DISTINCT record_key FROM quarantine
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND record_key IS NOT NULL;

-- name: count_staged_records
SELECT COUNT(*) FROM staged_record WHERE run_id = :run_id AND record_type = :record_type;

-- name: count_quarantined_records
SELECT COUNT(*) FROM staged_record WHERE run_id = :run_id AND record_type = :record_type AND quarantined = 1;

-- name: staged_keys
SELECT record_key, quarantined FROM staged_record WHERE run_id = :run_id AND system = :system AND record_type = :record_type;

-- name: purge_old_read_ahead
DELETE FROM ajera_read_ahead WHERE run_id IN (
    SELECT run_id FROM sync_run WHERE finished_at IS NOT NULL AND finished_at < :before);
