-- What the sync keeps of a project's children (Ajera -> CRM): accounting, team, consultants.

-- The accounting last written to each mapped project, so an unchanged project costs no CRM write.
CREATE TABLE IF NOT EXISTS project_accounting (
    ajera_key     TEXT PRIMARY KEY,           -- Ajera ProjectKey
    crm_key       TEXT NOT NULL,              -- CRM WBS1 it was written to
    totals_hash   TEXT NOT NULL,              -- hash of the CRM field values written
    fetched_at    TEXT NOT NULL,              -- last GetProjectTotals (the scheduled refresh counts from it)
    written_at    TEXT,
    run_id        TEXT NOT NULL
);

-- Hours per timesheet, project and employee, as last read: re-reading a timesheet replaces its rows, so
-- the overlap and edited timesheets never count twice.
CREATE TABLE IF NOT EXISTS timesheet_hours (
    timesheet_key  TEXT NOT NULL,
    ajera_project  TEXT NOT NULL,
    ajera_employee TEXT NOT NULL,
    hours          REAL NOT NULL,
    first_entry    TEXT NOT NULL,             -- YYYY-MM-DD of the first day with time on it
    PRIMARY KEY (timesheet_key, ajera_project, ajera_employee)
);

CREATE INDEX IF NOT EXISTS ix_timesheet_hours_project ON timesheet_hours (ajera_project, ajera_employee);

-- How far timesheets have been read (one row), so a run reads only the weeks since, plus an overlap.
CREATE TABLE IF NOT EXISTS timesheet_read (
    reader        TEXT PRIMARY KEY,           -- 'team'
    read_through  TEXT NOT NULL,              -- YYYY-MM-DD, the last day read
    run_id        TEXT NOT NULL
);

-- The team rows written to the CRM project's employee grid, with a hash of what was written.
CREATE TABLE IF NOT EXISTS project_team (
    ajera_project  TEXT NOT NULL,
    ajera_employee TEXT NOT NULL,
    crm_project    TEXT NOT NULL,
    crm_employee   TEXT NOT NULL,
    row_hash       TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    PRIMARY KEY (ajera_project, ajera_employee)
);

-- Consultant vendors placed on a CRM project's firms grid (never added twice).
CREATE TABLE IF NOT EXISTS project_consultant (
    ajera_project  TEXT NOT NULL,
    ajera_vendor   TEXT NOT NULL,
    crm_project    TEXT NOT NULL,
    crm_firm       TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    PRIMARY KEY (ajera_project, ajera_vendor)
);

-- Progress of a consultant back-fill: the projects it has finished, so a re-run after a crash resumes.
CREATE TABLE IF NOT EXISTS consultant_backfill (
    backfill_id    TEXT NOT NULL,             -- the sync run that asked for it
    ajera_project  TEXT NOT NULL,
    done_at        TEXT NOT NULL,
    PRIMARY KEY (backfill_id, ajera_project)
);

-- Each mapped project's Ajera contacts as last read (its v1 Contacts[]), and which the sync has put on the
-- CRM project: the list lets a contact that waits for its mapping arrive in a later run without reading the
-- project again, and a placed contact is never added twice.
CREATE TABLE IF NOT EXISTS project_contact (
    ajera_project  TEXT NOT NULL,
    ajera_contact  TEXT NOT NULL,
    position       INTEGER NOT NULL,          -- rank by Ajera's Order (then ContactKey), from 0
    name           TEXT NOT NULL,             -- the contact's name as the project lists it (for the log)
    crm_project    TEXT,                      -- set once placed
    crm_contact    TEXT,                      -- set once placed
    run_id         TEXT NOT NULL,
    PRIMARY KEY (ajera_project, ajera_contact)
);

-- Ajera answers the children read ahead in a run (while the project batches were still being written), so
-- the children step writes them without reading again; a retry of the read skips what is here already.
CREATE TABLE IF NOT EXISTS ajera_read_ahead (
    run_id         TEXT NOT NULL,
    method         TEXT NOT NULL,             -- 'GetProjectTotals' or 'GetProjectsWithResources'
    ajera_key      TEXT NOT NULL,             -- the project read
    answer         TEXT NOT NULL,             -- JSON: the answer's rows for this project ([] when none)
    PRIMARY KEY (run_id, method, ajera_key)
);

-- The run that last read each mapped project's version 1 record (resources, contacts) for its children: a
-- project staged again only because the watermark's overlap re-read it is not read again unless Ajera
-- modified it after that run started.
CREATE TABLE IF NOT EXISTS project_resources_read (
    ajera_key      TEXT PRIMARY KEY,
    run_id         TEXT NOT NULL
);
