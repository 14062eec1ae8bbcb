"""contact: Ajera Contact <-> CRM Contact, both ways, matched on First + Middle + Last.

A contact's firm is a reference through the firm mapping, so contacts run after firms. At most five
synced contacts per firm by default (Deltek's limit, ``contact_cap``); the next ones are logged, not synced.
"""

from __future__ import annotations

from include.sync.record_types.base import (
    ACTIVE_INACTIVE, BOTH, FieldMap, Fields, Raw, RecordType, StatusCodes, last_name_search, person,
)
from include.sync.refs import Refs

_NAMES = {"first_name": "FirstName", "middle_name": "MiddleName", "last_name": "LastName", "title": "Title",
          "email": "Email", "phone": "Phone"}
FIELDS = FieldMap(
    ajera=_NAMES,
    crm=_NAMES,
    status=StatusCodes("Status", "ContactStatus", ACTIVE_INACTIVE.ajera, ACTIVE_INACTIVE.crm),
    new_ajera_record={"SyncToCRM": True},
)


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    return FIELDS.ajera_fields(raw, refs) | {"firm": refs.from_ajera("firm", raw.get("ClientKey"))}


def crm_fields(raw: Raw, refs: Refs) -> Fields:
    return FIELDS.crm_fields(raw, refs) | {"firm": refs.from_crm("firm", raw.get("ClientID"))}


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = FIELDS.to_ajera(fields, baseline, refs)
    record.pop("Company", None)  # Ajera derives it from ClientKey
    if "firm" in fields:
        key = refs.ajera_key("firm", fields["firm"])
        record["ClientKey"] = int(key) if key else None
    return record


def to_crm(fields: Fields, refs: Refs) -> Raw:
    body = FIELDS.to_crm(fields, refs)
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
    crm_name_search=last_name_search,
    crm_name_fields=("FirstName", "MiddleName", "LastName", "ClientID"),
    crm_new_record={"AjeraSync": "Y"},
    references=("firm",),
    name_max_length=120,
    crm_name_max_length=120,
    cap_field="firm",
)
