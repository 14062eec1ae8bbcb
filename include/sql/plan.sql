-- name: clear_plan
DELETE FROM planned_action WHERE run_id = :run_id AND record_type = :record_type AND planned_by = :planned_by;

-- name: count_planned
SELECT COUNT(*) FROM planned_action WHERE run_id = :run_id AND record_type = :record_type AND planned_by = :planned_by;

-- name: assign_batches
-- Integer division on both databases: seq 0..499 is batch 0, 500..999 batch 1, and so on.
UPDATE planned_action SET batch_no = seq / :batch_size WHERE run_id = :run_id AND record_type = :record_type;

-- name: batch_sizes
SELECT batch_no, COUNT(*) FROM planned_action WHERE run_id = :run_id AND record_type = :record_type
GROUP BY batch_no ORDER BY batch_no;

-- name: clear_batches
DELETE FROM project_batch WHERE run_id = :run_id AND record_type = :record_type;

-- name: insert_action
INSERT INTO planned_action (run_id, record_type, seq, planned_by, batch_no, action, ajera_key, crm_key, record_name, detail, status)
VALUES (:run_id, :record_type, :seq, :planned_by, 0, :action, :ajera_key, :crm_key, :record_name, :detail, 'pending');

-- name: insert_batch
INSERT INTO project_batch (run_id, record_type, batch_no, action_count, status)
VALUES (:run_id, :record_type, :batch_no, :action_count, 'pending');

-- name: select_batch_actions
SELECT seq, action, ajera_key, crm_key, record_name, detail, status
FROM planned_action WHERE run_id = :run_id AND record_type = :record_type AND batch_no = :batch_no
ORDER BY seq;

-- name: set_action_status
UPDATE planned_action SET status = :status, message = :message, ajera_key = :ajera_key, crm_key = :crm_key
WHERE run_id = :run_id AND record_type = :record_type AND seq = :seq;

-- name: batch_statuses
SELECT batch_no, status FROM project_batch WHERE run_id = :run_id AND record_type = :record_type ORDER BY batch_no;

-- name: get_batch_status
SELECT status FROM project_batch WHERE run_id = :run_id AND record_type = :record_type AND batch_no = :batch_no;

-- name: set_batch_status
UPDATE project_batch SET status = :status WHERE run_id = :run_id AND record_type = :record_type AND batch_no = :batch_no;

-- name: count_actions
SELECT action, status, COUNT(*) FROM planned_action WHERE run_id = :run_id AND record_type = :record_type
GROUP BY action, status;

-- name: count_failed_actions
SELECT COUNT(*) FROM planned_action WHERE run_id = :run_id AND record_type = :record_type AND status = 'failed';
