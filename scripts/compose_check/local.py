"""The compose file's default profile laid out on this machine: ports, paths, databases and environments."""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import CheckFailed, say
from .compose_file import argv_of, interpolate
from .databases import Databases
from .translate import Translator, free_port


@dataclass
class Local:
    tmp: Path
    ports: dict[tuple[str, int], int]  # (container host, container port) -> local port
    api_port: int
    ajera_port: int
    crm_port: int
    sim_argv: list[str]  # the simulators service's entrypoint and command, as in the compose file
    translator: Translator  # with the Airflow services' volumes
    airflow_env: dict[str, str]  # the common Airflow environment, translated
    local_only: dict[str, str]  # not in the compose file: what differs between containers and one machine
    full_env: dict[str, str]  # what the Airflow processes run with

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


def base_env() -> dict[str, str]:
    """This process's environment without any Airflow or sync settings (the compose file brings its own)."""
    drop = ("AIRFLOW", "_AIRFLOW", "SYNC_DATABASE_URL", "AJERA_CRM_", "PYTHONPATH", "GX_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def simulators_parser() -> argparse.ArgumentParser:
    """The simulators' own command-line parser, to read the compose command as they read it. Imported by name:
    the simulators are a component the check runs, type-checked on their own, not part of this package."""
    build_parser: Callable[[], argparse.ArgumentParser] = importlib.import_module("simulators.__main__").build_parser
    return build_parser()


def localize(services: dict[str, Any], env: dict[str, str], tmp: Path, dbs: Databases) -> Local:
    sim_service = services["simulators"]
    sim_argv = argv_of(sim_service, "entrypoint") + argv_of(sim_service, "command")
    sim_args = simulators_parser().parse_args(sim_argv[sim_argv.index("simulators") + 1:])
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
    local_only = {
        "AIRFLOW_HOME": str(home),  # the image's is /opt/airflow; a throw-away one here
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),  # 8974 may be taken
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),  # 8793 may be taken
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),  # 8794 may be taken
    }
    local = Local(tmp=tmp, ports=ports, api_port=api_port, ajera_port=ajera_port, crm_port=crm_port,
                  sim_argv=sim_argv, translator=tr, airflow_env=airflow_env, local_only=local_only,
                  full_env={**base_env(), **airflow_env, **local_only})
    announce(local, dbs, home)
    return local


def announce(local: Local, dbs: Databases, home: Path) -> None:
    """Says which databases and addresses the run uses, and checks the mounted folders are there."""
    airflow_env = local.airflow_env
    say(f"mode: metadata DB {'SQLite (development only)' if dbs.sqlite else 'PostgreSQL'}: "
        f"{airflow_env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}")
    say(f"sync DB: {airflow_env['SYNC_DATABASE_URL']}")
    say(f"execution API: {airflow_env['AIRFLOW__CORE__EXECUTION_API_SERVER_URL']}; "
        f"PYTHONPATH={airflow_env.get('PYTHONPATH', '(not set)')}; AIRFLOW_HOME={home}")
    for key in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER"):
        if not Path(airflow_env[key]).is_dir():
            raise CheckFailed(f"{key} -> {airflow_env[key]} is not a directory")
