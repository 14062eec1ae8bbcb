"""contact: Ajera Contact <-> CRM Contact, both ways, matched on First + Middle + Last.

A contact's firm is a reference through the firm mapping, so contacts run after firms. Ajera shows it as
``ContactClientKey`` but takes it only through the client's ``Contacts[]`` (the adapter writes it there).
At most five synced contacts per firm by default (Deltek's limit, ``contact_cap``); the next ones are
logged, not synced. Ajera keeps no sync flag on a contact: every Ajera contact is eligible.
"""

from __future__ import annotations

from include.sync.record_types.base import (
    ACTIVE_INACTIVE,
    BOTH,
    AjeraWrite,
    Field,
    Kind,
    RecordType,
    last_name_search,
    person,
)

CONTACT = RecordType(
    name="contact",
    ajera_entity="Contacts",
    ajera_key="ContactKey",
    crm_hub="contact",
    crm_key="ContactID",
    fields=(
        Field("first_name", "FirstName", "FirstName"),
        Field("middle_name", "MiddleName", "MiddleName"),
        Field("last_name", "LastName", "LastName"),
        Field("title", "Title", "Title"),
        Field("email", "Email", "Email"),
        Field("phone", "PrimaryPhoneNumber", "Phone"),
        Field("status", "Status", "ContactStatus", Kind.STATUS, vocabulary=ACTIVE_INACTIVE),
        Field("firm", "ContactClientKey", "ClientID", Kind.REF, ref="firm", ajera_write=AjeraWrite.PARENT),
    ),
    directions=BOTH,
    ajera_name=person,
    crm_name=person,
    crm_name_search=last_name_search,
    crm_name_fields=("FirstName", "MiddleName", "LastName", "ClientID"),
    crm_new_record={"AjeraSync": "Y"},
    ajera_new_record={"Status": "Active"},
    ajera_name_filter="FilterByText",
    name_max_length=120,
    crm_name_max_length=120,
    cap_field="firm",
)
