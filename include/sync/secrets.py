"""Secrets scrubbed from every log line the project writes, and from the integration log.

Credentials live in Airflow connections; the clients never log them on purpose. This is the safety net
for what slips through: an exception message quoting a URL, a webhook's secret address in an error, a
token in a traceback. ``install()`` puts a log-record factory in front of every logger (ours, the HTTP
libraries', Airflow's), so each record is scrubbed when it is made, whatever handler writes it; the
journal scrubs the messages it stores.

Two kinds of secret are hidden:
- values registered with ``register`` (passwords, client secrets, webhook URLs: the Airflow hooks register
  what the connections hold), each replaced by ``***``, a URL also by its path and query alone;
- shapes that are secret whatever their value: a URL's user:password part, query parameters such as
  ``token=``, ``password=``, ``client_secret=``, ``sig=``, and ``Bearer`` tokens.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import urlsplit

MASK = "***"
MIN_LENGTH = 6  # shorter values ("sync", a port) would mask ordinary words
_SHAPES = [
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), rf"\1{MASK}@"),
    (re.compile(r"(?i)([?&;](?:access_token|refresh_token|token|password|passwd|pwd|secret|client_secret|api_key|"
                r"apikey|key|sig|signature|code|auth)=)[^&#\s'\"]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
    (re.compile(r"(?i)(\"?(?:password|client_secret|access_token|refresh_token|SessionToken)\"?\s*[:=]\s*\"?)"
                r"[^\s\"',}]+"), rf"\1{MASK}"),
]

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None
_installed = False


def register(*values: Any) -> None:
    """Hide these values from now on (a URL: also its path and query, which carry a webhook's secret)."""
    global _pattern
    found = set()
    for value in values:
        if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
            continue
        found.add(value.strip())
        if "://" in value:
            parts = urlsplit(value.strip())
            tail = parts.path + (f"?{parts.query}" if parts.query else "")
            if len(tail.strip("/")) >= MIN_LENGTH:
                found.add(tail)
    with _lock:
        if found - _values:
            _values.update(found)
            # Longest first, so a URL is hidden whole before its path alone is.
            _pattern = re.compile("|".join(re.escape(v) for v in sorted(_values, key=len, reverse=True)))


def scrub(text: str) -> str:
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for shape, replacement in _SHAPES:
        text = shape.sub(replacement, text)
    return text


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, exception text and stack scrubbed (formatted now, so nothing later
    formats the raw values again)."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is, scrubbed
        message = f"{record.msg} {record.args}"
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


class ScrubFilter(logging.Filter):
    """The same scrubbing as a handler filter, for handlers that make records by other means."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def install() -> None:
    """Scrub every log record made in this process from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return scrub_record(make(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
