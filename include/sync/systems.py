"""The engine's view of the two systems: sweep, fetch, find by name, write, per record type.

Each side wraps one API client and speaks in ``Record``s. Batch calls are used wherever the API has
them (Ajera Get/Update take many keys); the Vantagepoint API writes one record per call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from include.clients.errors import AmbiguousWriteError, ApiError, TransientApiError
from include.clients.http import Rows
from include.sync.model import Record, format_ajera_date, format_crm_date
from include.sync.names import exact_key
from include.sync.record_types import AjeraWrite, RecordType
from include.sync.refs import NO_REFS, Refs

log = logging.getLogger(__name__)


class AjeraApi(Protocol):
    @property
    def calls(self) -> int: ...

    def list(self, entity: str, **filters: Any) -> Rows: ...
    def get(self, entity: str, keys: Sequence[Any]) -> Rows: ...
    def get_project_templates(self, keys: Iterable[int]) -> Rows: ...
    def update(self, entity: str, updated: Rows, unchanged: Rows, single_transaction: bool = False) -> Any: ...


class CrmApi(Protocol):
    calls: int

    def list(self, hub: str, filters: list[tuple[str, str, str]] | None = None,
             fields: list[str] | None = None) -> Rows: ...
    def get(self, hub: str, key: str) -> dict[str, Any] | None: ...
    def create(self, hub: str, record: dict[str, Any]) -> dict[str, Any]: ...
    def update(self, hub: str, key: str, changes: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class WriteOutcome:
    """Saved records by the key the caller used (a negative key for creates), and errors by that key."""

    saved: dict[str, Record] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class AjeraSide:
    """Ajera through its client. List calls return keys and names only, so the sweep asks a second List
    for what changed in the run's window and reads those in full right away: their modified dates are what
    the sweep saw. A type whose flag is only in whole records is read whole on its first sync; later its
    unchanged records come from their copies (``include.sync.copies``). A contact's firm is written through
    the client's ``Contacts[]`` (ajera-records.md §5)."""

    system: Literal["ajera"] = "ajera"

    def __init__(self, client: AjeraApi, refs: Refs = NO_REFS) -> None:
        self.client = client
        self.refs = refs
        self._templates: dict[str, dict[str, Any] | None] = {}

    def sweep(self, rt: RecordType, since: datetime | None = None, until: datetime | None = None) -> list[Record]:
        """Every record's key and name, with its flag; with a window (``since``), the records changed in it
        come back whole and the rest are marked ``unchanged``."""
        items = self.client.list(rt.ajera_entity)
        if rt.ajera_sweep_full and since is None:
            return self.fetch(rt, [str(i[rt.ajera_key]) for i in items])
        flagged: set[str] | None = None
        if rt.ajera_sync_filter:
            flagged = {str(i[rt.ajera_key]) for i in self.client.list(rt.ajera_entity, FilterBySyncToCRM=[True])}
        changed = {r.key: r for r in self.changed(rt, since, until)} if since is not None else {}
        records = []
        for item in items:
            key = str(item.get(rt.ajera_key))
            record = changed.get(key) or rt.from_ajera(item, self.refs, full=False)
            record.unchanged = since is not None and key not in changed
            if flagged is not None and (record.raw is None or record.problem):
                # A whole record's own flag, parsed strictly, decides; the filter only for list rows.
                record.flagged = record.flagged or key in flagged
            records.append(record)
        return records

    def changed(self, rt: RecordType, since: datetime, until: datetime | None = None) -> list[Record]:
        """The records modified in the window, whole (the list rows carry no date)."""
        window = {"FilterByEarliestModifiedDate": format_ajera_date(since)}
        if until is not None:
            window["FilterByLatestModifiedDate"] = format_ajera_date(until)
        return self.fetch(rt, [str(i[rt.ajera_key]) for i in self.client.list(rt.ajera_entity, **window)])

    def always_whole(self, rt: RecordType) -> bool:
        """Whether every record must be staged whole: the type's flag is only in whole records."""
        return rt.ajera_sweep_full

    def from_raw(self, rt: RecordType, raw: dict[str, Any]) -> Record:
        return rt.from_ajera(raw, self.refs)

    def fetch(self, rt: RecordType, keys: list[str], swept: dict[str, Record] | None = None) -> list[Record]:
        """Whole records for ``keys``; those the sweep already read whole are not read again."""
        if not keys:
            return []
        have = {k: swept[k] for k in keys if swept and k in swept and swept[k].raw is not None}
        missing = [int(k) for k in keys if k not in have]
        raws = self.client.get(rt.ajera_entity, missing) if missing else []
        return list(have.values()) + [rt.from_ajera(raw, self.refs) for raw in raws]

    def find_by_name(self, rt: RecordType, name: str) -> list[Record]:
        """Records with this exact name: the type's documented name filter narrows, the name rule decides."""
        filters = {rt.ajera_name_filter: name} if rt.ajera_name_filter else {}
        items = self.client.list(rt.ajera_entity, **filters)
        wanted = exact_key(name)
        return [r for r in (rt.from_ajera(item, self.refs, full=False) for item in items)
                if exact_key(r.name) == wanted]

    def project_template(self, key: str) -> dict[str, Any] | None:
        """The whole template (version 1 project shape), or None if Ajera has none with this key."""
        if key not in self._templates:
            found = self.client.get_project_templates([int(key)]) if key.isdigit() else []
            self._templates[key] = found[0] if found else None
        return self._templates[key]

    def write(
        self,
        rt: RecordType,
        creates: dict[str, tuple[dict[str, Any], dict[str, Any] | None]],
        updates: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    ) -> WriteOutcome:
        """``creates`` maps a negative temp key to (fields, the source record); ``updates`` maps a key to
        (fields to change, baseline record as Ajera returned it). Updates and plain creates go in one
        Update call; types with their own create call (projects) create one by one. Fields Ajera takes
        through a parent record (a contact's firm) are written after, in one Update of the parents."""
        outcome = WriteOutcome()
        updated, unchanged = [], []
        parents: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}  # sent key -> (fields, baseline)
        via_parent = rt.ajera_writes(AjeraWrite.PARENT)
        for temp_key, (fields_, source) in creates.items():
            if rt.ajera_create is not None:
                try:
                    created = rt.ajera_create(self, fields_, source, self.refs)
                    outcome.saved[temp_key] = rt.from_ajera(created, self.refs)
                except (TransientApiError, AmbiguousWriteError):
                    raise  # the task retry deals with these (a lost answer is looked up by name first)
                except (ApiError, LookupError) as exc:
                    outcome.errors[temp_key] = str(exc)  # refused: this record's problem, the rest go on
                continue
            record = rt.to_ajera(fields_, None, self.refs)
            record[rt.ajera_key] = int(temp_key)
            updated.append(record)
            if any(f.name in fields_ for f in via_parent):
                parents[temp_key] = (fields_, None)
        for key, (fields_, baseline) in updates.items():
            record = rt.to_ajera(fields_, baseline, self.refs)
            current = rt.from_ajera(baseline, self.refs)
            if any(f.name in fields_ and fields_[f.name] != current.fields.get(f.name) for f in via_parent):
                parents[key] = (fields_, baseline)
            own = dict(current.fields)
            own.update({k: v for k, v in rt.from_ajera({**baseline, **record}, self.refs).fields.items()
                        if k not in {f.name for f in via_parent}})
            if rt.synced_hash(own) == current.content_hash:
                if key not in parents:
                    outcome.saved[key] = current  # nothing Ajera would store differently: a no-op is refused
                continue
            updated.append(record)
            unchanged.append(baseline)
        sent = {str(r[rt.ajera_key]) for r in updated}
        if updated:
            result = self.client.update(rt.ajera_entity, updated, unchanged, single_transaction=False)
            original = f"Original{rt.ajera_key}"
            for raw in result.saved:
                sent_key = str(raw.get(original, raw[rt.ajera_key]))
                outcome.saved[sent_key] = rt.from_ajera(raw, self.refs)
            messages = [str(e.get("ErrorMessage", e)) for e in result.errors]
            for key in sent:
                if key not in outcome.saved:
                    mine = [str(e.get("ErrorMessage")) for e in result.errors if str(e.get("Key")) == key]
                    outcome.errors[key] = "; ".join(mine or messages) or "Ajera did not save the record"
        if parents:
            self._write_through_parents(rt, parents, outcome)
        return outcome

    def _link_parents(self, rt: RecordType, parent: RecordType, moves: dict[str, tuple[int, int | None, int | None]],
                      problems: dict[str, str]) -> dict[str, str]:
        """One Update of the parents for ``moves`` (sent key -> record key, new parent, old parent); returns
        the refusals by sent key (a parent that is gone goes straight to ``problems``)."""
        wanted = sorted({k for _, new, old in moves.values() for k in (new, old) if k is not None})
        baselines = ({int(r[parent.ajera_key]): r for r in self.client.get(parent.ajera_entity, wanted)}
                     if wanted else {})
        edited = {key: {**raw, "Contacts": [dict(c) for c in raw.get("Contacts") or []]}
                  for key, raw in baselines.items()}
        for sent_key, (record_key, new, old) in moves.items():
            if new is not None and new not in edited:
                problems[sent_key] = f"its {parent.name} (Ajera {parent.ajera_key} {new}) no longer exists in Ajera"
                continue
            if old is not None and old in edited and old != new:
                edited[old]["Contacts"] = [c for c in edited[old]["Contacts"] if c.get(rt.ajera_key) != record_key]
            if new is not None and all(c.get(rt.ajera_key) != record_key for c in edited[new]["Contacts"]):
                order = max((int(c.get("Order") or 0) for c in edited[new]["Contacts"]), default=0) + 1
                edited[new]["Contacts"].append({rt.ajera_key: record_key, "Order": order, "Text": ""})
        changed = [edited[k] for k in edited if edited[k]["Contacts"] != (baselines[k].get("Contacts") or [])]
        if not changed:
            return {}
        unchanged = [baselines[int(r[parent.ajera_key])] for r in changed]
        result = self.client.update(parent.ajera_entity, changed, unchanged)
        refused: dict[str, str] = {}
        for error in result.errors:
            for sent_key, (_, new, old) in moves.items():
                if str(error.get("Key")) in (str(new), str(old)) and sent_key not in problems:
                    refused[sent_key] = f"its {parent.name} link was refused: {error.get('ErrorMessage')}"
        return refused

    def _write_through_parents(self, rt: RecordType, parents: dict[str, tuple[dict[str, Any], dict[str, Any] | None]],
                               outcome: WriteOutcome) -> None:
        """Link each record to its new parent (and off its old one) through the parent's ``Contacts[]``,
        in one Update of the parents; then read the records again, so what is saved is what Ajera shows."""
        moves: dict[str, tuple[int, int | None, int | None]] = {}  # sent key -> (record key, new parent, old)
        for sent_key, (fields_, baseline) in parents.items():
            if sent_key in outcome.errors:
                continue
            saved = outcome.saved.get(sent_key)
            record_key = int(saved.key) if saved is not None else int(sent_key)
            for f in rt.ajera_writes(AjeraWrite.PARENT):
                if f.name not in fields_:
                    continue
                new = self.refs.ajera_key(f.ref or "", fields_[f.name])
                old = (baseline or {}).get(f.ajera or "")
                moves[sent_key] = (record_key, int(new) if new else None, old)
        parent_rt = {f.ref or "" for f in rt.ajera_writes(AjeraWrite.PARENT)}
        if not moves or len(parent_rt) != 1:
            return
        from include.sync.record_types import get as record_type

        parent = record_type(parent_rt.pop())
        problems: dict[str, str] = {}
        # Twice at most: a parent edited since we read it (stale baseline) is read again and the link re-applied.
        for attempt in (1, 2):
            pending = {k: m for k, m in moves.items() if k not in problems}
            refused = self._link_parents(rt, parent, pending, problems)
            if not refused or attempt == 2 or not all("modified since" in text for text in refused.values()):
                problems.update(refused)
                break
        for sent_key, problem in problems.items():
            outcome.errors[sent_key] = problem
            if int(sent_key) > 0:  # an update whose link failed is a failed write (retried next run);
                outcome.saved.pop(sent_key, None)  # a create stands: it exists, and is mapped
        fresh = {str(r[rt.ajera_key]): r for r in self.client.get(rt.ajera_entity, [k for k, _, _ in moves.values()])}
        for sent_key, (record_key, _, _) in moves.items():
            if sent_key not in problems and str(record_key) in fresh:
                outcome.saved[sent_key] = rt.from_ajera(fresh[str(record_key)], self.refs)


class CrmSide:
    system: Literal["crm"] = "crm"

    def __init__(self, client: CrmApi, refs: Refs = NO_REFS) -> None:
        self.client = client
        self.refs = refs

    def sweep(self, rt: RecordType, since: datetime | None = None, until: datetime | None = None) -> list[Record]:
        """Every record's key, name, modified date and flag (the CRM's lists carry the dates)."""
        items = self.client.list(rt.crm_hub, filters=list(rt.crm_filters), fields=rt.crm_sweep_fields)
        return [rt.from_crm(item, self.refs, full=False) for item in items]

    def changed(self, rt: RecordType, since: datetime, until: datetime | None = None) -> list[Record]:
        """Key, name, modified date and flag of the records modified since ``since``."""
        filters = [*rt.crm_filters, ("ModDate", ">=", format_crm_date(since))]
        if until is not None:
            filters.append(("ModDate", "<", format_crm_date(until)))
        items = self.client.list(rt.crm_hub, filters=filters, fields=rt.crm_sweep_fields)
        return [rt.from_crm(item, self.refs, full=False) for item in items]

    def always_whole(self, rt: RecordType) -> bool:
        return False  # the CRM's list rows carry the flags

    def from_raw(self, rt: RecordType, raw: dict[str, Any]) -> Record:
        return rt.from_crm(raw, self.refs)

    def fetch(self, rt: RecordType, keys: list[str], swept: dict[str, Record] | None = None) -> list[Record]:
        """Full records for ``keys``: one windowed list call set from the oldest of them, then single
        GETs for any the list missed (changed since the sweep)."""
        if not keys:
            return []
        wanted = set(keys)
        filters = list(rt.crm_filters)
        modified = [swept[k].modified for k in keys if swept and k in swept]
        dates = [d for d in modified if d]
        if swept and len(wanted) < len(swept) and len(dates) == len(keys):
            filters.append(("ModDate", ">=", format_crm_date(min(dates))))
        found: dict[str, Record] = {}
        for raw in self.client.list(rt.crm_hub, filters=filters):
            key = str(raw[rt.crm_key])
            if key in wanted:
                found[key] = rt.from_crm(raw, self.refs)
        for key in sorted(wanted - set(found)):
            one = self.client.get(rt.crm_hub, key)
            if one is not None:
                found[key] = rt.from_crm(one, self.refs)
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

