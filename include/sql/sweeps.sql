-- name: last_full_sweep
SELECT swept_at FROM full_sweep WHERE record_type = :record_type AND system = :system;

-- name: record_full_sweep
INSERT INTO full_sweep (record_type, system, run_id, swept_at) VALUES (:record_type, :system, :run_id, :now)
ON CONFLICT (record_type, system) DO UPDATE SET run_id = excluded.run_id, swept_at = excluded.swept_at;

-- name: full_sweeps
SELECT record_type, system, swept_at FROM full_sweep;

-- name: seen_exists
SELECT 1 FROM seen_record WHERE system = :system AND record_type = :record_type LIMIT 1;

-- name: seen_latest_modified
SELECT MAX(modified) FROM seen_record WHERE system = :system AND record_type = :record_type;

-- name: seen_all
SELECT record_key, record_name, modified, flagged, record_group FROM seen_record
WHERE system = :system AND record_type = :record_type;

-- name: seen_by_keys
SELECT record_key, record_name, modified, flagged, record_group, quarantined FROM seen_record
WHERE system = :system AND record_type = :record_type AND record_key IN :keys;

-- name: seen_flagged_unmapped
-- Flagged records with no mapping: each run reads them (as copies while they do not change) to link or create.
SELECT k.record_key, k.record_name, k.modified, k.flagged, k.record_group FROM seen_record k
WHERE k.system = :system AND k.record_type = :record_type AND k.flagged = 1
  AND NOT (:system = 'ajera' AND EXISTS (SELECT 1 FROM record_mapping m WHERE m.record_type = k.record_type
                                         AND m.ajera_key = k.record_key))
  AND NOT (:system = 'crm' AND EXISTS (SELECT 1 FROM record_mapping m WHERE m.record_type = k.record_type
                                       AND m.crm_key = k.record_key));
