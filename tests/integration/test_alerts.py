"""What a run tells people, through Airflow (``dag.test()``) against both simulators: one alert per failed
run over a real SMTP server and a real webhook receiver, a threshold alert for a green run that left work
for a person, the run's note, and record types that were not selected shown as skipped."""

from __future__ import annotations

from typing import Any

import pytest

from include.sync import record_types, runs
from tests.support.alert_receivers import Mailbox, Webhook
from tests.support.backends import LAST
from tests.support.engine import Harness

pytestmark = pytest.mark.integration

BASE = "https://airflow.example.test"
FIRMS = {"record_types": ["firm"]}


@pytest.fixture(autouse=True)
def deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE)
    for name in ("AJERA_CRM_ALERT_RECORD_ERRORS", "AJERA_CRM_ALERT_CONFLICTS_FOR_REVIEW",
                 "AJERA_CRM_ALERT_QUARANTINED"):
        monkeypatch.delenv(name, raising=False)


def _state(obj: Any) -> str:
    return str(getattr(obj, "state", obj) or "").lower().rsplit(".", 1)[-1]


def _stored_run(run_id: str) -> tuple[Any, dict[str, str]]:
    """The DAG run as the metadata database has it (its note), and its task states."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == "ajera_crm_sync", DagRun.run_id == run_id).one()
        states = {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): _state(ti)
                  for ti in run.get_task_instances(session=session)}
        note = run.note
    return note, states


def test_a_failed_run_sends_one_email_and_one_webhook_call_with_the_links(
    harness: Harness, smtp_server: Mailbox, webhook: Webhook
) -> None:
    harness.crm_sim.faults(error_rate=1.0)  # the CRM is down for longer than every retry
    failed = harness.run(**FIRMS)
    assert _state(failed) == "failed"

    note, states = _stored_run(failed.run_id)
    failed_tasks = sorted(t for t, s in states.items() if s == "failed")
    assert "firm.extract_crm" in failed_tasks, states
    # One alert for the run, not one per failed task.
    assert len(webhook.posts) == 1, [p["text"][:200] for p in webhook.posts]
    assert len(smtp_server.messages) == 1
    text, body = webhook.posts[0]["text"], smtp_server.bodies()[0]
    from urllib.parse import quote

    run_q = quote(failed.run_id, safe="")
    for channel in (text, body):
        assert failed.run_id in channel
        for task in failed_tasks:
            assert f"task {task} failed" in channel, (task, channel)
        assert f"{BASE}/dags/ajera_crm_sync/runs/{quote(failed.run_id)}/tasks/firm.extract_crm?try_number=" in channel
        assert f"{BASE}/ajera-crm/log/run?run_id={run_q}" in channel
        assert "503" in channel  # the error itself, as the CRM client reported it
    assert smtp_server.messages[0]["Subject"].startswith(f"Ajera-CRM sync run {failed.run_id} failed")

    # The note says what the run did; the record types it was not asked for are skipped, not green (those
    # that need firms are upstream_failed, as they would be had they been selected).
    assert note == runs.one_line(harness.db, failed.run_id) and "incomplete" in note
    for record_type in ("employee", "vendor"):
        group = {t: s for t, s in states.items() if t.startswith(f"{record_type}.")}
        assert group and set(group.values()) == {"skipped"}, group


def _edit_both_sides(h: Harness, phone_ajera: str, phone_crm: str) -> None:
    """The same field of one linked firm edited in both systems within the clock-skew tolerance: a near
    tie, left for a person to review."""
    phone = record_types.get("firm").field("phone")  # each system's name for it, from the record type
    pair = h.mappings()[0]
    baseline = h.ajera.get("Clients", [int(pair.ajera_key)])[0]
    assert not h.ajera.update("Clients", [{**baseline, phone.ajera: phone_ajera}], [baseline]).errors
    h.crm.update("firm", pair.crm_key, {phone.crm: phone_crm})


# Three Airflow runs: on the last backend only (tests/support/backends.py); the alerts read nothing backend-specific.
@pytest.mark.parametrize("sync_db_url", LAST, indirect=True)
def test_a_green_run_that_left_work_for_a_person_alerts_once(
    harness: Harness, smtp_server: Mailbox, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = harness.run(**FIRMS)
    assert _state(first) == "success"
    assert runs.attention(harness.db, first.run_id) == runs.Attention()
    assert webhook.posts == [] and smtp_server.messages == []  # nothing for a person: nobody is paged

    _edit_both_sides(harness, "555-0101", "555-0102")
    run = harness.run(**FIRMS)
    assert _state(run) == "success"
    left = runs.attention(harness.db, run.run_id)
    assert left.conflicts_for_review == 1, left
    assert len(webhook.posts) == 1 and len(smtp_server.messages) == 1
    text = webhook.posts[0]["text"]
    assert f"{run.run_id} needs attention" in text and "1 conflicts awaiting review (threshold 0)" in text
    assert f"{BASE}/ajera-crm/log/run?run_id=" in text
    note, states = _stored_run(run.run_id)
    assert note == runs.one_line(harness.db, run.run_id) and note.endswith("Sync Completed")
    assert note.startswith("two-way · firm · ") and "in conflict 1" in note
    assert states["write_run_log"] == "success"
    for record_type in ("contact", "employee", "vendor", "project"):
        group = {t: s for t, s in states.items() if t.startswith(f"{record_type}.")}
        assert group and set(group.values()) == {"skipped"}, group

    # A deployment that tolerates this much is not paged for it.
    monkeypatch.setenv("AJERA_CRM_ALERT_CONFLICTS_FOR_REVIEW", "5")
    _edit_both_sides(harness, "555-0103", "555-0104")
    quiet = harness.run(**FIRMS)
    assert _state(quiet) == "success" and runs.attention(harness.db, quiet.run_id).conflicts_for_review >= 1
    assert len(webhook.posts) == 1 and len(smtp_server.messages) == 1
