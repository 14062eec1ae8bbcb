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
(or ``python -m scripts.compose_check ...`` from the project root).

Modules, by concern: ``compose_file`` reads docker-compose.yaml, ``translate`` and ``local`` map its settings to
this machine, ``databases`` creates and drops the throw-away databases, ``processes`` starts, watches and stops the
components, ``services`` runs what each compose service runs, ``airflow_api`` talks to the API server, ``report``
prints the outcome, ``check`` puts them in order and ``cli`` parses the options.
"""

from .common import AIRFLOW_SERVICES, RUNNERS, CheckFailed
from .compose_file import argv_of, common_env, init_commands, interpolate, load_compose, service_env

__all__ = [
    "AIRFLOW_SERVICES",
    "RUNNERS",
    "CheckFailed",
    "argv_of",
    "common_env",
    "init_commands",
    "interpolate",
    "load_compose",
    "service_env",
]
