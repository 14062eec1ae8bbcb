"""vendor: Ajera consultant Vendor -> CRM vendor Firm (VendorInd), one way, matched on Name.

Only vendors whose type is a consultant type are synced. The flag is only in full records, and vendor
lists are short, so every run fetches all vendors.
"""

from __future__ import annotations

from include.sync.model import text
from include.sync.record_types.base import AJERA_TO_CRM, Fields, Raw, RecordType, apply_fields, copy_fields, plain
from include.sync.refs import Refs

_AJERA = {"name": "Name", "email": "Email", "phone": "Phone"}
_CRM = {"name": "Name", "email": "Email", "phone": "Phone"}


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    return copy_fields(raw, _AJERA) | {"status": "inactive" if text(raw.get("Status")) == "Inactive" else "active"}


def crm_fields(raw: Raw, refs: Refs) -> Fields:
    return copy_fields(raw, _CRM) | {"status": "inactive" if text(raw.get("Status")).upper() == "I" else "active"}


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = dict(baseline or {})
    apply_fields(record, fields, _AJERA)
    if "status" in fields:
        record["Status"] = "Inactive" if fields["status"] == "inactive" else "Active"
    return record


def to_crm(fields: Fields, refs: Refs) -> Raw:
    body: Raw = {}
    apply_fields(body, fields, _CRM)
    if "status" in fields:
        body["Status"] = "I" if fields["status"] == "inactive" else "A"
    return body


VENDOR = RecordType(
    name="vendor",
    ajera_entity="Vendors",
    ajera_key="VendorKey",
    crm_hub="firm",
    crm_key="ClientID",
    synced=("name", "email", "phone", "status"),
    directions=AJERA_TO_CRM,
    ajera_name=plain("Name"),
    crm_name=plain("Name"),
    ajera_fields=ajera_fields,
    crm_fields=crm_fields,
    to_ajera=to_ajera,
    to_crm=to_crm,
    ajera_flag=lambda raw: bool(raw.get("VendorTypeIsConsultant")),
    crm_flag=lambda raw: False,
    crm_filters=(("VendorInd", "=", "Y"),),
    crm_new_record={"VendorInd": "Y", "ClientInd": "N", "AjeraSync": "N"},
    ajera_sync_filter=False,
    ajera_sweep_full=True,
    name_max_length=80,
    crm_name_max_length=100,
)
