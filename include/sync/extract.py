"""Extract: read one record type from one system into the staging table.

Every run sweeps all keys and names (List calls are cheap and the only way to see deletes), then
fetches full records only for what changed since the watermark (less an overlap), flagged records not yet
mapped, and records whose last write failed. The first run of a record type fetches everything, because
first-time matching compares all records of both systems.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from include.sync import journal, lock, review
from include.sync.db import SyncDatabase, format_ts, parse_ts
from include.sync.model import Record, System
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.staging import is_first_sync, stage
from include.sync.systems import AjeraSide, CrmSide


@dataclass(frozen=True)
class ExtractResult:
    system: str
    record_type: str
    swept: int
    fetched: int
    duplicates: int
    since: str | None


def changed_since(options: RunOptions, watermark: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The modified-date window of this run: a backfill's data interval, else the watermark less overlap."""
    if options.window_start is not None:
        return options.window_start, options.window_end
    if watermark is None:
        return None, None
    return watermark - timedelta(minutes=options.overlap_minutes), None


def extract(
    db: SyncDatabase, side: AjeraSide | CrmSide, rt: RecordType, run_id: str, options: RunOptions
) -> ExtractResult:
    system: System = side.system
    lock.hold(db, run_id)
    watermark = parse_ts(db.scalar("get_watermark", {"system": system, "record_type": rt.name}))
    start, end = changed_since(options, watermark)
    mappings = db.rows("select_mappings", {"record_type": rt.name})
    first_time = is_first_sync(db, rt)
    # Ajera's list rows carry no modified date: its sweep asks for what changed in the window instead.
    swept = side.sweep(rt, None if first_time else start, None if first_time else end)
    unique: dict[str, Record] = {}
    duplicates: list[Record] = []
    for record in swept:
        if record.key in unique:
            duplicates.append(record)
        else:
            unique[record.key] = record

    mapped = {row.ajera_key if system == "ajera" else row.crm_key for row in mappings}
    failures = db.rows("failed_keys", {"record_type": rt.name, "system": system})
    failed = {row.record_key for row in failures if not row.poison}
    # Records waiting on something (room under the cap, their firm, a flag) are read again every run.
    failed |= {row.record_key for row in db.rows("pending_note_keys", {"record_type": rt.name, "system": system})}
    # Read in full whatever the watermark: failed writes, and what a person asked for on the Sync Details
    # page (records to retry, pairs whose conflict they decided).
    reread = failed | review.pending_retries(db, rt.name, system)
    reread |= {pair[0 if system == "ajera" else 1] for pair in review.pending_decisions(db, rt.name)}
    poisoned = {row.record_key: parse_ts(row.updated_at) for row in failures if row.poison}

    def set_aside(record: Record) -> bool:
        """Poison, and not edited since: left alone until a person fixes it (an edit moves its date)."""
        marked = poisoned.get(record.key)
        return marked is not None and (record.modified is None or record.modified <= marked)

    for record in unique.values():
        if set_aside(record):
            record.flagged = False
    # Records referring to a record linked since this type last finished (contacts of a firm linked in this
    # run, or in a firms-only run) hold a new reference with no new modified date: read the mapped ones
    # again so the reference reaches the other side.
    last_synced = db.scalar("watermark_updated_at", {"system": system, "record_type": rt.name}) or ""
    refs_linked = any(db.scalar("count_linked_since", {"record_type": t, "since": last_synced}) for t in rt.references)

    def wanted(record: Record) -> bool:
        if set_aside(record):
            return False
        if first_time or start is None:
            return True
        if record.flagged and record.key not in mapped:
            return True
        if record.key in reread or (refs_linked and record.key in mapped):
            return True
        if record.unchanged:
            return False
        if record.modified is None:
            return True
        return record.modified >= start and (end is None or record.modified < end)

    # A record the sweep could not read (its key or name of the wrong type) is not fetched: it is staged as
    # swept and quarantined with that reason, and cannot break the batch fetch of the others.
    keys = [key for key, record in unique.items() if wanted(record) and not record.problem]
    fetched = {r.key: r for r in side.fetch(rt, keys, unique)}
    for key, record in fetched.items():
        # The full record's own flag, parsed strictly, is the truth: a list filter's view of an odd value
        # (the text "false") may differ. Only a record whose flag could not be read keeps the sweep's.
        own = record.flagged if record.raw is not None and not record.problem else record.flagged or unique[key].flagged
        record.flagged = own and not set_aside(record)
    # A poison record the windowed sweep returned whole is staged bare all the same: set aside means unused.
    merged = [fetched.get(key) or (replace(record, raw=None, fields={}, content_hash=None) if set_aside(record)
                                   else record) for key, record in unique.items()]

    # The watermark may move only as far as the sweep saw: a record changed between the sweep and the
    # fetch is older than what the fetch returned, and must still be read next run.
    swept_through = max((r.modified for r in unique.values() if r.modified), default=None)
    with db.begin() as tx:
        stage(tx, run_id, rt, system, merged)
        if not options.dry_run:
            tx.execute("mark_retries_read", {"run_id": run_id, "system": system, "record_type": rt.name})
        tx.execute("record_sweep", {"run_id": run_id, "system": system, "record_type": rt.name,
                                    "swept_through": format_ts(swept_through) if swept_through else None})
        for record in duplicates:
            journal.quarantine(tx, run_id, rt.name, record, f"key {record.key} returned twice by the API",
                               system)
    return ExtractResult(system, rt.name, len(unique), len(fetched), len(duplicates),
                         start.isoformat() if start else None)
