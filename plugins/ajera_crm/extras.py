"""What each connection's extras may hold, declared once with their defaults, and parsed into typed values.

A bad value stops the task with an error naming the connection and the field (``connection ajera_default:
extra "timeout" must be a number, got 'abc'``); a secret field's value is never repeated. The sync database
(``ajera_crm_sync_db``) and the alert webhook (``ajera_crm_alerts``) read no extras: their URI and host say
everything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import ajera_crm  # noqa: F401  (puts the project root on sys.path, for ``include``)
from include.clients.http import RetryPolicy
from include.sync import declared
from include.sync.declared import declare

log = logging.getLogger(__name__)

# Extras scrubbed from every log line whatever the connection declares: a secret in an unexpected place too.
SECRET_KEYS = ("client_secret", "password", "token")


@dataclass(frozen=True, kw_only=True)
class ApiExtras:
    """What both API connections share."""

    timeout: float = declare(30.0, "Seconds to wait for one answer.", minimum=0)
    retry_attempts: int = declare(5, "Tries of one call, the first included, on a transient error.", minimum=1)
    retry_base_delay: float = declare(0.5, "The first wait between tries, in seconds (then doubled).", minimum=0)
    page_size: int = declare(500, "Records per list call.", minimum=1)

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retry_attempts, base_delay=self.retry_base_delay)


@dataclass(frozen=True, kw_only=True)
class AjeraExtras(ApiExtras):
    api_id: str = declare(description="The base64 id of the API URL.")
    rate_limit_rps: float = declare(8.0, "Requests per second for every task together (under Ajera's ~9); 0: "
                                    "no spacing.", minimum=0)
    rate_limit_scope: Literal["redis", "host", "task"] | None = declare(
        None, "Where the spacing is shared: redis (every host), host (a lock file), task (each task alone). "
        "Unset: redis when a Redis URL is set, else host.", choices={"redis": "", "host": "", "task": ""})
    rate_limit_redis_url: str | None = declare(None, "Redis for the shared spacing (else "
                                               "AJERA_CRM_RATE_LIMIT_REDIS_URL).", secret=True)
    rate_limit_file: str | None = declare(None, "The lock file of the per-host spacing (else one in the temp "
                                          "folder per tenant).")


@dataclass(frozen=True, kw_only=True)
class VantagepointExtras(ApiExtras):
    database: str = declare(description="The Vantagepoint database name.")
    client_id: str = declare(description="The API client id (Vantagepoint's Integration settings).")
    client_secret: str = declare(description="The API client secret.", secret=True)


E = TypeVar("E", AjeraExtras, VantagepointExtras)


def parse(cls: type[E], conn_id: str, extra: Mapping[str, Any]) -> E:
    """``extra`` (a connection's ``extra_dejson``) as ``cls``; ValueError naming the connection and field."""
    unknown = sorted(set(extra) - set(declared.specs(cls)))
    if unknown:  # a typo would silently keep the default
        log.warning("connection %s: extras %s are not read (known: %s)", conn_id, unknown,
                    ", ".join(declared.specs(cls)))
    result: E = declared.build(cls, extra, lambda name: f'connection {conn_id}: extra "{name}"')
    return result
