"""Project team, Ajera -> CRM: employee, role, hours and the date of the first time entry, from
timesheets, onto the CRM project's ``employee`` grid (``EMProjectAssoc`` rows).

ListTimesheets has no project filter and stops at 500 rows, so the client walks week windows (splitting a
full one). A run reads only the weeks since the last read, less an overlap (``timesheet_overlap_weeks``:
last week's sheets are still being edited); the first run reads from the earliest start of a mapped
project. Hours are
kept per timesheet, so re-reading one replaces its hours instead of adding them twice. Team members are
mapped employees: a member whose employee is not mapped yet waits (logged) and arrives once mapped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from include.sync import journal
from include.sync.enums import Direction, LogAction
from include.sync.model import fields_hash
from include.sync.project_children.context import TEAM, ChildContext

log = logging.getLogger(__name__)

READER = "team"  # timesheet_read row: the last day read
READ_FROM = "team_from"  # timesheet_read row: the earliest day read
GRID = "employee"
GRID_BODY = "EMProjectAssoc"
DAYS = range(1, 8)


@dataclass(frozen=True)
class TimeRow:
    timesheet_key: str
    ajera_project: str
    ajera_employee: str
    hours: float
    first_entry: str


def time_rows(sheet: dict[str, Any]) -> list[TimeRow]:
    """Hours and first day with time per project on one GetTimesheets sheet (``Dn`` is the week's day n)."""
    week = date.fromisoformat(str(sheet["TimesheetDate"])[:10])
    per_project: dict[str, tuple[float, str]] = {}
    for detail in (sheet.get("Project") or {}).get("Detail") or []:
        project = detail.get("Project Key")
        if project is None:
            continue
        total, first = per_project.get(str(project), (0.0, ""))
        for day in DAYS:
            worked = float(detail.get(f"D{day} Regular") or 0) + float(detail.get(f"D{day} Overtime") or 0)
            if worked:
                total += worked
                when = (week + timedelta(days=day - 1)).isoformat()
                first = min(first, when) if first else when
        per_project[str(project)] = (total, first)
    return [TimeRow(str(sheet["TimesheetKey"]), p, str(sheet["EmployeeKey"]), round(h, 2), f)
            for p, (h, f) in per_project.items() if h]


def read_this_run(ctx: ChildContext) -> bool:
    """Whether this run has read the timesheets already (ahead of the children step, or before a retry)."""
    return any(r.run_id == ctx.run_id for r in ctx.db.rows("get_timesheet_read_run", {"reader": READER}))


def read_timesheets(ctx: ChildContext, today: date | None = None,
                    projects: dict[str, dict[str, Any]] | None = None) -> set[str]:
    """Read the weeks since the last read (less the overlap) and store their hours; the Ajera projects
    whose time moved are returned (their totals are due). ``projects`` (Ajera key -> its Ajera fields)
    stands for the mapped projects when reading ahead of their mappings."""
    today = today or datetime.now(UTC).date()
    last = ctx.db.scalar("get_timesheet_read", {"reader": READER})
    read_from = ctx.db.scalar("get_timesheet_read", {"reader": READ_FROM})
    earliest = _first_read_start(ctx, today, projects)
    if last and read_from and earliest >= date.fromisoformat(read_from):
        start = date.fromisoformat(last) - timedelta(weeks=ctx.options.timesheet_overlap_weeks)
    else:  # the first read, or a project mapped since that started before anything read so far
        start = earliest
    start -= timedelta(days=start.weekday())  # timesheets are dated by the Monday their week starts
    listed = ctx.ajera.list_timesheets(start, today)
    sheets = ctx.ajera.get_timesheets([int(r["Timesheet Key"]) for r in listed]) if listed else []
    keys = [str(s["TimesheetKey"]) for s in sheets]
    rows = [row for sheet in sheets for row in time_rows(sheet)]
    with ctx.db.begin() as tx:
        # Only the projects on the sheets read, as they were and as they are, can have moved.
        touched = {r.ajera_project for r in tx.rows_by_keys("timesheet_projects", {}, keys)}
        touched |= {row.ajera_project for row in rows}
        before = _totals(tx.rows_by_keys("team_totals_of", {}, touched))
        tx.execute("delete_timesheet_hours", [{"timesheet_key": key} for key in keys])
        tx.execute("insert_timesheet_hours", [row.__dict__ for row in rows])
        tx.execute("set_timesheet_read", {"reader": READER, "read_through": today.isoformat(), "run_id": ctx.run_id})
        if not read_from or start < date.fromisoformat(read_from):
            tx.execute("set_timesheet_read", {"reader": READ_FROM, "read_through": start.isoformat(),
                                              "run_id": ctx.run_id})
        after = _totals(tx.rows_by_keys("team_totals_of", {}, touched))
        moved = {project for (project, employee), value in after.items() if before.get((project, employee)) != value}
        moved |= {project for (project, employee) in before if (project, employee) not in after}
        due = [{"ajera_key": project} for project in sorted(moved)]
        tx.execute("mark_accounting_due", due)
        tx.execute("mark_team_due", due)
    ctx.counts.update({"timesheets_read": len(sheets)})
    log.info("read %d timesheets from %s to %s; time moved on %d projects", len(sheets), start, today, len(moved))
    return moved


def _first_read_start(ctx: ChildContext, today: date, projects: dict[str, dict[str, Any]] | None) -> date:
    """The first read goes back to the earliest start of a mapped project (time is entered on a project
    once it has started), or ``timesheet_history_weeks`` when none has a start date."""
    if projects is None:
        projects = ctx.ajera_fields("project")
    starts = [date.fromisoformat(str(fields["start_date"])[:10])
              for fields in projects.values() if fields.get("start_date")]
    return min(starts) if starts else today - timedelta(weeks=ctx.options.timesheet_history_weeks)


@dataclass(frozen=True)
class TeamResult:
    written: int
    unchanged: int
    waiting: int
    errors: int


def _totals(rows: list[Any]) -> dict[tuple[str, str], tuple[float, str]]:
    return {(r.ajera_project, r.ajera_employee): (r.hours, r.first_entry) for r in rows}


def sync_team(ctx: ChildContext) -> TeamResult:
    """Write each mapped project's team rows that are new or changed since they were last written. Only the
    rows that may have changed are compared (``team_rows_due``): a quiet run's cost does not grow with the
    teams."""
    due = ctx.db.rows("team_rows_due")
    titles = ({key: fields.get("title") or "" for key, fields in ctx.ajera_fields("employee").items()}
              if due else {})
    changed: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
    crm_projects: dict[str, str] = {}
    confirmed: list[dict[str, str]] = []
    unchanged = waiting = 0
    for row in due:
        if row.crm_employee is None:
            waiting += 1
            ctx.wait(TEAM, f"team: Ajera employee {row.ajera_employee} ({row.hours:g} h) waits for the employee to "
                           "be synced; it joins the CRM project's team once mapped",
                     ajera_key=row.ajera_project, crm_key=row.crm_project)
            continue
        values = {"Employee": row.crm_employee, "RoleDescription": titles.get(row.ajera_employee, ""),
                  "CRMHours": round(float(row.hours), 2), "StartDate": row.first_entry}
        digest = fields_hash(values)
        # The hash covers the row, not the CRM project it went to: a project mapped to a new CRM project has
        # its team written there.
        if row.row_hash == digest and row.written_to == row.crm_project:
            unchanged += 1
            confirmed.append({"ajera_project": row.ajera_project, "ajera_employee": row.ajera_employee,
                              "run_id": ctx.run_id})
            continue
        crm_projects[row.ajera_project] = row.crm_project
        changed.setdefault(row.ajera_project, []).append((row.ajera_employee, values, digest))
    with ctx.db.begin() as tx:
        tx.execute("confirm_project_team", confirmed)
    written = errors = 0
    for ajera_project, members in changed.items():
        crm_project = crm_projects[ajera_project]
        ok, _ = ctx.attempt(TEAM, "team: the CRM refused the team rows",
                            partial(_write_team, ctx, crm_project, members), ajera_key=ajera_project,
                            crm_key=crm_project)
        if not ok:
            errors += 1
            continue
        with ctx.db.begin() as tx:
            for employee, values, digest in members:
                tx.execute("upsert_project_team", {"ajera_project": ajera_project, "ajera_employee": employee,
                                                   "crm_project": crm_project, "crm_employee": values["Employee"],
                                                   "row_hash": digest, "run_id": ctx.run_id})
            journal.log(tx, ctx.run_id, TEAM, LogAction.UPDATED,
                        "team from Ajera timesheets: " + "; ".join(
                            f"{v['Employee']} {v['CRMHours']:g} h since {v['StartDate']}" for _, v, _ in members),
                        direction=Direction.AJERA_TO_CRM, ajera_key=ajera_project, crm_key=crm_project)
        written += len(members)
    ctx.tell_waiting(TEAM)
    ctx.counts.update({"team_rows_written": written, "team_waiting": waiting})
    return TeamResult(written, unchanged, waiting, errors)


def _write_team(ctx: ChildContext, crm_project: str, members: list[tuple[str, dict[str, Any], str]]) -> None:
    on_grid = {r.get("Employee") for r in ctx.crm.grid("project", crm_project, GRID)}
    ctx.crm.write_grid("project", crm_project, GRID_BODY,
                       [{**values, "_transType": "U" if values["Employee"] in on_grid else "I"}
                        for _, values, _ in members])
