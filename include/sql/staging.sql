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

-- name: set_seen_quarantined
UPDATE seen_record SET quarantined = :quarantined
WHERE system = :system AND record_type = :record_type AND record_key = :record_key;

-- name: see_staged
-- The picture takes what this extract staged (a re-read record is validated again: quarantined is reset).
INSERT INTO seen_record (system, record_type, record_key, record_name, modified, flagged, record_group, quarantined,
                         run_id)
SELECT system, record_type, record_key, record_name, modified, flagged, record_group, quarantined, run_id
FROM staged_record WHERE run_id = :run_id AND system = :system AND record_type = :record_type
ON CONFLICT (system, record_type, record_key) DO UPDATE SET
    record_name = excluded.record_name, modified = excluded.modified, flagged = excluded.flagged,
    record_group = excluded.record_group, quarantined = excluded.quarantined, run_id = excluded.run_id;

-- name: unsee_unlisted
-- A deletion sweep listed every key: what it did not list is gone from the picture.
DELETE FROM seen_record
WHERE system = :system AND record_type = :record_type AND NOT EXISTS (
    SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = seen_record.system
      AND s.record_type = seen_record.record_type AND s.record_key = seen_record.record_key);

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
-- The run's picture of these keys: as the run staged each, else as the sync last saw it.
SELECT record_key, record_name, modified, flagged, record_group, content_hash, payload, quarantined
FROM staged_record
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND record_key IN :keys
UNION ALL
SELECT k.record_key, k.record_name, k.modified, k.flagged, k.record_group, NULL, NULL, k.quarantined
FROM seen_record k
WHERE k.system = :system AND k.record_type = :record_type AND k.record_key IN :keys AND NOT EXISTS (
    SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = k.system AND s.record_type = k.record_type
      AND s.record_key = k.record_key);

-- name: select_quarantined_staged
SELECT record_key FROM staged_record
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND quarantined = 1;

-- name: quarantine_keys_of_run
SELECT DISTINCT record_key FROM quarantine
WHERE run_id = :run_id AND system = :system AND record_type = :record_type AND record_key IS NOT NULL;

-- name: count_picture
-- The records of the run's picture of the type, both systems (what it staged, and the rest as last seen), and
-- how many of them are quarantined.
SELECT COUNT(*) AS total, COALESCE(SUM(quarantined), 0) AS quarantined FROM (
    SELECT quarantined FROM staged_record WHERE run_id = :run_id AND record_type = :record_type
    UNION ALL
    SELECT k.quarantined FROM seen_record k WHERE k.record_type = :record_type AND NOT EXISTS (
        SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = k.system
          AND s.record_type = k.record_type AND s.record_key = k.record_key)) picture;

-- name: extracted_in_run
-- Whether the run extracted the type from the system (its row, whatever it saw).
SELECT 1 FROM extract_sweep WHERE run_id = :run_id AND system = :system AND record_type = :record_type;

-- name: purge_old_read_ahead
DELETE FROM ajera_read_ahead WHERE run_id IN (
    SELECT run_id FROM sync_run WHERE finished_at IS NOT NULL AND finished_at < :before);

-- name: seen_to_recheck
-- Records of the picture not staged this run whose check may have another answer now: set aside for their name
-- or key (they may have been fixed), or a CRM name too long for Ajera (it matters once the record is flagged or
-- mapped, which may have happened since it was last read; the maximum is NULL where it cannot matter).
SELECT k.record_key, k.record_name, k.modified, k.flagged, k.record_group FROM seen_record k
WHERE k.system = :system AND k.record_type = :record_type
  AND (k.quarantined = 1 OR LENGTH(k.record_name) > :max_length)
  AND NOT EXISTS (SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = k.system
                  AND s.record_type = k.record_type AND s.record_key = k.record_key);
