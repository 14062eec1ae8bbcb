"""The Airflow REST calls of the check: log in, wait for the DAG, trigger and unpause, watch the run."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from .common import DAG_ID, CheckFailed, say
from .processes import Processes, wait_until
from .report import print_task_errors


class AirflowApi:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def login(self, password: str) -> None:
        resp = requests.post(f"{self.base}/auth/token", json={"username": "admin", "password": password},
                             timeout=10)
        if resp.status_code not in (200, 201):
            raise CheckFailed(f"admin login failed: {resp.status_code} {resp.text[:300]}")
        self.session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        say("logged in as admin (simple auth manager token)")

    def dag_parsed(self) -> bool:
        errors = self.session.get(f"{self.base}/api/v2/importErrors", timeout=10).json()
        if errors.get("total_entries"):
            raise CheckFailed(f"DAG import errors: {json.dumps(errors['import_errors'], indent=1)[:3000]}")
        return self.session.get(f"{self.base}/api/v2/dags/{DAG_ID}", timeout=10).status_code == 200

    def trigger(self) -> str:
        """Triggers a run and returns its id. Unpausing (next) makes the scheduler create the run of the last
        complete hourly interval too (catchup=False still catches up one interval); with max_active_runs=1 the
        scheduler starts queued runs in run_after order, so the triggered run gets a run_after two hours back to
        go first (it only orders the runs: the sync's window comes from its watermarks, the data interval
        matters for backfills only)."""
        run_after = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        resp = self.session.post(f"{self.base}/api/v2/dags/{DAG_ID}/dagRuns",
                                 json={"logical_date": None, "run_after": run_after, "conf": {}}, timeout=30)
        if resp.status_code not in (200, 201):
            raise CheckFailed(f"trigger failed: {resp.status_code} {resp.text[:500]}")
        run_id: str = resp.json()["dag_run_id"]
        say(f"triggered run {run_id}")
        return run_id

    def unpause(self) -> None:
        resp = self.session.patch(f"{self.base}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=30)
        if resp.status_code != 200:
            raise CheckFailed(f"unpause failed: {resp.status_code} {resp.text[:500]}")
        say(f"unpaused {DAG_ID}")

    def run_states(self) -> dict[str, str]:
        """Every run of the DAG: run id -> state."""
        runs = self.session.get(f"{self.base}/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100},
                                timeout=10).json()
        return {r["dag_run_id"]: r["state"] for r in runs["dag_runs"]}

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        resp = self.session.get(f"{self.base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances",
                                params={"limit": 1000}, timeout=10)
        resp.raise_for_status()
        tis: list[dict[str, Any]] = resp.json()["task_instances"]
        return tis


class RunWatch:
    """Waits for one run to end, showing progress for whichever run is active (should the scheduled run go
    first after all)."""

    def __init__(self, api: AirflowApi, run_id: str, procs: Processes, wait_retries: bool) -> None:
        self.api = api
        self.run_id = run_id
        self.procs = procs
        self.wait_retries = wait_retries
        self.last_summary = ""

    def wait(self, timeout: float) -> str:
        """The run's final state: success or failed."""
        return wait_until(f"run {self.run_id} to finish", self._finished, timeout, self.procs, 2.0)

    def _finished(self) -> str:
        states = self.api.run_states()
        active = next((rid for rid, st in states.items() if st == "running"), self.run_id)
        tis = self.api.task_instances(active)
        summary = ", ".join(f"{s}={n}" for s, n in sorted(Counter(str(t["state"]) for t in tis).items()))
        line = f"run {active} {states.get(active)}: tasks {summary}"
        if line != self.last_summary:
            say(line)
            self.last_summary = line
        # The simulators run without injected faults, so a retry means a bug: stop waiting (the DAG's
        # exponential retry backoff would take longer than the check may run).
        broken = [f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in tis
                  if t["state"] in ("up_for_retry", "failed") and not self.wait_retries]
        if broken:
            print_task_errors(self.procs)
            raise CheckFailed(f"run {active}: tasks {', '.join(broken)} (no retries expected; "
                              "--wait-retries waits for them)")
        state = states.get(self.run_id, "")
        return state if state in ("success", "failed") else ""
