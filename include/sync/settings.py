"""The deployment's settings: every environment variable the sync reads, each declared once (name, default,
type, description), read when a task runs (``Settings.from_env()``), so a changed variable applies to the next
task without re-parsing the DAG.

A run option the deployment tunes (the clock skew, the poison threshold, the default sync mode, ...) is
declared on ``RunOptions`` with its variable; ``Settings.option_defaults`` holds the ones set. Only
``Schedule`` is read when the DAG file is parsed (see there).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from include.sync import declared
from include.sync.declared import declare


@dataclass(frozen=True)
class Schedule:
    """The settings Airflow needs on the DAG and task objects it builds from the DAG file, so they are read
    at parse time (a task cannot change its own schedule, retry delay or poke interval): a change applies
    once the DAG file is parsed again."""

    cron: str = declare("0 * * * *", "When the sync runs (cron, UTC; a sixth field is seconds).",
                        env="AJERA_CRM_SYNC_CRON")
    retry_delay_seconds: float = declare(15.0, "A failed task's first retry waits this long (then doubles).",
                                         env="AJERA_CRM_RETRY_DELAY_SECONDS", minimum=0)
    run_lock_poke_seconds: float = declare(30.0, "A run waiting for the previous one checks this often.",
                                           env="AJERA_CRM_RUN_LOCK_POKE_SECONDS", minimum=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Schedule:
        return cls(**declared.from_env(cls, os.environ if environ is None else environ))


@dataclass(frozen=True)
class Settings:
    sync_database_url: str = declare(
        "", "The sync database (a SQLAlchemy URL); wins over the ajera_crm_sync_db connection. Unset: that "
        "connection, else var/sync.db (SQLite).", env="SYNC_DATABASE_URL", secret=True)
    lock_ttl_seconds: float = declare(
        1800.0, "A run's sync lease lapses this long after its last task renewed it (longer than any task).",
        env="AJERA_CRM_LOCK_TTL_SECONDS", minimum=0)
    lock_wait_seconds: float = declare(
        60.0, "A step finding another run's lease waits this long, then fails naming that run.",
        env="AJERA_CRM_LOCK_WAIT_SECONDS", minimum=0)
    rate_limit_redis_url: str = declare(
        "", "Redis that spaces Ajera requests for every worker host together (else per host).",
        env="AJERA_CRM_RATE_LIMIT_REDIS_URL", secret=True)
    alert_record_errors: int = declare(
        0, "A green run alerts when it left more record errors than this.",
        env="AJERA_CRM_ALERT_RECORD_ERRORS", minimum=0)
    alert_conflicts_for_review: int = declare(
        0, "A green run alerts when it left more conflicts awaiting review than this.",
        env="AJERA_CRM_ALERT_CONFLICTS_FOR_REVIEW", minimum=0)
    alert_quarantined: int = declare(
        0, "A green run alerts when it left more quarantined rows than this.",
        env="AJERA_CRM_ALERT_QUARANTINED", minimum=0)
    alert_email_to: str = declare("", "E-mail alerts go to these addresses (comma-separated), over smtp_default.",
                                  env="ALERT_EMAIL_TO")
    alert_email_from: str = declare("", "The alerts' sender; unset: smtp_default's from_email.",
                                    env="ALERT_EMAIL_FROM")
    # Run options the deployment sets (RunOptions fields that name an environment variable), parsed.
    option_defaults: Mapping[str, Any] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings as the environment sets them now; ValueError naming the variable on a bad value."""
        from include.sync.runs import RunOptions  # it holds the run lock, which reads these settings

        env = os.environ if environ is None else environ
        return cls(**declared.from_env(cls, env), option_defaults=declared.from_env(RunOptions, env),
                   schedule=Schedule.from_env(env))

    @property
    def alert_email_recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_email_to.split(",") if address.strip()]


def variables() -> dict[str, declared.Spec]:
    """Every environment variable the sync reads, with its declaration (for the docs' check)."""
    from include.sync.runs import RunOptions

    return {spec.env: spec for cls in (Settings, Schedule, RunOptions)
            for spec in declared.specs(cls).values() if spec.env}
