"""Writes that cannot lose an edit made while the sync runs.

A run reads both systems, plans, then writes; a person may edit a record in between. Three rules keep
every such edit:

- The sync state recorded after a write (per side: modified date, hash and values of the synced fields)
  is what the *plan read* of that side plus what was written there, never the record as it came back.
  An edit made meanwhile is then still a change against that state, and the next run carries it across.
- Just before a write, the target record is read again (Ajera: the baseline read apply always does;
  the CRM: one list call per chunk for what changed since the extract swept it). A field the write would
  overwrite that was edited there since the plan read it changed on both sides: it is a conflict with
  both values, settled by ownership and then the newer edit, never a silent overwrite.
- An Ajera update refused as stale whose values are in fact in place (a replay of a call whose answer was
  lost, or the same values written meanwhile) counts as saved, not as an error.
- A create whose answer was lost is looked up by the record's whole identity (every name field the API
  can filter on) before anything is created again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from include.sync.db import format_ts
from include.sync.model import Record, System, format_crm_date
from include.sync.names import exact_key
from include.sync.planner import RESOLUTION, Conflict, MappingState, Options, settle
from include.sync.record_types import RecordType
from include.sync.systems import AjeraSide, CrmSide


@dataclass
class Seen:
    """One side of a record as the plan read it: synced field values and modified date."""

    fields: dict[str, Any]
    modified: datetime | None

    @classmethod
    def of(cls, staged: Record | None, mapping: MappingState | None, system: System) -> Seen | None:
        if staged is not None and staged.raw is not None:
            return cls(dict(staged.fields), staged.modified)
        if mapping is not None:  # not fetched: unchanged since its last sync, as the mapping holds it
            fields = mapping.ajera_fields if system == "ajera" else mapping.crm_fields
            modified = mapping.ajera_modified if system == "ajera" else mapping.crm_modified
            if fields is not None:
                return cls(dict(fields), modified)
        return None


def remerge(rt: RecordType, side: System, outgoing: dict[str, Any], current: Record, seen: Seen | None,
            partner: Record | None, partner_seen: Seen | None, ajera_key: str | None, crm_key: str | None,
            options: Options) -> tuple[dict[str, Any], list[Conflict]]:
    """The fields still to write to ``side`` and the conflicts found, given the record as it is there now.

    A field edited on ``side`` since the plan read it, which the write would overwrite with the other
    side's value, changed on both sides: the owner or the newer edit wins; a near-tie is left as it is
    for review (and taken as seen, so it is not carried over either)."""
    if seen is None or current.raw is None:
        return dict(outgoing), []
    keep: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    partner_modified = partner_seen.modified if partner_seen is not None else (partner.modified if partner else None)
    for name, value in outgoing.items():
        now, before = current.fields.get(name), seen.fields.get(name)
        if now in (before, value):
            keep[name] = value
            continue
        a_mod, c_mod = (current.modified, partner_modified) if side == "ajera" else (partner_modified, current.modified)
        winner, reason = settle(rt, name, a_mod, c_mod, options)
        a_value, c_value = (now, value) if side == "ajera" else (value, now)
        where = "Ajera" if side == "ajera" else "the CRM"
        conflicts.append(Conflict(ajera_key or "", crm_key or "", name, a_value, c_value, RESOLUTION[winner],
                                  f"{reason}; edited in {where} while the sync ran"))
        if winner is None:
            seen.fields[name] = now  # left for review: neither carried nor overwritten
        elif winner != side:
            keep[name] = value
        # else: the edit there stands and, still differing from what the plan read, goes across next run
    return keep, conflicts


def reread_crm(rt: RecordType, crm: CrmSide, keys: list[str], since: str | None) -> dict[str, Record]:
    """CRM records among ``keys`` changed since ``since`` (the extract's sweep): one light list call (keys
    and dates of what changed since, our own earlier writes included), then a GET for each of ``keys``
    that changed, which is rare. Every record of ``keys`` is read if the sweep's time is unknown."""
    wanted = set(keys)
    if since:
        filters = [*rt.crm_filters, ("ModDate", ">=", format_crm_date(datetime.fromisoformat(since)))]
        rows = crm.client.list(rt.crm_hub, filters=filters, fields=[rt.crm_key, "ModDate"])
        wanted &= {str(row.get(rt.crm_key)) for row in rows}
    found: dict[str, Record] = {}
    for key in sorted(wanted):
        raw = crm.client.get(rt.crm_hub, key)
        if raw is not None:
            found[key] = rt.from_crm(raw, crm.refs)
    return found


def saved_anyway(rt: RecordType, ajera: AjeraSide, wanted: dict[str, dict[str, Any]]) -> dict[str, Record]:
    """Of refused Ajera updates, the records that hold the values anyway (read again in one call)."""
    if not wanted:
        return {}
    fresh = {r.key: r for r in ajera.fetch(rt, sorted(wanted))}
    return {key: record for key, record in fresh.items()
            if record.raw is not None and all(record.fields.get(f) == v for f, v in wanted[key].items())}


def find_created(rt: RecordType, side: AjeraSide | CrmSide, name: str, fields: dict[str, Any]) -> list[Record]:
    """Unlinked candidates for a create whose answer was lost, found by the record's whole identity.

    The CRM is searched on every name field the create sent (first, middle and last name and the firm of
    a contact; a project's Name and LongName), so a surname of several words, accents or punctuation is
    matched whole; Ajera's List takes the whole name. Either way the exact name rule has the last word."""
    if isinstance(side, CrmSide):
        body = {**rt.crm_new_record, **rt.to_crm(fields, side.refs)}
        filters = [(f, "=", body[f]) for f in rt.crm_name_fields if isinstance(body.get(f), str) and body[f].strip()]
        items = side.client.list(rt.crm_hub, filters=[*rt.crm_filters, *(filters or rt.crm_name_search(name))],
                                 fields=rt.crm_sweep_fields)
        records = [rt.from_crm(item, side.refs, full=False) for item in items]
    else:
        records = side.find_by_name(rt, name)
    wanted = exact_key(name)
    return [r for r in records if exact_key(r.name) == wanted]


def synced_state(rt: RecordType, previous: MappingState | None,
                 ajera: tuple[Record | None, Seen | None, dict[str, Any] | None],
                 crm: tuple[Record | None, Seen | None, dict[str, Any] | None],
                 clock_skew_seconds: int) -> dict[str, Any]:
    """The mapping's per-side sync state after a write. Each side is (the record as it is now, what the plan
    read of it, the fields planned for it): what the plan read, plus each planned value the side now holds.
    A side created now (nothing read) is taken as it came back; a side neither read nor written keeps its
    previous state. Modified dates are capped at now plus the skew (a future date must not hide later edits)."""
    limit = datetime.now(UTC) + timedelta(seconds=clock_skew_seconds)

    def side(entry: tuple[Record | None, Seen | None, dict[str, Any] | None], prev_modified: Any,
             prev_hash: str | None, prev_fields: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
        record, seen, planned = entry
        if seen is not None:
            fields = {k: seen.fields.get(k) for k in rt.synced}
            for k, v in (planned or {}).items():
                if k in fields and record is not None and record.raw is not None and record.fields.get(k) == v:
                    fields[k] = v
            modified = seen.modified
        elif record is not None and record.raw is not None:
            fields, modified = {k: record.fields.get(k) for k in rt.synced}, record.modified
        else:
            return ((format_ts(prev_modified) if prev_modified else None), prev_hash,
                    json.dumps(prev_fields) if prev_fields is not None else None)
        if modified is not None and modified > limit:
            modified = limit
        return (format_ts(modified) if modified else None), rt.synced_hash(fields), json.dumps(fields)

    p = previous
    a_mod, a_hash, a_fields = side(ajera, *((p.ajera_modified, p.ajera_hash, p.ajera_fields) if p else (None,) * 3))
    c_mod, c_hash, c_fields = side(crm, *((p.crm_modified, p.crm_hash, p.crm_fields) if p else (None,) * 3))
    return {"ajera_modified": a_mod, "ajera_hash": a_hash, "ajera_fields": a_fields,
            "crm_modified": c_mod, "crm_hash": c_hash, "crm_fields": c_fields}
