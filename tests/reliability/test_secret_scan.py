"""After a failed run, no credential and no secret URL is in any log, log row or table.

The sync DAG runs through Airflow (``dag.test()``) against both simulators; the CRM answers every call
with HTTP 503, so the run fails and every failed task alerts through the chat webhook, whose receiver
(a real HTTP server on loopback) answers 500, so the alert's own failure is logged too. Then every place
the project writes is scanned for the passwords, the client secret and the webhook's secret address:
the task logs and everything printed, every table of the sync database, Airflow's metadata database,
and the alerts the receiver got.
"""

from __future__ import annotations

import json
import secrets as random_secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import inspect, text

from simulators.harness import CRM_CLIENT_SECRET, PASSWORD
from tests.support.engine import Harness

pytestmark = pytest.mark.integration


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _Receiver.bodies.append(self.rfile.read(length).decode("utf-8", "replace"))
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"receiver down")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = random_secrets.token_hex(16)
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T0001/B0002/{token}"
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_CRM_ALERTS", json.dumps({"conn_type": "http", "host": url}))
    yield url
    server.shutdown()


def _tables(url: str) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    out = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            out += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    return "\n".join(out)


def test_no_secret_anywhere_after_a_failed_run(harness: Harness, webhook: str, sync_db_url: str,
                                               capfd: pytest.CaptureFixture[str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    import os

    harness.crm_sim.faults(error_rate=1.0)
    run = harness.run(record_types=["firm"])
    assert "failed" in str(run.state).lower()
    assert _Receiver.bodies, "no alert reached the webhook receiver"
    token = webhook.rsplit("/", 1)[1]
    wanted = {"the password": PASSWORD, "the client secret": CRM_CLIENT_SECRET, "the webhook URL": webhook,
              "the webhook token": token, "the webhook path": "/services/T0001/B0002/"}
    printed = capfd.readouterr()
    home = Path(os.environ["AIRFLOW_HOME"])
    files = "\n".join(p.read_text(errors="replace") for p in home.rglob("*")
                      if p.is_file() and p.suffix in (".log", ".json", ".txt"))
    places = {
        "stdout/stderr": printed.out + printed.err,
        "log records": "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records),
        "Airflow log files": files,
        "the sync database": _tables(sync_db_url),
        "Airflow's metadata database": (home / "airflow.db").read_bytes().decode("utf-8", "replace"),
        "the alerts sent": "\n".join(_Receiver.bodies),
    }
    assert "error" in places["the sync database"]  # the failure is there, named
    found = [f"{what} in {where}" for where, blob in places.items() for what, secret in wanted.items()
             if secret in blob]
    print(f"\nsecret scan after a failed run: {len(wanted)} secrets x {len(places)} places, {len(found)} found")
    assert not found, found
