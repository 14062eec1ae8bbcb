"""Alerts over real channels: an SMTP server (aiosmtpd) and a webhook receiver on loopback.

Tasks only record their failure; the run's failure callback sends one alert naming every failed task with
its error and log link and the run's Integration Log page; a green run over the deployment's thresholds
alerts too. The webhook URL (a secret) never reaches a log line."""

from __future__ import annotations

import logging
import socket
from types import SimpleNamespace
from typing import Any

import pytest

from include.sync import journal
from include.sync.db import SyncDatabase
from include.sync.enums import LogAction
from tests.support.alert_receivers import Mailbox, Webhook

BASE = "https://airflow.example.test"


@pytest.fixture(autouse=True)
def deployment(sync_db: SyncDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_DATABASE_URL", sync_db.url)
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE)
    for name in ("AJERA_CRM_ALERT_RECORD_ERRORS", "AJERA_CRM_ALERT_CONFLICTS_FOR_REVIEW",
                 "AJERA_CRM_ALERT_QUARANTINED"):
        monkeypatch.delenv(name, raising=False)


def _task_context(run_id: str, task_id: str, map_index: int, tries: int, error: Exception) -> dict[str, Any]:
    ti = SimpleNamespace(task_id=task_id, map_index=map_index, try_number=tries)
    return {"ti": ti, "run_id": run_id, "dag_run": SimpleNamespace(dag_id="ajera_crm_sync", run_id=run_id),
            "exception": error}


def test_task_failures_are_recorded_and_the_run_alerts_once(smtp_server: Mailbox, webhook: Webhook,
                                                             sync_db: SyncDatabase) -> None:
    from ajera_crm.notifiers import RunFailureNotifier, TaskFailureRecorder

    run = "scheduled__2026-03-02T00:00:00+00:00"
    TaskFailureRecorder()(_task_context(run, "firm.apply", 3, 4, RuntimeError("CRM answered 503 five times")))
    TaskFailureRecorder()(_task_context(run, "write_run_log", -1, 1, RuntimeError("firm did not complete")))
    assert webhook.posts == [] and smtp_server.messages == []  # tasks never page anyone themselves

    RunFailureNotifier()({"run_id": run, "dag_run": SimpleNamespace(dag_id="ajera_crm_sync", run_id=run),
                          "reason": "task_failure"})

    assert len(webhook.posts) == 1 and len(smtp_server.messages) == 1
    text = webhook.posts[0]["text"]
    mail = smtp_server.messages[0]
    body = smtp_server.bodies()[0]
    run_q = "scheduled__2026-03-02T00%3A00%3A00%2B00%3A00"
    task_log = f"{BASE}/dags/ajera_crm_sync/runs/{run_q}/tasks/firm.apply/mapped/3?try_number=4"
    integration_log = f"{BASE}/ajera-crm/log/run?run_id={run_q}"
    for channel in (text, body):
        assert run in channel and "2 failed task(s)" in channel
        assert "firm.apply[3] failed after 4 tries: CRM answered 503 five times" in channel
        assert "write_run_log" in channel and "What to do" in channel
        assert task_log in channel and integration_log in channel
    assert mail["Subject"] == f"Ajera-CRM sync run {run} failed (2 failed task(s))"
    assert mail["To"] == "data-team@example.test"
    rows = sync_db.rows("log_for_run", {"run_id": run})
    assert [(r.record_type, r.action) for r in rows] == [("run", "error"), ("run", "error")]
    assert task_log in rows[0].message


def test_a_run_failure_without_recorded_tasks_still_names_the_task_airflow_blames(webhook: Webhook) -> None:
    from ajera_crm.notifiers import RunFailureNotifier

    context = _task_context("manual__x", "start_run", -1, 2, RuntimeError("sync database unreachable"))
    RunFailureNotifier()(context)
    assert len(webhook.posts) == 1
    assert "task start_run failed after 2 tries: sync database unreachable" in webhook.posts[0]["text"]


@pytest.mark.parametrize("failure", ["refused", "http_500"])
def test_the_webhook_url_never_reaches_a_log_line(failure: str, webhook: Webhook, caplog: pytest.LogCaptureFixture,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   request: pytest.FixtureRequest,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from ajera_crm.notifiers import RunFailureNotifier

    secret = "xoxSecretToken42"
    if failure == "refused":  # nothing listens there: the requests exception's text names the URL
        # A port bound and never listened on refuses connections, and no other process can take it meanwhile.
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        request.addfinalizer(held.close)
        url = f"http://127.0.0.1:{held.getsockname()[1]}/services/T0SECRET/B0SECRET/{secret}"
        monkeypatch.setenv("AIRFLOW_CONN_AJERA_CRM_ALERTS", json.dumps({"conn_type": "http", "host": url}))
    else:
        webhook.status = 500
    caplog.set_level(logging.DEBUG)
    RunFailureNotifier()(_task_context("manual__y", "diff", -1, 3, ValueError("bad")))  # must not raise
    # Once Airflow has configured its logging (an earlier test in this worker), the lines go to its structlog
    # output instead of the standard handlers: both are read.
    captured = capsys.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert "chat webhook alert failed" in logged
    assert secret not in logged and "T0SECRET" not in logged


def _record_run(db: SyncDatabase, run_id: str, errors: int, review: int, quarantined: int) -> None:
    from include.sync.planner import Conflict

    with db.begin() as tx:
        for i in range(errors):
            journal.log(tx, run_id, "firm", LogAction.ERROR, f"Client {i}: refused", ajera_key=str(i))
        for i in range(review):
            journal.conflict(tx, run_id, "firm", Conflict(str(i), f"C{i}", "Phone", "1", "2", "review", "near tie"),
                             dry_run=False)
        journal.conflict(tx, run_id, "firm", Conflict("9", "C9", "Name", "a", "b", "ajera_wins", "owner"),
                         dry_run=False)  # settled by ownership: nothing to review
        for _ in range(quarantined):
            journal.quarantine(tx, run_id, "firm", {"ClientKey": None}, "key missing", "ajera")


def test_counts_left_for_a_person(sync_db: SyncDatabase) -> None:
    from include.sync import runs

    _record_run(sync_db, "r1", errors=2, review=1, quarantined=3)
    with sync_db.begin() as tx:  # a task failure is not a record error
        journal.log(tx, "r1", "run", LogAction.ERROR, "task x failed")
    assert runs.attention(sync_db, "r1") == runs.Attention(record_errors=2, conflicts_for_review=1, quarantined=3)
    assert runs.attention(sync_db, "nothing") == runs.Attention()


def test_a_green_run_over_the_thresholds_alerts_once(smtp_server: Mailbox, webhook: Webhook,
                                                      sync_db: SyncDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    from ajera_crm.notifiers import RunAttentionNotifier

    _record_run(sync_db, "scheduled__ok", errors=0, review=0, quarantined=0)  # only an owner-settled conflict
    _record_run(sync_db, "scheduled__bad", errors=3, review=2, quarantined=1)
    monkeypatch.setenv("AJERA_CRM_ALERT_RECORD_ERRORS", "5")  # 3 errors: under this deployment's limit
    RunAttentionNotifier()({"run_id": "scheduled__ok"})
    assert webhook.posts == [] and smtp_server.messages == []

    RunAttentionNotifier()({"run_id": "scheduled__bad"})
    assert len(webhook.posts) == 1 and len(smtp_server.messages) == 1
    text = webhook.posts[0]["text"]
    assert "scheduled__bad needs attention" in text
    assert "2 conflicts awaiting review (threshold 0)" in text and "1 quarantined rows (threshold 0)" in text
    assert "record errors" not in text.split("\n")[0]
    assert f"{BASE}/ajera-crm/log/run?run_id=scheduled__bad" in text
