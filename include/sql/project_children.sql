-- name: select_project_accounting
SELECT ajera_key, crm_key, totals_hash, fetched_at FROM project_accounting;

-- name: upsert_project_accounting
INSERT INTO project_accounting (ajera_key, crm_key, totals_hash, fetched_at, written_at, run_id)
VALUES (:ajera_key, :crm_key, :totals_hash, :now, :written_at, :run_id)
ON CONFLICT (ajera_key) DO UPDATE SET crm_key = excluded.crm_key, totals_hash = excluded.totals_hash,
    fetched_at = excluded.fetched_at, written_at = COALESCE(excluded.written_at, project_accounting.written_at),
    run_id = excluded.run_id;

-- name: mark_accounting_due
-- Time moved on the project: its totals are read on the next pass, even if this task is retried after the
-- timesheets it read are already recorded.
UPDATE project_accounting SET fetched_at = '' WHERE ajera_key = :ajera_key;

-- name: get_timesheet_read
SELECT read_through FROM timesheet_read WHERE reader = :reader;

-- name: set_timesheet_read
INSERT INTO timesheet_read (reader, read_through, run_id) VALUES (:reader, :read_through, :run_id)
ON CONFLICT (reader) DO UPDATE SET read_through = excluded.read_through, run_id = excluded.run_id;

-- name: delete_timesheet_hours
DELETE FROM timesheet_hours WHERE timesheet_key = :timesheet_key;

-- name: insert_timesheet_hours
INSERT INTO timesheet_hours (timesheet_key, ajera_project, ajera_employee, hours, first_entry)
VALUES (:timesheet_key, :ajera_project, :ajera_employee, :hours, :first_entry);

-- name: timesheet_projects
SELECT DISTINCT ajera_project FROM timesheet_hours WHERE timesheet_key IN :keys;

-- name: team_totals_of
-- These projects' teams as the timesheets read so far give them.
SELECT ajera_project, ajera_employee, SUM(hours) AS hours, MIN(first_entry) AS first_entry
FROM timesheet_hours WHERE ajera_project IN :keys
GROUP BY ajera_project, ajera_employee ORDER BY ajera_project, ajera_employee;

-- name: mark_team_due
-- Time moved on the project: its team rows are compared with what was written on the next pass, even if this
-- task is retried after the timesheets it read are already recorded. No run has the empty id, and the hash
-- stays, so a member whose own hours did not move costs no CRM write.
UPDATE project_team SET run_id = '' WHERE ajera_project = :ajera_key;

-- name: confirm_project_team
-- Compared in this run and still as written: not compared again until something moves.
UPDATE project_team SET run_id = :run_id WHERE ajera_project = :ajera_project AND ajera_employee = :ajera_employee;

-- name: team_rows_due
-- The team rows of mapped projects that may differ from what was written: never written, marked due (time
-- moved), mapped to another CRM project or employee since, waiting for their employee's mapping, or whose
-- employee's mapping was synced since the run that last wrote or compared the row started (its title may
-- have changed). The rest are as written, so a quiet run compares nothing.
SELECT t.ajera_project, t.ajera_employee, t.hours, t.first_entry, pm.crm_key AS crm_project,
       em.crm_key AS crm_employee, pt.row_hash, pt.crm_project AS written_to
FROM (SELECT ajera_project, ajera_employee, SUM(hours) AS hours, MIN(first_entry) AS first_entry
      FROM timesheet_hours GROUP BY ajera_project, ajera_employee) t
JOIN record_mapping pm ON pm.record_type = 'project' AND pm.ajera_key = t.ajera_project
LEFT JOIN record_mapping em ON em.record_type = 'employee' AND em.ajera_key = t.ajera_employee
LEFT JOIN project_team pt ON pt.ajera_project = t.ajera_project AND pt.ajera_employee = t.ajera_employee
LEFT JOIN sync_run r ON r.run_id = pt.run_id
WHERE pt.row_hash IS NULL OR em.crm_key IS NULL OR pt.crm_project <> pm.crm_key
   OR pt.crm_employee <> em.crm_key OR r.started_at IS NULL OR COALESCE(em.synced_at, em.linked_at) >= r.started_at
ORDER BY t.ajera_project, t.ajera_employee;

-- name: upsert_project_team
INSERT INTO project_team (ajera_project, ajera_employee, crm_project, crm_employee, row_hash, run_id)
VALUES (:ajera_project, :ajera_employee, :crm_project, :crm_employee, :row_hash, :run_id)
ON CONFLICT (ajera_project, ajera_employee) DO UPDATE SET crm_project = excluded.crm_project,
    crm_employee = excluded.crm_employee, row_hash = excluded.row_hash, run_id = excluded.run_id;

-- name: select_project_consultants
SELECT ajera_project, ajera_vendor, crm_project, crm_firm FROM project_consultant;

-- name: insert_project_consultant
INSERT INTO project_consultant (ajera_project, ajera_vendor, crm_project, crm_firm, run_id)
VALUES (:ajera_project, :ajera_vendor, :crm_project, :crm_firm, :run_id)
ON CONFLICT DO NOTHING;

-- name: backfill_done_projects
SELECT ajera_project FROM consultant_backfill WHERE backfill_id = :backfill_id;

-- name: mark_backfill_done
INSERT INTO consultant_backfill (backfill_id, ajera_project, done_at) VALUES (:backfill_id, :ajera_project, :now)
ON CONFLICT DO NOTHING;

-- name: completed_in_run
SELECT record_type, message FROM integration_log WHERE run_id = :run_id AND action = 'completed' ORDER BY id;

-- name: select_project_contacts
SELECT ajera_project, ajera_contact, position, name, crm_project, crm_contact FROM project_contact
ORDER BY ajera_project, position;

-- name: delete_project_contact
-- The contact left the Ajera project (it stays on the CRM project: the sync removes nothing there).
DELETE FROM project_contact WHERE ajera_project = :ajera_project AND ajera_contact = :ajera_contact;

-- name: upsert_project_contact
INSERT INTO project_contact (ajera_project, ajera_contact, position, name, crm_project, crm_contact, run_id)
VALUES (:ajera_project, :ajera_contact, :position, :name, NULL, NULL, :run_id)
ON CONFLICT (ajera_project, ajera_contact) DO UPDATE SET position = excluded.position, name = excluded.name,
    run_id = excluded.run_id;

-- name: place_project_contact
UPDATE project_contact SET crm_project = :crm_project, crm_contact = :crm_contact, run_id = :run_id
WHERE ajera_project = :ajera_project AND ajera_contact = :ajera_contact;

-- name: select_read_ahead
SELECT ajera_key, answer FROM ajera_read_ahead WHERE run_id = :run_id AND method = :method;

-- name: insert_read_ahead
INSERT INTO ajera_read_ahead (run_id, method, ajera_key, answer) VALUES (:run_id, :method, :ajera_key, :answer)
ON CONFLICT (run_id, method, ajera_key) DO UPDATE SET answer = excluded.answer;

-- name: planned_project_mappings
-- The Ajera projects this run's plan links or creates in the CRM: mapped once their batch is written.
SELECT DISTINCT ajera_key FROM planned_action
WHERE run_id = :run_id AND record_type = 'project' AND action IN ('link', 'create_in_crm') AND ajera_key IS NOT NULL;

-- name: get_timesheet_read_run
SELECT run_id FROM timesheet_read WHERE reader = :reader;

-- name: staged_project_reads
-- The Ajera projects this run staged whole (not set aside), and the mapped ones it did not stage that the
-- picture holds as modified after one of their last reads started (an earlier run staged them and its children
-- step failed or stopped before reading them; between such misses that part finds nothing). Each with when its
-- totals and its version 1 record (resources, contacts) were last read: the run that read them and its start
-- (none: never read).
SELECT c.ajera_key, c.modified,
       a.run_id AS totals_run_id, ra.started_at AS totals_started_at,
       p.run_id AS resources_run_id, rp.started_at AS resources_started_at
FROM (SELECT s.record_key AS ajera_key, s.modified, 1 AS staged
      FROM staged_record s
      WHERE s.run_id = :run_id AND s.system = 'ajera' AND s.record_type = 'project' AND s.payload IS NOT NULL
        AND s.quarantined = 0
      UNION ALL
      SELECT k.record_key, k.modified, 0
      FROM record_mapping m
      JOIN seen_record k ON k.system = 'ajera' AND k.record_type = 'project' AND k.record_key = m.ajera_key
      WHERE m.record_type = 'project' AND k.quarantined = 0 AND k.modified IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM staged_record s WHERE s.run_id = :run_id AND s.system = 'ajera'
                          AND s.record_type = 'project' AND s.record_key = k.record_key)) c
LEFT JOIN project_accounting a ON a.ajera_key = c.ajera_key
LEFT JOIN sync_run ra ON ra.run_id = a.run_id
LEFT JOIN project_resources_read p ON p.ajera_key = c.ajera_key
LEFT JOIN sync_run rp ON rp.run_id = p.run_id
WHERE c.staged = 1 OR c.modified > COALESCE(ra.started_at, '') OR c.modified > COALESCE(rp.started_at, '');

-- name: mark_resources_read
INSERT INTO project_resources_read (ajera_key, run_id) VALUES (:ajera_key, :run_id)
ON CONFLICT (ajera_key) DO UPDATE SET run_id = excluded.run_id;

-- name: read_ahead_answer
SELECT answer FROM ajera_read_ahead WHERE run_id = :run_id AND method = :method AND ajera_key = :ajera_key;

-- name: count_read_ahead
SELECT COUNT(*) FROM ajera_read_ahead WHERE run_id = :run_id;
