-- name: select_extract_ahead
SELECT request, record_key, answer FROM extract_read_ahead WHERE run_id = :run_id AND record_type = :record_type;

-- name: insert_extract_ahead
INSERT INTO extract_read_ahead (run_id, record_type, request, record_key, answer)
VALUES (:run_id, :record_type, :request, :record_key, :answer);

-- name: clear_extract_ahead
DELETE FROM extract_read_ahead WHERE run_id = :run_id AND record_type = :record_type;

-- name: purge_old_extract_ahead
DELETE FROM extract_read_ahead WHERE run_id IN (
    SELECT run_id FROM sync_run WHERE finished_at IS NOT NULL AND finished_at < :before);
