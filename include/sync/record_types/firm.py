"""firm: Ajera Client <-> CRM Firm with ClientInd, both ways, matched on Description <-> Name."""

from __future__ import annotations

from include.sync.record_types.base import BOTH, FieldMap, Fields, Raw, RecordType, apply_fields, copy_fields, plain
from include.sync.refs import Refs

FIELDS = FieldMap(
    ajera={"name": "Description", "phone": "Phone", "email": "Email", "website": "Website"},
    crm={"name": "Name", "phone": "PrimaryPhone", "email": "PrimaryEmail", "website": "WebSite",
         "address": "PrimaryAddress1", "city": "PrimaryCity", "state": "PrimaryState", "zip": "PrimaryZip"},
    new_ajera_record={"SyncToCRM": True},
)
_AJERA_ADDRESS = {"address": "Line1", "city": "City", "state": "State", "zip": "Zip"}  # nested in Address


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    return FIELDS.ajera_fields(raw, refs) | copy_fields(raw.get("Address") or {}, _AJERA_ADDRESS)


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = FIELDS.to_ajera(fields, baseline, refs)
    record["Address"] = dict(record.get("Address") or {})
    apply_fields(record["Address"], fields, _AJERA_ADDRESS)
    return record


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
    crm_fields=FIELDS.crm_fields,
    to_ajera=to_ajera,
    to_crm=FIELDS.to_crm,
    crm_filters=(("ClientInd", "=", "Y"),),
    crm_new_record={"ClientInd": "Y", "VendorInd": "N", "AjeraSync": "Y"},
    ajera_name_filter="FilterByDescriptionEquals",
    name_max_length=80,
    crm_name_max_length=100,
)
