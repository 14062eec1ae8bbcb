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

-- name: conflicts_of_type
SELECT ajera_key, field_name, crm_key, ajera_value, crm_value, resolution FROM sync_conflict
WHERE record_type = :record_type;

-- name: quarantine_keys_reasons
SELECT record_type, system, reason FROM quarantine WHERE record_key = :record_key;

-- name: select_pending_notes
SELECT ajera_key, crm_key, action, message, first_run_id, last_run_id FROM pending_note
WHERE record_type = :record_type;

-- name: insert_pending_note
INSERT INTO pending_note (record_type, ajera_key, crm_key, action, message, first_run_id, last_run_id, first_seen_at)
VALUES (:record_type, :ajera_key, :crm_key, :action, :message, :run_id, :run_id, :now);

-- name: touch_pending_note
UPDATE pending_note SET last_run_id = :run_id
WHERE record_type = :record_type AND ajera_key = :ajera_key AND crm_key = :crm_key AND message = :message;

-- name: settle_pending_notes
-- After the diff step: notes this run did not raise again (in match or diff) no longer hold.
DELETE FROM pending_note WHERE record_type = :record_type AND last_run_id <> :run_id;

-- name: pending_counts
-- Notes this run raised again but did not log, because an earlier run already did.
SELECT record_type, COUNT(*) FROM pending_note WHERE last_run_id = :run_id AND first_run_id <> :run_id
GROUP BY record_type;

-- name: quarantined_before
SELECT COUNT(*) FROM quarantine
WHERE record_type = :record_type AND system = :system AND record_key = :record_key AND reason = :reason
  AND run_id <> :run_id;

-- name: requarantined_counts
-- Records set aside again this run for a reason an earlier run already reported (so not logged again): of what
-- the run staged, and of the rest of its picture of each type it extracted.
SELECT record_type, COUNT(*) FROM (
    SELECT s.record_type, s.system, s.record_key FROM staged_record s WHERE s.run_id = :run_id AND s.quarantined = 1
    UNION ALL
    SELECT k.record_type, k.system, k.record_key FROM seen_record k
    JOIN extract_sweep e ON e.run_id = :run_id AND e.system = k.system AND e.record_type = k.record_type
    WHERE k.quarantined = 1 AND NOT EXISTS (
        SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = k.system
          AND s.record_type = k.record_type AND s.record_key = k.record_key)) held
WHERE NOT EXISTS (
    SELECT 1 FROM quarantine q WHERE q.run_id = :run_id AND q.record_type = held.record_type
      AND q.system = held.system AND q.record_key = held.record_key)
GROUP BY record_type;

-- name: held_for_review
-- Records of :system held back only for a person's review of a match suggestion (include/sync/extract.py
-- held_for_review): a suggestion of theirs still proposed, none accepted or linked, no mapping, and no pending
-- note but the hold (:held). In SQL rather than over every suggestion, mapping and note in Python: at M a run's
-- extracts would read about 65,000 rows to find 15,000 keys.
SELECT p.record_key
FROM (SELECT DISTINCT CASE WHEN :system = 'ajera' THEN ajera_key ELSE crm_key END AS record_key
      FROM match_suggestion WHERE record_type = :record_type AND status = 'proposed') p
WHERE p.record_key NOT IN (
      SELECT CASE WHEN :system = 'ajera' THEN t.ajera_key ELSE t.crm_key END FROM match_suggestion t
      WHERE t.record_type = :record_type AND t.status IN ('accepted', 'linked'))
  AND p.record_key NOT IN (
      SELECT CASE WHEN :system = 'ajera' THEN m.ajera_key ELSE m.crm_key END FROM record_mapping m
      WHERE m.record_type = :record_type)
  AND p.record_key NOT IN (
      SELECT CASE WHEN :system = 'ajera' THEN n.ajera_key ELSE n.crm_key END FROM pending_note n
      WHERE n.record_type = :record_type AND n.message <> :held);

-- name: pending_note_keys
-- Records with a pending note are read again every run, so the note is dropped as soon as it no longer holds.
SELECT DISTINCT CASE WHEN :system = 'ajera' THEN ajera_key ELSE crm_key END AS record_key
FROM pending_note WHERE record_type = :record_type;
