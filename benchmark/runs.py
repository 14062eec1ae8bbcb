"""The end-to-end runs: first sync, 1% edits on each side, incremental, quiet; throttle on or off.

Each pass gets fresh simulators (same seed and sizes) and a fresh sync database, and runs
``include.sync.runner.run_sync`` (the DAG's steps, in order, in this process). The unthrottled pass also runs
one more quiet sync through Airflow (``dag.test()``, see ``benchmark.airflow_run``) beside an in-process one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark import memory
from benchmark.floor import documented_limits, floor_by_method, total
from benchmark.sims import ROOT, pythonpath, start_simulators
from benchmark.wire import Recorder
from include.clients.ajera import AjeraClient
from include.clients.vantagepoint import VantagepointClient
from include.sync import record_types
from include.sync.db import SyncDatabase
from include.sync.runner import run_sync
from include.sync.runs import RunOptions
from include.sync.staging import load_refs
from include.sync.systems import AjeraSide, CrmSide
from simulators.harness import AJERA_LOGIN, CRM_LOGIN, Simulators

AJERA_LIMIT_RPS = 9.0  # the real Ajera's throttle, per tenant
SYNCED_ACTIONS = ("created", "updated", "mapped")  # integration-log actions that wrote a record or a link
RUNS = ("first", "incremental", "quiet", "steady")
# "quiet" starts seconds after the incremental run, so the overlap before its watermark (10 minutes) still
# holds what the two runs before it wrote: the worst quiet run. "steady" is a quiet run as an hourly schedule
# sees it, once the overlap holds no recent writes; rather than wait the overlap out, it runs with none.
OVERLAP_MINUTES = {"steady": 0}
# (Ajera field, CRM field) a person edits between runs, per record type; None: that side is not edited
# (one-way types take no CRM edits). Canonical field names of the record type declarations.
EDITS: dict[str, tuple[str | None, str | None]] = {
    "firm": ("email", "website"), "contact": ("email", "title"), "employee": ("email", None),
    "vendor": ("email", None), "project": ("fee", "end_date"),
}


# The simulators run on this host, on its clock: the deployment default allows for two minutes between the
# sync's clock and the tenant's, which back-to-back runs would otherwise pay as re-reads.
SIMULATOR_SKEW_S = 5


@dataclass
class RunFigures:
    size: str
    throttle_rps: float | None
    run: str
    wall_s: float
    cpu_s: float
    staged: int  # records read and staged, both systems
    synced: int  # records created, updated or linked (integration log)
    ajera_calls: int
    crm_calls: int
    sim_ajera_calls: int
    sim_crm_calls: int
    throttled: int  # Ajera answers HTTP 429
    floor_calls: int
    peak_rss_mib: float
    rss_added_mib: float
    completed: bool
    ajera_by_method: dict[str, list[int]] = field(default_factory=dict)  # method -> [calls, floor, records]
    crm_by_call: dict[str, int] = field(default_factory=dict)
    timeline: list[str] = field(default_factory=list)  # request rates per slice of the run (Recorder.timeline)

    @property
    def synced_per_s(self) -> float:
        return self.synced / self.wall_s if self.wall_s else 0.0

    @property
    def calls_over_floor(self) -> float:
        return self.ajera_calls / self.floor_calls if self.floor_calls else 0.0

    @property
    def floor_seconds(self) -> float:
        return self.floor_calls / AJERA_LIMIT_RPS

    @property
    def wall_over_floor_time(self) -> float:
        return self.wall_s / self.floor_seconds if self.floor_calls else 0.0

    def summary(self) -> str:
        """One line as the run ends: a long pass stopped before its tables still leaves its figures."""
        against = f", wall/floor time {self.wall_over_floor_time:.2f}x" if self.throttle_rps else ""
        return (f"{self.wall_s:.1f} s, {self.synced} synced ({self.synced_per_s:,.0f}/s), Ajera calls "
                f"{self.ajera_calls}/{self.floor_calls} floor ({self.calls_over_floor:.2f}x){against}, CRM calls "
                f"{self.crm_calls}, peak RSS {self.peak_rss_mib:.0f} MiB, {'done' if self.completed else 'NOT done'}")

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.update(synced_per_s=self.synced_per_s, calls_over_floor=self.calls_over_floor,
                    floor_seconds=self.floor_seconds, wall_over_floor_time=self.wall_over_floor_time)
        return data


@dataclass
class AirflowFigures:
    size: str
    in_process_s: float
    one_at_a_time_s: float  # the same quiet run in-process, one step at a time as dag.test() runs its tasks
    dag_test_s: float
    migrate_s: float
    ajera_calls: int
    crm_calls: int
    tasks: int
    state: str
    floor_s: float = 0.0  # dag.test() of as many no-op tasks with the same params: Airflow's own cost

    @property
    def ratio(self) -> float:
        return self.dag_test_s / self.in_process_s if self.in_process_s else 0.0

    @property
    def sync_in_airflow_s(self) -> float:
        """The dag.test() time less Airflow's own: what the sync's steps took inside the tasks."""
        return max(0.0, self.dag_test_s - self.floor_s)


def make_clients(sims: Simulators, rps: float | None) -> tuple[AjeraClient, VantagepointClient]:
    return AjeraClient(sims.ajera.url, *AJERA_LOGIN, rate_limit_rps=rps), VantagepointClient(sims.crm.url, *CRM_LOGIN)


class Pass:
    """One world, one throttle setting: the three runs with the edits between the first two."""

    def __init__(self, size: str, sizes: dict[str, int], throttle: float | None, seed: int, workdir: Path,
                 client_rps: float | None, edit_share: float) -> None:
        self.size, self.sizes, self.throttle, self.seed = size, sizes, throttle, seed
        self.workdir, self.client_rps, self.edit_share = workdir, client_rps, edit_share
        self.label = f"{size}-{'throttled' if throttle else 'free'}"
        self.db_path = workdir / f"sync-{self.label}.db"

    def run(self, airflow: bool, progress: Any = print) -> tuple[list[RunFigures], AirflowFigures | None]:
        figures: list[RunFigures] = []
        airflow_figures = None
        # The throttle is the Ajera simulator's (HTTP 429 above it; None: off); the CRM is not throttled.
        with start_simulators(self.seed, self.sizes, self.workdir, self.label) as sims:
            sims.ajera.faults(throttle_rps=self.throttle)
            db = SyncDatabase(f"sqlite:///{self.db_path}")
            try:
                db.create_schema()
                for title in RUNS:
                    if title == "incremental":
                        sims.ajera.faults(throttle_rps=None)  # the edits are not part of any run
                        self.edit(sims, db)
                        sims.ajera.faults(throttle_rps=self.throttle)
                    progress(f"  {self.label}: {title} run ...")
                    figures.append(self.sync(sims, db, title))
                    progress(f"  {self.label}: {title} run: {figures[-1].summary()}")
                if airflow:
                    progress(f"  {self.label}: quiet run through Airflow (dag.test()) ...")
                    serial = self.sync(sims, db, "quiet-one-at-a-time", one_at_a_time=True)
                    quiet = next(f for f in figures if f.run == "quiet")
                    airflow_figures = self.through_airflow(sims, quiet.wall_s, serial.wall_s)
            finally:
                db.dispose()
        return figures, airflow_figures

    def sync(self, sims: Simulators, db: SyncDatabase, title: str, one_at_a_time: bool = False) -> RunFigures:
        recorder = Recorder()
        ajera, crm = make_clients(sims, self.client_rps if self.throttle else None)
        recorder.wrap_ajera(_http_session(ajera))
        recorder.wrap_crm(_http_session(crm))
        before = sims.stats()
        run_id = f"bench-{self.label}-{title}-{uuid.uuid4().hex[:6]}"
        memory.reset_peak()
        rss0 = memory.rss_mib()
        cpu0, t0 = time.process_time(), time.perf_counter()
        steps: list[tuple[float, str]] = []
        try:
            overlap = {"overlap_minutes": OVERLAP_MINUTES[title]} if title in OVERLAP_MINUTES else {}
            options = RunOptions(clock_skew_seconds=SIMULATOR_SKEW_S, **overlap)
            summary = run_sync(db, ajera, crm, run_id, options,
                               on_step=lambda name: steps.append((time.perf_counter(), name)),
                               one_at_a_time=one_at_a_time)
        finally:
            ajera.close()  # EndAPISession: part of the run's calls
            crm.close()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        peak = memory.peak_mib()
        after = sims.stats()
        by_method = floor_by_method(recorder.ajera_calls(), documented_limits(ajera.page_size))
        _, floor_calls = total(by_method)
        counts = db.rows("log_counts", {"run_id": run_id})
        with db.engine.connect() as conn:
            staged = conn.exec_driver_sql("SELECT COUNT(*) FROM staged_record WHERE run_id = ?", (run_id,)).scalar()
        return RunFigures(
            size=self.size, throttle_rps=self.throttle, run=title, wall_s=wall, cpu_s=cpu, staged=int(staged or 0),
            synced=sum(n for _, _, action, n in counts if action in SYNCED_ACTIONS),
            ajera_calls=ajera.calls, crm_calls=crm.calls,
            sim_ajera_calls=_delta(before, after, "ajera", "_total"),
            sim_crm_calls=_delta(before, after, "crm", "_total"),
            throttled=_delta(before, after, "ajera", "_throttled"), floor_calls=floor_calls,
            peak_rss_mib=peak, rss_added_mib=max(0.0, peak - rss0), completed=summary.completed,
            ajera_by_method={m: [f.calls, f.floor, f.records] for m, f in by_method.items()},
            crm_by_call=dict(recorder.crm.most_common()),
            timeline=recorder.timeline(t0, t0 + wall, steps),
        )

    def edit(self, sims: Simulators, db: SyncDatabase) -> None:
        """A person's edits between two runs: ``edit_share`` of each type's mapped records changed on each
        side (different records on each side), through the sync's own sides, so the shapes are the API's."""
        rng = random.Random(self.seed)
        ajera, crm = make_clients(sims, None)
        try:
            for name in record_types.ORDER:
                rt = record_types.get(name)
                a_field, c_field = EDITS.get(name, (None, None))
                pairs = sorted((r.ajera_key, r.crm_key) for r in db.rows("select_mappings", {"record_type": name}))
                n = max(1, round(len(pairs) * self.edit_share)) if pairs else 0
                chosen = rng.sample(pairs, min(len(pairs), 2 * n))
                refs = load_refs(db, rt)
                a_side, c_side = AjeraSide(ajera, refs), CrmSide(crm, refs)
                if a_field in rt.synced:
                    records = a_side.fetch(rt, [a for a, _ in chosen[:n]])
                    # One field, as a person edits it (the record's other values stay as Ajera holds them).
                    updates = {r.key: ({a_field: _edited(a_field, r.fields.get(a_field), rng)}, r.raw)
                               for r in records}
                    outcome = a_side.write(rt, {}, updates)
                    if outcome.errors:
                        first = next(iter(outcome.errors.values()))
                        print(f"    (Ajera refused {len(outcome.errors)} {name} edits: {first})")
                if c_field in rt.synced:
                    for _, crm_key in chosen[n:]:
                        c_side.update(rt, crm_key, {c_field: _edited(c_field, None, rng)})
        finally:
            ajera.close()
            crm.close()

    def through_airflow(self, sims: Simulators, in_process_s: float, one_at_a_time_s: float) -> AirflowFigures:
        before = sims.stats()
        home = self.workdir / f"airflow-{self.label}"
        env = dict(os.environ, PYTHONPATH=pythonpath(), AIRFLOW_HOME=str(home),
                   AJERA_CRM_CLOCK_SKEW_SECONDS=str(SIMULATOR_SKEW_S),
                   AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"), AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
                   AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
                   AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
                   SYNC_DATABASE_URL=f"sqlite:///{self.db_path}", GX_ANALYTICS_ENABLED="False",
                   **sims.connections(ajera_extra={"rate_limit_rps": 0}))
        home.mkdir(parents=True, exist_ok=True)
        result = self._airflow_run(env, "airflow", [])
        after = sims.stats()
        # Airflow's own cost of as many tasks, on the same metadata database: no-op tasks with the same params.
        floor = self._airflow_run({**env, "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "benchmark" / "floor_dags"),
                                   "BENCHMARK_FLOOR_TASKS": str(result["tasks"])}, "airflow-floor", ["--floor"])
        return AirflowFigures(self.size, in_process_s, one_at_a_time_s, result["dag_test_s"], result["migrate_s"],
                              _delta(before, after, "ajera", "_total"), _delta(before, after, "crm", "_total"),
                              result["tasks"], result["state"], floor["dag_test_s"])

    def _airflow_run(self, env: dict[str, str], name: str, args: list[str]) -> dict[str, Any]:
        """``benchmark.airflow_run`` in a child process with ``env``; its JSON line."""
        log_path = self.workdir / f"{name}-{self.label}.log"
        command = [sys.executable, "-m", "benchmark.airflow_run", *args]
        if os.environ.get("BENCHMARK_PYSPY") and not args:  # a flame graph of the sync's Airflow run (README)
            out = os.environ["BENCHMARK_PYSPY"]  # .svg: a flame graph; .txt: collapsed stacks
            command = [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses", "-o", out,
                       "--format", "raw" if out.endswith(".txt") else "flamegraph", "--", *command]
        with log_path.open("wb") as log_file:
            done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log_file, timeout=3600)
        if done.returncode:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the Airflow run {name} failed (exit {done.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads([line for line in done.stdout.decode().splitlines()
                                             if line.startswith("{")][-1])
        return result


def _http_session(client: Any) -> Any:
    """The ``requests.Session`` a client sends through (its attribute name is the client's business)."""
    for name in ("session", "_http", "_session"):
        session = getattr(client, name, None)
        if session is not None and hasattr(session, "request"):
            return session
    raise AttributeError(f"{type(client).__name__} has no requests session to record")


def _delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], system: str, name: str) -> int:
    return int(after[system].get(name, 0)) - int(before[system].get(name, 0))


def _edited(field_name: str, old: Any, rng: random.Random) -> Any:
    n = rng.randrange(10**6)
    if field_name == "fee":
        return float(old or 0) + 1000.0
    if field_name.endswith("_date"):
        return f"2027-{rng.randrange(1, 13):02d}-28"
    if field_name == "email":
        return f"bench{n}@example.com"
    if field_name == "website":
        return f"https://bench{n}.example.com"
    return f"Bench {n}"
