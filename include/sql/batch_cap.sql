-- name: plan_rows
SELECT seq, action, ajera_key, crm_key, record_name, detail FROM planned_action
WHERE run_id = :run_id AND record_type = :record_type ORDER BY seq;

-- name: set_action_batch
UPDATE planned_action SET batch_no = :batch_no, status = :status
WHERE run_id = :run_id AND record_type = :record_type AND seq = :seq;

-- name: backlog_in_run
SELECT record_type, message FROM integration_log WHERE run_id = :run_id AND action = 'backlog' ORDER BY id;
