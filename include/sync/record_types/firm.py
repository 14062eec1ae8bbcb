"""firm: Ajera Client <-> CRM Firm with ClientInd, both ways, matched on Description <-> Name."""

from __future__ import annotations

from include.sync.model import text
from include.sync.record_types.base import BOTH, Fields, Raw, RecordType, apply_fields, copy_fields, plain
from include.sync.refs import Refs

_AJERA = {"name": "Description", "phone": "Phone", "email": "Email", "website": "Website"}
_AJERA_ADDRESS = {"address": "Line1", "city": "City", "state": "State", "zip": "Zip"}
_CRM = {"name": "Name", "phone": "Phone", "email": "Email", "website": "WebSite",
        "address": "Address1", "city": "City", "state": "State", "zip": "Zip"}


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    fields = copy_fields(raw, _AJERA) | copy_fields(raw.get("Address") or {}, _AJERA_ADDRESS)
    fields["status"] = "inactive" if text(raw.get("Status")) == "Inactive" else "active"
    return fields


def crm_fields(raw: Raw, refs: Refs) -> Fields:
    fields = copy_fields(raw, _CRM)
    fields["status"] = "inactive" if text(raw.get("Status")).upper() == "I" else "active"
    return fields


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = dict(baseline) if baseline else {"SyncToCRM": True}
    record["Address"] = dict(record.get("Address") or {})
    apply_fields(record, fields, _AJERA)
    apply_fields(record["Address"], fields, _AJERA_ADDRESS)
    if "status" in fields:
        record["Status"] = "Inactive" if fields["status"] == "inactive" else "Active"
    return record


def to_crm(fields: Fields, refs: Refs) -> Raw:
    body: Raw = {}
    apply_fields(body, fields, _CRM)
    if "status" in fields:
        body["Status"] = "I" if fields["status"] == "inactive" else "A"
    return body


FIRM = RecordType(
    name="firm",
    ajera_entity="Clients",
    ajera_key="ClientKey",
    crm_hub="firm",
    crm_key="ClientID",
    synced=("name", "status", "phone", "email", "website", "address", "city", "state", "zip"),
    directions=BOTH,
    ajera_name=plain("Description"),
    crm_name=plain("Name"),
    ajera_fields=ajera_fields,
    crm_fields=crm_fields,
    to_ajera=to_ajera,
    to_crm=to_crm,
    crm_filters=(("ClientInd", "=", "Y"),),
    crm_new_record={"ClientInd": "Y", "VendorInd": "N", "AjeraSync": "Y"},
    ajera_name_filter="FilterByDescriptionEquals",
    name_max_length=80,
    crm_name_max_length=100,
)
