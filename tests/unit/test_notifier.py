"""The failure alert: an integration-log row and a chat-webhook POST, with no secret in the text."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from include.sync.db import SyncDatabase


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_failure_alert_reaches_the_log_and_the_webhook(
    webhook: tuple[str, list[dict[str, Any]]], sync_db: SyncDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ajera_crm.notifiers import SyncFailureNotifier

    url, received = webhook
    monkeypatch.setenv("SYNC_DATABASE_URL", sync_db.url)
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_CRM_ALERTS", json.dumps({"conn_type": "http", "host": url}))
    monkeypatch.delenv("ALERT_EMAIL_TO", raising=False)
    ti = SimpleNamespace(task_id="firm.apply", map_index=3, try_number=4)
    context = {"ti": ti, "run_id": "manual__alert", "exception": RuntimeError("CRM answered 503 five times")}

    SyncFailureNotifier().notify(context)

    assert len(received) == 1
    text = received[0]["text"]
    assert "firm.apply[3]" in text and "manual__alert" in text and "503" in text
    rows = sync_db.rows("log_for_run", {"run_id": "manual__alert"})
    assert [r.action for r in rows] == ["error"] and "firm.apply[3]" in rows[0].message


def test_a_broken_webhook_does_not_hide_the_failure(sync_db: SyncDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    from ajera_crm.notifiers import SyncFailureNotifier

    monkeypatch.setenv("SYNC_DATABASE_URL", sync_db.url)
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_CRM_ALERTS", json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9/x"}))
    context = {"ti": SimpleNamespace(task_id="diff", map_index=-1, try_number=3), "run_id": "r2",
               "exception": ValueError("bad")}
    SyncFailureNotifier().notify(context)  # must not raise
    assert [r.action for r in sync_db.rows("log_for_run", {"run_id": "r2"})] == ["error"]
