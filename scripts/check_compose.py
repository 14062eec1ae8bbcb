#!/usr/bin/env python
"""Check docker-compose.yaml without Docker: run the same Airflow components, locally, with its settings.

What it does (every address is a loopback one, every wait is bounded):
1. parses docker-compose.yaml and takes the Airflow environment of the default profile (LocalExecutor),
   with ``${VAR:-default}`` resolved to its default (what ``docker compose up`` gives without a .env file);
2. translates it to this machine: container paths (``/opt/airflow/...`` and the services' volumes) to the
   project root or a temp dir, the hosts ``postgres``, ``airflow-apiserver`` and ``simulators`` to
   127.0.0.1 on free ports, the ``airflow`` / ``sync`` databases to throw-away ones (``compose_check_*`` on
   the PostgreSQL server of ``--metadata-db-url``, or SQLite files when that URL is a SQLite one);
3. runs what ``airflow-init`` runs (its ``airflow ...`` lines: db migrate, the pool; the password file),
   starts the simulators (the ``simulators`` service's command), ``airflow api-server``, ``scheduler``,
   ``dag-processor`` and ``triggerer`` (the services' commands) in a throw-away AIRFLOW_HOME;
4. waits for the API server's healthcheck URL, logs in as the admin user (simple auth manager token),
   waits until the DAG ``ajera_crm_sync`` is parsed without import errors, runs every service's
   healthcheck, triggers one run, unpauses the DAG and waits until that run succeeds or fails;
5. prints the run's state and its tasks' states, reads the run's summary from the sync database, and
   always stops every process it started and drops the databases it created.

Exit status 0 only when the run succeeded. Usage:
    python scripts/check_compose.py [--metadata-db-url postgresql://postgres@127.0.0.1:5432/ | sqlite:///F]
                                    [--timeout 300] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DAG_ID = "ajera_crm_sync"
CONTAINER_ROOT = "/opt/airflow"  # the image's AIRFLOW_HOME, where the project's folders are mounted
RUNNERS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
AIRFLOW_SERVICES = ("airflow-init", *RUNNERS)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[check_compose {time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


class CheckFailed(Exception):
    pass


# --- reading the compose file ------------------------------------------------------------------------

_VAR = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}")


def interpolate(value: str) -> str:
    """Resolve compose interpolation to the defaults: ``${X:-d}`` -> d, ``${X}`` -> "", ``$$`` -> $."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("op") and match.group("op").endswith("?"):
            raise CheckFailed(f"compose variable {match.group('name')} is required (no default)")
        return match.group("default") or ""

    return _VAR.sub(repl, value)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.safe_load(fh)


def service_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = compose["services"][service].get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(str(v)) for k, v in env.items()}


def common_env(compose: dict[str, Any]) -> dict[str, str]:
    """The environment every Airflow runner of the default profile gets (checked to be the same)."""
    envs = {name: service_env(compose, name) for name in RUNNERS}
    first = envs[RUNNERS[0]]
    for name, env in envs.items():
        if env != first:
            raise CheckFailed(f"{name} does not share the common Airflow environment of {RUNNERS[0]}")
    return first


def argv_of(service: dict[str, Any], key: str) -> list[str]:
    value = service.get(key)
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def init_commands(compose: dict[str, Any]) -> list[list[str]]:
    """The ``airflow ...`` lines of the airflow-init script (db migrate, pools, ...)."""
    script = argv_of(compose["services"]["airflow-init"], "command")[-1]
    lines = [ln.strip() for ln in interpolate(script).splitlines()]
    return [shlex.split(ln) for ln in lines if ln.startswith("airflow ")]


# --- translating container settings to this machine ------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Translator:
    """Maps container paths, host names and databases of the compose file to local ones."""

    def __init__(self, tmp: Path, ports: dict[tuple[str, int], int], db_url_for: Callable[[str, str], str]) -> None:
        self.tmp = tmp
        self.ports = ports  # (container host, container port) -> local port
        self.db_url_for = db_url_for  # (driver prefix, compose database name) -> local URL
        self.mounts: dict[str, Path] = {}

    def add_volumes(self, volumes: list[str]) -> None:
        for spec in volumes:
            source, target = spec.split(":")[:2]
            if source.startswith((".", "/")):
                self.mounts[target] = (ROOT / source).resolve()
            else:  # a named volume: a fresh directory, as a fresh volume would be
                self.mounts[target] = self.tmp / "volumes" / source
                self.mounts[target].mkdir(parents=True, exist_ok=True)

    def path(self, value: str) -> str:
        for target in sorted(self.mounts, key=len, reverse=True):
            if value == target or value.startswith(target + "/"):
                return str(self.mounts[target]) + value[len(target):]
        if value == CONTAINER_ROOT or value.startswith(CONTAINER_ROOT + "/"):
            return str(ROOT) + value[len(CONTAINER_ROOT):]
        return value

    def value(self, value: str) -> str:
        # Database URLs on the postgres service -> the throw-away local databases.
        value = re.sub(r"(?P<driver>[\w+]+)://(?:[^@/\s\"]*@)?postgres(?::\d+)?/(?P<db>\w+)",
                       lambda m: self.db_url_for(m.group("driver"), m.group("db")), value)
        # Other service addresses -> loopback ports.
        for (host, port), local in self.ports.items():
            value = re.sub(rf"\b{re.escape(host)}:{port}\b", f"127.0.0.1:{local}", value)
        value = re.sub(r"\blocalhost\b", "127.0.0.1", value)
        # Container paths (also inside PYTHONPATH-like lists).
        return ":".join(self.path(part) if part.startswith("/") else part for part in value.split(":")) \
            if value.startswith("/") else value

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {k: self.value(v) for k, v in env.items()}


# --- the throw-away databases ------------------------------------------------------------------------


class Databases:
    """``compose_check_<name>`` databases on a local PostgreSQL server, or SQLite files."""

    def __init__(self, server_url: str, tmp: Path) -> None:
        from sqlalchemy.engine import make_url

        self.url = make_url(server_url)
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self.tmp = tmp
        self.created: list[str] = []
        if not self.sqlite and self.url.host not in ("127.0.0.1", "localhost", "::1"):
            raise CheckFailed(f"the PostgreSQL server must be on loopback, not {self.url.host!r}")

    def local_url(self, driver: str, name: str) -> str:
        if self.sqlite:
            # The metadata DB is the file given on the command line.
            path = self.url.database if name == "airflow" else str(self.tmp / f"{name}.db")
            return ("db+" if driver.startswith("db+") else "") + f"sqlite:///{path}"
        url = self.url.set(drivername=driver.removeprefix("db+"), database=f"compose_check_{name}")
        text = url.render_as_string(hide_password=False)
        return ("db+" if driver.startswith("db+") else "") + text

    def _admin(self) -> Any:
        import psycopg

        url = self.url
        return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username or "postgres",
                               password=url.password or None, dbname=url.database or "postgres",
                               autocommit=True, connect_timeout=10)

    def create(self, names: list[str]) -> None:
        if self.sqlite:
            return
        with self._admin() as conn:
            for name in names:
                db = f"compose_check_{name}"
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # left over from an aborted run
                conn.execute(f'CREATE DATABASE "{db}"')
                self.created.append(db)
                say(f"created PostgreSQL database {db}")

    def drop(self) -> None:
        if not self.created:
            return
        try:
            with self._admin() as conn:
                for db in self.created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                    say(f"dropped PostgreSQL database {db}")
        except Exception as exc:  # cleanup must not hide the result
            say(f"WARNING: could not drop {self.created}: {exc}")


# --- processes ---------------------------------------------------------------------------------------


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        # Own session: stopping it stops its children too (api-server workers, LocalExecutor task processes).
        with open(log, "wb") as fh:
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.running[name] = (proc, log)
        say(f"started {name} (pid {proc.pid}): {' '.join(shlex.quote(a) for a in argv[1:])}")
        return proc

    def check_alive(self) -> None:
        for name, (proc, log) in self.running.items():
            if proc.poll() is not None:
                raise CheckFailed(f"{name} exited with status {proc.returncode}; see {log}")

    def stop_all(self) -> None:
        for proc, _ in self.running.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, (proc, _) in self.running.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop on SIGTERM; killing it")
            # Whatever is left of its group (task processes) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            say(f"stopped {name}")

    def tails(self, lines: int = 25) -> None:
        for name, (_, log) in self.running.items():
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            print(f"----- last {lines} lines of {name} ({log}) -----")
            print("\n".join(text[-lines:]))


def run_cli(argv: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise CheckFailed(f"{' '.join(argv[1:])} failed ({done.returncode}):\n"
                          f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def wait_until(what: str, probe: Callable[[], Any], timeout: float, procs: Processes, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Any = None
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            result = probe()
            if result:
                return result
        except (requests.RequestException, ValueError) as exc:
            last_error = exc
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {what}"
                      + (f" (last error: {last_error})" if last_error else ""))


# --- the check ---------------------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """This process's environment without any Airflow or sync settings (the compose file brings its own)."""
    drop = ("AIRFLOW", "_AIRFLOW", "SYNC_DATABASE_URL", "AJERA_CRM_", "PYTHONPATH", "GX_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def check(args: argparse.Namespace) -> int:
    compose = load_compose()
    services = compose["services"]
    env = common_env(compose)
    say(f"compose: {len(services)} services; default-profile Airflow env has {len(env)} settings; "
        f"entrypoint {' '.join(argv_of(services['airflow-scheduler'], 'entrypoint'))}")
    if env.get("AIRFLOW__CORE__EXECUTOR") or env.get("AIRFLOW_EXECUTOR"):
        raise CheckFailed("the default profile must leave the executor to docker/entrypoint.sh")

    tmp = Path(tempfile.mkdtemp(prefix="compose-check-"))
    procs = Processes(tmp)
    dbs = Databases(args.metadata_db_url, tmp)
    ok = False
    try:
        from simulators.__main__ import build_parser

        sim_service = services["simulators"]
        sim_argv = argv_of(sim_service, "entrypoint") + argv_of(sim_service, "command")
        sim_args = build_parser().parse_args(sim_argv[sim_argv.index("simulators") + 1:])
        api_port, ajera_port, crm_port = free_port(), free_port(), free_port()
        ports = {("airflow-apiserver", 8080): api_port, ("simulators", sim_args.ajera_port): ajera_port,
                 ("simulators", sim_args.crm_port): crm_port, ("redis", 6379): 6379}
        health_port = free_port()
        # Healthchecks say "localhost" (the container itself): the API server's 8080, the scheduler's 8974.
        ports.update({("localhost", 8080): api_port, ("localhost", 8974): health_port})
        tr = Translator(tmp, ports, dbs.local_url)
        tr.add_volumes([interpolate(v) for v in services["airflow-scheduler"].get("volumes", [])])

        airflow_env = tr.env(env)
        if dbs.sqlite:  # the async URL would be the same file through pysqlite: let Airflow derive aiosqlite's
            airflow_env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", None)
        home = tmp / "airflow-home"
        home.mkdir()
        local_only = {  # not in the compose file: what differs between containers and one machine
            "AIRFLOW_HOME": str(home),  # the image's is /opt/airflow; a throw-away one here
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),  # 8974 may be taken
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),  # 8793 may be taken
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),  # 8794 may be taken
        }
        full_env = {**base_env(), **airflow_env, **local_only}
        say(f"mode: metadata DB {'SQLite (development only)' if dbs.sqlite else 'PostgreSQL'}: "
            f"{airflow_env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}")
        say(f"sync DB: {airflow_env['SYNC_DATABASE_URL']}")
        say(f"execution API: {airflow_env['AIRFLOW__CORE__EXECUTION_API_SERVER_URL']}; "
            f"PYTHONPATH={airflow_env.get('PYTHONPATH', '(not set)')}; AIRFLOW_HOME={home}")
        for key in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER"):
            if not Path(airflow_env[key]).is_dir():
                raise CheckFailed(f"{key} -> {airflow_env[key]} is not a directory")

        dbs.create(["airflow", "sync"])
        airflow = [sys.executable, "-m", "airflow"]

        # airflow-init
        for cmd in init_commands(compose):
            say(f"airflow-init: {' '.join(cmd)}")
            run_cli(airflow + cmd[1:], full_env)
        init_env = tr.env(service_env(compose, "airflow-init"))
        passwords = Path(airflow_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        admin_password = init_env.get("AIRFLOW_ADMIN_PASSWORD", "admin")
        passwords.write_text(json.dumps({"admin": admin_password}) + "\n")
        say(f"airflow-init: admin password written to {passwords}")

        # simulators (profile demo)
        sim_env = {**base_env(), **tr.env(service_env(compose, "simulators")), **local_only}
        sim_tr = Translator(tmp, ports, dbs.local_url)
        sim_tr.add_volumes([interpolate(v) for v in sim_service.get("volumes", [])])
        argv = [sys.executable, *sim_argv[1:]]
        # The compose command as is, under another process title: on a shared development machine other
        # sessions stop their own simulators by name ("simulators serve"), which must not hit this one.
        argv[1:3] = ["-c", "import runpy, sys, setproctitle; setproctitle.setproctitle('compose-check-sim');"
                           " sys.argv[0] = 'compose-check-sim'; runpy.run_module('simulators', run_name='__main__')"]
        for flag in ("--host", "--data-dir"):
            i = argv.index(flag)
            argv[i + 1] = "127.0.0.1" if flag == "--host" else sim_tr.path(argv[i + 1])
        ready_file = tmp / "simulators-ready.json"
        argv += ["--ajera-port", str(ajera_port), "--crm-port", str(crm_port), "--ready-file", str(ready_file)]
        procs.start("simulators", argv, sim_env)

        # the four Airflow runners, with their compose commands, through the compose entrypoint script (it
        # chooses the executor; the image's /entrypoint it hands over to is `airflow` here). There is no
        # celery profile here, so no "redis" host: it must choose LocalExecutor.
        entrypoint = argv_of(services["airflow-scheduler"], "entrypoint")
        script = ROOT / entrypoint[-1].removeprefix(CONTAINER_ROOT + "/")
        image_entrypoint = tmp / "image-entrypoint.sh"
        image_entrypoint.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m airflow "$@"\n')
        image_entrypoint.chmod(0o755)
        runner_env = {**full_env, "AIRFLOW_IMAGE_ENTRYPOINT": str(image_entrypoint)}
        for name in RUNNERS:
            cmd = argv_of(services[name], "command")
            extra = ["--host", "127.0.0.1", "--port", str(api_port)] if name == "airflow-apiserver" else []
            procs.start(name, ["bash", str(script), *cmd, *extra], runner_env)

        wait_until("the simulators", ready_file.exists, 60, procs, 0.3)
        say(f"simulators ready: {json.loads(ready_file.read_text())['ajera_url']}, crm :{crm_port}")

        api = f"http://127.0.0.1:{api_port}"
        health_url = tr.value(argv_of(services["airflow-apiserver"]["healthcheck"], "test")[-1])
        wait_until(f"the API server healthcheck {health_url}",
                   lambda: requests.get(health_url, timeout=5).status_code == 200, 90, procs)
        say(f"API server healthy: {health_url}")

        resp = requests.post(f"{api}/auth/token", json={"username": "admin", "password": admin_password}, timeout=10)
        if resp.status_code not in (200, 201):
            raise CheckFailed(f"admin login failed: {resp.status_code} {resp.text[:300]}")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        say("logged in as admin (simple auth manager token)")

        def dag_parsed() -> bool:
            errors = session.get(f"{api}/api/v2/importErrors", timeout=10).json()
            if errors.get("total_entries"):
                raise CheckFailed(f"DAG import errors: {json.dumps(errors['import_errors'], indent=1)[:3000]}")
            return session.get(f"{api}/api/v2/dags/{DAG_ID}", timeout=10).status_code == 200

        wait_until(f"the DAG {DAG_ID} to be parsed", dag_parsed, 120, procs)
        say(f"DAG {DAG_ID} parsed, no import errors")
        chosen = re.search(r"executor: (\w+)", (procs.logs / "airflow-scheduler.log").read_text(errors="replace"))
        say(f"docker/entrypoint.sh chose {chosen.group(1) if chosen else 'nothing'} for the scheduler")
        if not chosen or chosen.group(1) != "LocalExecutor":
            raise CheckFailed("without the celery profile the scheduler must run LocalExecutor")

        # Each service's own compose healthcheck, translated (in parallel: each CLI start takes seconds).
        health_results: dict[str, str] = {}

        def run_healthcheck(name: str) -> None:
            test = argv_of(services[name]["healthcheck"], "test")
            try:
                if test[0] == "CMD" and test[1] == "airflow":
                    run_cli(airflow + test[2:], full_env, timeout=120)
                elif test[0] == "CMD" and test[1] == "curl":
                    url = tr.value(test[-1])
                    status = requests.get(url, timeout=10).status_code
                    if status != 200:
                        raise CheckFailed(f"{url} answered {status}")
                else:
                    raise CheckFailed(f"unsupported healthcheck {test}")
                health_results[name] = "healthy"
            except Exception as exc:
                health_results[name] = f"UNHEALTHY: {exc}"

        checks = [threading.Thread(target=run_healthcheck, args=(n,)) for n in RUNNERS]
        for t in checks:
            t.start()

        # Trigger, then unpause (the compose file pauses new DAGs). Unpausing also makes the scheduler create
        # the run of the last complete hourly interval (catchup=False still catches up one interval); with
        # max_active_runs=1 the scheduler starts queued runs in run_after order, so the triggered run gets
        # a run_after two hours back to go first (it only orders the runs: the sync's window comes from
        # its watermarks, the data interval matters for backfills only).
        run_after = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        resp = session.post(f"{api}/api/v2/dags/{DAG_ID}/dagRuns",
                            json={"logical_date": None, "run_after": run_after, "conf": {}}, timeout=30)
        if resp.status_code not in (200, 201):
            raise CheckFailed(f"trigger failed: {resp.status_code} {resp.text[:500]}")
        run_id = resp.json()["dag_run_id"]
        say(f"triggered run {run_id}")
        resp = session.patch(f"{api}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=30)
        if resp.status_code != 200:
            raise CheckFailed(f"unpause failed: {resp.status_code} {resp.text[:500]}")
        say(f"unpaused {DAG_ID}")

        for t in checks:
            t.join(timeout=150)
        for name in RUNNERS:
            say(f"healthcheck {name}: {health_results.get(name, 'UNHEALTHY: timed out')}")
        if any(not health_results.get(n, "").startswith("healthy") for n in RUNNERS):
            raise CheckFailed("a service healthcheck failed")

        # Progress is shown for whichever run is active (should the scheduled run go first after all).
        last_summary = [""]

        def run_finished() -> str:
            runs = session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100}, timeout=10).json()
            states = {r["dag_run_id"]: r["state"] for r in runs["dag_runs"]}
            active = next((rid for rid, st in states.items() if st == "running"), run_id)
            tis = task_instances(session, api, active)
            summary = ", ".join(f"{s}={n}" for s, n in sorted(Counter(str(t["state"]) for t in tis).items()))
            line = f"run {active} {states.get(active)}: tasks {summary}"
            if line != last_summary[0]:
                say(line)
                last_summary[0] = line
            # The simulators run without injected faults, so a retry means a bug: stop waiting (the DAG's
            # exponential retry backoff would take longer than the check may run).
            broken = [f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in tis
                      if t["state"] in ("up_for_retry", "failed") and not args.wait_retries]
            if broken:
                print_task_errors(procs)
                raise CheckFailed(f"run {active}: tasks {', '.join(broken)} (no retries expected; "
                                  "--wait-retries waits for them)")
            state = states.get(run_id, "")
            return state if state in ("success", "failed") else ""

        state = wait_until(f"run {run_id} to finish", run_finished, args.timeout, procs, 2.0)
        tis = task_instances(session, api, run_id)
        print(f"\nDAG run {run_id}: {state.upper()}")
        for ti in sorted(tis, key=lambda t: (t["start_date"] or "", t["task_id"], t["map_index"])):
            index = f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""
            print(f"  {ti['task_id'] + index:45} {ti['state']!s:16} try {ti['try_number']}")
        print()
        runs = session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 100}, timeout=10).json()
        others = {r["dag_run_id"]: r["state"] for r in runs["dag_runs"] if r["dag_run_id"] != run_id}
        for other, other_state in others.items():
            print(f"other run {other}: {other_state}")
        report_sync_log(airflow_env["SYNC_DATABASE_URL"], run_id)
        if state != "success":
            raise CheckFailed(f"run {run_id} ended {state}")
        if "failed" in others.values():
            raise CheckFailed(f"another run failed: {others}")
        ok = True
        say("PASS: the compose settings run the sync end to end")
        return 0
    except CheckFailed as exc:
        say(f"FAIL: {exc}")
        procs.tails()
        return 1
    finally:
        procs.stop_all()
        dbs.drop()
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"kept {tmp} (logs, AIRFLOW_HOME)")
        say(f"done in {time.monotonic() - STARTED:.1f}s")


def print_task_errors(procs: Processes, limit: int = 3) -> None:
    log = procs.logs / "airflow-scheduler.log"  # LocalExecutor: task output lands in the scheduler's log
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if "Task failed with exception" in ln]
    for line in lines[:limit]:
        match = re.search(r"'exc_type': '([^']*)', 'exc_value': ([\"'])(.*?)\2, 'exc_notes'", line)
        task = re.search(r"task_id=(\S+)", line)
        what = f"{match.group(1)}: {match.group(3)[:600]}" if match else line[:600]
        print(f"task error ({task.group(1) if task else '?'}): {what}")


def task_instances(session: requests.Session, api: str, run_id: str) -> list[dict[str, Any]]:
    resp = session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 1000},
                       timeout=10)
    resp.raise_for_status()
    return resp.json()["task_instances"]


def report_sync_log(url: str, run_id: str) -> None:
    """The run's integration log summary, read from the sync database the compose file configures."""
    try:
        from include.sync.db import SyncDatabase

        db = SyncDatabase(url)
        try:
            counts = db.rows("log_counts", {"run_id": run_id})
            rows = db.rows("log_for_run", {"run_id": run_id})
        finally:
            db.dispose()
        print("sync database: " + (", ".join(f"{t}/{d}/{a}={n}" for t, d, a, n in counts) or "no log counts"))
        last = [r.message for r in rows if getattr(r, "message", None)][-1:]
        print(f"sync database: last log message: {last[0] if last else '-'}\n")
    except Exception as exc:  # informative only; the run state decides
        print(f"sync database: could not read the log ({exc})\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata-db-url", default=DEFAULT_PG,
                        help="local PostgreSQL server (throw-away compose_check_* databases are created on it) "
                             f"or a SQLite URL for the metadata DB (default {DEFAULT_PG})")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the DAG run (default 300)")
    parser.add_argument("--wait-retries", action="store_true",
                        help="wait through task retries instead of failing at the first one")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, AIRFLOW_HOME) on success")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        return check(args)
    except CheckFailed as exc:  # before anything started
        say(f"FAIL: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
