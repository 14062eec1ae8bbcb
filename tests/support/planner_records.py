"""Hand-built records and mappings for the planner tests (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from include.sync.model import Record
from include.sync.planner import MappingState
from include.sync.record_types import FIRM

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def firm_fields(name: str, **overrides: Any) -> dict[str, Any]:
    fields = {"name": name, "status": "active", "phone": "", "email": "", "website": "", "address": "",
              "city": "", "state": "", "zip": ""}
    fields.update(overrides)
    return fields


def rec(system: str, key: str, name: str, *, flagged: bool = False, modified: datetime | None = T0,
        full: bool = True, **field_overrides: Any) -> Record:
    """A record as extract stages it: ``full`` ones carry fields and a raw payload, swept ones neither."""
    fields = firm_fields(name, **field_overrides) if full else {}
    return Record(system, key, name, modified, flagged, fields, raw=dict(fields) if full else None,  # type: ignore[arg-type]
                  content_hash=FIRM.synced_hash(fields) if full else None)


def by_key(*records: Record) -> dict[str, Record]:
    return {r.key: r for r in records}


def synced(a: Record, c: Record) -> MappingState:
    """The mapping state right after a successful sync of this pair (dates and hashes as they are now)."""
    return MappingState(a.key, c.key, a.modified, c.modified, FIRM.synced_hash(a.fields), FIRM.synced_hash(c.fields))


BASE_NAMES = ["Acme Engineering", "Acme Engineering Inc", "Acme Engineers", "Beta & Sons", "Beta and Sons",
              "Gamma", "Gamma LLC", "Delta Partners", "The Delta Partners", "Epsilon"]
VARIANTS = [str, str.upper, str.lower, str.title, str.swapcase,
            lambda s: f"  {s} ", lambda s: s.replace(" ", "   ")]
