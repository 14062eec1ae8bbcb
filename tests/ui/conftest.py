"""A real ``airflow api-server`` with the plugin, the simple auth manager and two users, on a free loopback
port, and a small world synced by the DAG into the sync database it reads. Both live for the whole package
(one server start, two DAG runs): the access tests change nothing, the browser tests build on the world."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from include.sync.record_types import FIRM
from simulators import datagen
from tests.support.alert_receivers import free_port
from tests.support.engine import SMALL, Harness, airflow_connections, start_engine, stop_engine
from tests.support.ui import ARTEFACTS, BAD_STATUS, ApiServer, World, api_server_env


@pytest.fixture(scope="package")
def launched_api_server(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The server process, started but not yet waited for: the world's DAG runs overlap its start-up."""
    home = tmp_path_factory.mktemp("api-server")
    sync_db_url = f"sqlite:///{home / 'sync.db'}"
    port = free_port()
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"],
            env=api_server_env(sync_db_url, home), stdout=log, stderr=subprocess.STDOUT, cwd=home,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", sync_db_url, log_path, process)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, ARTEFACTS / "api-server.log")


@pytest.fixture(scope="package")
def api_server(launched_api_server: ApiServer) -> ApiServer:
    launched_api_server.wait_ready()
    return launched_api_server


@pytest.fixture(scope="package")
def world(launched_api_server: ApiServer, sync_dag: Any) -> Iterator[World]:
    """Simulators seeded with the small world plus one CRM firm of a status the API does not know, the DAG
    pointed at them and at the API server's sync database, and two runs: the first sync, then one after both
    sides changed the same phone within the clock-skew tolerance (a conflict for review)."""
    generated = datagen.generate(seed=7, sizes=SMALL)
    bad_firm = generated.notes["firms"]["crm_only"][0]
    for firm in generated.crm["firm"]:
        if firm["ClientID"] == bad_firm:
            firm["Status"] = BAD_STATUS  # seed data is loaded as it is, like bad data already in a tenant
    api_server = launched_api_server
    engine, parts = start_engine(api_server.sync_db_url, generated)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNC_DATABASE_URL", api_server.sync_db_url)
        for name, value in airflow_connections(engine, timeout=5).items():
            mp.setenv(name, value)
        w = World(Harness(**vars(engine), dag=sync_dag), api_server, [], generated.notes["firms"]["near_miss"][0],
                  generated.notes["firms"]["exact"][0], bad_firm)
        w.sync()
        ajera_key, crm_key = str(w.conflict_pair["ajera"]), w.conflict_pair["crm"]
        base = engine.ajera.get(FIRM.ajera_entity, [int(ajera_key)])[0]
        phone = FIRM.field("phone")
        engine.ajera.update(FIRM.ajera_entity, [{**base, phone.ajera: "(555) 010-1111"}], [base])
        engine.crm.update(FIRM.crm_hub, crm_key, {phone.crm: "(555) 020-2222"})
        w.sync(AJERA_CRM_CLOCK_SKEW_SECONDS="3600")
        api_server.wait_ready()
        yield w
    stop_engine(parts)
