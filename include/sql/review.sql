-- name: run_page
-- The Integration Log's run list, newest first; total is the number of runs (for paging).
SELECT run_id, started_at, finished_at, status, mode, dry_run, record_types, window_start, window_end, summary,
       COUNT(*) OVER () AS total
FROM sync_run ORDER BY started_at DESC, run_id LIMIT :limit OFFSET :offset;

-- name: run_log_counts
SELECT run_id, record_type, action, COUNT(*) FROM integration_log WHERE run_id IN :keys
GROUP BY run_id, record_type, action;

-- name: log_filtered
-- One page of a run's log; the pattern is a lower-case LIKE pattern (user text escaped with a backslash) or NULL.
SELECT id, logged_at, record_type, direction, action, ajera_key, crm_key, record_name, message,
       COUNT(*) OVER () AS total
FROM integration_log
WHERE run_id = :run_id
  AND (CAST(:record_type AS TEXT) IS NULL OR record_type = :record_type)
  AND (CAST(:action AS TEXT) IS NULL OR action = :action)
  AND (CAST(:direction AS TEXT) IS NULL OR direction = :direction)
  AND (CAST(:pattern AS TEXT) IS NULL
       OR LOWER(COALESCE(record_name, '')) LIKE :pattern ESCAPE '\'
       OR LOWER(message) LIKE :pattern ESCAPE '\'
       OR LOWER(COALESCE(ajera_key, '')) LIKE :pattern ESCAPE '\'
       OR LOWER(COALESCE(crm_key, '')) LIKE :pattern ESCAPE '\')
ORDER BY id LIMIT :limit OFFSET :offset;

-- name: mapping_names_page
-- Mappings with both names: as the sync last saw each record, else from the run that linked the pair. Each name
-- is a primary-key lookup per mapping, a plan that stays fast before the database has statistics on the tables.
SELECT ajera_key, crm_key, ajera_name, crm_name, match_method, linked_run_id, linked_at, synced_at,
       COUNT(*) OVER () AS total
FROM (
    SELECT m.ajera_key, m.crm_key, m.match_method, m.linked_run_id, m.linked_at, m.synced_at,
           COALESCE((SELECT k.record_name FROM seen_record k WHERE k.system = 'ajera'
                     AND k.record_type = m.record_type AND k.record_key = m.ajera_key),
                    (SELECT s.record_name FROM staged_record s WHERE s.run_id = m.linked_run_id AND s.system = 'ajera'
                     AND s.record_type = m.record_type AND s.record_key = m.ajera_key)) AS ajera_name,
           COALESCE((SELECT k.record_name FROM seen_record k WHERE k.system = 'crm'
                     AND k.record_type = m.record_type AND k.record_key = m.crm_key),
                    (SELECT s.record_name FROM staged_record s WHERE s.run_id = m.linked_run_id AND s.system = 'crm'
                     AND s.record_type = m.record_type AND s.record_key = m.crm_key)) AS crm_name
    FROM record_mapping m WHERE m.record_type = :record_type
) named
WHERE CAST(:pattern AS TEXT) IS NULL
   OR LOWER(ajera_key) LIKE :pattern ESCAPE '\' OR LOWER(crm_key) LIKE :pattern ESCAPE '\'
   OR LOWER(COALESCE(ajera_name, '')) LIKE :pattern ESCAPE '\' OR LOWER(COALESCE(crm_name, '')) LIKE :pattern ESCAPE '\'
ORDER BY LOWER(COALESCE(ajera_name, ajera_key)), ajera_key LIMIT :limit OFFSET :offset;

-- name: mapping_type_counts
SELECT record_type, COUNT(*) FROM record_mapping GROUP BY record_type;

-- name: suggestion_review_page
SELECT id, record_type, ajera_key, crm_key, ajera_name, crm_name, score, method, status, proposed_run_id,
       proposed_at, decided_at, COUNT(*) OVER () AS total
FROM match_suggestion
WHERE (CAST(:record_type AS TEXT) IS NULL OR record_type = :record_type)
  AND (CAST(:status AS TEXT) IS NULL OR status = :status)
ORDER BY CASE status WHEN 'proposed' THEN 0 WHEN 'accepted' THEN 1 ELSE 2 END, record_type, score DESC, id
LIMIT :limit OFFSET :offset;

-- name: get_suggestion
SELECT id, record_type, ajera_key, crm_key, ajera_name, crm_name, score, method, status
FROM match_suggestion WHERE id = :id;

-- name: accepted_with_either_key
-- Another accepted suggestion holding one of the two records: accepting this one too would be ambiguous.
SELECT id FROM match_suggestion
WHERE record_type = :record_type AND status IN ('accepted', 'linked') AND id <> :id
  AND (ajera_key = :ajera_key OR crm_key = :crm_key);

-- name: decide_suggestion
-- Only a proposed suggestion can be decided: a second click (or a second reviewer) changes nothing.
UPDATE match_suggestion SET status = :status, decided_at = :now WHERE id = :id AND status = 'proposed';

-- name: open_conflicts
-- Conflicts left for review: the newest row of each pair and field, not answered by a decision since.
-- Names as the sync last saw the records.
SELECT c.id, c.run_id, c.record_type, c.ajera_key, c.crm_key, a.record_name AS ajera_name, r.record_name AS crm_name,
       c.field_name, c.ajera_value, c.crm_value, c.reason, c.logged_at, COUNT(*) OVER () AS total
FROM sync_conflict c
LEFT JOIN seen_record a ON a.system = 'ajera' AND a.record_type = c.record_type AND a.record_key = c.ajera_key
LEFT JOIN seen_record r ON r.system = 'crm' AND r.record_type = c.record_type AND r.record_key = c.crm_key
WHERE c.resolution = 'review'
  AND (CAST(:record_type AS TEXT) IS NULL OR c.record_type = :record_type)
  AND c.id = (SELECT MAX(n.id) FROM sync_conflict n WHERE n.record_type = c.record_type
              AND n.ajera_key = c.ajera_key AND n.crm_key = c.crm_key AND n.field_name = c.field_name)
  AND NOT EXISTS (SELECT 1 FROM conflict_decision d WHERE d.record_type = c.record_type
                  AND d.ajera_key = c.ajera_key AND d.crm_key = c.crm_key AND d.field_name = c.field_name
                  AND d.conflict_id >= c.id)
ORDER BY c.id DESC LIMIT :limit OFFSET :offset;

-- name: get_conflict
SELECT id, run_id, record_type, ajera_key, crm_key, field_name, ajera_value, crm_value, resolution, reason
FROM sync_conflict WHERE id = :id;

-- name: newer_conflict
SELECT MAX(id) FROM sync_conflict
WHERE record_type = :record_type AND ajera_key = :ajera_key AND crm_key = :crm_key AND field_name = :field_name;

-- name: upsert_decision
INSERT INTO conflict_decision (record_type, ajera_key, crm_key, field_name, winner, conflict_id, decided_by,
                               decided_at, applied_run_id, applied_at)
VALUES (:record_type, :ajera_key, :crm_key, :field_name, :winner, :conflict_id, :actor, :now, NULL, NULL)
ON CONFLICT (record_type, ajera_key, crm_key, field_name) DO UPDATE
SET winner = excluded.winner, conflict_id = excluded.conflict_id, decided_by = excluded.decided_by,
    decided_at = excluded.decided_at, applied_run_id = NULL, applied_at = NULL;

-- name: pending_decisions
SELECT ajera_key, crm_key, field_name, winner, decided_by, decided_at FROM conflict_decision
WHERE record_type = :record_type AND applied_run_id IS NULL;

-- name: decision_page
SELECT record_type, ajera_key, crm_key, field_name, winner, decided_by, decided_at, applied_run_id, applied_at
FROM conflict_decision WHERE (CAST(:record_type AS TEXT) IS NULL OR record_type = :record_type)
ORDER BY decided_at DESC LIMIT :limit OFFSET :offset;

-- name: mark_decision_applied
UPDATE conflict_decision SET applied_run_id = :run_id, applied_at = :now
WHERE record_type = :record_type AND ajera_key = :ajera_key AND crm_key = :crm_key AND field_name = :field_name
  AND applied_run_id IS NULL;

-- name: open_quarantine
-- Quarantined records: the newest row of each record, unless a retry since has read it again.
SELECT q.id, q.run_id, q.system, q.record_type, q.record_key, q.record_name, q.reason, q.quarantined_at,
       r.requested_by, r.requested_at, COUNT(*) OVER () AS total
FROM quarantine q
LEFT JOIN record_retry r ON r.record_type = q.record_type AND r.system = q.system AND r.record_key = q.record_key
      AND r.quarantine_id >= q.id
WHERE (CAST(:record_type AS TEXT) IS NULL OR q.record_type = :record_type)
  AND (q.record_key IS NULL OR q.id = (SELECT MAX(n.id) FROM quarantine n WHERE n.record_type = q.record_type
                                       AND n.system = q.system AND n.record_key = q.record_key))
  AND (r.record_key IS NULL OR r.read_run_id IS NULL)
ORDER BY q.id DESC LIMIT :limit OFFSET :offset;

-- name: get_quarantine
SELECT id, run_id, system, record_type, record_key, record_name, reason FROM quarantine WHERE id = :id;

-- name: upsert_retry
INSERT INTO record_retry (record_type, system, record_key, quarantine_id, requested_by, requested_at, read_run_id)
VALUES (:record_type, :system, :record_key, :quarantine_id, :actor, :now, NULL)
ON CONFLICT (record_type, system, record_key) DO UPDATE
SET quarantine_id = excluded.quarantine_id, requested_by = excluded.requested_by,
    requested_at = excluded.requested_at, read_run_id = NULL;

-- name: pending_retries
SELECT record_key FROM record_retry WHERE record_type = :record_type AND system = :system AND read_run_id IS NULL;

-- name: mark_retries_read
UPDATE record_retry SET read_run_id = :run_id
WHERE record_type = :record_type AND system = :system AND read_run_id IS NULL;

-- name: poison_page
SELECT f.record_type, f.system, f.record_key, f.attempts, f.last_error, f.updated_at, COUNT(*) OVER () AS total
FROM failed_record f
WHERE f.poison = 1 AND (CAST(:record_type AS TEXT) IS NULL OR f.record_type = :record_type)
ORDER BY f.updated_at DESC, f.record_key LIMIT :limit OFFSET :offset;

-- name: get_failed
SELECT record_type, system, record_key, attempts, poison, last_error FROM failed_record
WHERE record_type = :record_type AND system = :system AND record_key = :record_key;

-- name: release_poison
-- Back to a plain failed record with no attempts: the next run reads it again (and counts afresh).
UPDATE failed_record SET poison = 0, attempts = 0, updated_at = :now
WHERE record_type = :record_type AND system = :system AND record_key = :record_key AND poison = 1;

-- name: batch_backlog
-- Batches not applied yet, with what is still open in each.
SELECT b.run_id, b.record_type, b.batch_no, b.action_count, b.status, r.started_at, r.status AS run_status,
       (SELECT COUNT(*) FROM planned_action p WHERE p.run_id = b.run_id AND p.record_type = b.record_type
        AND p.batch_no = b.batch_no AND p.status IN ('pending', 'in_flight')) AS open_actions,
       COUNT(*) OVER () AS total
FROM project_batch b JOIN sync_run r ON r.run_id = b.run_id
WHERE b.status <> 'done' AND (CAST(:record_type AS TEXT) IS NULL OR b.record_type = :record_type)
ORDER BY r.started_at DESC, b.record_type, b.batch_no LIMIT :limit OFFSET :offset;

-- name: insert_review_action
INSERT INTO review_action (acted_at, actor, action, record_type, ajera_key, crm_key, detail)
VALUES (:now, :actor, :action, :record_type, :ajera_key, :crm_key, :detail);

-- name: review_action_page
SELECT id, acted_at, actor, action, record_type, ajera_key, crm_key, detail FROM review_action
ORDER BY id DESC LIMIT :limit OFFSET :offset;
