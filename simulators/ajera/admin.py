"""Simulator-only admin calls that stand in for what people do in Ajera's own screens: enter time on a
timesheet, add a consultant resource to a project, list contacts on a project. The API has no call the sync
would use for either (``UpdateTimesheets`` needs the UI's base64 baselines), and tests and the demo need the
totals, the team and the consultants to move. Never counted, never faulted (``/_sim/...``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from simulators.ajera.projects import project_contacts_row, seed_child

Record = dict[str, Any]


def enter_time(service: Any, employee_key: int, project_key: int, day: str, hours: float) -> Record:
    """Add ``hours`` of regular time on ``day`` for the employee on the project (its first phase), on the
    employee's timesheet of that week (created if missing). Time entry does not touch the project record:
    only its totals move, as in Ajera."""
    t = service.tables
    if t["Employees"].get(employee_key) is None or t["Projects"].get(project_key) is None:
        raise LookupError(f"no employee {employee_key} or project {project_key}")
    when = date.fromisoformat(day)
    monday = (when - timedelta(days=when.weekday())).isoformat()
    column = f"D{when.weekday() + 1} Regular"
    with service.db.lock:
        found = next((s for s in t["Timesheets"].all()
                      if s["EmployeeKey"] == employee_key and s["TimesheetDate"] == monday), None)
        sheet = t["Timesheets"].get(found["TimesheetKey"]) if found is not None else None  # a copy: all() is live
        if sheet is None:
            sheet = {"TimesheetKey": t["Timesheets"].max_int_key() + 1, "EmployeeKey": employee_key,
                     "TimesheetDate": monday, "Submitted": False, "Project": {"Detail": []}}
        details = sheet["Project"]["Detail"]
        row = next((d for d in details if d.get("Project Key") == project_key), None)
        if row is None:
            phase = min((p["PhaseKey"] for p in t["Phases"].all() if p["ProjectKey"] == project_key), default=None)
            row = {"Project Key": project_key, "Phase Key": phase, "Activity Key": 1,
                   **{f"D{d} {kind}": 0.0 for d in range(1, 8) for kind in ("Regular", "Overtime")}}
            details.append(row)
        row[column] = float(row.get(column) or 0) + float(hours)
        return t["Timesheets"].put(sheet)


def add_resource(service: Any, project_key: int, resource: Record) -> Record:
    """Add a resource (e.g. ``{"VendorKey": 7, "ActivityType": "Consultant", "CostAmount": 5000}``) on the
    project's first phase. Editing resources is editing the project, so its ``LastModifiedDate`` moves."""
    t = service.tables
    project = t["Projects"].get(project_key)
    if project is None:
        raise LookupError(f"no project {project_key}")
    with service.db.lock:
        phase = min((p["PhaseKey"] for p in t["Phases"].all() if p["ProjectKey"] == project_key), default=None)
        if phase is None:
            raise LookupError(f"project {project_key} has no phase to hold a resource")
        row = seed_child("Resources", {"ResourceKey": t["Resources"].max_int_key() + 1, "PhaseKey": phase,
                                       **resource})
        t["Resources"].put(row)
        t["Projects"].put({**project, "LastModifiedDate": service.stamp("Projects")})
        return row


def set_project_contacts(service: Any, project_key: int, contacts: Any) -> Record:
    """Replace the project's ``Contacts[]`` (``[{"ContactKey": 3, "Order": 1}, ...]``), as the project's
    Contacts tab does. Editing the project's contacts is editing the project: its ``LastModifiedDate`` moves."""
    t = service.tables
    project = t["Projects"].get(project_key)
    if project is None:
        raise LookupError(f"no project {project_key}")
    row = project_contacts_row(project_key, contacts)
    unknown = [r["ContactKey"] for r in row["Contacts"] if not t["Contacts"].exists(r["ContactKey"])]
    if unknown:
        raise LookupError(f"no contact {unknown}")
    with service.db.lock:
        t["ProjectContacts"].put(row)
        t["Projects"].put({**project, "LastModifiedDate": service.stamp("Projects")})
        return row
