"""docker-compose.yaml: static checks (fast), and one run of its components on this machine (``compose``).

There is no Docker engine where these tests run, so the compose file is checked by running the same
Airflow components locally with its settings: ``scripts/check_compose.py`` (the ``scripts/compose_check``
package, whose compose-file reading the static checks use).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import compose_check as cc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return cc.load_compose(ROOT / "docker-compose.yaml")


def test_compose_parses_and_has_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer", "simulators", "redis", "airflow-worker", "flower"):
        assert name in services, name
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert "8080:8080" in services["airflow-apiserver"]["ports"]
    for name in cc.RUNNERS:
        assert "healthcheck" in services[name], name
    # Profiles: demo simulators, celery scale-out; the core stack has none.
    assert services["simulators"]["profiles"] == ["demo"]
    for name in ("redis", "airflow-worker", "flower"):
        assert services[name]["profiles"] == ["celery"], name
    for name in ("postgres", *cc.AIRFLOW_SERVICES):
        assert "profiles" not in services[name], name


def test_every_airflow_service_shares_the_common_env(compose: dict[str, Any]) -> None:
    common = cc.common_env(compose)  # raises if the runners differ
    for name in cc.AIRFLOW_SERVICES:
        env = cc.service_env(compose, name)
        missing = {k for k in common if env.get(k) != common[k]}
        assert not missing, f"{name} differs from the common env in {sorted(missing)}"
    for name in ("airflow-worker", "flower"):  # celery: the common env, with CeleryExecutor
        env = cc.service_env(compose, name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert {k: v for k, v in env.items() if k in common and k != "AIRFLOW__CORE__EXECUTOR"} == \
            {k: v for k, v in common.items() if k != "AIRFLOW__CORE__EXECUTOR"}


def test_common_env_settings(compose: dict[str, Any]) -> None:
    env = cc.common_env(compose)
    # The executor is docker/entrypoint.sh's choice (the celery profile's Redis decides), unless forced.
    assert "AIRFLOW__CORE__EXECUTOR" not in env and env["AIRFLOW_EXECUTOR"] == ""
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"
    assert "PYTHONPATH" not in env  # the ajera_crm package finds include/ by itself
    assert env["AIRFLOW__API__BASE_URL"] == "http://localhost:8080"  # alert links; a deployment setting
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert env["SYNC_DATABASE_URL"].endswith("@postgres:5432/sync")
    assert "simple_auth_manager" in env["AIRFLOW__CORE__AUTH_MANAGER"]
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"]  # shared by every component
    for conn in ("AIRFLOW_CONN_AJERA_DEFAULT", "AIRFLOW_CONN_VANTAGEPOINT_DEFAULT"):
        assert "simulators:" in env[conn]


def test_the_celery_profile_sets_the_executor_itself(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in cc.AIRFLOW_SERVICES[1:]:
        assert argv_of_entrypoint(services[name])[-1] == "/opt/airflow/docker/entrypoint.sh", name
    redis_dependency = services["airflow-scheduler"]["depends_on"]["redis"]
    assert redis_dependency == {"condition": "service_healthy", "required": False}
    worker_env = cc.service_env(compose, "airflow-worker")
    assert worker_env["AJERA_CRM_RATE_LIMIT_REDIS_URL"].startswith("redis://redis:6379/")


def argv_of_entrypoint(service: dict[str, Any]) -> list[str]:
    return cc.argv_of(service, "entrypoint")


@pytest.mark.parametrize("env, expected", [
    ({"AJERA_CRM_CELERY_BROKER_HOST": "localhost"}, "CeleryExecutor"),  # the celery profile's Redis is there
    ({"AJERA_CRM_CELERY_BROKER_HOST": "no-such-host.invalid"}, "LocalExecutor"),  # default profile: no Redis
    ({"AJERA_CRM_CELERY_BROKER_HOST": "localhost", "AIRFLOW_EXECUTOR": "LocalExecutor"}, "LocalExecutor"),
    ({"AJERA_CRM_CELERY_BROKER_HOST": "no-such-host.invalid", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"},
     "CeleryExecutor"),  # the workers force it
])
def test_the_entrypoint_chooses_the_executor(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    image_entrypoint = tmp_path / "entrypoint"
    image_entrypoint.write_text('#!/bin/sh\necho "$AIRFLOW__CORE__EXECUTOR $*"\n')
    image_entrypoint.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AJERA_CRM"))}
    done = subprocess.run(["bash", str(ROOT / "docker" / "entrypoint.sh"), "scheduler"], capture_output=True,
                          text=True, timeout=30, env={**base, **env, "AIRFLOW_IMAGE_ENTRYPOINT": str(image_entrypoint)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{expected} scheduler"


def test_the_production_settings_are_flagged() -> None:
    header = (ROOT / "docker-compose.yaml").read_text().split("x-airflow-common-env")[0]
    readme = (ROOT / "README.md").read_text()
    deploy = readme.split("## Deploy", 1)[1].split("\n## ", 1)[0]
    for setting in ("AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD",
                    "POSTGRES_PASSWORD", "AIRFLOW_BASE_URL"):
        assert setting in header and setting in deploy, setting
    for topic in ("docker compose up", "--profile celery", "ajera_default", "vantagepoint_default",
                  "ajera_crm_alerts", "AJERA_CRM_SYNC_CRON", "pools set", "airflow backfill create",
                  "/ajera-crm/log/run?run_id=", "ALERT_EMAIL_TO"):
        assert topic in deploy, topic


def test_the_sync_database_is_created_and_the_pool_too(compose: dict[str, Any]) -> None:
    init_sql = (ROOT / "docker" / "postgres-init.sql").read_text()
    assert re.search(r"CREATE DATABASE sync\b", init_sql)
    assert any("postgres-init.sql" in v for v in compose["services"]["postgres"]["volumes"])
    commands = cc.init_commands(compose)
    assert ["airflow", "db", "migrate"] in commands
    pool = next(c for c in commands if c[:3] == ["airflow", "pools", "set"])
    dag_source = (ROOT / "dags" / "ajera_crm_sync.py").read_text()
    assert f'pool="{pool[3]}"' in dag_source


def test_bind_mounts_exist_in_the_repo(compose: dict[str, Any]) -> None:
    targets = set()
    for name, service in compose["services"].items():
        for spec in service.get("volumes", []):
            source, target = spec.split(":")[:2]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
                targets.add(target)
    for folder in ("dags", "plugins", "include", "simulators"):
        assert f"/opt/airflow/{folder}" in targets, folder


def test_image_tag_matches_the_pinned_airflow() -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M))
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    image = re.search(r"^FROM\s+apache/airflow:(\S+)", dockerfile, re.M)
    assert image, "docker/Dockerfile must build FROM apache/airflow"
    assert image.group(1).split("-")[0] == pins["apache-airflow"]
    assert "-r /tmp/requirements.txt" in dockerfile


def test_interpolation_uses_the_defaults() -> None:
    assert cc.interpolate("${X:-a}/${Y}/$$HOME") == "a//$HOME"
    with pytest.raises(cc.CheckFailed):
        cc.interpolate("${X:?required}")


@pytest.mark.compose
def test_the_compose_components_run_the_sync(tmp_path: Path) -> None:
    pg = os.environ.get("SYNC_TEST_POSTGRES_URL")
    if pg:
        metadata = pg
        print("compose check with PostgreSQL (SYNC_TEST_POSTGRES_URL)")
    else:
        metadata = f"sqlite:///{tmp_path / 'airflow.db'}"
        print("SYNC_TEST_POSTGRES_URL not set: compose check with a SQLite metadata DB (development only)")
    argv = [sys.executable, str(ROOT / "scripts" / "check_compose.py"), "--metadata-db-url", metadata]
    check = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = check.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        check.terminate()  # SIGTERM: the check stops the Airflow components it started before it exits
        stdout, stderr = check.communicate(timeout=60)
        pytest.fail(f"the compose check took over 420 s:\n{stdout[-6000:]}{stderr[-3000:]}")
    finally:
        if check.poll() is None:  # interrupted, or deaf to SIGTERM: never left running
            check.kill()
    print(stdout[-6000:])
    assert check.returncode == 0, stdout[-6000:] + stderr[-3000:]
    assert "PASS" in stdout
