"""Alerts that say what to do: one per failed run, and one per run that left too much for a person.

- ``TaskFailureRecorder`` (every task's ``on_failure_callback``) sends nothing: it writes the failed task,
  its error and its log link to the integration log, where the run's alert and the Integration Log page
  find it. A run whose systems are down fails many tasks; it must still page people once.
- ``RunFailureNotifier`` (the DAG's ``on_failure_callback``, once per failed run) sends one alert naming
  the run, every failed task with its error and task-log link, and the run's Integration Log page.
- ``RunAttentionNotifier`` (the DAG's ``on_success_callback``) alerts when a green run left more record
  errors, conflicts awaiting review or quarantined rows than the deployment's thresholds allow.

Channels, each used when configured: a chat webhook (Slack/Teams-style JSON ``{"text": ...}``) whose URL
is the host of the ``ajera_crm_alerts`` connection, and e-mail to ``ALERT_EMAIL_TO`` over the
``smtp_default`` connection. The webhook URL is a secret (it lets anyone post to the channel): it is
masked in task logs and never written into a message, including when the call fails. A failing channel
is logged and never masks the run's own outcome.

Links use Airflow's own ``[api] base_url`` (``AIRFLOW__API__BASE_URL``), the address people open the UI at.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests
from airflow.sdk import BaseHook, BaseNotifier, Context

from ajera_crm.ui.paths import RUN_LOG
from include.sync.enums import LogAction
from include.sync.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_CONN_ID = "ajera_crm_alerts"
SMTP_CONN_ID = "smtp_default"


def base_url() -> str:
    from airflow.sdk.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "http://localhost:8080").rstrip("/")


def integration_log_url(run_id: str) -> str:
    return f"{base_url()}{RUN_LOG}?{urlencode({'run_id': run_id})}"


def task_log_url(dag_id: str, run_id: str, task_id: str, map_index: int | None, try_number: int | None) -> str:
    """The task's log in the Airflow UI (the shape of Airflow's own ``ti.log_url``)."""
    mapped = f"/mapped/{map_index}" if map_index is not None and map_index >= 0 else ""
    tries = f"?try_number={try_number}" if try_number else ""
    return f"{base_url()}/dags/{quote(dag_id)}/runs/{quote(run_id)}/tasks/{quote(task_id)}{mapped}{tries}"


@dataclass(frozen=True)
class Alert:
    subject: str
    lines: list[str]
    links: dict[str, str] = field(default_factory=dict)  # label -> URL

    def text(self) -> str:
        return "\n".join([self.subject, *self.lines, *(f"{label}: {url}" for label, url in self.links.items())])

    def html(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines)
        links = "".join(f'<p>{html.escape(label)}: <a href="{html.escape(url)}">{html.escape(url)}</a></p>'
                        for label, url in self.links.items())
        return f"<p>{html.escape(self.subject)}</p><ul>{items}</ul>{links}"


def _run_id(context: Mapping[str, Any]) -> str:
    return str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?"))


def _dag_id(context: Mapping[str, Any]) -> str:
    dag = context.get("dag")
    return str(getattr(dag, "dag_id", None) or getattr(context.get("dag_run"), "dag_id", None) or "ajera_crm_sync")


def _sync_db() -> Any:
    from ajera_crm.hooks import sync_database

    return sync_database()


def task_failure_line(context: Mapping[str, Any]) -> str:
    ti = context.get("ti") or context.get("task_instance")
    task = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    where = f"{task}[{map_index}]" if map_index is not None and map_index >= 0 else task
    tries = getattr(ti, "try_number", None)
    url = task_log_url(_dag_id(context), _run_id(context), task, map_index, tries)
    return f"task {where} failed after {tries or '?'} tries: {context.get('exception')} | log: {url}"


class _PlainNotifier(BaseNotifier):
    """Nothing is templated: alert text is built from data (errors may hold "{{"), never run through Jinja.
    (Skipping the render also spares dag.test(), whose DAG callbacks get a DAG without a template env.)"""

    template_fields = ()

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        return None


class TaskFailureRecorder(_PlainNotifier):
    """Every task's failure callback: one integration-log row (task, error, log link); sends nothing."""

    def notify(self, context: Context) -> None:
        line = task_failure_line(context)
        log.error("%s", line)
        try:
            from include.sync import journal

            with _sync_db().begin() as tx:
                journal.log(tx, _run_id(context), "run", LogAction.ERROR, line)
        except Exception:  # the alert must not fail because the sync database is down
            log.exception("could not write the failure to the integration log")


class _RunNotifier(_PlainNotifier):
    def __init__(self, webhook_conn_id: str = WEBHOOK_CONN_ID, email_to: str | None = None,
                 smtp_conn_id: str = SMTP_CONN_ID) -> None:
        super().__init__()
        self.webhook_conn_id = webhook_conn_id
        self.email_to = email_to
        self.smtp_conn_id = smtp_conn_id

    def send(self, alert: Alert) -> list[str]:
        """Deliver on every configured channel; return the channels that took it."""
        sent = [name for name, deliver in (("webhook", self._to_webhook), ("email", self._to_email))
                if deliver(alert)]
        if sent:
            log.warning("alert sent via %s: %s", ", ".join(sent), alert.subject)
        else:
            log.error("alert not delivered (no channel configured, or each one failed): %s", alert.text())
        return sent

    def _to_webhook(self, alert: Alert) -> bool:
        try:
            conn = BaseHook.get_connection(self.webhook_conn_id)
        except Exception:
            return False  # no webhook configured
        url = conn.host or ""
        try:
            from airflow.sdk.log import mask_secret

            mask_secret(url)
        except Exception:  # outside a task (DAG callbacks) there may be no masker: we never log it anyway
            pass
        try:
            with _quiet("urllib3"):  # its debug lines name the request path, the secret part of the URL
                response = requests.post(url, json={"text": alert.text()}, timeout=10)
        except requests.RequestException as exc:
            # The exception's text holds the URL: name its type only.
            log.error("chat webhook alert failed: %s (connection %s)", type(exc).__name__, self.webhook_conn_id)
            return False
        if response.status_code >= 400:
            log.error("chat webhook alert failed: HTTP %s (connection %s)", response.status_code,
                      self.webhook_conn_id)
            return False
        return True

    def _to_email(self, alert: Alert) -> bool:
        settings = Settings.from_env()
        to = [a.strip() for a in self.email_to.split(",") if a.strip()] if self.email_to \
            else settings.alert_email_recipients
        if not to:
            return False
        try:
            from airflow.providers.smtp.hooks.smtp import SmtpHook

            with SmtpHook(self.smtp_conn_id) as smtp:
                smtp.send_email_smtp(to=to, subject=alert.subject, html_content=alert.html(),
                                     from_email=settings.alert_email_from or smtp.from_email
                                     or "ajera-crm-sync@localhost")
        except Exception as exc:
            log.error("e-mail alert failed: %s: %s", type(exc).__name__, exc)
            return False
        return True


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(level, logging.INFO))
    try:
        yield
    finally:
        logger.setLevel(level)


class RunFailureNotifier(_RunNotifier):
    """The DAG's failure callback: one alert for the failed run."""

    def notify(self, context: Context) -> None:
        self.send(failure_alert(context))


def failure_alert(context: Mapping[str, Any]) -> Alert:
    run_id = _run_id(context)
    failures: list[str] = []
    summary = None
    try:
        from include.sync import runs

        db = _sync_db()
        failures = runs.task_failures(db, run_id)
        summary = runs.one_line(db, run_id)
    except Exception:
        log.exception("could not read the run's failures from the sync database")
    if not failures and (context.get("ti") or context.get("task_instance")):
        failures = [task_failure_line(context)]  # the task Airflow names as the cause
    lines = [f"failed: {line}" for line in failures] or ["no task failure was recorded; see the run in Airflow"]
    if summary:
        lines.append(f"run summary: {summary}")
    lines.append("What to do: open the task log for the error, fix the cause (connection, credentials, the "
                 "other system's availability), then clear the failed tasks or wait for the next run: a "
                 "re-run carries on where this one stopped and creates nothing twice.")
    return Alert(f"Ajera-CRM sync run {run_id} failed ({len(failures)} failed task(s))", lines,
                 {"Integration Log": integration_log_url(run_id)})


def thresholds() -> Any:
    """The deployment's per-run limits (0 by default: any record error, review conflict or quarantined row
    alerts)."""
    from include.sync.runs import Attention

    settings = Settings.from_env()
    return Attention(settings.alert_record_errors, settings.alert_conflicts_for_review, settings.alert_quarantined)


class RunAttentionNotifier(_RunNotifier):
    """The DAG's success callback: an alert when a run left more for a person than the thresholds allow."""

    def notify(self, context: Context) -> None:
        alert = attention_alert(context)
        if alert is not None:
            self.send(alert)


def attention_alert(context: Mapping[str, Any]) -> Alert | None:
    from include.sync import runs

    run_id = _run_id(context)
    db = _sync_db()
    above = runs.attention(db, run_id).above(thresholds())
    if not above:
        return None
    lines = [f"left for review: {phrase}" for phrase in above]
    summary = runs.one_line(db, run_id)
    if summary:
        lines.append(f"run summary: {summary}")
    lines.append("What to do: open the Integration Log for the run; fix record errors and quarantined rows at "
                 "the source (the next run retries them) and resolve conflicts on the Sync Details page.")
    return Alert(f"Ajera-CRM sync run {run_id} needs attention: {'; '.join(above)}", lines,
                 {"Integration Log": integration_log_url(run_id)})
