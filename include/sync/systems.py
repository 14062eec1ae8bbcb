"""The engine's view of the two systems: sweep, fetch, find by name, write, per record type.

Each side wraps one API client and speaks in ``Record``s. Batch calls are used wherever the API has
them (Ajera Get/Update take many keys); the Vantagepoint API writes one record per call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from include.sync.model import Record, format_crm_date
from include.sync.record_types import RecordType

log = logging.getLogger(__name__)


class AjeraApi(Protocol):
    calls: int

    def list(self, entity: str, **filters: Any) -> list[dict[str, Any]]: ...
    def get(self, entity: str, keys: list[Any]) -> list[dict[str, Any]]: ...
    def update(self, entity: str, updated: list[dict[str, Any]], unchanged: list[dict[str, Any]],
               single_transaction: bool = False) -> Any: ...


class CrmApi(Protocol):
    calls: int

    def list(self, hub: str, filters: list[tuple[str, str, str]] | None = None,
             fields: list[str] | None = None) -> list[dict[str, Any]]: ...
    def get(self, hub: str, key: str) -> dict[str, Any] | None: ...
    def create(self, hub: str, record: dict[str, Any]) -> dict[str, Any]: ...
    def update(self, hub: str, key: str, changes: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class WriteOutcome:
    """Saved records by the key the caller used (a negative key for creates), and errors by that key."""

    saved: dict[str, Record] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class AjeraSide:
    system = "ajera"

    def __init__(self, client: AjeraApi) -> None:
        self.client = client

    def sweep(self, rt: RecordType) -> list[Record]:
        """Every record's key, name and modified date (List calls return no more), with the flag."""
        items = self.client.list(rt.ajera_entity)
        flagged = {str(i[rt.ajera_key]) for i in self.client.list(rt.ajera_entity, FilterBySyncToCRM=True)}
        records = []
        for item in items:
            record = rt.from_ajera(item, full=False)
            record.flagged = record.key in flagged
            records.append(record)
        return records

    def fetch(self, rt: RecordType, keys: list[str], swept: dict[str, Record] | None = None) -> list[Record]:
        if not keys:
            return []
        raws = self.client.get(rt.ajera_entity, [int(k) for k in keys])
        return [rt.from_ajera(raw) for raw in raws]

    def find_by_name(self, rt: RecordType, name: str) -> list[Record]:
        items = self.client.list(rt.ajera_entity, **{rt.ajera_name_filter: name})
        return [rt.from_ajera(item, full=False) for item in items]

    def write(
        self,
        rt: RecordType,
        creates: dict[str, dict[str, Any]],
        updates: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    ) -> WriteOutcome:
        """One Update call: ``creates`` maps a negative temp key to fields; ``updates`` maps a key to
        (fields to change, baseline record as Ajera returned it)."""
        outcome = WriteOutcome()
        if not creates and not updates:
            return outcome
        updated, unchanged = [], []
        for temp_key, fields_ in creates.items():
            record = rt.to_ajera(fields_, None)
            record[rt.ajera_key] = int(temp_key)
            updated.append(record)
        for key, (fields_, baseline) in updates.items():
            updated.append(rt.to_ajera(fields_, baseline))
            unchanged.append(baseline)
        result = self.client.update(rt.ajera_entity, updated, unchanged, single_transaction=False)
        original = f"Original{rt.ajera_key}"
        for raw in result.saved:
            sent_key = str(raw.get(original, raw[rt.ajera_key]))
            outcome.saved[sent_key] = rt.from_ajera(raw)
        sent = [str(r[rt.ajera_key]) for r in updated]
        messages = [str(e.get("ErrorMessage", e)) for e in result.errors]
        for key in sent:
            if key not in outcome.saved:
                mine = [str(e.get("ErrorMessage")) for e in result.errors if str(e.get("Key")) == key]
                outcome.errors[key] = "; ".join(mine or messages) or "Ajera did not save the record"
        return outcome


class CrmSide:
    system = "crm"

    def __init__(self, client: CrmApi) -> None:
        self.client = client

    def sweep(self, rt: RecordType) -> list[Record]:
        items = self.client.list(rt.crm_hub, filters=list(rt.crm_filters), fields=rt.crm_sweep_fields)
        return [rt.from_crm(item, full=False) for item in items]

    def fetch(self, rt: RecordType, keys: list[str], swept: dict[str, Record] | None = None) -> list[Record]:
        """Full records for ``keys``: one windowed list call set from the oldest of them, then single
        GETs for any the list missed (changed since the sweep)."""
        if not keys:
            return []
        wanted = set(keys)
        filters = list(rt.crm_filters)
        dates = [swept[k].modified for k in keys if swept and k in swept and swept[k].modified]
        if swept and len(wanted) < len(swept) and len(dates) == len(keys):
            filters.append(("ModDate", ">=", format_crm_date(min(dates))))
        found = {}
        for raw in self.client.list(rt.crm_hub, filters=filters):
            key = str(raw[rt.crm_key])
            if key in wanted:
                found[key] = rt.from_crm(raw)
        for key in wanted - set(found):
            raw = self.client.get(rt.crm_hub, key)
            if raw is not None:
                found[key] = rt.from_crm(raw)
        return list(found.values())

    def find_by_name(self, rt: RecordType, name: str) -> list[Record]:
        filters = [*rt.crm_filters, (rt.crm_name_fields[0], "=", name)]
        items = self.client.list(rt.crm_hub, filters=filters, fields=rt.crm_sweep_fields)
        return [rt.from_crm(item, full=False) for item in items]

    def create(self, rt: RecordType, fields_: dict[str, Any]) -> Record:
        body = {**rt.crm_new_record, **rt.to_crm(fields_)}
        return rt.from_crm(self.client.create(rt.crm_hub, body))

    def update(self, rt: RecordType, key: str, fields_: dict[str, Any]) -> Record:
        return rt.from_crm(self.client.update(rt.crm_hub, key, rt.to_crm(fields_)))


def latest(records: list[Record]) -> datetime | None:
    dates = [r.modified for r in records if r.modified is not None]
    return max(dates) if dates else None
