-- name: start_run
INSERT INTO sync_run (run_id, started_at, status, mode, dry_run, record_types, window_start, window_end, options)
VALUES (:run_id, :started_at, 'running', :mode, :dry_run, :record_types, :window_start, :window_end, :options)
ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL;

-- name: get_run
SELECT run_id, started_at, finished_at, status, mode, dry_run, record_types, window_start, window_end, options, summary
FROM sync_run WHERE run_id = :run_id;

-- name: finish_run
UPDATE sync_run SET finished_at = :finished_at, status = :status, summary = :summary WHERE run_id = :run_id;

-- name: recent_runs
SELECT run_id, started_at, finished_at, status, mode, dry_run, record_types, summary
FROM sync_run ORDER BY started_at DESC LIMIT :limit;

-- name: take_sync_lock
-- Taken when free, renewed by its holder, taken over when its lease expired; otherwise left alone.
INSERT INTO sync_lease (lease_name, holder, acquired_at, expires_at) VALUES ('sync', :holder, :now, :expires)
ON CONFLICT (lease_name) DO UPDATE
SET acquired_at = CASE WHEN sync_lease.holder = excluded.holder THEN sync_lease.acquired_at ELSE excluded.acquired_at END,
    holder = excluded.holder, expires_at = excluded.expires_at
WHERE sync_lease.holder = excluded.holder OR sync_lease.expires_at < :now;

-- name: sync_lock_holder
SELECT holder FROM sync_lease WHERE lease_name = 'sync';

-- name: get_sync_lock
SELECT holder, acquired_at, expires_at FROM sync_lease WHERE lease_name = 'sync';

-- name: take_over_sync_lock
-- Only from the holder the caller saw: two waiters taking over the same stale lease, one wins.
UPDATE sync_lease SET holder = :holder, acquired_at = :now, expires_at = :expires
WHERE lease_name = 'sync' AND holder = :stale_holder;

-- name: release_sync_lock
DELETE FROM sync_lease WHERE lease_name = 'sync' AND holder = :holder;

-- name: first_sync_done
SELECT COUNT(*) FROM first_sync WHERE record_type = :record_type;

-- name: mark_first_sync_done
INSERT INTO first_sync (record_type, run_id, completed_at) VALUES (:record_type, :run_id, :now)
ON CONFLICT (record_type) DO NOTHING;

-- name: run_attention_counts
-- What a person should look at after a run: record errors (quarantined rows are logged as errors too, so
-- they are counted apart), conflicts left for review, rows quarantined.
SELECT
    (SELECT COUNT(*) FROM integration_log WHERE run_id = :run_id AND action = 'error' AND record_type <> 'run')
  - (SELECT COUNT(*) FROM quarantine WHERE run_id = :run_id) AS record_errors,
    (SELECT COUNT(*) FROM sync_conflict WHERE run_id = :run_id AND resolution = 'review') AS conflicts_for_review,
    (SELECT COUNT(*) FROM quarantine WHERE run_id = :run_id) AS quarantined;

-- name: run_task_failures
SELECT message FROM integration_log WHERE run_id = :run_id AND record_type = 'run' AND action = 'error' ORDER BY id;
