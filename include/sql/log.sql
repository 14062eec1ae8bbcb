-- name: insert_log
INSERT INTO integration_log (run_id, logged_at, record_type, direction, action, ajera_key, crm_key, record_name, message)
VALUES (:run_id, :now, :record_type, :direction, :action, :ajera_key, :crm_key, :record_name, :message);

-- name: log_counts
SELECT record_type, direction, action, COUNT(*) FROM integration_log WHERE run_id = :run_id
GROUP BY record_type, direction, action;

-- name: log_for_run
SELECT logged_at, record_type, direction, action, ajera_key, crm_key, record_name, message
FROM integration_log WHERE run_id = :run_id ORDER BY id;

-- name: log_page
SELECT id, run_id, logged_at, record_type, direction, action, ajera_key, crm_key, record_name, message
FROM integration_log
WHERE (CAST(:run_id AS TEXT) IS NULL OR run_id = :run_id) AND (CAST(:action AS TEXT) IS NULL OR action = :action)
ORDER BY id DESC LIMIT :limit OFFSET :offset;

-- name: insert_quarantine
INSERT INTO quarantine (run_id, system, record_type, record_key, record_name, reason, payload, quarantined_at)
VALUES (:run_id, :system, :record_type, :record_key, :record_name, :reason, :payload, :now);

-- name: quarantine_for_run
SELECT system, record_type, record_key, record_name, reason, payload, quarantined_at
FROM quarantine WHERE run_id = :run_id ORDER BY id;

-- name: insert_conflict
INSERT INTO sync_conflict (run_id, record_type, ajera_key, crm_key, field_name, ajera_value, crm_value, resolution, reason, logged_at)
VALUES (:run_id, :record_type, :ajera_key, :crm_key, :field_name, :ajera_value, :crm_value, :resolution, :reason, :now);

-- name: upsert_suggestion
INSERT INTO match_suggestion (record_type, ajera_key, crm_key, ajera_name, crm_name, score, method, status, proposed_run_id, proposed_at)
VALUES (:record_type, :ajera_key, :crm_key, :ajera_name, :crm_name, :score, :method, 'proposed', :run_id, :now)
ON CONFLICT (record_type, ajera_key, crm_key) DO NOTHING;

-- name: reviewed_suggestions
SELECT ajera_key, crm_key, status FROM match_suggestion WHERE record_type = :record_type;

-- name: mark_suggestion_linked
UPDATE match_suggestion SET status = 'linked', decided_at = COALESCE(decided_at, :now)
WHERE record_type = :record_type AND ajera_key = :ajera_key AND crm_key = :crm_key;

-- name: record_failure
INSERT INTO failed_record (record_type, system, record_key, attempts, last_error, poison, updated_at)
VALUES (:record_type, :system, :record_key, 1, :error, CASE WHEN 1 >= :poison_after THEN 1 ELSE 0 END, :now)
ON CONFLICT (record_type, system, record_key) DO UPDATE
SET attempts = failed_record.attempts + 1, last_error = excluded.last_error, updated_at = excluded.updated_at,
    poison = CASE WHEN failed_record.attempts + 1 >= :poison_after THEN 1 ELSE 0 END;

-- name: clear_failure
DELETE FROM failed_record WHERE record_type = :record_type AND system = :system AND record_key = :record_key;

-- name: poison_counts
SELECT record_type, COUNT(*) FROM failed_record WHERE poison = 1 GROUP BY record_type;

-- name: failed_keys
SELECT record_key, attempts, poison, updated_at FROM failed_record WHERE record_type = :record_type AND system = :system;

-- name: clear_run_summary
DELETE FROM integration_log WHERE run_id = :run_id AND action = 'summary';
