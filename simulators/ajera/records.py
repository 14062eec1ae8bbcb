"""Record shapes of the simulated Ajera API, as `ajera-records.md` lists them: the entities (their fields,
list projections and filters) and the API version each method needs. The project's own records (invoice
groups, phases, resources, timesheets) are in ``project_records``; field kinds and checks in ``fields``.

A field name that is not declared here is refused on write (docs/simulator-contract.md, "names the
reference does not list").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from simulators.ajera.fields import (
    ADDR,
    CONTACTS,
    DATE_FILTERS,
    DERIVED,
    LIST,
    PHONE,
    REF,
    SN,
    STATUS,
    STATUSES,
    B,
    D,
    FieldSpec,
    FilterKind,
    I,
    N,
    Record,
    S,
    full_name,
    v_int,
    v_str,
)
from simulators.ajera.project_records import PROJECT_FIELDS, PROJECT_FILTERS


@dataclass(frozen=True)
class EntitySpec:
    plural: str  # "Clients": method suffix and Content key
    singular: str  # "Client": used in error messages and OriginalClientKey
    key: str
    fields: dict[str, FieldSpec]
    list_fields: tuple[str, ...]
    name_of: Callable[[Record], str]
    filters: dict[str, str] = field(default_factory=dict)  # documented List filters -> kind

    @property
    def original_key(self) -> str:
        return f"Original{self.key}"

    @property
    def derived(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.fields.items() if spec.derived)

    @property
    def writable(self) -> dict[str, FieldSpec]:
        return {name: spec for name, spec in self.fields.items() if not spec.derived}


PAGING_ARGS = frozenset({"PageResults", "PageSize", "PageNumber"})

CLIENT_FIELDS: dict[str, FieldSpec] = {
    "Status": STATUS(*STATUSES),
    "Description": S(required=True, max_len=80),
    "DateEstablished": D,
    "SendStatements": B,
    "CreateFinanceCharge": B,
    "AnnualPercentageRate": N,
    "PrePaymentBeginningBalance": N,
    "AccountID": S(),
    **PHONE,
    "Email": S(),
    "Website": S(),
    **ADDR,
    "EmailStatementTemplateKey": I,
    "EmailStatementTemplateDescription": S(),
    "Contacts": CONTACTS,
    "Notes": S(),
    "ClientTypeKey": I,
    "ClientTypeDescription": S(),
    "ClientTypeNotes": S(),
    "InvoiceDeliveryPreference": FieldSpec(v_str, "Printed"),
}

CONTACT_FIELDS: dict[str, FieldSpec] = {
    "Status": STATUS(*STATUSES),
    "FirstName": S(),
    "MiddleName": S(),
    "LastName": S(required=True),
    "Company": S(),  # free text, not a link
    "Title": S(),
    "Email": S(),
    "Website": S(),
    "Notes": S(),
    **ADDR,
    **PHONE,
    "ContactTypeKey": I,
    "ContactTypeDescription": SN,
    "ContactTypeNotes": SN,
    # The firm link is read here but written through the client's Contacts[] (docs/simulator-contract.md).
    "ContactClientKey": DERIVED(v_int),
    "ContactClientDescription": DERIVED(),
    "ContactVendorKey": DERIVED(v_int),
    "ContactVendorDescription": DERIVED(),
}

EMPLOYEE_FIELDS: dict[str, FieldSpec] = {
    "FirstName": S(required=True),
    "MiddleName": S(),
    "LastName": S(required=True),
    "Title": S(),
    "Status": STATUS(*STATUSES),
    "CompanyKey": FieldSpec(v_int, 1),
    "DepartmentKey": I,
    "IsPrincipal": B,
    "IsSupervisor": B,
    "IsProjectManager": B,
    "IsAccountingManager": B,
    "IsMarketingContact": B,
    "SupervisorKey": REF("Employees"),
    "PayRates": LIST,
    "Email": S(),
    "Website": S(),
    **PHONE,
    **ADDR,
    "EmployeeTypeKey": I,
    "EmployeeTypeDescription": SN,
    "EmployeeTypeNotes": SN,
    "Contacts": CONTACTS,
    "Gender": S(),
    "BirthDate": D,
    "DateHired": D,
    "DateRehired": D,
    "DateTerminated": D,
    "BillablePercent": FieldSpec(v_int, 0),
    "SocialSecurityNumber": S(),
    "PayrollServiceID": S(),
    "OverheadGroupKey": I,
    "CreditCards": LIST,
    "Text": S(),
    "Notes": S(),
    "AllowChangesAfterProcessed": B,
}

VENDOR_FIELDS: dict[str, FieldSpec] = {
    "Name": S(required=True, max_len=80),
    "Status": STATUS(*STATUSES),
    "DateEstablished": D,
    "Receives1099Form": B,
    "FormType1099": S(),
    "RecipientID1099": S(),
    "RecipientName1099": S(),
    "ReportedAmount1099": N,
    "FederalTaxWitheld": N,
    "ReceivesW9Form": B,
    "BuisnessTypeW9": S(),
    "OtherDescriptionW9": S(),
    "DepartmentKey": I,
    "AccountKey": I,
    "AccountID": S(),
    "VendorAccountID": S(),
    "RemittanceContact": S(),
    "RemittanceContactEmail": S(),
    "CalculatePaymentDateMethod": S(),
    **PHONE,
    "Email": S(),
    "Website": S(),
    **ADDR,
    "Contacts": CONTACTS,
    "Notes": S(),
    "VendorTypeKey": I,
    "VendorTypeDescription": SN,
    "VendorTypeIsConsultant": B,
    "VendorTypeIsCreditCard": B,
    "VendorTypeNotes": SN,
}

ENTITIES: dict[str, EntitySpec] = {
    spec.plural: spec
    for spec in (
        EntitySpec("Clients", "Client", "ClientKey", CLIENT_FIELDS, ("ClientKey", "Description"),
                   lambda r: r.get("Description") or "",
                   {"FilterByCompany": FilterKind.INT_LIST, "FilterByStatus": FilterKind.STR_LIST,
                    "FilterByNameLike": FilterKind.STR, "FilterByNameEquals": FilterKind.STR,
                    "FilterByClientType": FilterKind.INT_LIST, **DATE_FILTERS}),
        EntitySpec("Contacts", "Contact", "ContactKey", CONTACT_FIELDS,
                   ("ContactKey", "FirstName", "MiddleName", "LastName", "Company"), full_name,
                   {"FilterByCompany": FilterKind.INT_LIST, "FilterByStatus": FilterKind.STR_LIST,
                    "FilterByText": FilterKind.STR, "FilterByContactType": FilterKind.INT_LIST, **DATE_FILTERS}),
        EntitySpec("Employees", "Employee", "EmployeeKey", EMPLOYEE_FIELDS,
                   ("EmployeeKey", "FirstName", "MiddleName", "LastName"), full_name,
                   {"FilterByCompany": FilterKind.INT_LIST, "FilterByDepartment": FilterKind.INT_LIST,
                    "FilterBySupervisor": FilterKind.INT_LIST, "FilterByStatus": FilterKind.STR_LIST,
                    "FilterByNameLike": FilterKind.STR, "FilterByEmployeeType": FilterKind.INT_LIST,
                    **DATE_FILTERS}),
        EntitySpec("Vendors", "Vendor", "VendorKey", VENDOR_FIELDS, ("VendorKey", "Name"),
                   lambda r: r.get("Name") or "",
                   {"FilterByCompany": FilterKind.INT_LIST, "FilterByStatus": FilterKind.STR_LIST,
                    "FilterByNameLike": FilterKind.STR, "FilterByVendorType": FilterKind.INT_LIST, **DATE_FILTERS}),
        EntitySpec("Projects", "Project", "ProjectKey", PROJECT_FIELDS, ("ProjectKey", "ID", "Description"),
                   lambda r: r.get("Description") or "", PROJECT_FILTERS),
    )
}

# The version of the session each method needs (the reference's table). "both": either version, with the
# version's own shape. Methods of one version called on the other are refused with Ajera's own message.
METHOD_VERSIONS: dict[str, str] = {
    **{f"{verb}{plural}": "1" for verb in ("List", "Get", "Update")
       for plural in ("Clients", "Contacts", "Vendors", "Employees")},
    "ListVendorTypes": "1",
    "GetProjectTotals": "1",
    "ListProjectTemplates": "1",
    "GetProjectTemplates": "1",
    "GetProjectsWithResources": "1",
    "ListProjects": "both",
    "GetProjects": "both",
    "CreateProjects": "2",
    "UpdateProjects": "2",
    "ListTimesheets": "2",
    "GetTimesheets": "2",
    "EndAPISession": "both",
}

# S sends FilterByIsConsultant/FilterByIsCreditCard as bool[], P as bool: both are taken.
VENDOR_TYPE_FILTERS = {"FilterByStatus": FilterKind.STR_LIST, "FilterByIsCreditCard": FilterKind.BOOL_OR_LIST,
                       "FilterByIsConsultant": FilterKind.BOOL_OR_LIST}
