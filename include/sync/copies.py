"""Whole copies of the records a run leaves alone, so that a quiet run does not read them again.

Besides what changed since the watermark, extract reads in full the records that wait whatever their
date (flagged but not created, held back with a pending note) and, for a type whose flag is only in whole
records (consultant vendors), all of them. Their last whole read is kept here, and a later run stages that
copy instead of a Get while the record has not changed:

- Ajera list rows carry no modified date, but the sweep's windowed List names every record changed since
  the watermark (less the overlap). A record it did not return has not changed since its copy was read:
  every change falls in some run's window, that run read the record in full, and that read refreshed the
  copy. A backfill's window ends in the past, so a backfill neither trusts copies nor skips that refresh.
- CRM list rows carry the modified date: the copy holds while the two dates are equal.

Only the records that need a copy keep one (``keep``); the others' copies are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from include.sync.db import SyncDatabase, Tx, format_ts, parse_ts
from include.sync.model import Record, System
from include.sync.record_types import RecordType


@dataclass(frozen=True)
class Copy:
    modified: datetime | None
    raw: dict[str, Any]


def load(db: SyncDatabase, rt: RecordType, system: System, keys: Iterable[str]) -> dict[str, Copy]:
    """The copies of ``keys`` (the records a run looks at): not every copy, most of which a run between sweeps
    leaves to the picture."""
    return {row.record_key: Copy(parse_ts(row.modified), json.loads(row.raw))
            for row in db.rows_by_keys("select_copies", {"record_type": rt.name, "system": system}, keys)}


def current(record: Record, copy: Copy) -> bool:
    """Whether ``copy`` is still the record as the API holds it, judged from this run's sweep row."""
    if record.system == "ajera":
        return record.unchanged
    return record.modified is not None and copy.modified == record.modified


def as_record(copy: Copy, convert: Callable[[dict[str, Any]], Record]) -> Record:
    """The copy as a whole record (``convert``: the side's raw -> Record, with this run's references),
    marked unchanged: staged whole, yet not a change (accounting and consultants skip it)."""
    return replace(convert(copy.raw), unchanged=True)


def save(tx: Tx, run_id: str, rt: RecordType, system: System, read: Iterable[Record], keep: set[str],
         existing: Iterable[str]) -> None:
    """Keep this run's whole reads of the ``keep`` records; drop the copies of ``existing`` (the records with a
    copy that the run looked at) no longer kept."""
    scope = {"record_type": rt.name, "system": system}
    tx.execute("upsert_copy", [
        {**scope, "record_key": r.key, "modified": format_ts(r.modified) if r.modified else None,
         "raw": json.dumps(r.raw, default=str), "read_run_id": run_id}
        for r in read if r.key in keep and r.raw is not None and not r.unchanged])
    tx.execute("delete_copy", [{**scope, "record_key": key} for key in existing if key not in keep])
