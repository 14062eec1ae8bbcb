"""What the engine knows of a record type: keys, names, flags, synced fields, conversions, rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from include.sync.model import (
    Record, WrongType, clean_text, fields_hash, name_text, parse_ajera_date, parse_crm_date, parse_flag, text,
)
from include.sync.refs import NO_REFS, Refs

Direction = Literal["ajera_to_crm", "crm_to_ajera"]
BOTH: frozenset[Direction] = frozenset({"ajera_to_crm", "crm_to_ajera"})
AJERA_TO_CRM: frozenset[Direction] = frozenset({"ajera_to_crm"})
Owner = Literal["ajera", "crm", "shared"]
Raw = dict[str, Any]
Fields = dict[str, Any]


@dataclass(frozen=True)
class RecordType:
    name: str  # firm, contact, employee, vendor, project
    ajera_entity: str  # plural Ajera name: Clients
    ajera_key: str  # ClientKey
    crm_hub: str
    crm_key: str
    synced: tuple[str, ...]  # canonical fields compared and written; the hash covers these
    directions: frozenset[Direction]
    ajera_name: Callable[[Raw], str]  # from a List item or a full record
    crm_name: Callable[[Raw], str]
    ajera_fields: Callable[[Raw, Refs], Fields]
    crm_fields: Callable[[Raw, Refs], Fields]
    to_ajera: Callable[[Fields, Raw | None, Refs], Raw]  # fields, baseline (None: create) -> record
    to_crm: Callable[[Fields, Refs], Raw]  # fields (all or changed) -> CRM body
    ajera_flag: Callable[[Raw], bool] = lambda raw: parse_flag(raw.get("SyncToCRM"))
    crm_flag: Callable[[Raw], bool] = lambda raw: parse_flag(raw.get("AjeraSync"))
    crm_name_fields: tuple[str, ...] = ("Name",)  # fields the CRM sweep asks for besides key and dates
    crm_flag_field: str | None = "AjeraSync"
    # CRM search that narrows a by-name lookup; the exact name rule is applied to what it returns.
    crm_name_search: Callable[[str], list[tuple[str, str, str]]] = lambda name: [("Name", "=", name)]
    crm_filters: tuple[tuple[str, str, str], ...] = ()  # which CRM records are of this type
    crm_new_record: Raw = field(default_factory=dict)  # constant fields of a CRM create
    ajera_name_filter: str = "FilterByNameEquals"  # List filter that finds a record by exact name
    ajera_sync_filter: bool = True  # List supports FilterBySyncToCRM
    ajera_sweep_full: bool = False  # the flag is only in full records: fetch them all (small types)
    references: tuple[str, ...] = ()  # record types whose mappings the conversions need
    ownership: dict[str, Owner] = field(default_factory=dict)  # fields not listed are shared
    name_max_length: int = 80
    crm_name_max_length: int = 100
    cap_field: str | None = None  # at most `cap` synced records per value of this field (contacts per firm)
    closed: Callable[[Fields], bool] = lambda fields: False  # left alone unless the run asks for closed ones
    create_problem: Callable[[Record], str | None] = lambda record: None  # why a create cannot be made
    # Ajera creates that need more than an Update call with a negative key (projects: CreateProjects).
    ajera_create: Callable[[Any, Fields, Raw | None, Refs], Raw] | None = None

    def owner(self, field_name: str) -> Owner:
        if len(self.directions) == 1:
            return "ajera" if "ajera_to_crm" in self.directions else "crm"
        return self.ownership.get(field_name, "shared")

    def synced_hash(self, fields: Fields) -> str:
        return fields_hash({k: fields.get(k) for k in self.synced})

    def from_ajera(self, raw: Raw, refs: Refs = NO_REFS, full: bool = True) -> Record:
        return self._record("ajera", raw, refs, full, self.ajera_key, self.ajera_name, self.ajera_flag,
                            self.ajera_fields, "LastModifiedDate", parse_ajera_date)

    def from_crm(self, raw: Raw, refs: Refs = NO_REFS, full: bool = True) -> Record:
        return self._record("crm", raw, refs, full, self.crm_key, self.crm_name, self.crm_flag,
                            self.crm_fields, "ModDate", parse_crm_date)

    def _record(self, system: Any, raw: Raw, refs: Refs, full: bool, key_field: str,
                name: Callable[[Raw], str], flag: Callable[[Raw], bool], convert: Callable[[Raw, Refs], Fields],
                date_field: str, parse_date: Callable[[Any], Any]) -> Record:
        """The engine's view of one API record. Bad data never raises here: what cannot be read is kept as
        the record's ``problem``, and the validate step quarantines the record with that reason."""
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


def copy_fields(source: Raw, mapping: dict[str, str]) -> Fields:
    """Canonical fields from a record: {canonical: source field}."""
    return {canonical: text(source.get(field_name)) for canonical, field_name in mapping.items()}


def apply_fields(target: Raw, fields: Fields, mapping: dict[str, str]) -> None:
    for canonical, value in fields.items():
        if canonical in mapping:
            target[mapping[canonical]] = value


@dataclass(frozen=True)
class StatusCodes:
    """A canonical status and the value each system stores for it."""

    ajera_field: str
    crm_field: str
    ajera: dict[str, str]  # canonical -> Ajera value
    crm: dict[str, str]  # canonical -> CRM code
    default: str = "active"  # what a blank or unknown value means

    def from_ajera(self, raw: Raw) -> str:
        return _lookup(self.ajera, text(raw.get(self.ajera_field)), self.default)

    def from_crm(self, raw: Raw) -> str:
        return _lookup(self.crm, text(raw.get(self.crm_field)), self.default)


def _lookup(codes: dict[str, str], value: str, default: str) -> str:
    for canonical, code in codes.items():
        if code.upper() == value.upper():
            return canonical
    return default


ACTIVE_INACTIVE = StatusCodes("Status", "Status", {"active": "Active", "inactive": "Inactive"},
                              {"active": "A", "inactive": "I"})


@dataclass(frozen=True)
class FieldMap:
    """The common shape of a record type's conversions: one-to-one text fields plus a status.

    ``ajera`` and ``crm`` map canonical field names to each system's field names. Types with more
    (a firm's nested address, a contact's firm reference) wrap these methods.
    """

    ajera: dict[str, str]
    crm: dict[str, str]
    status: StatusCodes | None = ACTIVE_INACTIVE
    new_ajera_record: Raw = field(default_factory=dict)  # constant fields of an Ajera create

    def ajera_fields(self, raw: Raw, refs: Refs) -> Fields:
        fields = copy_fields(raw, self.ajera)
        if self.status:
            fields["status"] = self.status.from_ajera(raw)
        return fields

    def crm_fields(self, raw: Raw, refs: Refs) -> Fields:
        fields = copy_fields(raw, self.crm)
        if self.status:
            fields["status"] = self.status.from_crm(raw)
        return fields

    def to_ajera(self, fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
        record = dict(baseline) if baseline else dict(self.new_ajera_record)
        apply_fields(record, fields, self.ajera)
        if self.status and "status" in fields:
            record[self.status.ajera_field] = self.status.ajera[fields["status"]]
        return record

    def to_crm(self, fields: Fields, refs: Refs) -> Raw:
        body: Raw = {}
        apply_fields(body, fields, self.crm)
        if self.status and "status" in fields:
            body[self.status.crm_field] = self.status.crm[fields["status"]]
        return body
