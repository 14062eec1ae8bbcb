"""contact: Ajera Contact <-> CRM Contact, both ways, matched on First + Middle + Last.

A contact's firm is a reference through the firm mapping, so contacts run after firms. At most
``CONTACT_CAP`` synced contacts per firm (Deltek's default of five); the next ones are logged, not synced.
"""

from __future__ import annotations

from include.sync.model import text
from include.sync.record_types.base import BOTH, Fields, Raw, RecordType, apply_fields, copy_fields, person
from include.sync.refs import Refs

_AJERA = {"first_name": "FirstName", "middle_name": "MiddleName", "last_name": "LastName", "title": "Title",
          "email": "Email", "phone": "Phone"}
_CRM = dict(_AJERA)


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    fields = copy_fields(raw, _AJERA)
    fields["status"] = "inactive" if text(raw.get("Status")) == "Inactive" else "active"
    fields["firm"] = refs.from_ajera("firm", raw.get("ClientKey"))
    return fields


def crm_fields(raw: Raw, refs: Refs) -> Fields:
    fields = copy_fields(raw, _CRM)
    fields["status"] = "inactive" if text(raw.get("ContactStatus")).upper() == "I" else "active"
    fields["firm"] = refs.from_crm("firm", raw.get("ClientID"))
    return fields


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = dict(baseline) if baseline else {"SyncToCRM": True}
    record.pop("Company", None)  # derived by Ajera from ClientKey
    apply_fields(record, fields, _AJERA)
    if "status" in fields:
        record["Status"] = "Inactive" if fields["status"] == "inactive" else "Active"
    if "firm" in fields:
        key = refs.ajera_key("firm", fields["firm"])
        record["ClientKey"] = int(key) if key else None
    return record


def to_crm(fields: Fields, refs: Refs) -> Raw:
    body: Raw = {}
    apply_fields(body, fields, _CRM)
    if "status" in fields:
        body["ContactStatus"] = "I" if fields["status"] == "inactive" else "A"
    if "firm" in fields:
        body["ClientID"] = refs.crm_key("firm", fields["firm"]) or ""
    return body


CONTACT = RecordType(
    name="contact",
    ajera_entity="Contacts",
    ajera_key="ContactKey",
    crm_hub="contact",
    crm_key="ContactID",
    synced=("first_name", "middle_name", "last_name", "title", "email", "phone", "status", "firm"),
    directions=BOTH,
    ajera_name=person,
    crm_name=person,
    ajera_fields=ajera_fields,
    crm_fields=crm_fields,
    to_ajera=to_ajera,
    to_crm=to_crm,
    crm_name_fields=("FirstName", "MiddleName", "LastName", "ClientID"),
    crm_new_record={"AjeraSync": "Y"},
    references=("firm",),
    name_max_length=120,
    crm_name_max_length=120,
    cap_field="firm",
)
