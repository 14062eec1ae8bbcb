"""employee: Ajera Employee -> CRM Employee (Ajera 8.09+ syncs employees one way), matched on full name.

Every Ajera employee is synced (Ajera has no flag for it); Ajera owns every field.
"""

from __future__ import annotations

from include.sync.model import text
from include.sync.record_types.base import AJERA_TO_CRM, Fields, Raw, RecordType, apply_fields, copy_fields, person
from include.sync.refs import Refs

_AJERA = {"first_name": "FirstName", "middle_name": "MiddleName", "last_name": "LastName", "title": "Title",
          "email": "Email"}
_CRM = {"first_name": "FirstName", "middle_name": "MiddleName", "last_name": "LastName", "title": "Title",
        "email": "EMail"}
_STATUS_TO_CRM = {"active": "A", "inactive": "I", "terminated": "T"}
_STATUS_FROM_CRM = {v: k for k, v in _STATUS_TO_CRM.items()}


def ajera_fields(raw: Raw, refs: Refs) -> Fields:
    return copy_fields(raw, _AJERA) | {"status": (text(raw.get("Status")) or "Active").lower()}


def crm_fields(raw: Raw, refs: Refs) -> Fields:
    return copy_fields(raw, _CRM) | {"status": _STATUS_FROM_CRM.get(text(raw.get("Status")).upper(), "active")}


def to_ajera(fields: Fields, baseline: Raw | None, refs: Refs) -> Raw:
    record = dict(baseline or {})
    apply_fields(record, fields, _AJERA)
    if "status" in fields:
        record["Status"] = fields["status"].capitalize()
    return record


def to_crm(fields: Fields, refs: Refs) -> Raw:
    body: Raw = {}
    apply_fields(body, fields, _CRM)
    if "status" in fields:
        body["Status"] = _STATUS_TO_CRM.get(fields["status"], "A")
    return body


EMPLOYEE = RecordType(
    name="employee",
    ajera_entity="Employees",
    ajera_key="EmployeeKey",
    crm_hub="employee",
    crm_key="Employee",
    synced=("first_name", "middle_name", "last_name", "title", "email", "status"),
    directions=AJERA_TO_CRM,
    ajera_name=person,
    crm_name=person,
    ajera_fields=ajera_fields,
    crm_fields=crm_fields,
    to_ajera=to_ajera,
    to_crm=to_crm,
    ajera_flag=lambda raw: True,
    crm_flag=lambda raw: False,
    crm_name_fields=("FirstName", "MiddleName", "LastName"),
    crm_flag_field=None,
    ajera_sync_filter=False,
    name_max_length=120,
    crm_name_max_length=120,
)
