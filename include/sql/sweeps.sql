-- name: last_full_sweep
SELECT swept_at FROM full_sweep WHERE record_type = :record_type AND system = :system;

-- name: record_full_sweep
INSERT INTO full_sweep (record_type, system, run_id, swept_at) VALUES (:record_type, :system, :run_id, :now)
ON CONFLICT (record_type, system) DO UPDATE SET run_id = excluded.run_id, swept_at = excluded.swept_at;

-- name: full_sweeps
SELECT record_type, system, swept_at FROM full_sweep;

-- name: previous_snapshot_run
-- The latest earlier run that staged this record type from this system (its extract committed).
SELECT s.run_id FROM extract_sweep s JOIN sync_run r ON r.run_id = s.run_id
WHERE s.system = :system AND s.record_type = :record_type AND s.run_id <> :run_id
ORDER BY r.started_at DESC LIMIT 1;
