"""Retry with exponential back-off, shared by both API clients."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import requests

from include.clients.errors import TransientApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

# JSON records as an API returns them. A name of its own because both clients and the Ajera protocol have a
# ``list`` method, which shadows the builtin inside their class bodies.
Rows: TypeAlias = list[dict[str, Any]]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base_delay: float = 0.5  # seconds before the second try; doubles each time
    max_delay: float = 30.0
    jitter: float = 0.25  # +/- share of the delay, so parallel batch tasks do not retry in step

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        backoff = min(self.max_delay, self.base_delay * (2.0 ** (attempt - 1)))
        backoff *= 1 + random.uniform(-self.jitter, self.jitter)
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_delay)


class RetryableResponse(Exception):
    """Raised inside a request function to ask for a retry of a response (5xx, 429)."""

    def __init__(self, status: int, retry_after: float | None, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def check_retryable(response: requests.Response, what: str) -> None:
    """Raise ``RetryableResponse`` for statuses worth another try."""
    if response.status_code in RETRYABLE_STATUS:
        raise RetryableResponse(
            response.status_code, retry_after_seconds(response), f"{what}: HTTP {response.status_code}"
        )


def with_retries(
    policy: RetryPolicy,
    what: str,
    attempt_fn: Callable[[], T],
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_timeout: Callable[[], None] | None = None,
) -> T:
    """Call ``attempt_fn`` until it succeeds, retrying transient failures with back-off.

    ``on_timeout`` lets a caller refuse to retry a read timeout (a create that may have happened): it
    raises instead of returning.
    """
    last: Exception | None = None
    for attempt in range(1, policy.attempts + 1):
        retry_after: float | None = None
        try:
            return attempt_fn()
        except RetryableResponse as exc:
            last, retry_after = exc, exc.retry_after
        except requests.Timeout as exc:
            if on_timeout is not None and isinstance(exc, requests.ReadTimeout):
                on_timeout()
            last = exc
        except requests.ConnectionError as exc:
            last = exc
        if attempt == policy.attempts:
            break
        wait = policy.delay(attempt, retry_after)
        log.warning("%s failed (%s); try %d of %d in %.2fs", what, last, attempt + 1, policy.attempts, wait)
        sleep(wait)
    raise TransientApiError(f"{what} failed after {policy.attempts} tries: {last}") from last


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in runs of at most ``size`` (the keys or records one call takes)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
