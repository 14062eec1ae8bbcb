"""The deletion sweep: listing every key of a record type, the only way to see that a record was deleted.

Between sweeps a run lists only what changed since the watermark (Ajera's windowed List, the CRM's ModDate
filter) and carries the rest of its picture over from the latest earlier snapshot of the type: what did not
change is not asked for. Every ``deletion_sweep_hours`` (a deployment setting; 0 sweeps every run) a run
lists every key instead, and the mappings of records no longer there are removed then. A first sync, a
backfill and a run with no earlier snapshot always sweep. The run summary says when the sweep last ran.

Carrying the picture over is sound because every change since that snapshot falls in this run's window
(the watermark never passes what a sweep saw), so only deletions wait for the next sweep.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from include.sync.db import SyncDatabase, Tx, parse_ts, utcnow
from include.sync.model import Record, System
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions


def due(db: SyncDatabase, rt: RecordType, system: System, options: RunOptions, now: datetime | None = None) -> bool:
    if options.deletion_sweep_hours <= 0:
        return True
    last = parse_ts(db.scalar("last_full_sweep", {"record_type": rt.name, "system": system}))
    now = now or datetime.now(UTC)
    return last is None or last <= now - timedelta(hours=options.deletion_sweep_hours)


def carried_over(db: SyncDatabase, rt: RecordType, system: System, run_id: str) -> dict[str, Record] | None:
    """The latest earlier snapshot of the type, every record bare and marked unchanged; None when there is
    none to carry (never staged, or purged): then the run must sweep."""
    previous = db.scalar("previous_snapshot_run", {"record_type": rt.name, "system": system, "run_id": run_id})
    if previous is None:
        return None
    # The bare columns only: the payloads of the earlier snapshot would be parsed just to be dropped.
    carried = {row.record_key: Record(system, row.record_key, row.record_name, parse_ts(row.modified),
                                      bool(row.flagged), group=row.record_group, unchanged=True)
               for row in sorted(db.rows("select_staged_columns",
                                         {"run_id": previous, "system": system, "record_type": rt.name}),
                                 key=lambda row: row.record_key)}
    return carried or None  # None: purged, or an empty type (a sweep of it costs one call)


def merge(changed: Iterable[Record], carried: dict[str, Record]) -> list[Record]:
    """This run's picture: what changed as read now, everything else as last seen."""
    fresh = list(changed)
    seen = {r.key for r in fresh}
    return fresh + [r for key, r in carried.items() if key not in seen]


def record(tx: Tx, rt: RecordType, system: System, run_id: str) -> None:
    tx.execute("record_full_sweep", {"record_type": rt.name, "system": system, "run_id": run_id, "now": utcnow()})


def last_swept(db: SyncDatabase, record_types: Iterable[str]) -> str | None:
    """When the least recently swept of ``record_types`` (either system) was last swept in full."""
    wanted = set(record_types)
    times = [row.swept_at for row in db.rows("full_sweeps") if row.record_type in wanted]
    return min(times) if times else None
