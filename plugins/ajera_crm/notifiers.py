"""Failure alerts for every task of the sync: integration log, chat webhook and e-mail.

``SyncFailureNotifier`` is set as ``on_failure_callback`` in the DAG's default_args, so it fires when a
task has failed for good (after its retries). Each channel is used when it is configured:
- the integration log always gets an ``error`` row, so the UI's log page shows the failure;
- a chat webhook (Slack/Teams-style JSON ``{"text": ...}``) when the ``ajera_crm_alerts`` connection exists
  (its host is the webhook URL);
- e-mail over SMTP (the ``smtp_default`` connection) when ``ALERT_EMAIL_TO`` is set.
A failing channel is logged and never masks the task's own failure.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import requests
from airflow.sdk import BaseHook, BaseNotifier

log = logging.getLogger(__name__)

WEBHOOK_CONN_ID = "ajera_crm_alerts"


def alert_text(context: dict[str, Any]) -> str:
    ti = context.get("ti") or context.get("task_instance")
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?")
    task = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    where = f"{task}[{map_index}]" if map_index is not None and map_index >= 0 else task
    tries = getattr(ti, "try_number", "?")
    error = context.get("exception")
    return f"Ajera-CRM sync: task {where} of run {run_id} failed after {tries} tries: {error}"


class SyncFailureNotifier(BaseNotifier):
    template_fields = ()

    def __init__(self, webhook_conn_id: str = WEBHOOK_CONN_ID, email_to: str | None = None) -> None:
        super().__init__()
        self.webhook_conn_id = webhook_conn_id
        self.email_to = email_to

    def notify(self, context: dict[str, Any]) -> None:
        text = alert_text(context)
        log.error(text)
        self._to_integration_log(context, text)
        self._to_webhook(text)
        self._to_email(context, text)

    def _to_integration_log(self, context: dict[str, Any], text: str) -> None:
        try:
            from ajera_crm.hooks import sync_database
            from include.sync import journal

            db = sync_database()
            with db.begin() as tx:
                journal.log(tx, str(context.get("run_id")), "run", "error", text)
        except Exception:  # the alert must not fail because the sync database is down
            log.exception("could not write the failure to the integration log")

    def _to_webhook(self, text: str) -> None:
        try:
            conn = BaseHook.get_connection(self.webhook_conn_id)
        except Exception:
            return  # no webhook configured
        try:
            requests.post(conn.host, json={"text": text}, timeout=10).raise_for_status()
        except requests.RequestException as exc:
            log.error("chat webhook alert failed: %s", exc)

    def _to_email(self, context: dict[str, Any], text: str) -> None:
        to = self.email_to or os.environ.get("ALERT_EMAIL_TO")
        if not to:
            return
        try:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            SmtpNotifier(to=to, subject="Ajera-CRM sync task failed", html_content=f"<p>{text}</p>").notify(context)
        except Exception as exc:
            log.error("e-mail alert failed: %s", exc)
