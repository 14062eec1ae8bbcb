"""What is synchronised, per record type: keys, names, flags, field mapping, direction, ownership.

The engine is generic: it knows a record type only through the ``RecordType`` below. Adding a type means
adding an entry here (and its validation limits), not touching the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from include.sync.model import Record, parse_ajera_date, parse_crm_date, text

Direction = Literal["ajera_to_crm", "crm_to_ajera"]
BOTH: frozenset[Direction] = frozenset({"ajera_to_crm", "crm_to_ajera"})
Owner = Literal["ajera", "crm", "shared"]


@dataclass(frozen=True)
class RecordType:
    name: str  # firm, contact, project, employee, vendor
    ajera_entity: str  # plural Ajera name: Clients
    ajera_key: str  # ClientKey
    ajera_name_fields: tuple[str, ...]  # fields of a List item that make the matching name
    crm_hub: str
    crm_key: str
    crm_name_fields: tuple[str, ...]
    directions: frozenset[Direction]
    ajera_fields: Callable[[dict[str, Any]], dict[str, Any]]  # Ajera record -> canonical fields
    crm_fields: Callable[[dict[str, Any]], dict[str, Any]]  # CRM record -> canonical fields
    to_ajera: Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]  # fields, baseline -> record
    to_crm: Callable[[dict[str, Any]], dict[str, Any]]  # canonical fields (all or changed) -> CRM body
    ajera_flag: Callable[[dict[str, Any]], bool]
    crm_flag: Callable[[dict[str, Any]], bool]
    crm_filters: tuple[tuple[str, str, str], ...] = ()  # which CRM records are of this type
    crm_new_record: dict[str, Any] = field(default_factory=dict)  # constant fields of a CRM create
    ownership: dict[str, Owner] = field(default_factory=dict)  # fields not listed are shared
    name_max_length: int = 80
    ajera_name_filter: str = "FilterByDescriptionEquals"  # List filter that finds a record by exact name

    def owner(self, field_name: str) -> Owner:
        return self.ownership.get(field_name, "shared")

    def ajera_name(self, item: dict[str, Any]) -> str:
        return " ".join(text(item.get(f)) for f in self.ajera_name_fields if text(item.get(f)))

    def crm_name(self, item: dict[str, Any]) -> str:
        return " ".join(text(item.get(f)) for f in self.crm_name_fields if text(item.get(f)))

    def from_ajera(self, raw: dict[str, Any], full: bool = True) -> Record:
        return Record(
            system="ajera",
            key=str(raw[self.ajera_key]),
            name=self.ajera_name(raw),
            modified=parse_ajera_date(raw.get("LastModifiedDate")),
            flagged=self.ajera_flag(raw),
            fields=self.ajera_fields(raw) if full else {},
            raw=raw if full else None,
        )

    def from_crm(self, raw: dict[str, Any], full: bool = True) -> Record:
        return Record(
            system="crm",
            key=str(raw[self.crm_key]),
            name=self.crm_name(raw),
            modified=parse_crm_date(raw.get("ModDate")),
            flagged=self.crm_flag(raw),
            fields=self.crm_fields(raw) if full else {},
            raw=raw if full else None,
        )

    @property
    def crm_sweep_fields(self) -> list[str]:
        return [self.crm_key, *self.crm_name_fields, "ModDate", "AjeraSync"]


# --- firm: Ajera Client <-> CRM Firm (ClientInd) -------------------------------------------------------

_STATUS_TO_CRM = {"active": "A", "inactive": "I"}


def _firm_from_ajera(raw: dict[str, Any]) -> dict[str, Any]:
    address = raw.get("Address") or {}
    return {
        "name": text(raw.get("Description")),
        "status": "active" if text(raw.get("Status")).lower() in ("", "active") else "inactive",
        "phone": text(raw.get("Phone")),
        "email": text(raw.get("Email")),
        "website": text(raw.get("Website")),
        "address": text(address.get("Line1")),
        "city": text(address.get("City")),
        "state": text(address.get("State")),
        "zip": text(address.get("Zip")),
    }


def _firm_from_crm(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": text(raw.get("Name")),
        "status": "inactive" if text(raw.get("Status")).upper() == "I" else "active",
        "phone": text(raw.get("Phone")),
        "email": text(raw.get("Email")),
        "website": text(raw.get("WebSite")),
        "address": text(raw.get("Address1")),
        "city": text(raw.get("City")),
        "state": text(raw.get("State")),
        "zip": text(raw.get("Zip")),
    }


_FIRM_AJERA_FIELDS = {"name": "Description", "phone": "Phone", "email": "Email", "website": "Website"}
_FIRM_AJERA_ADDRESS = {"address": "Line1", "city": "City", "state": "State", "zip": "Zip"}


def _firm_to_ajera(fields: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, Any]:
    record = dict(baseline) if baseline else {"SyncToCRM": True}
    record["Address"] = dict(record.get("Address") or {})
    for name, value in fields.items():
        if name in _FIRM_AJERA_FIELDS:
            record[_FIRM_AJERA_FIELDS[name]] = value
        elif name in _FIRM_AJERA_ADDRESS:
            record["Address"][_FIRM_AJERA_ADDRESS[name]] = value
        elif name == "status":
            record["Status"] = "Active" if value == "active" else "Inactive"
    return record


_FIRM_CRM_FIELDS = {
    "name": "Name", "phone": "Phone", "email": "Email", "website": "WebSite",
    "address": "Address1", "city": "City", "state": "State", "zip": "Zip",
}


def _firm_to_crm(fields: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _FIRM_CRM_FIELDS:
            body[_FIRM_CRM_FIELDS[name]] = value
        elif name == "status":
            body["Status"] = _STATUS_TO_CRM[value]
    return body


FIRM = RecordType(
    name="firm",
    ajera_entity="Clients",
    ajera_key="ClientKey",
    ajera_name_fields=("Description",),
    crm_hub="firm",
    crm_key="ClientID",
    crm_name_fields=("Name",),
    directions=BOTH,
    ajera_fields=_firm_from_ajera,
    crm_fields=_firm_from_crm,
    to_ajera=_firm_to_ajera,
    to_crm=_firm_to_crm,
    ajera_flag=lambda raw: bool(raw.get("SyncToCRM")),
    crm_flag=lambda raw: text(raw.get("AjeraSync")).upper() == "Y",
    crm_filters=(("ClientInd", "=", "Y"),),
    crm_new_record={"ClientInd": "Y", "VendorInd": "N", "AjeraSync": "Y"},
    name_max_length=80,
)

# Dependency order: a contact needs its firm's mapping, a project its firm's and employees'.
RECORD_TYPES: dict[str, RecordType] = {rt.name: rt for rt in (FIRM,)}
ORDER: tuple[str, ...] = tuple(RECORD_TYPES)


def get(name: str) -> RecordType:
    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown record type {name!r}; known: {', '.join(ORDER)}") from None
