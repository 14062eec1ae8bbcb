"""What every part of the check shares: the project's places, the compose names, the log line, the failure."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
