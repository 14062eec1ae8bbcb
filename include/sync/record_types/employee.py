"""employee: Ajera Employee -> CRM Employee (Ajera 8.09+ syncs employees one way), matched on full name.

Every Ajera employee is synced (Ajera has no flag for it); Ajera owns every field. Ajera's documented
statuses are Active and Inactive; an Inactive employee with a termination date is the CRM's T.
"""

from __future__ import annotations

from include.sync.model import text
from include.sync.record_types.base import (
    AJERA_TO_CRM,
    Field,
    Kind,
    Raw,
    RecordType,
    Vocabulary,
    last_name_search,
    person,
)
from include.sync.refs import Refs

STATUS = Vocabulary({"active": ("Active",), "inactive": ("Inactive",), "terminated": ()},
                    {"active": "A", "inactive": "I", "terminated": "T"})


def ajera_status(raw: Raw, refs: Refs) -> str:
    status = STATUS.from_ajera(raw.get("Status"))
    return "terminated" if status == "inactive" and text(raw.get("DateTerminated")) else status


EMPLOYEE = RecordType(
    name="employee",
    ajera_entity="Employees",
    ajera_key="EmployeeKey",
    crm_hub="employee",
    crm_key="Employee",
    fields=(
        Field("first_name", "FirstName", "FirstName"),
        Field("middle_name", "MiddleName", "MiddleName"),
        Field("last_name", "LastName", "LastName"),
        Field("title", "Title", "Title"),
        Field("email", "Email", "EMail"),
        Field("status", "Status", "Status", Kind.STATUS, vocabulary=STATUS, read_ajera=ajera_status),
    ),
    directions=AJERA_TO_CRM,
    ajera_name=person,
    crm_name=person,
    crm_flag=lambda raw: False,
    crm_name_search=last_name_search,
    crm_name_fields=("FirstName", "MiddleName", "LastName"),
    crm_flag_field=None,
    ajera_name_filter="FilterByNameLike",
    name_max_length=120,
    crm_name_max_length=120,
)
