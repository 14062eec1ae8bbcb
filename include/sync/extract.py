"""Extract: read one record type from one system into the staging table.

A run sweeps all keys and names (the only way to see deletes) on the deletion sweep's schedule, and
otherwise lists what changed and carries the rest over from the last snapshot (``include.sync.sweeps``); it
fetches full records only for what changed since the watermark (less an overlap), flagged records not yet
mapped, and records whose last write failed. The first run of a record type fetches everything, because
first-time matching compares all records of both systems. Records staged whole only because they wait
(flagged but left alone, a pending note) come from their last whole copy while they do not change
(``include.sync.copies``): a quiet run reads nothing in full.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from include.sync import copies, journal, lock, review, sweeps
from include.sync.db import SyncDatabase, format_ts, parse_ts
from include.sync.model import Record, System
from include.sync.plan_model import HELD_FOR_REVIEW
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions
from include.sync.staging import is_first_sync, mappings_of, stage
from include.sync.systems import AjeraSide, CrmSide


@dataclass(frozen=True)
class ExtractResult:
    system: str
    record_type: str
    swept: int
    fetched: int
    duplicates: int
    since: str | None
    from_copies: int = 0  # staged whole from the copies of records left alone since (no API read)


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
    first_time = is_first_sync(db, rt)
    wants = _Wanted(db, side, rt, system, first_time, start, end)
    swept, full_sweep = _sweep(db, side, rt, options, first_time, start, end, wants)
    unique, duplicates = first_of_each_key(swept)
    wants.look_up(unique)
    for record in unique.values():
        if wants.set_aside(record):
            record.flagged = False
    # A record the sweep could not read (its key or name of the wrong type) is not fetched: it is staged as
    # swept and quarantined with that reason, and cannot break the batch fetch of the others.
    keys = [key for key, record in unique.items() if wants(record) and not record.problem]
    # Records left alone since their last whole read are staged from their copies; the rest are read.
    existing = copies.load(db, rt, system, unique)
    trusted = from_copies(keys, unique, existing, wants.must_read, live_window=end is None and not first_time)
    fetched = {r.key: r for r in side.fetch(rt, [k for k in keys if k not in trusted], unique)}
    fetched.update({k: copies.as_record(copy, lambda raw: side.from_raw(rt, raw)) for k, copy in trusted.items()})
    for key, record in fetched.items():
        # The full record's own flag, parsed strictly, is the truth: a list filter's view of an odd value
        # (the text "false") may differ. Only a record whose flag could not be read keeps the sweep's.
        own = record.flagged if record.raw is not None and not record.problem else record.flagged or unique[key].flagged
        record.flagged = own and not wants.set_aside(record)
    # A poison record the windowed sweep returned whole is staged bare all the same: set aside means unused.
    merged = [fetched.get(key) or (replace(record, raw=None, fields={}, content_hash=None) if wants.set_aside(record)
                                   else record) for key, record in unique.items()]
    # Between sweeps the list rows the picture holds as they are need no row of their own.
    staged = merged if full_sweep else sweeps.not_as_seen(db, rt, system, merged, wants.again)

    # The watermark may move only as far as the sweep saw: a record changed between the sweep and the
    # fetch is older than what the fetch returned, and must still be read next run.
    listed = [r.modified for r in unique.values() if r.modified]
    seen_through = None if full_sweep else sweeps.latest_seen(db, rt, system)
    if seen_through is not None:  # the rest of the picture, as a sweep would have seen it
        listed.append(seen_through)
    swept_through = max(listed, default=None)
    with db.begin() as tx:
        stage(tx, run_id, rt, system, staged, swept=full_sweep)
        if full_sweep:
            sweeps.record(tx, rt, system, run_id)
        # Of the copies, only those of the records this run looked at are kept or dropped: a run between sweeps
        # leaves the others as they are.
        copies.save(tx, run_id, rt, system, [*fetched.values(), *unique.values()],
                    wants.keep({r.key: r for r in merged}), existing.keys() & unique.keys())
        if not options.dry_run:
            tx.execute("mark_retries_read", {"run_id": run_id, "system": system, "record_type": rt.name})
        tx.execute("record_sweep", {"run_id": run_id, "system": system, "record_type": rt.name,
                                    "swept_through": format_ts(swept_through) if swept_through else None})
        for record in duplicates:
            journal.quarantine(tx, run_id, rt.name, record, f"key {record.key} returned twice by the API",
                               system)
    return ExtractResult(system, rt.name, len(unique), len(fetched) - len(trusted), len(duplicates),
                         start.isoformat() if start else None, len(trusted))


def first_of_each_key(swept: list[Record]) -> tuple[dict[str, Record], list[Record]]:
    """The records by key, and the rows that repeat a key already seen (quarantined: the API's fault)."""
    unique: dict[str, Record] = {}
    duplicates: list[Record] = []
    for record in swept:
        if record.key in unique:
            duplicates.append(record)
        else:
            unique[record.key] = record
    return unique, duplicates


def from_copies(keys: list[str], swept: dict[str, Record], existing: dict[str, copies.Copy], must_read: set[str],
                live_window: bool) -> dict[str, copies.Copy]:
    """Of the records to stage whole, those staged from their last whole copy instead of an API read: not
    changed since it (``copies.current``), not asked to be read again, and only in a run that reads the live
    window after a first sync (a backfill's window or a first sync reads everything)."""
    if not live_window:
        return {}
    return {k: existing[k] for k in keys
            if k in existing and k not in must_read and copies.current(swept[k], existing[k])}


def _sweep(db: SyncDatabase, side: AjeraSide | CrmSide, rt: RecordType, options: RunOptions, first_time: bool,
           start: datetime | None, end: datetime | None, wants: _Wanted) -> tuple[list[Record], bool]:
    """(What the run stages of the type, whether it listed every key.) Every key is listed only on the deletion
    sweep's schedule; between sweeps the run lists what changed, and takes from the picture only the records it
    must look at again (include.sync.sweeps)."""
    system: System = side.system
    if not (first_time or start is None or end is not None or sweeps.due(db, rt, system, options)):
        seen = sweeps.seen_again(db, rt, system, wants.again, everything=wants.refs_linked, held=wants.held)
        if seen is not None:
            return sweeps.merge(side.changed(rt, start), seen), False
    # Ajera's list rows carry no modified date: its sweep asks for what changed in the window instead.
    return side.sweep(rt, None if first_time else start, None if first_time else end), True


class _Wanted:
    """Which swept records a run stages whole, and which of them must be read from the API itself."""

    def __init__(self, db: SyncDatabase, side: AjeraSide | CrmSide, rt: RecordType, system: System,
                 first_time: bool, start: datetime | None, end: datetime | None) -> None:
        self.db, self.side, self.rt, self.system = db, side, rt, system
        self.first_time, self.start, self.end = first_time, start, end
        self.mapped: set[str] = set()  # of the listed records (``look_up``)
        self.last_read: dict[str, datetime | None] = {}
        failures = db.rows("failed_keys", {"record_type": rt.name, "system": system})
        # Read in full whatever the watermark, from the API: failed writes, and what a person asked for on
        # the Sync Details page (records to retry, pairs whose conflict they decided).
        self.must_read = {row.record_key for row in failures if not row.poison}
        self.must_read |= review.pending_retries(db, rt.name, system)
        self.must_read |= {pair[0 if system == "ajera" else 1] for pair in review.pending_decisions(db, rt.name)}
        # Records waiting on something (room under the cap, their firm, a flag) are staged whole every run,
        # from their copies while they do not change; not those held only for a person's review.
        self.held = held_for_review(db, rt, system)
        self.waiting = {row.record_key for row in db.rows("pending_note_keys", {"record_type": rt.name,
                                                                                "system": system})} - self.held
        self.poisoned = {row.record_key: parse_ts(row.updated_at) for row in failures if row.poison}
        # Records referring to a record linked since this type last finished (contacts of a firm linked in
        # this run, or in a firms-only run) hold a new reference with no new modified date: read the mapped
        # ones again so the reference reaches the other side.
        last_synced = db.scalar("watermark_updated_at", {"system": system, "record_type": rt.name}) or ""
        self.refs_linked = any(db.scalar("count_linked_since", {"record_type": t, "since": last_synced})
                               for t in rt.references)
        # What a run between sweeps takes from the picture besides what changed (and the flagged ones with no
        # mapping): the records the checks below may want though they did not change. Not the unchanged records
        # of a type whose flag is only in whole records: the picture holds the flag of their last whole read.
        self.again = self.must_read | self.waiting | set(self.poisoned)

    def look_up(self, keys: Collection[str]) -> None:
        """The mappings of the records the run listed (only those: a run between sweeps lists few)."""
        mappings = mappings_of(self.db, self.rt, self.system, keys)
        self.mapped = {row.ajera_key if self.system == "ajera" else row.crm_key for row in mappings}
        # The modified date of each mapped CRM record as the sync last read it (its mapping's sync state); only
        # the CRM's list rows carry a date, and a backfill's window reads everything in it again (as copies).
        self.last_read = {row.crm_key: parse_ts(row.crm_modified) for row in mappings
                          if row.crm_modified} if self.system == "crm" and self.end is None else {}

    def set_aside(self, record: Record) -> bool:
        """Poison, and not edited since: left alone until a person fixes it (an edit moves its date)."""
        marked = self.poisoned.get(record.key)
        return marked is not None and (record.modified is None or record.modified <= marked)

    def __call__(self, record: Record) -> bool:
        if self.set_aside(record):
            return False
        if self.first_time or self.start is None or self.side.always_whole(self.rt):
            return True
        if record.flagged and record.key not in self.mapped and not (record.unchanged and record.key in self.held):
            return True
        if record.key in self.must_read or record.key in self.waiting:
            return True
        if self.refs_linked and record.key in self.mapped:
            return True
        if record.unchanged:
            return False
        if record.modified is not None and record.modified == self.last_read.get(record.key):
            # The version the sync last read (the CRM's list rows carry the date), in the window only by its
            # overlap: the mapping holds its values, as for a record outside the window. A record the sync
            # wrote since has a later date, and is read.
            return False
        if record.modified is None:
            return True
        return record.modified >= self.start and (self.end is None or record.modified < self.end)

    def keep(self, swept: dict[str, Record]) -> set[str]:
        """The records whose whole copy a later run may use: the ones it would read again unchanged."""
        if self.side.always_whole(self.rt):
            return set(swept)
        return {k for k, r in swept.items() if r.flagged and k not in self.mapped} | (self.waiting & set(swept))


def held_for_review(db: SyncDatabase, rt: RecordType, system: System) -> set[str]:
    """Records of ``system`` held back only until a person decides a match suggestion: a flagged one with no
    mapping and a suggestion awaiting review is held whatever its fields (``plan_unmapped``), so a run that sees
    it unchanged leaves it to the picture instead of staging its whole copy (at M, 20,000 of a quiet run's rows).
    Not one that also waits for something else (a pending note besides the hold)."""
    return {row.record_key for row in db.rows("held_for_review", {"record_type": rt.name, "system": system,
                                                                   "held": HELD_FOR_REVIEW})}
