"""The engine's view of the two systems: sweep, fetch, find by name, write, per record type.

Each side wraps one API client and speaks in ``Record``s. Batch calls are used wherever the API has
them (Ajera Get/Update take many keys); the Vantagepoint API writes one record per call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from include.clients.errors import AmbiguousWriteError, ApiError, TransientApiError
from include.sync.model import Record, format_crm_date
from include.sync.names import exact_key
from include.sync.record_types import RecordType
from include.sync.refs import NO_REFS, Refs

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

    def __init__(self, client: AjeraApi, refs: Refs = NO_REFS) -> None:
        self.client = client
        self.refs = refs
        self._templates: list[dict[str, Any]] | None = None

    def sweep(self, rt: RecordType) -> list[Record]:
        """Every record's key, name and modified date (List calls return no more), with its flag."""
        items = self.client.list(rt.ajera_entity)
        if rt.ajera_sweep_full:
            return self.fetch(rt, [str(i[rt.ajera_key]) for i in items])
        flagged: set[str] | None = None
        if rt.ajera_sync_filter:
            flagged = {str(i[rt.ajera_key]) for i in self.client.list(rt.ajera_entity, FilterBySyncToCRM=True)}
        records = []
        for item in items:
            record = rt.from_ajera(item, self.refs, full=False)
            if flagged is not None:
                record.flagged = record.key in flagged
            records.append(record)
        return records

    def fetch(self, rt: RecordType, keys: list[str], swept: dict[str, Record] | None = None) -> list[Record]:
        if not keys:
            return []
        raws = self.client.get(rt.ajera_entity, [int(k) for k in keys])
        return [rt.from_ajera(raw, self.refs) for raw in raws]

    def find_by_name(self, rt: RecordType, name: str) -> list[Record]:
        items = self.client.list(rt.ajera_entity, **{rt.ajera_name_filter: name})
        return [rt.from_ajera(item, self.refs, full=False) for item in items]

    def project_templates(self) -> list[dict[str, Any]]:
        if self._templates is None:
            self._templates = self.client.list_project_templates()  # type: ignore[attr-defined]
        return self._templates

    def write(
        self,
        rt: RecordType,
        creates: dict[str, tuple[dict[str, Any], dict[str, Any] | None]],
        updates: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    ) -> WriteOutcome:
        """``creates`` maps a negative temp key to (fields, the source record); ``updates`` maps a key to
        (fields to change, baseline record as Ajera returned it). Updates and plain creates go in one
        Update call; types with their own create call (projects) create one by one."""
        outcome = WriteOutcome()
        updated, unchanged = [], []
        for temp_key, (fields_, source) in creates.items():
            if rt.ajera_create is not None:
                try:
                    outcome.saved[temp_key] = rt.from_ajera(rt.ajera_create(self, fields_, source, self.refs), self.refs)
                except (TransientApiError, AmbiguousWriteError):
                    raise  # the task retry deals with these (a lost answer is looked up by name first)
                except (ApiError, LookupError) as exc:
                    outcome.errors[temp_key] = str(exc)  # refused: this record's problem, the rest go on
                continue
            record = rt.to_ajera(fields_, None, self.refs)
            record[rt.ajera_key] = int(temp_key)
            updated.append(record)
        for key, (fields_, baseline) in updates.items():
            record = rt.to_ajera(fields_, baseline, self.refs)
            current = rt.from_ajera(baseline, self.refs)
            if rt.from_ajera({**baseline, **record}, self.refs).content_hash == current.content_hash:
                outcome.saved[key] = current  # nothing Ajera would store differently: a no-op is refused
                continue
            updated.append(record)
            unchanged.append(baseline)
        if not updated:
            return outcome
        result = self.client.update(rt.ajera_entity, updated, unchanged, single_transaction=False)
        original = f"Original{rt.ajera_key}"
        for raw in result.saved:
            sent_key = str(raw.get(original, raw[rt.ajera_key]))
            outcome.saved[sent_key] = rt.from_ajera(raw, self.refs)
        messages = [str(e.get("ErrorMessage", e)) for e in result.errors]
        for key in (str(r[rt.ajera_key]) for r in updated):
            if key not in outcome.saved:
                mine = [str(e.get("ErrorMessage")) for e in result.errors if str(e.get("Key")) == key]
                outcome.errors[key] = "; ".join(mine or messages) or "Ajera did not save the record"
        return outcome


class CrmSide:
    system = "crm"

    def __init__(self, client: CrmApi, refs: Refs = NO_REFS) -> None:
        self.client = client
        self.refs = refs

    def sweep(self, rt: RecordType) -> list[Record]:
        items = self.client.list(rt.crm_hub, filters=list(rt.crm_filters), fields=rt.crm_sweep_fields)
        return [rt.from_crm(item, self.refs, full=False) for item in items]

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
                found[key] = rt.from_crm(raw, self.refs)
        for key in sorted(wanted - set(found)):
            raw = self.client.get(rt.crm_hub, key)
            if raw is not None:
                found[key] = rt.from_crm(raw, self.refs)
        return list(found.values())

    def find_by_name(self, rt: RecordType, name: str) -> list[Record]:
        """Records with this exact name: a narrowing search, then the type's name rule (persons, long names)."""
        items = self.client.list(rt.crm_hub, filters=[*rt.crm_filters, *rt.crm_name_search(name)],
                                 fields=rt.crm_sweep_fields)
        records = [rt.from_crm(item, self.refs, full=False) for item in items]
        wanted = exact_key(name)
        return [r for r in records if exact_key(r.name) == wanted]

    def create(self, rt: RecordType, fields_: dict[str, Any]) -> Record:
        body = {**rt.crm_new_record, **rt.to_crm(fields_, self.refs)}
        return rt.from_crm(self.client.create(rt.crm_hub, body), self.refs)

    def update(self, rt: RecordType, key: str, fields_: dict[str, Any]) -> Record:
        changes = rt.to_crm({k: v for k, v in fields_.items() if k in rt.synced}, self.refs)
        return rt.from_crm(self.client.update(rt.crm_hub, key, changes), self.refs)

