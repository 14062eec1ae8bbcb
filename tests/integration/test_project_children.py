"""Project accounting, team and consultants, Ajera -> CRM, through the sync's own steps against both
simulators over HTTP: they land on the right CRM project, an unchanged project costs no CRM write, a team
member waits for its employee's mapping, the consultant back-fill resumes and never adds a consultant twice."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

import requests
from sqlalchemy import text

from include.sync.project_children.accounting import crm_accounting
from tests.support.engine import Engine


def crm_project(engine: Engine, wbs1: str) -> dict[str, Any]:
    return engine.crm.get("project", wbs1) or {}


def enter_time(engine: Engine, employee: str, project: str, hours: float, day: date | None = None) -> None:
    response = requests.post(f"{engine.ajera_sim.url}/_sim/timesheets", timeout=5, json={
        "EmployeeKey": int(employee), "ProjectKey": int(project), "Date": (day or date.today()).isoformat(),
        "Hours": hours})
    assert response.ok, response.text


def add_consultant(engine: Engine, project: str, vendor: str) -> None:
    response = requests.post(f"{engine.ajera_sim.url}/_sim/resources", timeout=5, json={
        "ProjectKey": int(project), "VendorKey": int(vendor), "ActivityType": "Consultant", "CostAmount": 1200.0})
    assert response.ok, response.text


def billable_pair(engine: Engine) -> tuple[str, str]:
    """A mapped project that has totals (not overhead or non-billable)."""
    for ajera_key, crm_key in sorted(engine.pairs("project").items()):
        if engine.ajera.get_project_totals([int(ajera_key)]):
            return ajera_key, crm_key
    raise AssertionError("no mapped billable project in the world")


def hours_on(engine: Engine, employee: str, project: str) -> tuple[float, str]:
    """Hours and first entry date of an employee on a project, straight from Ajera's timesheets."""
    listed = engine.ajera.list_timesheets(date.today() - timedelta(weeks=400), date.today())
    total, first = 0.0, ""
    for sheet in engine.ajera.get_timesheets([r["Timesheet Key"] for r in listed]):
        if str(sheet["EmployeeKey"]) != employee:
            continue
        week = date.fromisoformat(sheet["TimesheetDate"])
        for detail in sheet["Project"]["Detail"]:
            if str(detail["Project Key"]) != project:
                continue
            for day in range(1, 8):
                worked = detail[f"D{day} Regular"] + detail[f"D{day} Overtime"]
                if worked:
                    total += worked
                    when = (week + timedelta(days=day - 1)).isoformat()
                    first = min(first, when) if first else when
    return round(total, 2), first


def test_accounting_team_and_consultants_reach_the_right_crm_project(engine: Engine) -> None:
    assert engine.sync().completed
    project, wbs1 = billable_pair(engine)
    employee = sorted(engine.pairs("employee"))[0]
    vendor = sorted(engine.pairs("vendor"))[0]
    others = {w: crm_project(engine, w)["AjeraSpentLabor"] for a, w in engine.pairs("project").items() if a != project}
    before = crm_project(engine, wbs1)

    enter_time(engine, employee, project, 7.5)
    add_consultant(engine, project, vendor)
    summary = engine.sync()
    assert summary.completed, summary.lines()

    after = crm_project(engine, wbs1)
    totals = engine.ajera.get_project_totals([int(project)])[0]
    assert after["AjeraSpentLabor"] == totals["Spent Labor"] > before["AjeraSpentLabor"]
    expected = crm_accounting(totals)
    def day(value: Any) -> Any:  # the CRM renders dates with a time of day
        return value[:10] if isinstance(value, str) else value

    assert {k: day(after[k]) for k in expected} == expected
    assert after["FeeDirLab"] == totals["LaborContractAmount"]
    # Only that project's figures moved.
    assert {w: crm_project(engine, w)["AjeraSpentLabor"] for w in others} == others

    hours, first = hours_on(engine, employee, project)
    team = {r["Employee"]: r for r in engine.crm.grid("project", wbs1, "employee")}
    member = team[engine.pairs("employee")[employee]]
    assert (member["CRMHours"], member["StartDate"][:10]) == (hours, first)
    firms = [r["ClientID"] for r in engine.crm.grid("project", wbs1, "firmClient")]
    assert firms.count(engine.pairs("vendor")[vendor]) == 1

    # Nothing moved: the next run writes nothing to the CRM project.
    engine.crm_sim.reset_stats()
    assert engine.sync().completed
    assert engine.crm_sim.stats().get("PUT /api/project", 0) == 0


def test_unchanged_totals_cost_no_crm_write(engine: Engine) -> None:
    assert engine.sync().completed
    project, _ = billable_pair(engine)
    # An Ajera edit outside the synced fields: the project is read whole again and its totals fetched...
    bundle = engine.ajera.get("Projects", [int(project)])[0]
    engine.ajera.update("Projects", [{"ProjectKey": int(project), "Notes": "phone call with the owner"}], [bundle])
    engine.ajera_sim.reset_stats()
    engine.crm_sim.reset_stats()
    assert engine.sync().completed
    assert engine.ajera_sim.stats().get("GetProjectTotals", 0) >= 1
    # ...and, its totals being the same, nothing is written to the CRM.
    assert engine.crm_sim.stats().get("PUT /api/project", 0) == 0


def test_team_member_waits_for_the_employee_mapping(engine: Engine) -> None:
    assert engine.sync().completed
    project, wbs1 = billable_pair(engine)
    saved = engine.ajera.update("Employees", [{"EmployeeKey": -1, "FirstName": "Nadia", "LastName": "Okafor",
                                               "Title": "Project Architect"}], [])
    employee = str(saved.saved[0]["EmployeeKey"])
    enter_time(engine, employee, project, 6)

    without_employees = ("firm", "contact", "vendor", "project")
    summary = engine.sync(record_types=without_employees)
    assert summary.completed, summary.lines()
    waiting = [r for r in engine.log(f"test-run-{engine.runs:03d}")
               if r.action == "skipped" and f"Ajera employee {employee} " in r.message]
    assert waiting and waiting[0].ajera_key == project and waiting[0].crm_key == wbs1

    assert engine.sync().completed  # employees sync; the member arrives in the same run
    crm_employee = engine.pairs("employee")[employee]
    team = {r["Employee"]: r for r in engine.crm.grid("project", wbs1, "employee")}
    assert team[crm_employee]["CRMHours"] == 6 and team[crm_employee]["RoleDescription"] == "Project Architect"


def test_a_team_row_follows_new_time_and_its_employees_title_and_is_otherwise_not_compared(engine: Engine) -> None:
    """A run compares only the team rows that may have changed: time moved, never written, or the employee's
    mapping synced since the run that last compared the row started (so once more in the run after). Every
    other row is as written: a quiet run compares none."""
    def due() -> list[Any]:  # what the next run would compare, less the members waiting for their employee
        return [r for r in engine.db.rows("team_rows_due") if r.crm_employee is not None]

    assert engine.sync().completed
    assert due(), "the employees synced in the run that wrote their rows: compared once more"
    assert engine.sync().completed
    assert due() == []
    project, wbs1 = billable_pair(engine)
    employee = sorted(engine.pairs("employee"))[0]
    crm_employee = engine.pairs("employee")[employee]

    enter_time(engine, employee, project, 4.25)
    assert engine.sync().completed
    hours, first = hours_on(engine, employee, project)
    member = {r["Employee"]: r for r in engine.crm.grid("project", wbs1, "employee")}[crm_employee]
    assert (member["CRMHours"], member["StartDate"][:10]) == (hours, first)
    assert due() == []

    bundle = engine.ajera.get("Employees", [int(employee)])[0]
    engine.ajera.update("Employees", [{"EmployeeKey": int(employee), "Title": "Principal in Charge"}], [bundle])
    assert engine.sync().completed
    member = {r["Employee"]: r for r in engine.crm.grid("project", wbs1, "employee")}[crm_employee]
    assert member["RoleDescription"] == "Principal in Charge"
    assert {r.ajera_employee for r in due()} == {employee}
    assert engine.sync().completed
    assert due() == []


def test_a_project_mapped_to_another_crm_project_has_its_team_written_there(engine: Engine) -> None:
    """The team row's hash covers its values, not the CRM project it went to: a project now mapped to another
    CRM project (as after an unlink and a new link) has its team written to that one."""
    assert engine.sync().completed
    project, _ = billable_pair(engine)
    employee = sorted(engine.pairs("employee"))[0]
    enter_time(engine, employee, project, 3.5)
    assert engine.sync().completed
    firm_c = sorted(engine.pairs("firm").values())[0]
    engine.crm.create("project", {"WBS1": "2099555.00", "Name": "Moved Team Check", "ChargeType": "R", "Status": "A",
                                  "ClientID": firm_c, "AjeraSync": "N", "ProjectTemplate": ""})
    with engine.db.engine.begin() as conn:
        conn.execute(text("UPDATE record_mapping SET crm_key = '2099555.00' "
                          "WHERE record_type = 'project' AND ajera_key = :key"), {"key": project})

    assert engine.sync().completed
    team = {r["Employee"] for r in engine.crm.grid("project", "2099555.00", "employee")}
    assert engine.pairs("employee")[employee] in team
    assert [r for r in engine.db.rows("team_rows_due") if r.crm_employee is not None
            and r.ajera_project == project] == []


def test_consultant_vendor_firm_created_first_and_added_once(engine: Engine) -> None:
    # Vendors are not synced in the first run, so the consultants' vendor firms do not exist in the CRM yet
    # (or are unmapped): the consultant step creates (or links) them before it puts them on the project.
    assert engine.sync(record_types=("firm", "contact", "employee", "project")).completed
    linked = engine.pairs("vendor")
    assert linked, "the consultant step maps the vendor firms it needs"
    names = [r["Name"] for r in engine.crm.list("firm", filters=[("VendorInd", "=", "Y")])]
    assert len(names) == len(set(n.casefold() for n in names)), "a vendor firm was created twice"
    placed = engine.db.rows("select_project_consultants")
    assert placed
    for row in placed:
        grid = [r["ClientID"] for r in engine.crm.grid("project", row.crm_project, "firmClient")]
        assert grid.count(row.crm_firm) == 1
    assert engine.sync().completed
    assert len(engine.db.rows("select_project_consultants")) == len(placed)


def test_consultant_backfill_resumes_and_adds_no_consultant_twice(engine: Engine) -> None:
    assert engine.sync().completed
    placed = engine.db.rows("select_project_consultants")
    assert placed
    # History the sync never pushed: the consultants are gone from the CRM grids and from the sync's memory.
    for row in placed:
        engine.crm.write_grid("project", row.crm_project, "ClendorProjectAssoc",
                              [{"ClientID": row.crm_firm, "_transType": "D"}])
    engine.db.engine.dispose()
    with engine.db.begin() as tx:
        tx.conn.exec_driver_sql("DELETE FROM project_consultant")

    # The back-fill fails mid-way (the CRM refuses every call for a while)...
    engine.crm_sim.faults(error_rate=1.0)
    with contextlib.suppress(Exception):
        engine.sync(record_types=("project",), sync_historical_consultants=True, consultant_backfill_batch=2)
    engine.crm_sim.faults(error_rate=0.0)
    # ...and the re-run puts every consultant back, each once.
    summary = engine.sync(record_types=("project",), sync_historical_consultants=True, consultant_backfill_batch=2)
    assert summary.completed, summary.lines()
    assert any(line.strip().startswith("consultant_backfill:") for line in summary.lines())
    for row in placed:
        grid = [r["ClientID"] for r in engine.crm.grid("project", row.crm_project, "firmClient")]
        assert grid.count(row.crm_firm) == 1
    assert {(r.ajera_project, r.ajera_vendor) for r in engine.db.rows("select_project_consultants")} == \
        {(r.ajera_project, r.ajera_vendor) for r in placed}


def test_time_read_before_a_failed_totals_call_still_reaches_the_crm_on_retry(engine: Engine,
                                                                               monkeypatch: Any) -> None:
    from include.clients.ajera import AjeraClient
    from include.clients.errors import TransientApiError
    from include.sync.project_children import step as children
    from include.sync.runs import RunOptions

    assert engine.sync().completed
    project, wbs1 = billable_pair(engine)
    enter_time(engine, sorted(engine.pairs("employee"))[0], project, 9)

    def down(self: Any, keys: Any) -> Any:
        raise TransientApiError("Ajera is down")

    with monkeypatch.context() as m:  # the timesheets are read and recorded, then the totals call fails
        m.setattr(AjeraClient, "get_project_totals", down)
        with contextlib.suppress(TransientApiError):
            engine.sync()
    run_id = f"test-run-{engine.runs:03d}"
    children.sync_children(engine.db, engine.ajera, engine.crm, run_id, RunOptions())  # the task retry
    totals = engine.ajera.get_project_totals([int(project)])[0]
    assert crm_project(engine, wbs1)["AjeraSpentLabor"] == totals["Spent Labor"]


def test_the_children_reads_done_ahead_are_not_made_again(engine: Engine) -> None:
    """A first sync reads every due project's totals and the changed projects' resources ahead of the
    children step (beside the project batches); the children step writes them without asking Ajera again,
    so each project is read once, and what reached the CRM is what Ajera says."""
    engine.ajera_sim.reset_stats()
    assert engine.sync().completed
    calls = engine.ajera_sim.stats()
    mapped = engine.pairs("project")
    kept = engine.db.rows("select_read_ahead", {"run_id": f"test-run-{engine.runs:03d}", "method": "GetProjectTotals"})
    assert {r.ajera_key for r in kept} == set(mapped)  # a first sync: every mapped project is due
    assert calls["GetProjectTotals"] == len(mapped)  # read once, ahead; none again in the children step
    project, wbs1 = billable_pair(engine)
    totals = engine.ajera.get_project_totals([int(project)])[0]
    assert crm_project(engine, wbs1)["AjeraSpentLabor"] == totals["Spent Labor"]
