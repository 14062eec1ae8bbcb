"""Staged extracts: what a run read from each system, so later tasks work from the same reads, and the picture
of each system (``seen_record``: every record as the sync last saw it) that the run's steps plan over."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from include.sync.db import KEYS_PER_QUERY, SyncDatabase, Tx, format_ts, parse_ts
from include.sync.model import Record, System
from include.sync.planner import MappingState
from include.sync.record_types import RecordType
from include.sync.refs import Refs


def stage(tx: Tx, run_id: str, rt: RecordType, system: System, records: Iterable[Record], swept: bool = True) -> int:
    """Stage what a run read of one system's records, and make it the picture of them (``seen_record``).
    ``swept``: the records are every key the system has (a deletion sweep); the picture drops the others."""
    scope = {"run_id": run_id, "system": system, "record_type": rt.name}
    tx.execute("clear_staged", scope)
    rows = [
        {
            "run_id": run_id, "system": system, "record_type": rt.name, "record_key": r.key,
            "record_name": r.name, "modified": format_ts(r.modified) if r.modified else None,
            "flagged": int(r.flagged), "record_group": r.group, "content_hash": r.content_hash,
            "payload": json.dumps({"raw": r.raw, "fields": r.fields, "problem": r.problem,
                                   **({"unchanged": True} if r.unchanged else {})}, default=str)
            if r.raw is not None else None,
        }
        for r in records
    ]
    tx.execute("insert_staged", rows)
    if swept:
        tx.execute("unsee_unlisted", scope)
    tx.execute("see_staged", scope)
    return len(rows)


def load_staged(db: SyncDatabase, run_id: str, rt: RecordType, system: System,
                include_quarantined: bool = False, keys: Iterable[str] | None = None,
                quarantined_as_keys: bool = False) -> dict[str, Record]:
    """What the run staged of one system; or, for ``keys`` (a batch reads only its own), those records of the
    run's picture: as staged this run, else bare as last seen.

    Quarantined rows are left out, or returned whole (``include_quarantined``), or as bare keys
    (``quarantined_as_keys``: the record exists, so its mapping stays, but nothing of it is used)."""
    records: dict[str, Record] = {}
    params: dict[str, Any] = {"run_id": run_id, "system": system, "record_type": rt.name}
    rows = db.rows_by_keys("select_staged_by_keys", params, keys) if keys is not None else \
        db.rows("select_staged", params)
    for row in rows:
        if row.quarantined and quarantined_as_keys:
            records[row.record_key] = Record(system, row.record_key, row.record_name, parse_ts(row.modified),
                                             bool(row.flagged), problem="quarantined")
            continue
        if row.quarantined and not include_quarantined:
            continue
        payload = json.loads(row.payload) if row.payload else None
        records[row.record_key] = Record(
            system=system, key=row.record_key, name=row.record_name, modified=parse_ts(row.modified),
            flagged=bool(row.flagged), fields=payload["fields"] if payload else {},
            raw=payload["raw"] if payload else None, content_hash=row.content_hash, group=row.record_group,
            problem=payload.get("problem") if payload else None,
            unchanged=bool(payload.get("unchanged")) if payload else False,
        )
    return records


def as_seen(system: System, row: Any) -> Record:
    """A ``seen_record`` row as a bare record: known by its list columns, unchanged since the sync saw it."""
    return Record(system, row.record_key, row.record_name, parse_ts(row.modified), bool(row.flagged),
                  group=row.record_group, unchanged=True)


def is_first_sync(db: SyncDatabase, rt: RecordType) -> bool:
    """Whether the type's first sync is still to be completed: it is complete only once a run applied its
    whole plan (``finish.advance_watermarks`` marks it), so a first sync that crashed part-way is redone."""
    return not db.scalar("first_sync_done", {"record_type": rt.name})


def load_refs(db: SyncDatabase, rt: RecordType) -> Refs:
    """The mappings of the record types ``rt`` refers to (a contact's firm), for its conversions."""
    return Refs({t: [(r.ajera_key, r.crm_key) for r in db.rows("select_mapping_keys", {"record_type": t})]
                 for t in rt.references})


BY_KEY_UP_TO = 4 * KEYS_PER_QUERY  # keys looked up by key; for more, one read of the whole table is cheaper


def mappings_of(db: SyncDatabase, rt: RecordType, system: System, keys: Collection[str]) -> list[Any]:
    """The mappings (``select_mapping_keys`` rows) of these keys of ``system``: queried by key for as many as a
    run between sweeps looks at, read whole for more (a sweep's every key), so the cost follows what the run
    read, not the size of the table."""
    wanted = set(keys)
    if len(wanted) > BY_KEY_UP_TO:
        side = 0 if system == "ajera" else 1
        return [row for row in db.rows("select_mapping_keys", {"record_type": rt.name}) if row[side] in wanted]
    return db.rows_by_keys("select_mapping_keys_of", {"record_type": rt.name, "system": system}, wanted)


def mapped_among(db: SyncDatabase, rt: RecordType, system: System, keys: Collection[str]) -> set[str]:
    """Those of these keys of ``system`` that have a mapping."""
    side = 0 if system == "ajera" else 1
    return {row[side] for row in mappings_of(db, rt, system, keys)}


def load_mappings(db: SyncDatabase, rt: RecordType) -> list[MappingState]:
    return [mapping_state(r) for r in db.rows("select_mappings", {"record_type": rt.name})]


def mapping_state(r: Any) -> MappingState:
    """A ``record_mapping`` row as the planner sees it."""
    return MappingState(r.ajera_key, r.crm_key, parse_ts(r.ajera_modified), parse_ts(r.crm_modified),
                        r.ajera_hash, r.crm_hash, _json(r.ajera_fields), _json(r.crm_fields))


def _json(blob: str | None) -> dict[str, Any] | None:
    return json.loads(blob) if blob else None
