"""The deletion sweep: listing every key of a record type, the only way to see that a record was deleted.

Between sweeps a run lists only what changed since the watermark (Ajera's windowed List, the CRM's ModDate
filter); the rest of its picture is each record as the sync last saw it (``seen_record``, which every extract
updates with what it staged): what did not change is not asked for, and not staged again either. Every
``deletion_sweep_hours`` (a deployment setting; 0 sweeps every run) a run lists every key instead, and the
picture drops what the sweep no longer listed (the plan then removes their mappings). A first sync, a backfill
and a type with no picture yet always sweep. The run summary says when the sweep last ran.

Taking the picture as it is is sound because every change since it was seen falls in this run's window (the
watermark never passes what a sweep saw), so only deletions wait for the next sweep.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from include.sync.db import SyncDatabase, Tx, parse_ts, utcnow
from include.sync.model import Record, System
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.staging import as_seen


def due(db: SyncDatabase, rt: RecordType, system: System, options: RunOptions, now: datetime | None = None) -> bool:
    if options.deletion_sweep_hours <= 0:
        return True
    last = parse_ts(db.scalar("last_full_sweep", {"record_type": rt.name, "system": system}))
    now = now or datetime.now(UTC)
    return last is None or last <= now - timedelta(hours=options.deletion_sweep_hours)


def seen_again(db: SyncDatabase, rt: RecordType, system: System, keys: Collection[str],
               everything: bool = False, held: Collection[str] = ()) -> dict[str, Record] | None:
    """Of the picture, the records a run between sweeps looks at again though they did not change: ``keys``
    (retries, decisions, records waiting or set aside), the flagged ones with no mapping but those ``held`` for
    a person's review, or ``everything``; bare and marked unchanged, in key order. None when the type has no
    picture yet: then the run must sweep."""
    scope = {"record_type": rt.name, "system": system}
    if db.scalar("seen_exists", scope) is None:
        return None  # never swept (or an empty type: a sweep of it costs one call)
    if everything:
        rows = db.rows("seen_all", scope)
    else:
        rows = [row for row in db.rows("seen_flagged_unmapped", scope) if row.record_key not in held]
        rows += _seen_rows(db, rt, system, keys)
    return {row.record_key: as_seen(system, row) for row in sorted(rows, key=lambda row: row.record_key)}


def latest_seen(db: SyncDatabase, rt: RecordType, system: System) -> datetime | None:
    """The newest modified date of the picture: a run between sweeps has seen that far, as its sweep would."""
    return parse_ts(db.scalar("seen_latest_modified", {"record_type": rt.name, "system": system}))


def _seen_rows(db: SyncDatabase, rt: RecordType, system: System, keys: Collection[str]) -> list[Any]:
    return db.rows_by_keys("seen_by_keys", {"record_type": rt.name, "system": system}, keys)


def not_as_seen(db: SyncDatabase, rt: RecordType, system: System, records: list[Record],
                looked_at: Collection[str]) -> list[Record]:
    """Of what a run between sweeps would stage, all but the list rows the picture already holds as they are:
    a bare row (not read in full) with the same name, date, flag and group as last seen is what the picture
    gives the steps anyway. They are what the modified-date overlap lists again (mostly the sync's own
    writes, whose dates its mappings hold), and at M were most of a quiet run's rows. Whole records, rows with
    a problem, records looked at again for a reason (``looked_at``) and quarantined picture rows are staged."""
    bare = {r.key: r for r in records if r.raw is None and not r.problem and r.key not in looked_at}
    same: set[str] = set()
    for row in _seen_rows(db, rt, system, bare):
        record = bare[row.record_key]
        if (not row.quarantined and row.record_name == record.name and bool(row.flagged) == record.flagged
                and row.record_group == record.group and parse_ts(row.modified) == record.modified):
            same.add(row.record_key)
    return [r for r in records if r.key not in same]


def merge(changed: Iterable[Record], seen: dict[str, Record]) -> list[Record]:
    """What a run between sweeps stages: what changed as read now, and the rest of what it looks at as last seen."""
    fresh = list(changed)
    listed = {r.key for r in fresh}
    return fresh + [r for key, r in seen.items() if key not in listed]


def record(tx: Tx, rt: RecordType, system: System, run_id: str) -> None:
    tx.execute("record_full_sweep", {"record_type": rt.name, "system": system, "run_id": run_id, "now": utcnow()})


def last_swept(db: SyncDatabase, record_types: Iterable[str]) -> str | None:
    """When the least recently swept of ``record_types`` (either system) was last swept in full."""
    wanted = set(record_types)
    times = [row.swept_at for row in db.rows("full_sweeps") if row.record_type in wanted]
    return min(times) if times else None
