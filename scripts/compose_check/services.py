"""What each compose service runs, run here: airflow-init, the simulators, the four Airflow runners and
their healthchecks."""

from __future__ import annotations

import json
import re
import shlex
import sys
import threading
from pathlib import Path
from typing import Any

import requests

from .common import CONTAINER_ROOT, ROOT, RUNNERS, CheckFailed, say
from .compose_file import argv_of, init_commands, interpolate, service_env
from .local import Local, base_env
from .processes import Processes, run_cli, wait_until
from .translate import Translator

AIRFLOW_CLI = (sys.executable, "-m", "airflow")
# The compose command as is, under another process title: on a shared development machine other sessions stop
# their own simulators by name ("simulators serve"), which must not hit this one.
SIMULATORS_UNDER_OWN_TITLE = [
    "-c", ("import runpy, sys, setproctitle; setproctitle.setproctitle('compose-check-sim');"
           " sys.argv[0] = 'compose-check-sim'; runpy.run_module('simulators', run_name='__main__')")]


def run_init(compose: dict[str, Any], local: Local) -> str:
    """Runs the ``airflow ...`` lines of airflow-init and writes its password file; returns the admin password."""
    for cmd in init_commands(compose):
        say(f"airflow-init: {' '.join(cmd)}")
        run_cli([*AIRFLOW_CLI, *cmd[1:]], local.full_env)
    init_env = local.translator.env(service_env(compose, "airflow-init"))
    passwords = Path(local.airflow_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    admin_password = init_env.get("AIRFLOW_ADMIN_PASSWORD", "admin")
    passwords.write_text(json.dumps({"admin": admin_password}) + "\n")
    say(f"airflow-init: admin password written to {passwords}")
    return admin_password


def start_simulators(compose: dict[str, Any], local: Local, procs: Processes) -> Path:
    """Starts the simulators service (profile demo); returns the file they write once ready."""
    sim_env = {**base_env(), **local.translator.env(service_env(compose, "simulators")), **local.local_only}
    sim_tr = Translator(local.tmp, local.ports, local.translator.db_url_for)
    sim_tr.add_volumes([interpolate(v) for v in compose["services"]["simulators"].get("volumes", [])])
    argv = [sys.executable, *local.sim_argv[1:]]
    argv[1:3] = SIMULATORS_UNDER_OWN_TITLE
    for flag in ("--host", "--data-dir"):
        i = argv.index(flag)
        argv[i + 1] = "127.0.0.1" if flag == "--host" else sim_tr.path(argv[i + 1])
    ready_file = local.tmp / "simulators-ready.json"
    argv += ["--ajera-port", str(local.ajera_port), "--crm-port", str(local.crm_port),
             "--ready-file", str(ready_file)]
    procs.start("simulators", argv, sim_env)
    return ready_file


def start_runners(services: dict[str, Any], local: Local, procs: Processes) -> None:
    """The four Airflow runners, with their compose commands, through the compose entrypoint script (it chooses
    the executor; the image's /entrypoint it hands over to is `airflow` here). There is no celery profile here,
    so no "redis" host: it must choose LocalExecutor."""
    entrypoint = argv_of(services["airflow-scheduler"], "entrypoint")
    script = ROOT / entrypoint[-1].removeprefix(CONTAINER_ROOT + "/")
    image_entrypoint = local.tmp / "image-entrypoint.sh"
    image_entrypoint.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m airflow "$@"\n')
    image_entrypoint.chmod(0o755)
    runner_env = {**local.full_env, "AIRFLOW_IMAGE_ENTRYPOINT": str(image_entrypoint)}
    for name in RUNNERS:
        cmd = argv_of(services[name], "command")
        extra = ["--host", "127.0.0.1", "--port", str(local.api_port)] if name == "airflow-apiserver" else []
        procs.start(name, ["bash", str(script), *cmd, *extra], runner_env)


def wait_ready(services: dict[str, Any], local: Local, procs: Processes, ready_file: Path) -> None:
    """Waits for the simulators' ready file, then for the API server's own healthcheck URL."""
    wait_until("the simulators", ready_file.exists, 60, procs, 0.3)
    say(f"simulators ready: {json.loads(ready_file.read_text())['ajera_url']}, crm :{local.crm_port}")
    health_url = local.translator.value(argv_of(services["airflow-apiserver"]["healthcheck"], "test")[-1])
    wait_until(f"the API server healthcheck {health_url}",
               lambda: requests.get(health_url, timeout=5).status_code == 200, 90, procs)
    say(f"API server healthy: {health_url}")


def check_executor(procs: Processes) -> None:
    """docker/entrypoint.sh must have chosen LocalExecutor: the celery profile is not running."""
    chosen = re.search(r"executor: (\w+)", (procs.logs / "airflow-scheduler.log").read_text(errors="replace"))
    say(f"docker/entrypoint.sh chose {chosen.group(1) if chosen else 'nothing'} for the scheduler")
    if not chosen or chosen.group(1) != "LocalExecutor":
        raise CheckFailed("without the celery profile the scheduler must run LocalExecutor")


class Healthchecks:
    """Each service's own compose healthcheck, translated (in parallel: each CLI start takes seconds)."""

    def __init__(self, services: dict[str, Any], local: Local) -> None:
        self.services = services
        self.local = local
        self.results: dict[str, str] = {}
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in RUNNERS]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _run(self, name: str) -> None:
        test = argv_of(self.services[name]["healthcheck"], "test")
        try:
            if test[0] == "CMD" and test[1] == "airflow":
                run_cli([*AIRFLOW_CLI, *test[2:]], self.local.full_env, timeout=120)
            elif test[0] == "CMD" and test[1] == "curl":
                url = self.local.translator.value(test[-1])
                status = requests.get(url, timeout=10).status_code
                if status != 200:
                    raise CheckFailed(f"{url} answered {status}")
            else:
                raise CheckFailed(f"unsupported healthcheck {test}")
            self.results[name] = "healthy"
        except Exception as exc:
            self.results[name] = f"UNHEALTHY: {exc}"

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(timeout=150)
        for name in RUNNERS:
            say(f"healthcheck {name}: {self.results.get(name, 'UNHEALTHY: timed out')}")
        if any(not self.results.get(n, "").startswith("healthy") for n in RUNNERS):
            raise CheckFailed("a service healthcheck failed")
