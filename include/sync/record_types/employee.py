"""employee: Ajera Employee -> CRM Employee (Ajera 8.09+ syncs employees one way), matched on full name.

Every Ajera employee is synced (Ajera has no flag for it); Ajera owns every field.
"""

from __future__ import annotations

from include.sync.record_types.base import AJERA_TO_CRM, FieldMap, RecordType, StatusCodes, last_name_search, person

FIELDS = FieldMap(
    ajera={"first_name": "FirstName", "middle_name": "MiddleName", "last_name": "LastName", "title": "Title",
           "email": "Email"},
    crm={"first_name": "FirstName", "middle_name": "MiddleName", "last_name": "LastName", "title": "Title",
         "email": "EMail"},
    status=StatusCodes("Status", "Status", {"active": "Active", "inactive": "Inactive", "terminated": "Terminated"},
                       {"active": "A", "inactive": "I", "terminated": "T"}),
)

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
    ajera_fields=FIELDS.ajera_fields,
    crm_fields=FIELDS.crm_fields,
    to_ajera=FIELDS.to_ajera,
    to_crm=FIELDS.to_crm,
    ajera_flag=lambda raw: True,
    crm_flag=lambda raw: False,
    crm_name_search=last_name_search,
    crm_name_fields=("FirstName", "MiddleName", "LastName"),
    crm_flag_field=None,
    ajera_sync_filter=False,
    name_max_length=120,
    crm_name_max_length=120,
)
