"""Dates of the simulated Ajera API: stored as canonical UTC text, rendered in Ajera's own form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

# Stored dates are canonical UTC text ("YYYY-MM-DD HH:MM:SS.fff"), so they sort and compare as text; the
# API renders them in Ajera's own form, "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)".
STORED_LEN = 23

_DATE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?)?"
    r"\s*(?:(?:GMT|UTC|Z)\s*([+-]\d{2}:?\d{2})?)?\s*(?:\([^)]*\))?\s*$"
)


def stored_stamp(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f".{epoch_ms % 1000:03d}"


def render_stamp(stored: str | None, offset_minutes: int, zone_name: str) -> str | None:
    """Ajera's own date form in the tenant's zone (a fixed offset here)."""
    millis = parse_stamp(stored)
    if millis is None:
        return None
    local = datetime.fromtimestamp(millis / 1000, tz=UTC) + timedelta(minutes=offset_minutes)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (local.strftime("%Y-%m-%d %H:%M:%S") + f".{millis % 1000:03d} GMT{sign}{hours:02d}:{minutes:02d}"
            + (f" ({zone_name})" if zone_name else ""))


def parse_stamp(value: Any) -> int | None:
    """Epoch milliseconds of an Ajera date string (``GMT±hh:mm``/``GMT±hhmm`` offset, optional zone name in
    brackets, or none: UTC), or None if unparseable."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match:
        return None
    day, clock, fraction, offset = match.groups()
    clock = clock or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    try:
        moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        # "GMT-0700" means local = UTC - 7h, so UTC = local + 7h.
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def canonical_stamp(value: Any) -> str | None:
    millis = parse_stamp(value)
    return stored_stamp(millis) if millis is not None else None
