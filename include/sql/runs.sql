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
