"""The canonical view of a record that the engine works on, whichever system it came from."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

System = Literal["ajera", "crm"]
SYSTEMS: tuple[System, System] = ("ajera", "crm")

# Ajera's own date form: "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)"; the filter form of
# the docs has no colon and no zone name ("2015-03-11 16:22:54.229 GMT-0700").
_AJERA_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d{1,7})? GMT([+-]\d{2}):?(\d{2})(?: \([^()]*\))?$")


def other(system: System) -> System:
    return "crm" if system == "ajera" else "ajera"


@dataclass
class Record:
    """One record as the engine sees it: key, matching name, modified date, flag and synced fields."""

    system: System
    key: str
    name: str
    modified: datetime | None
    flagged: bool
    fields: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] | None = None  # the record as the API returned it; None if only swept
    content_hash: str | None = None  # hash of the synced fields (None if only swept)
    group: str | None = None  # the value a per-group cap counts by (a contact's firm), if the type has one
    problem: str | None = None  # what could not be read (a bad date, a field of the wrong type): quarantined
    unchanged: bool = False  # the sweep saw it outside the run's modified-date window (no date on the list row)


def fields_hash(fields: dict[str, Any]) -> str:
    """A short, stable hash of the synced fields; the echo check compares these."""
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def parse_ajera_date(value: str | None) -> datetime | None:
    """Ajera's ``LastModifiedDate`` (``"2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)"``, or the
    docs' ``"2015-03-11 16:22:54.229 GMT-0700"``) → aware UTC datetime. The zone name is only a label: the
    offset decides."""
    if not value:
        return None
    match = _AJERA_DATE.match(value.strip())
    if not match:
        raise ValueError(f"not an Ajera date: {value!r}")
    day, clock, fraction, hours, minutes = match.groups()
    micros = (fraction or ".0")[1:].ljust(6, "0")[:6]
    sign = "-" if hours.startswith("-") else "+"
    return datetime.fromisoformat(f"{day}T{clock}.{micros}{sign}{hours[1:]}:{minutes}").astimezone(UTC)


def format_ajera_date(value: datetime) -> str:
    """The date filter form of the docs, in UTC: ``"2015-03-11 23:22:54.229 GMT+0000"``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d} GMT+0000"


def parse_crm_date(value: str | None) -> datetime | None:
    """Vantagepoint dates carry no zone; the tenant's are taken as UTC (as the simulator writes them)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_crm_date(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


# C0 and C1 control characters (NUL included) and DEL. PostgreSQL refuses NUL in text, SQLite keeps it: the
# sync removes them all at the boundary, so both databases (and the other system) see the same text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


class WrongType(TypeError):
    """An API value of a JSON type the field cannot hold (a list or an object where text belongs)."""


def clean_text(value: str) -> str:
    """Control characters removed, tabs and line breaks folded to one space, ends stripped."""
    return _LINE_BREAKS.sub(" ", _CONTROL.sub("", value)).strip()


def text(value: Any) -> str:
    """Synced text fields compare as cleaned strings; None and "" are the same. Numbers become their text;
    a list or an object is never stringified: it raises ``WrongType`` and the record is quarantined."""
    if value is None:
        return ""
    if isinstance(value, (list, dict, tuple, set)):
        raise WrongType(f"expected text, got a JSON {'array' if not isinstance(value, dict) else 'object'}")
    return clean_text(str(value))


def name_text(value: Any) -> str:
    """A name part: text or nothing. A number, a flag, a list or an object is a wrong type, not a name."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WrongType(f"a name must be text, got {type(value).__name__} {value!r:.60}")
    return clean_text(value)


def visible(value: str) -> bool:
    """Whether a text has anything a person can see: zero-width, format and space characters are not."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Zs", "Zl", "Zp", "Mn")
               for ch in value)


_TRUE = {"true", "y", "yes", "1"}
_FALSE = {"false", "n", "no", "0", ""}


def parse_flag(value: Any) -> bool:
    """A sync flag, strictly: JSON true/false, 1/0, or the texts Y/N, true/false, yes/no. The text "false"
    is false; anything else (an object, "maybe") raises ``WrongType`` and the record is quarantined."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    raise WrongType(f"a flag must be true or false, got {value!r:.60}")
