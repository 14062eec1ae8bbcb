"""The declarative record-type spec: what the engine knows of a record type, declared once.

A record type is a ``RecordType`` holding its ``Field``s (canonical name, Ajera path, CRM path, kind with
its converters each way, owner, reference to another type, vocabulary), its name rule, flags and child
grids. Everything else derives from it: the synced field list and its hash (``synced``, ``synced_hash``),
the conversions (``ajera_fields``, ``crm_fields``, ``to_ajera``, ``to_crm``), the dependency order
(``references``, see ``record_types.DEPENDS_ON``), the validation suite (``status_rules``, name limits,
``include.sync.expectations``), and the field-level and generator tests (``tests/integration/
test_record_types.py``, ``tests/unit/test_datagen.py``, which checks that ``simulators/datagen/`` fills
every Ajera path).

A field's Ajera path names the field as ajera-records.md lists it; ``a.b`` goes into an object
(``ProjectManager.EmployeeKey``), ``a[0].b`` into the first row of a list (``InvoiceGroups[0].ClientKey``).
How a path is written in Ajera is the field's ``ajera_write``; the API's quirks (v1/v2, bundles,
baselines, writing a contact's firm through the client's ``Contacts[]``) live in ``include.sync.systems``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from include.sync.enums import Direction
from include.sync.model import (
    Record,
    WrongType,
    clean_text,
    fields_hash,
    name_text,
    parse_ajera_date,
    parse_crm_date,
    parse_flag,
)
from include.sync.record_types.fields import (
    ACTIVE_INACTIVE,
    AjeraWrite,
    Field,
    Kind,
    Owner,
    Raw,
    Vocabulary,
    get_path,
    set_path,
)
from include.sync.refs import NO_REFS, Refs

__all__ = ["ACTIVE_INACTIVE", "AJERA_TO_CRM", "BOTH", "AjeraWrite", "ChildGrid", "Field", "Fields", "Kind", "Owner",
           "Raw", "RecordType", "Vocabulary", "get_path", "last_name_search", "person", "plain", "set_path"]

# The ways a record type syncs: of the log's four directions, only these two describe one.
SyncDirection = Literal[Direction.AJERA_TO_CRM, Direction.CRM_TO_AJERA]
BOTH: frozenset[SyncDirection] = frozenset({Direction.AJERA_TO_CRM, Direction.CRM_TO_AJERA})
AJERA_TO_CRM: frozenset[SyncDirection] = frozenset({Direction.AJERA_TO_CRM})
Fields = dict[str, Any]


@dataclass(frozen=True)
class ChildGrid:
    """Rows under a parent record, keyed by a reference (a project's team, consultants, contacts): where
    each system keeps them and what a row holds. Declared here so the grid syncs have one place to go."""

    name: str
    key: Field  # the row's reference (an employee, a vendor, a contact)
    ajera_source: str  # the Ajera call and path the rows come from
    crm_grid: str  # the CRM sub-grid under the parent's hub
    fields: tuple[Field, ...] = ()


# --- the record type -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordType:
    name: str  # firm, contact, employee, vendor, project
    ajera_entity: str  # plural Ajera name: Clients
    ajera_key: str  # ClientKey
    crm_hub: str
    crm_key: str
    fields: tuple[Field, ...]
    directions: frozenset[SyncDirection]
    ajera_name: Callable[[Raw], str]  # from a List item or a full record
    crm_name: Callable[[Raw], str]
    ajera_flag: Callable[[Raw], bool] = lambda raw: True
    crm_flag: Callable[[Raw], bool] = lambda raw: parse_flag(raw.get("AjeraSync"))
    crm_name_fields: tuple[str, ...] = ("Name",)  # fields the CRM sweep asks for besides key and dates
    crm_flag_field: str | None = "AjeraSync"
    # CRM search that narrows a by-name lookup; the exact name rule is applied to what it returns.
    crm_name_search: Callable[[str], list[tuple[str, str, str]]] = lambda name: [("Name", "=", name)]
    crm_filters: tuple[tuple[str, str, str], ...] = ()  # which CRM records are of this type
    crm_new_record: Raw = field(default_factory=dict)  # constant fields of a CRM create
    ajera_new_record: Raw = field(default_factory=dict)  # constant fields of an Ajera create
    ajera_name_filter: str | None = None  # the documented List filter that finds a record by exact name
    ajera_sync_filter: bool = False  # ListX takes FilterBySyncToCRM (projects only)
    ajera_sweep_full: bool = False  # the flag is only in full records: fetch them all (small types)
    name_max_length: int = 80
    crm_name_max_length: int = 100
    cap_field: str | None = None  # at most `cap` synced records per value of this field (contacts per firm)
    closed: Callable[[Fields], bool] = lambda fields: False  # left alone unless the run asks for closed ones
    create_problem: Callable[[Record], str | None] = lambda record: None  # why a create cannot be made
    # What a record read this run holds that the sync cannot carry to the other side, to tell the user once.
    notice: Callable[[Record], str | None] = lambda record: None
    # Ajera creates that need more than an Update call with a negative key (projects: CreateProjects).
    ajera_create: Callable[[Any, Fields, Raw | None, Refs], Raw] | None = None
    grids: tuple[ChildGrid, ...] = ()

    # --- what derives from the fields ----------------------------------------------------------------

    @property
    def synced(self) -> tuple[str, ...]:
        """Canonical fields compared and written; the hash covers these."""
        return tuple(f.name for f in self.fields if f.synced)

    @property
    def references(self) -> tuple[str, ...]:
        """Record types whose mappings the conversions need (they run first)."""
        return tuple(dict.fromkeys(f.ref for f in self.fields if f.kind is Kind.REF and f.ref))

    @property
    def ownership(self) -> dict[str, Owner]:
        return {f.name: f.owner for f in self.fields if f.owner != "shared"}

    def with_owners(self, **owners: Owner) -> RecordType:
        """This record type with some fields' owners replaced (tests and per-deployment variants)."""
        from dataclasses import replace

        return replace(self, fields=tuple(replace(f, owner=owners.get(f.name, f.owner)) for f in self.fields))

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def status_rule(self, system: str) -> tuple[str, tuple[str, ...]] | None:
        """(raw status field, allowed values) of ``system``'s records, from the status field's vocabulary."""
        for f in self.fields:
            if f.kind is Kind.STATUS and f.vocabulary:
                path = f.ajera if system == "ajera" else f.crm
                if path:
                    return path, (f.vocabulary.ajera_values if system == "ajera" else f.vocabulary.crm_values)
        return None

    def owner(self, field_name: str) -> Owner:
        if len(self.directions) == 1:
            return "ajera" if Direction.AJERA_TO_CRM in self.directions else "crm"
        return self.ownership.get(field_name, "shared")

    def synced_hash(self, fields: Fields) -> str:
        return fields_hash({k: fields.get(k) for k in self.synced})

    # --- conversions ----------------------------------------------------------------------------------

    def ajera_fields(self, raw: Raw, refs: Refs = NO_REFS) -> Fields:
        return {f.name: f.from_ajera(raw, refs) for f in self.fields if f.ajera or f.read_ajera}

    def crm_fields(self, raw: Raw, refs: Refs = NO_REFS) -> Fields:
        return {f.name: f.from_crm(raw, refs) for f in self.fields if f.crm or f.read_crm}

    def to_ajera(self, fields: Fields, baseline: Raw | None, refs: Refs = NO_REFS) -> Raw:
        """The record to send: the baseline (or the create's constants) with ``fields`` written in. Fields
        Ajera takes only at create, or through another record, are the adapter's (``systems``) to write."""
        record = dict(baseline) if baseline else dict(self.ajera_new_record)
        for f in self.fields:
            if f.name in fields and (f.ajera or f.write_ajera) and f.ajera_write is AjeraWrite.FIELD:
                f.to_ajera(fields[f.name], record, refs)
        return record

    def to_crm(self, fields: Fields, refs: Refs = NO_REFS) -> Raw:
        body: Raw = {}
        for f in self.fields:
            if f.name in fields and (f.crm or f.write_crm) and (f.synced or fields.get(f.name)):
                f.to_crm(fields[f.name], body, refs)
        return body

    def ajera_updatable(self, field_name: str) -> bool:
        """False for a field Ajera takes only when the record is created."""
        return all(f.ajera_write is not AjeraWrite.CREATE for f in self.fields if f.name == field_name)

    def ajera_writes(self, how: AjeraWrite) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.ajera and f.ajera_write is how)

    # --- the engine's view of one record --------------------------------------------------------------

    def from_ajera(self, raw: Raw, refs: Refs = NO_REFS, full: bool = True) -> Record:
        return self._record("ajera", raw, refs, full, self.ajera_key, self.ajera_name, self.ajera_flag,
                            self.ajera_fields, "LastModifiedDate", parse_ajera_date)

    def from_crm(self, raw: Raw, refs: Refs = NO_REFS, full: bool = True) -> Record:
        return self._record("crm", raw, refs, full, self.crm_key, self.crm_name, self.crm_flag,
                            self.crm_fields, "ModDate", parse_crm_date)

    def _record(self, system: Any, raw: Raw, refs: Refs, full: bool, key_field: str,
                name: Callable[[Raw], str], flag: Callable[[Raw], bool], convert: Callable[[Raw, Refs], Fields],
                date_field: str, parse_date: Callable[[Any], Any]) -> Record:
        """Bad data never raises here: what cannot be read is kept as the record's ``problem``, and the
        validate step quarantines the record with that reason."""
        problems = []
        key = raw.get(key_field)
        if key in (None, ""):
            problems.append(f"the record has no {key_field}")
        elif isinstance(key, (dict, list, bool, float)):
            problems.append(f"{key_field} {key!r:.60} is not a key")
        key_text = "" if key is None else clean_text(str(key))
        try:
            modified = parse_date(raw.get(date_field))
        except (TypeError, ValueError, AttributeError):
            modified = None
            problems.append(f"{date_field} {raw.get(date_field)!r:.60} is not a date")
        name_value = ""
        try:
            name_value = name(raw)
        except Exception as exc:  # one record's bad data never stops the others
            problems.append(f"its name could not be read ({_describe(exc)})")
        flagged = False
        try:
            flagged = flag(raw)
        except Exception as exc:
            problems.append(f"its sync flag could not be read ({_describe(exc)})")
        fields: Fields = {}
        if full:
            try:
                fields = convert(raw, refs)
            except Exception as exc:
                problems.append(f"its fields could not be read ({_describe(exc)})")
        try:
            group = self._group(fields if full else None, raw, refs, convert)
        except Exception:
            group = None
        return Record(
            system=system, key=key_text, name=name_value, modified=modified,
            flagged=flagged, fields=fields, raw=raw if full else None,
            content_hash=self.synced_hash(fields) if full else None, group=group,
            problem="; ".join(problems) or None,
        )

    def _group(self, fields: Fields | None, raw: Raw, refs: Refs,
               convert: Callable[[Raw, Refs], Fields]) -> str | None:
        if self.cap_field is None:
            return None
        # A swept record has only a few fields; converting them still yields the group (e.g. ClientID).
        value = (fields if fields is not None else convert(raw, refs)).get(self.cap_field)
        return value or None

    @property
    def crm_sweep_fields(self) -> list[str]:
        return [self.crm_key, *self.crm_name_fields, "ModDate", *([self.crm_flag_field] if self.crm_flag_field else [])]


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, WrongType) else f"{type(exc).__name__}: {exc}"


def last_name_search(name: str) -> list[tuple[str, str, str]]:
    words = name.split()
    return [("LastName", "=", words[-1])] if words else []


def person(raw: Raw) -> str:
    from include.sync.names import person_name

    return person_name(name_text(raw.get("FirstName")), name_text(raw.get("MiddleName")),
                       name_text(raw.get("LastName")))


def plain(name_field: str) -> Callable[[Raw], str]:
    return lambda raw: name_text(raw.get(name_field))
