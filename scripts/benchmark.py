"""`make benchmark`: what one sync costs, measured in-process against both simulators.

    python scripts/benchmark.py [--scale 1,4] [--quick] [--json FILE] [--seed 7] [--db-url URL]
                                [--tracemalloc on|off] [--edit-share 0.05]

Per scale (a multiple of a base world), with fresh simulators (a subprocess, so they share neither this
process's GIL nor its memory) and a fresh sync database:

* run 1 (first-time sync), then edits on both sides through the API clients, run 2 (incremental) and
  run 3 (quiet), each with ``include.sync.runner.run_sync``: the DAG's steps, in order, without Airflow;
* per run: records seen (``staged_record`` rows of the run, both systems, all types), wall seconds,
  records per second, API calls per system (the clients' ``.calls``, cross-checked with the simulators'
  ``/_sim/stats``), calls per record, peak memory, and the ratio of the sync's wall time to a bare loop
  of the very same HTTP requests, replayed against fresh simulators of the same seed and sizes.

The Ajera client runs without its rate limit here (``rate_limit_rps=None``); the real Ajera throttles at
about 9 requests a second, so the time a run would need at the client's default 8 req/s is printed too.
Figures only, never pass/fail on speed: the guide keeps timing out of the tests.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from include.clients.ajera import AjeraClient  # noqa: E402
from include.clients.vantagepoint import VantagepointClient  # noqa: E402
from include.sync.db import SyncDatabase  # noqa: E402
from include.sync.runner import run_sync  # noqa: E402
from include.sync.runs import RunOptions  # noqa: E402

API_ID = base64.b64encode(b"ajera-sim:1").decode()  # "YWplcmEtc2ltOjE=", the simulator's default
USER, PASSWORD = "sync", "sync-password"  # the simulators' default credentials
CRM_DB, CRM_CLIENT, CRM_SECRET = "VPSIM", "sync-client", "sync-secret"
AJERA_PROD_RPS = 8.0  # the Ajera client's default rate limit (the real Ajera throttles at ~9 req/s)

BASE_WORLD = {"firms": 250, "contacts": 500, "employees": 60, "vendors": 40, "projects": 400}
QUICK_WORLD = {"firms": 24, "contacts": 40, "employees": 8, "vendors": 6, "projects": 24}
RUNS = ("run 1 first-time", "run 2 incremental", "run 3 quiet")
START_TIMEOUT = 120.0  # seconds for the simulators to generate their world and answer
HTTP_TIMEOUT = 60.0
REDACTED = "<redacted>"


# --- simulators ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Simulators:
    """Both simulators in one subprocess (``python -m simulators serve --memory``), on loopback."""

    def __init__(self, seed: int, sizes: dict[str, int], workdir: Path, label: str) -> None:
        self.seed, self.sizes, self.workdir, self.label = seed, sizes, workdir, label
        self.process: subprocess.Popen[bytes] | None = None
        self.urls: dict[str, Any] = {}
        self._log: Any = None

    def __enter__(self) -> "Simulators":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        ready = self.workdir / f"sim-{self.label}.json"
        ready.unlink(missing_ok=True)
        sizes = [arg for name, n in self.sizes.items() for arg in (f"--{name}", str(n))]
        command = [sys.executable, "-m", "simulators", "serve", "--memory", "--host", "127.0.0.1",
                   "--seed", str(self.seed), *sizes, "--ajera-port", str(free_port()),
                   "--crm-port", str(free_port()), "--ready-file", str(ready)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "plugins")]))
        self.log_path = self.workdir / f"sim-{self.label}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the simulators did not start (see {self.log_path}):\n{tail}")
            time.sleep(0.1)
        self.urls = json.loads(ready.read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def totals(self) -> dict[str, int]:
        """Requests each simulator counted (``/_sim/stats`` ``_total``; the admin endpoints are not counted)."""
        out = {}
        for system, key in (("ajera", "ajera_base_url"), ("crm", "crm_base_url")):
            stats = requests.get(f"{self.urls[key]}/_sim/stats", timeout=10).json()
            out[system] = int(stats.get("_total", 0))
        return out


# --- recording the clients' HTTP requests ----------------------------------------------------------


@dataclass
class Call:
    """One HTTP request a client made, without its credentials, plus what the replay needs to know."""

    system: str  # ajera | crm
    phase: int  # index into the recording's phases
    method: str
    url: str
    params: Any = None
    json: Any = None
    data: Any = None
    headers: dict[str, str] | None = None
    auth: str | None = None  # label of the session token the request carried (Ajera body / CRM Bearer)
    issues: str | None = None  # label of the token this login's answer holds
    issues_refresh: str | None = None
    status: int = 0
    code: int | None = None  # Ajera ResponseCode
    answer: bytes | None = None  # the body, kept for writes only (their new keys and dates)
    seconds: float = 0.0


_CODE = re.compile(rb'"ResponseCode"\s*:\s*(-?\d+)')
_CRM_WRITES = ("POST", "PUT", "DELETE", "PATCH")


def response_code(head: bytes) -> int | None:
    match = _CODE.search(head)
    return int(match.group(1)) if match else None


def is_write(call: Call) -> bool:
    if call.system == "crm":
        post_as_get = bool(call.headers and call.headers.get("dvp-postAsGet"))
        return call.method in _CRM_WRITES and not call.url.endswith("/token") and not post_as_get
    method = str((call.json or {}).get("Method", ""))
    return method.startswith(("Update", "Create")) and method != "CreateAPISession"


class Recorder:
    """Wraps ``session.request`` of both clients: every request is appended to ``calls`` with the session
    tokens replaced by labels and the passwords left out, so a replay can substitute fresh ones."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.phase = 0
        self._labels: dict[str, str] = {}  # token value -> label
        self._count = Counter[str]()

    def _label(self, kind: str, token: str) -> str:
        self._count[kind] += 1
        label = f"{kind}#{self._count[kind]}"
        self._labels[token] = label
        return label

    def wrap(self, system: str, session: requests.Session) -> None:
        original = session.request

        def request(method: str, url: str, **kwargs: Any) -> requests.Response:
            call = self._describe(system, method, url, kwargs)
            started = time.perf_counter()
            response = original(method, url, **kwargs)
            call.seconds = time.perf_counter() - started
            self._observe(call, response)
            self.calls.append(call)
            return response

        session.request = request  # type: ignore[method-assign]

    def _describe(self, system: str, method: str, url: str, kwargs: dict[str, Any]) -> Call:
        call = Call(system, self.phase, method.upper(), url, params=kwargs.get("params"))
        body = kwargs.get("json")
        if isinstance(body, dict):
            body = dict(body)  # shallow: only the top level changes below
            token = body.pop("SessionToken", None)
            if token is not None:
                call.auth = self._labels.get(str(token), "unknown")
            if "Password" in body:
                body["Password"] = REDACTED
        call.json = body
        data = kwargs.get("data")
        if isinstance(data, dict):
            data = dict(data)
            for secret in ("Password", "client_secret"):
                if secret in data:
                    data[secret] = REDACTED
            if "refresh_token" in data:
                data["refresh_token"] = self._labels.get(str(data["refresh_token"]), "unknown")
        call.data = data
        headers = dict(kwargs.get("headers") or {})
        bearer = headers.pop("Authorization", None)
        if bearer:
            call.auth = self._labels.get(bearer.removeprefix("Bearer ").strip(), "unknown")
        call.headers = headers or None
        return call

    def _observe(self, call: Call, response: requests.Response) -> None:
        call.status = response.status_code
        content = response.content
        if call.system == "ajera":
            call.code = response_code(content[:80])
            if isinstance(call.json, dict) and call.json.get("Method") == "CreateAPISession" and call.code == 200:
                call.issues = self._label("ajera", str(response.json()["Content"]["SessionToken"]))
        elif call.url.endswith("/token") and response.status_code == 200:
            body = response.json()
            call.issues = self._label("crm", str(body["access_token"]))
            if body.get("refresh_token"):
                call.issues_refresh = self._label("crm-refresh", str(body["refresh_token"]))
        if is_write(call):
            call.answer = content


# --- replaying them: the bare loop ----------------------------------------------------------------


def _learn(original: Any, replayed: Any, subs: dict[str, str]) -> None:
    """Values that differ between the recorded and the replayed answer of a write (server-made keys and
    modified dates), so later requests naming them can be rewritten."""
    if isinstance(original, dict) and isinstance(replayed, dict):
        for key, value in original.items():
            if key in replayed and key not in ("UsageKey",):
                _learn(value, replayed[key], subs)
    elif isinstance(original, list) and isinstance(replayed, list) and len(original) == len(replayed):
        for a, b in zip(original, replayed):
            _learn(a, b, subs)
    elif isinstance(original, str) and isinstance(replayed, str) and original != replayed and len(original) >= 8:
        subs[original] = replayed


def _substitute(value: Any, subs: dict[str, str]) -> Any:
    if isinstance(value, str):
        return subs.get(value, value)
    if isinstance(value, dict):
        return {k: _substitute(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, subs) for v in value]
    return value


def _substitute_url(url: str, subs: dict[str, str]) -> str:
    head, sep, query = url.partition("?")
    parts = head.split("/")
    return "/".join(subs.get(p, p) for p in parts) + sep + query


@dataclass
class ReplayResult:
    seconds: float
    cpu_seconds: float
    calls: int
    same_status: int


class Replayer:
    """Sends recorded calls to fresh simulators in a plain loop: one ``requests.Session`` per system,
    fresh logins (the recorded CreateAPISession / POST /api/token calls, with the credentials put back)
    whose tokens replace the recorded ones, and each answer's body read and decoded as JSON."""

    def __init__(self, urls: dict[str, Any], recorded_urls: dict[str, Any]) -> None:
        self.bases = {"ajera": (recorded_urls["ajera_base_url"], urls["ajera_base_url"]),
                      "crm": (recorded_urls["crm_base_url"], urls["crm_base_url"])}
        self.sessions = {"ajera": requests.Session(), "crm": requests.Session()}
        self.tokens: dict[str, str] = {}
        self.subs: dict[str, str] = {}

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()

    def run(self, calls: list[Call]) -> ReplayResult:
        same = 0
        tokens, subs, sessions = self.tokens, self.subs, self.sessions
        cpu0, t0 = time.process_time(), time.perf_counter()
        for call in calls:
            old_base, new_base = self.bases[call.system]
            url = new_base + call.url[len(old_base):]
            body, data, params = call.json, call.data, call.params
            headers = dict(call.headers) if call.headers else {}
            if subs:
                url = _substitute_url(url, subs)
                body = _substitute(body, subs) if body is not None else None
                if isinstance(params, list):
                    params = [(k, subs.get(v, v)) for k, v in params]
            if call.system == "ajera":
                body = dict(body) if isinstance(body, dict) else body
                if call.auth:
                    body["SessionToken"] = tokens.get(call.auth, "")
                if body.get("Password") == REDACTED:
                    body["Password"] = PASSWORD
            else:
                if call.auth:
                    headers["Authorization"] = f"Bearer {tokens.get(call.auth, '')}"
                if isinstance(data, dict):
                    data = dict(data)
                    if data.get("Password") == REDACTED:
                        data["Password"] = PASSWORD
                    if data.get("client_secret") == REDACTED:
                        data["client_secret"] = CRM_SECRET
                    if "refresh_token" in data:
                        data["refresh_token"] = tokens.get(data["refresh_token"], "")
            response = sessions[call.system].request(call.method, url, params=params, json=body, data=data,
                                                     headers=headers or None, timeout=HTTP_TIMEOUT)
            content = response.content
            try:
                answer = json.loads(content) if content else None
            except ValueError:
                answer = None
            if call.issues and isinstance(answer, dict):
                if call.system == "ajera":
                    tokens[call.issues] = str((answer.get("Content") or {}).get("SessionToken", ""))
                else:
                    tokens[call.issues] = str(answer.get("access_token", ""))
                    if call.issues_refresh:
                        tokens[call.issues_refresh] = str(answer.get("refresh_token", ""))
            if call.answer is not None and answer is not None:
                try:
                    _learn(json.loads(call.answer), answer, subs)
                except ValueError:
                    pass
            code = response_code(content[:80]) if call.system == "ajera" else None
            if response.status_code == call.status and code == call.code:
                same += 1
        return ReplayResult(time.perf_counter() - t0, time.process_time() - cpu0, len(calls), same)


# --- memory ----------------------------------------------------------------------------------------


def reset_peak_rss() -> bool:
    """Reset this process's peak resident set (Linux ``clear_refs`` 5), so the next VmHWM is per run."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def vm_hwm_mib(field_name: str = "VmHWM") -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def ru_maxrss_mib() -> float:
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


# --- the sync runs ---------------------------------------------------------------------------------


@dataclass
class RunFigures:
    scale: float
    run: str
    records: int
    records_ajera: int
    records_crm: int
    wall_seconds: float
    cpu_seconds: float
    http_seconds: float
    records_per_second: float
    calls_ajera: int
    calls_crm: int
    sim_calls_ajera: int
    sim_calls_crm: int
    calls_per_record: float
    ru_maxrss_mib: float
    peak_rss_mib: float | None
    rss_before_mib: float | None
    tracemalloc_peak_mib: float | None
    projected_seconds_at_8rps: float
    bare_seconds: float = 0.0
    bare_cpu_seconds: float = 0.0
    bare_ratio: float = 0.0
    replay_same_status: int = 0
    replay_calls: int = 0
    completed: bool = True
    calls_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return self.calls_ajera + self.calls_crm


def make_clients(urls: dict[str, Any]) -> tuple[AjeraClient, VantagepointClient]:
    ajera = AjeraClient(urls["ajera_base_url"], API_ID, USER, PASSWORD, rate_limit_rps=None)
    crm = VantagepointClient(urls["crm_base_url"], USER, PASSWORD, CRM_DB, CRM_CLIENT, CRM_SECRET)
    return ajera, crm


def call_kind(call: Call) -> str:
    """A call's endpoint with record keys folded: "ajera GetClients", "crm GET contact/{key}"."""
    if call.system == "ajera":
        return f"ajera {(call.json or {}).get('Method', '?')}"
    path = call.url.split("/api/", 1)[-1].split("?", 1)[0]
    parts = path.split("/")
    shape = "/".join([parts[0], *(["{key}"] if len(parts) > 1 else []), *parts[2:]])
    if call.headers and call.headers.get("dvp-postAsGet"):
        return f"crm LIST(post) {shape}"
    return f"crm {call.method} {shape}"


class Scale:
    """One scale: simulators, sync database, three runs with edits between runs 1 and 2, then the replay."""

    def __init__(self, scale: float, sizes: dict[str, int], args: argparse.Namespace, workdir: Path) -> None:
        self.scale, self.sizes, self.args, self.workdir = scale, sizes, args, workdir
        self.recorder = Recorder()
        self.phases: list[str] = []

    # database: a SQLite file in the work directory, or a throw-away schema of the given PostgreSQL
    def _open_db(self) -> tuple[SyncDatabase, Callable[[], None]]:
        if not self.args.db_url:
            db = SyncDatabase(f"sqlite:///{self.workdir / f'sync-{self.scale:g}.db'}")
            return db, db.dispose
        schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.args.db_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(self.args.db_url, pool_pre_ping=True,
                               connect_args={"options": f"-csearch_path={schema}"})
        db = SyncDatabase(self.args.db_url, engine=engine)

        def drop() -> None:
            db.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

        return db, drop

    def _phase(self, name: str) -> int:
        self.phases.append(name)
        self.recorder.phase = len(self.phases) - 1
        return self.recorder.phase

    def run(self) -> list[RunFigures]:
        figures: list[RunFigures] = []
        with Simulators(self.args.seed, self.sizes, self.workdir, f"{self.scale:g}-sync") as sims:
            db, close_db = self._open_db()
            try:
                db.create_schema()
                for number, title in enumerate(RUNS, start=1):
                    if number == 2:
                        self._phase("edits")
                        self._edit(sims.urls, db)
                    phase = self._phase(title)
                    figures.append(self._sync(sims, db, title, phase))
            finally:
                close_db()
        self._replay(figures)
        return figures

    def _sync(self, sims: Simulators, db: SyncDatabase, title: str, phase: int) -> RunFigures:
        ajera, crm = make_clients(sims.urls)
        self.recorder.wrap("ajera", ajera._http)
        self.recorder.wrap("crm", crm.session)
        before = sims.totals()
        first_call = len(self.recorder.calls)
        run_id = f"bench-{self.scale:g}-{phase}-{uuid.uuid4().hex[:6]}"
        trace = self.args.tracemalloc == "on"
        reset_ok = reset_peak_rss()
        rss_before = vm_hwm_mib("VmRSS")
        if trace:
            tracemalloc.start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        try:
            summary = run_sync(db, ajera, crm, run_id, RunOptions())
        finally:
            ajera.close()  # EndAPISession: part of a run's calls
            crm.close()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        traced = None
        if trace:
            traced = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
            tracemalloc.stop()
        peak = vm_hwm_mib() if reset_ok else None
        after = sims.totals()
        with db.engine.connect() as conn:
            counts = dict(conn.execute(text(
                "SELECT system, COUNT(*) FROM staged_record WHERE run_id = :run_id GROUP BY system"),
                {"run_id": run_id}).all())
        calls = self.recorder.calls[first_call:]
        records = sum(counts.values())
        total_calls = ajera.calls + crm.calls
        return RunFigures(
            scale=self.scale, run=title, records=records, records_ajera=int(counts.get("ajera", 0)),
            records_crm=int(counts.get("crm", 0)), wall_seconds=wall, cpu_seconds=cpu,
            http_seconds=sum(c.seconds for c in calls),
            records_per_second=records / wall if wall else 0.0, calls_ajera=ajera.calls, calls_crm=crm.calls,
            sim_calls_ajera=after["ajera"] - before["ajera"], sim_calls_crm=after["crm"] - before["crm"],
            calls_per_record=total_calls / records if records else 0.0, ru_maxrss_mib=ru_maxrss_mib(),
            peak_rss_mib=peak, rss_before_mib=rss_before, tracemalloc_peak_mib=traced,
            projected_seconds_at_8rps=max(wall, ajera.calls / AJERA_PROD_RPS), completed=summary.completed,
            calls_by_kind=dict(Counter(call_kind(c) for c in calls).most_common()),
        )

    def _edit(self, urls: dict[str, Any], db: SyncDatabase) -> None:
        """Edits a person would make between two syncs: a share of the mapped firms and projects changed
        on each side (different records on each side), through the API clients (recorded for the replay)."""
        rng = random.Random(self.args.seed * 1000 + int(self.scale * 100))
        ajera, crm = make_clients(urls)
        self.recorder.wrap("ajera", ajera._http)
        self.recorder.wrap("crm", crm.session)
        try:
            for record_type, entity, hub in (("firm", "Clients", "firm"), ("project", "Projects", "project")):
                pairs = sorted((r.ajera_key, r.crm_key) for r in db.rows("select_mappings", {"record_type": record_type}))
                n = max(1, round(len(pairs) * self.args.edit_share)) if pairs else 0
                chosen = rng.sample(pairs, min(len(pairs), 2 * n))
                on_ajera, on_crm = chosen[:n], chosen[n:]
                baselines = ajera.get(entity, [int(a) for a, _ in on_ajera])
                if entity == "Clients":
                    edited = [{**r, "PrimaryPhoneNumber": f"(555) 010-{rng.randrange(10000):04d}"} for r in baselines]
                else:
                    edited = [{**r, "TotalContractAmount": float(r.get("TotalContractAmount") or 0) + 1000.0}
                              for r in baselines]
                if edited:
                    result = ajera.update(entity, edited, baselines)
                    if result.errors:
                        print(f"  (Ajera refused {len(result.errors)} of the {entity} edits)", flush=True)
                for _, crm_key in on_crm:
                    change = ({"PrimaryEmail": f"edited{rng.randrange(10**6)}@example.com"} if hub == "firm"
                              else {"EndDate": f"2027-{rng.randrange(1, 13):02d}-28"})
                    crm.update(hub, crm_key, change)
        finally:
            ajera.close()
            crm.close()

    def _replay(self, figures: list[RunFigures]) -> None:
        """The bare loop: fresh simulators of the same seed and sizes; the phases replayed in order, only
        the sync runs timed, so each run meets the state its recording met."""
        by_phase: dict[int, list[Call]] = {}
        for call in self.recorder.calls:
            by_phase.setdefault(call.phase, []).append(call)
        recorded_urls = self._recorded_urls()
        with Simulators(self.args.seed, self.sizes, self.workdir, f"{self.scale:g}-bare") as sims:
            replayer = Replayer(sims.urls, recorded_urls)
            try:
                for phase, name in enumerate(self.phases):
                    result = replayer.run(by_phase.get(phase, []))
                    if name in RUNS:
                        fig = figures[RUNS.index(name)]
                        fig.bare_seconds, fig.bare_cpu_seconds = result.seconds, result.cpu_seconds
                        fig.bare_ratio = fig.wall_seconds / result.seconds if result.seconds else 0.0
                        fig.replay_calls, fig.replay_same_status = result.calls, result.same_status
            finally:
                replayer.close()

    def _recorded_urls(self) -> dict[str, Any]:
        def base(system: str) -> str:
            for call in self.recorder.calls:
                if call.system == system:
                    marker = "/AjeraAPI.ashx" if system == "ajera" else "/api/"
                    return call.url.split(marker, 1)[0]
            return ""

        return {"ajera_base_url": base("ajera"), "crm_base_url": base("crm")}


# --- output ----------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]], title: str | None = None) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    out = ([title] if title else []) + [line, "-" * len(line)]
    for row in rows:
        out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(out)


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def print_scale(figs: list[RunFigures], sizes: dict[str, int], trace: bool) -> None:
    scale = figs[0].scale
    world = ", ".join(f"{k} {v}" for k, v in sizes.items())
    rows = []
    for f in figs:
        rows.append([
            f.run, f"{f.records} ({f.records_ajera}+{f.records_crm})", f"{f.wall_seconds:.2f}",
            f"{f.records_per_second:,.0f}", f"{f.calls_ajera}", f"{f.calls_crm}",
            "ok" if (f.calls_ajera, f.calls_crm) == (f.sim_calls_ajera, f.sim_calls_crm)
            else f"sim {f.sim_calls_ajera}/{f.sim_calls_crm}",
            f"{f.calls_per_record:.3f}", mib(f.peak_rss_mib),
            "n/a" if f.peak_rss_mib is None or f.rss_before_mib is None else f"+{max(0.0, f.peak_rss_mib - f.rss_before_mib):.0f}",
            f"{f.ru_maxrss_mib:.0f}",
            *([mib(f.tracemalloc_peak_mib)] if trace else []),
            f"{f.projected_seconds_at_8rps:.0f}",
        ])
    headers = ["run", "records (A+C)", "wall s", "rec/s", "Ajera calls", "CRM calls", "sim check",
               "calls/rec", "peak RSS MiB", "run adds", "maxrss MiB", *(["py peak MiB"] if trace else []), "s @8 req/s"]
    print(table(headers, rows, f"\n== scale {scale:g}: {world} (per system) =="), flush=True)

    rows = []
    for f in figs:
        engine = f.wall_seconds - f.http_seconds
        rows.append([
            f.run, f"{f.wall_seconds:.2f}", f"{f.bare_seconds:.2f}", f"{f.bare_ratio:.2f}x",
            f"{f.http_seconds:.2f}", f"{engine:.2f} ({100 * engine / f.wall_seconds:.0f}%)",
            f"{f.cpu_seconds:.2f} ({100 * f.cpu_seconds / f.wall_seconds:.0f}%)", f"{f.bare_cpu_seconds:.2f}",
            f"{f.replay_same_status}/{f.replay_calls}",
        ])
    print(table(["run", "sync s", "bare s", "sync/bare", "in HTTP s", "engine s (share)",
                 "sync CPU s (share)", "bare CPU s", "replay same answer"], rows,
                "\nsync vs a bare loop of the same HTTP requests (fresh simulators, same seed):"), flush=True)

    kinds: Counter[str] = Counter()
    for f in figs:
        kinds.update(f.calls_by_kind)
    names = [k for k, _ in kinds.most_common()]
    rows = [[k, *(str(f.calls_by_kind.get(k, 0)) for f in figs)] for k in names]
    print(table(["calls by endpoint", *(f.run.split()[0] + " " + f.run.split()[1] for f in figs)], rows,
                "\nAPI calls by endpoint (keys folded to {key}):"), flush=True)


def print_linearity(all_figs: list[RunFigures]) -> None:
    scales = sorted({f.scale for f in all_figs})
    rows = []
    for run in RUNS:
        figs = [next(f for f in all_figs if f.scale == s and f.run == run) for s in scales]
        cpr = [f.calls_per_record for f in figs]
        spr = [1000 * f.wall_seconds / f.records if f.records else 0.0 for f in figs]
        row = [run]
        for f, c, s in zip(figs, cpr, spr):
            row.append(f"{f.records}: {c:.3f} calls, {s:.3f} ms")
        if len(figs) > 1:
            row.append(f"x{cpr[-1] / cpr[0]:.2f}" if cpr[0] else "n/a")
            row.append(f"x{spr[-1] / spr[0]:.2f}" if spr[0] else "n/a")
        rows.append(row)
    headers = ["linearity", *(f"scale {s:g}: records: per record" for s in scales)]
    if len(scales) > 1:
        headers += [f"calls/rec x{scales[-1] / scales[0]:g}", f"s/rec x{scales[-1] / scales[0]:g}"]
    print(table(headers, rows, "\n== linearity (per record; a growth factor near 1.0 is linear cost) =="),
          flush=True)


def parse_scales(text_: str) -> list[float]:
    try:
        scales = sorted({float(s) for s in text_.split(",") if s.strip()})
    except ValueError:
        raise SystemExit(f"--scale takes numbers separated by commas, not {text_!r}") from None
    if not scales or any(s <= 0 for s in scales):
        raise SystemExit("--scale needs positive numbers")
    return scales


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1,4", help="comma-separated multiples of the base world (default 1,4)")
    parser.add_argument("--quick", action="store_true", help="a tiny world at one scale (for the test)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--seed", type=int, default=7, help="world seed (default 7)")
    parser.add_argument("--db-url", help="PostgreSQL URL (a throw-away schema per scale); default SQLite in a temp dir")
    parser.add_argument("--tracemalloc", choices=("on", "off"), default="off",
                        help="also trace Python allocations (slows the sync; default off, see the docstring)")
    parser.add_argument("--edit-share", type=float, default=0.05,
                        help="share of mapped firms and projects edited on each side before run 2 (default 0.05)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (databases, simulator logs)")
    args = parser.parse_args(argv)

    base = QUICK_WORLD if args.quick else BASE_WORLD
    scales = [1.0] if args.quick else parse_scales(args.scale)
    trace = args.tracemalloc == "on"
    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    print(f"Sync benchmark: in-process run_sync (the DAG's steps without Airflow) against both simulators\n"
          f"  seed {args.seed}; scales {', '.join(f'{s:g}' for s in scales)} x {base}\n"
          f"  sync database: {'PostgreSQL ' + args.db_url.split('@')[-1] if args.db_url else 'SQLite file in ' + str(workdir)}\n"
          f"  Ajera client rate limit OFF (rate_limit_rps=None); the real Ajera throttles at ~9 req/s, so\n"
          f"  's @8 req/s' is the run time at the client's default 8 req/s: max(wall, Ajera calls / 8)\n"
          f"  memory: 'peak RSS' is this process's VmHWM during the run (reset before it; 'run adds' is it less\n"
          f"  the RSS at the run's start), 'maxrss' is ru_maxrss (the process's high-water mark so far); Python allocation tracing is "
          f"{'ON (tracemalloc peak; it slows the run, so the times are not comparable)' if trace else 'off (tracemalloc slowed the sync by more than 30%; --tracemalloc on to see it)'}\n"
          f"  bare loop: the run's recorded HTTP requests replayed in a plain loop, one requests.Session per\n"
          f"  system, each answer read and JSON-decoded, fresh logins; 'replay same answer' counts answers\n"
          f"  with the recorded status (and Ajera ResponseCode)", flush=True)
    # The one-time cost of a process: Great Expectations' import and context (the validate step's suites).
    # Paid once here, before any timing; an Airflow worker pays it in each task process that validates.
    started = time.perf_counter()
    from include.sync import expectations

    expectations._gx()
    print(f"  warm-up: importing Great Expectations and creating its context took "
          f"{time.perf_counter() - started:.1f} s (once per process; not in the run figures)", flush=True)
    all_figs: list[RunFigures] = []
    try:
        for scale in scales:
            sizes = {name: max(1, round(n * scale)) for name, n in base.items()}
            print(f"\nscale {scale:g}: starting simulators and running the sync ...", flush=True)
            figs = Scale(scale, sizes, args, workdir).run()
            all_figs.extend(figs)
            print_scale(figs, sizes, trace)
        print_linearity(all_figs)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "seed": args.seed, "base_world": base, "scales": scales, "tracemalloc": trace,
                "ajera_rate_limit": None, "db": "postgresql" if args.db_url else "sqlite",
                "runs": [{**asdict(f), "calls": f.calls} for f in all_figs],
            }, indent=2) + "\n")
            print(f"\nfigures written to {args.json}")
        incomplete = [f"{f.run} at scale {f.scale:g}" for f in all_figs if not f.completed]
        if incomplete:
            print(f"\nnote: the sync reported incomplete runs: {', '.join(incomplete)}", flush=True)
        return 0
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
