"""`make demo`: a real sync between the two simulators, run by Airflow, twice.

1. Starts both simulators with seeded, messy data (`python -m simulators serve`).
2. Prepares a throw-away Airflow home under var/demo (metadata in SQLite) and the sync database
   (SQLite file var/demo/sync.db), with the connections passed as AIRFLOW_CONN_* variables.
3. Runs the sync DAG through Airflow (`airflow dags test`), then edits a few records in each simulator
   through the API clients, runs it again, and prints each run's summary from the integration log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

import requests  # noqa: E402

from include.clients.ajera import AjeraClient  # noqa: E402
from include.clients.vantagepoint import VantagepointClient  # noqa: E402
from include.sync.db import SyncDatabase  # noqa: E402
from simulators.harness import AJERA_LOGIN, CRM_LOGIN, Simulators, spawn  # noqa: E402

WORK = ROOT / "var" / "demo"


def start_simulators() -> Simulators:
    # 900 projects: more than 500 project changes on the first run, so it runs in several batches.
    try:
        return spawn(WORK, "simulators", seed=42, sizes={"projects": 900})
    except RuntimeError:
        raise SystemExit(f"the simulators did not start; see {WORK / 'simulators.log'}") from None


def airflow_env(sims: Simulators) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(WORK / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
        "SYNC_DATABASE_URL": f"sqlite:///{WORK / 'sync.db'}",
        "GX_ANALYTICS_ENABLED": "False",
        **sims.connections(),
    })
    return env


def airflow(env: dict[str, str], *args: str, log_name: str) -> None:
    log_path = WORK / log_name
    with log_path.open("wb") as log_file:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], cwd=ROOT, env=env, stdout=log_file,
                              stderr=subprocess.STDOUT)
    if done.returncode:
        tail = log_path.read_text(errors="replace").splitlines()[-25:]
        raise SystemExit(f"airflow {' '.join(args)} failed (exit {done.returncode}); last lines of {log_path}:\n"
                         + "\n".join(tail))


def run_sync(env: dict[str, str], db: SyncDatabase, title: str, log_name: str) -> None:
    print(f"\n== {title} ==", flush=True)
    started = time.monotonic()
    airflow(env, "dags", "test", "ajera_crm_sync", log_name=log_name)
    run = db.rows("recent_runs", {"limit": 1})[0]
    summary = json.loads(run.summary or "{}")
    for line in summary.get("lines", [f"run {run.run_id}: no summary ({run.status})"]):
        print(line)
    print(f"({time.monotonic() - started:.1f} s through Airflow; log: {WORK / log_name})", flush=True)


def edit_records(sims: Simulators) -> None:
    """A few edits a person would make between two syncs, on each side."""
    ajera = AjeraClient(sims.ajera.url, *AJERA_LOGIN)
    crm = VantagepointClient(sims.crm.url, *CRM_LOGIN)
    try:
        print("\n== Edits between the runs ==")
        mapped_firms = [f for f in crm.list("firm", filters=[("AjeraSync", "=", "Y"), ("ClientInd", "=", "Y")])][:2]
        for firm in mapped_firms:
            crm.update("firm", firm["ClientID"], {"PrimaryPhone": "(555) 010-0199"})
            print(f"CRM:   changed the phone of firm {firm['Name']!r}")
        new_firm = crm.create("firm", {"Name": "Northwind Landscape Architects", "ClientInd": "Y", "VendorInd": "N",
                                       "AjeraSync": "Y", "Status": "A", "PrimaryCity": "Denver", "PrimaryState": "CO"})
        print(f"CRM:   added firm {new_firm['Name']!r}, flagged Sync to Ajera")
        clients = ajera.get("Clients", [int(c["ClientKey"]) for c in ajera.list("Clients")][:2])
        for client in clients:
            ajera.update("Clients", [{**client, "Email": "accounts@example.com"}], [client])
            print(f"Ajera: changed the e-mail of client {client['Description']!r}")
        created = ajera.update("Clients", [{"ClientKey": -1, "Description": "Harbor Light Surveying",
                                            "Status": "Active"}], [])
        print(f"Ajera: added client {created.saved[0]['Description']!r}")
        contact = ajera.get("Contacts", [int(c["ContactKey"]) for c in ajera.list("Contacts")][:1])[0]
        ajera.update("Contacts", [{**contact, "Title": "Director of Facilities"}], [contact])
        print(f"Ajera: changed the title of contact {contact['FirstName']} {contact['LastName']}")
        project = crm.list("project", filters=[("AjeraSync", "=", "Y")], fields=["WBS1", "Name", "EndDate"])[0]
        crm.update("project", project["WBS1"], {"EndDate": "2027-06-30"})
        print(f"CRM:   moved the end date of project {project['Name']!r} to 2027-06-30")
    finally:
        ajera.close()
        crm.close()


def enter_time(sims: Simulators, db: SyncDatabase) -> dict[str, Any]:
    """Someone enters a day and a half on a synced project in Ajera (time entry is Ajera's own screen, so
    the simulator's admin call stands in for it); returns what to compare after the next run."""
    crm = VantagepointClient(sims.crm.url, *CRM_LOGIN)
    ajera = AjeraClient(sims.ajera.url, *AJERA_LOGIN)
    try:
        projects = {r.ajera_key: r.crm_key for r in db.rows("select_mappings", {"record_type": "project"})}
        employees = {r.ajera_key: r.crm_key for r in db.rows("select_mappings", {"record_type": "employee"})}
        accounted = {r.ajera_key for r in db.rows("select_project_accounting") if r.totals_hash != "no-totals"}
        project = next(k for k in sorted(projects, key=int) if k in accounted)
        employee = sorted(employees, key=int)[0]
        wbs1 = projects[project]
        before = crm.get("project", wbs1) or {}
        team = {r["Employee"]: r for r in crm.grid("project", wbs1, "employee")}.get(employees[employee]) or {}
        response = requests.post(f"{sims.ajera.url}/_sim/timesheets", timeout=10, json={
            "EmployeeKey": int(employee), "ProjectKey": int(project), "Date": time.strftime("%Y-%m-%d"), "Hours": 12})
        response.raise_for_status()
        print(f"Ajera: entered 12 hours for employee {employee} on project {project} (CRM {wbs1!r}, "
              f"{before.get('Name')!r})")
        return {"wbs1": wbs1, "employee": employees[employee], "spent": before.get("AjeraSpentLabor"),
                "hours": team.get("CRMHours")}
    finally:
        ajera.close()
        crm.close()


def show_time_reached_crm(sims: Simulators, before: dict[str, Any]) -> None:
    crm = VantagepointClient(sims.crm.url, *CRM_LOGIN)
    try:
        after = crm.get("project", before["wbs1"]) or {}
        team = {r["Employee"]: r for r in crm.grid("project", before["wbs1"], "employee")}.get(before["employee"]) or {}
        print(f"\nCRM project {before['wbs1']!r}: Ajera spent labor {before['spent']} -> "
              f"{after.get('AjeraSpentLabor')}; "
              f"team member {before['employee']}: hours {before['hours']} -> {team.get('CRMHours')} "
              f"(first time entry {team.get('StartDate')})")
    finally:
        crm.close()


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    print("Starting the Ajera and Vantagepoint simulators (seed 42) ...", flush=True)
    with start_simulators() as sims:
        print(f"  Ajera API: {sims.ajera_api_url}\n  CRM API:   {sims.crm_api_url}")
        env = airflow_env(sims)
        print("Preparing Airflow (metadata database in var/demo/airflow) ...", flush=True)
        airflow(env, "db", "migrate", log_name="airflow-db-migrate.log")
        airflow(env, "pools", "set", "ajera_crm_api", "4", "API concurrency of the sync", log_name="airflow-pool.log")
        db = SyncDatabase(env["SYNC_DATABASE_URL"])
        db.create_schema()
        run_sync(env, db, "Run 1: first-time sync", "run1.log")
        edit_records(sims)
        entered = enter_time(sims, db)
        run_sync(env, db, "Run 2: after the edits", "run2.log")
        show_time_reached_crm(sims, entered)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
