"""Record shapes of the simulated Ajera API, as `ajera-records.md` lists them: fields, types, validation,
dates and list projections.

Everything here is pure (no state) so the service can validate a whole batch before writing any of it,
which is what ``UseSingleTransaction`` needs. A field name that is not declared here is refused on write
(docs/simulator-contract.md, "names the reference does not list").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Record = dict[str, Any]

# Stored dates are canonical UTC text ("YYYY-MM-DD HH:MM:SS.fff"), so they sort and compare as text; the
# API renders them in Ajera's own form, "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)".
STORED_LEN = 23

_DATE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?)?"
    r"\s*(?:(?:GMT|UTC|Z)\s*([+-]\d{2}:?\d{2})?)?\s*(?:\([^)]*\))?\s*$"
)


def stored_stamp(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f".{epoch_ms % 1000:03d}"


def render_stamp(stored: str | None, offset_minutes: int, zone_name: str) -> str | None:
    """Ajera's own date form in the tenant's zone (a fixed offset here)."""
    millis = parse_stamp(stored)
    if millis is None:
        return None
    local = datetime.fromtimestamp(millis / 1000, tz=UTC) + timedelta(minutes=offset_minutes)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return (local.strftime("%Y-%m-%d %H:%M:%S") + f".{millis % 1000:03d} GMT{sign}{hours:02d}:{minutes:02d}"
            + (f" ({zone_name})" if zone_name else ""))


def parse_stamp(value: Any) -> int | None:
    """Epoch milliseconds of an Ajera date string (``GMT±hh:mm``/``GMT±hhmm`` offset, optional zone name in
    brackets, or none: UTC), or None if unparseable."""
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match:
        return None
    day, clock, fraction, offset = match.groups()
    clock = clock or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    try:
        moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        # "GMT-0700" means local = UTC - 7h, so UTC = local + 7h.
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def canonical_stamp(value: Any) -> str | None:
    millis = parse_stamp(value)
    return stored_stamp(millis) if millis is not None else None


# --- field kinds -------------------------------------------------------------------------------------

Validator = Callable[[Any], str | None]  # returns a problem description, or None when valid


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def v_str(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string (empty text is \"\")"


def v_str_or_null(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or null"


def v_int(value: Any) -> str | None:
    return None if value is None or is_int(value) else "must be an integer or null"


def v_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def v_num(value: Any) -> str | None:
    ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
    return None if ok else "must be a number or null"


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def v_day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _DAY.match(value):
        try:
            datetime.strptime(value, "%Y-%m-%d")
            return None
        except ValueError:
            pass
    return 'must be a date "YYYY-MM-DD" or null'


def v_list(value: Any) -> str | None:
    return None if isinstance(value, list) and all(isinstance(v, dict) for v in value) else "must be a list of objects"


def v_object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be an object"


PERSON_FIELDS = ("EmployeeKey", "FirstName", "MiddleName", "LastName")


def v_person(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not is_int(value.get("EmployeeKey")):
        return "must be an object with an integer EmployeeKey, or null"
    unknown = set(value) - set(PERSON_FIELDS)
    return f"has unknown fields {sorted(unknown)}" if unknown else None


CONTACTREF_FIELDS = ("ContactKey", "Order", "Text", "FirstName", "MiddleName", "LastName", "Title", "Company")


def v_contact_refs(value: Any) -> str | None:
    if isinstance(value, dict):  # S accepts a single object in place of the array
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) and is_int(v.get("ContactKey")) for v in value):
        return "must be a list of {ContactKey, Order, ...}"
    for ref in value:
        unknown = set(ref) - set(CONTACTREF_FIELDS)
        if unknown:
            return f"has unknown fields {sorted(unknown)}"
    return None


def render_contact_refs(refs: list[Record], contacts: dict[int, Record]) -> list[Record]:
    """Stored CONTACTREF rows ({ContactKey, Order, Text}) with the contact's names filled in, as read."""
    out = []
    for ref in refs:
        person = contacts.get(ref.get("ContactKey"), {})
        out.append({"ContactKey": ref.get("ContactKey"), "Order": ref.get("Order", 0),
                    "Text": ref.get("Text", ""), "FirstName": person.get("FirstName", ""),
                    "MiddleName": person.get("MiddleName", ""), "LastName": person.get("LastName", ""),
                    "Title": person.get("Title", ""), "Company": person.get("Company", "")})
    return out


@dataclass(frozen=True)
class FieldSpec:
    validator: Validator
    default: Any = None
    required: bool = False  # must be a non-empty string
    max_len: int | None = None
    choices: tuple[str, ...] | None = None
    ref: str | None = None  # plural name of the table the integer must be a key of
    derived: bool = False  # the server computes it on read: accepted on write, ignored, never compared


def S(required: bool = False, max_len: int | None = None) -> FieldSpec:
    return FieldSpec(v_str, "", required, max_len)


def STATUS(*choices: str, default: str = "Active") -> FieldSpec:
    return FieldSpec(v_str, default, True, None, choices)


def DERIVED(validator: Validator = v_str_or_null) -> FieldSpec:
    return FieldSpec(validator, None, derived=True)


def REF(table: str) -> FieldSpec:
    return FieldSpec(v_int, ref=table)


def PERSON() -> FieldSpec:
    return FieldSpec(v_person, ref="Employees")


I = FieldSpec(v_int)  # noqa: E741 - one-letter names keep the field tables below readable as columns
B = FieldSpec(v_bool, False)
N = FieldSpec(v_num, 0.0)
D = FieldSpec(v_day)
SN = FieldSpec(v_str_or_null)  # text that is null when unset (descriptions of an empty lookup)
LIST = FieldSpec(v_list, [])
CONTACTS = FieldSpec(v_contact_refs, [])

ADDRESS_PARTS = ("LineOne", "LineTwo", "LineThree", "City", "State", "Zip", "Country")
ADDR: dict[str, FieldSpec] = {
    **{f"PrimaryAddress{p}": S() for p in ADDRESS_PARTS},
    "MailingAddressSameAsPrimary": FieldSpec(v_bool, True),
    **{f"MailingAddress{p}": S() for p in ADDRESS_PARTS},
}
PHONE: dict[str, FieldSpec] = {
    f"{which}{part}": S()
    for which in ("PrimaryPhone", "SecondaryPhone", "TertiaryPhone", "Fax")
    for part in ("Number", "Description")
}

STATUSES = ("Active", "Inactive")
PROJECT_STATUSES = ("Preliminary", "Active", "Hold", "WorkHold", "BillingHold", "Closed", "Marketing")
# The union of the values the reference's sources show (the authoritative list is unknown).
BILLING_TYPES = ("TimeAndExpense", "FixedFee", "PercentComplete", "UnitPrice", "PercentofConstructionCost",
                 "Nonbillable", "Marketing", "Overhead")


def full_name(record: Record) -> str:
    parts = (record.get("FirstName"), record.get("MiddleName"), record.get("LastName"))
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


# --- list filters ------------------------------------------------------------------------------------

class FilterKind:
    INT_LIST = "int[]"
    STR_LIST = "str[]"
    BOOL_LIST = "bool[]"
    STR = "str"
    DATE = "date"
    DAY = "day"
    BOOL = "bool"
    BOOL_OR_LIST = "bool|bool[]"


DATE_FILTERS = {"FilterByEarliestModifiedDate": FilterKind.DATE, "FilterByLatestModifiedDate": FilterKind.DATE}


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

_PROJECT_DATES = ("EstimatedStartDate", "EstimatedCompletionDate", "ActualStartDate", "ActualCompletionDate")
_PROJECT_AMOUNTS = ("TotalContractAmount", "LaborContractAmount", "ExpenseContractAmount",
                    "ConsultantContractAmount", "HoursCostBudget", "LaborCostBudget", "ExpenseCostBudget",
                    "ConsultantCostBudget", "ConstructionCost", "PercentOfConstructionCost")
_PEOPLE = ("ProjectManager", "PrincipalInCharge", "MarketingContact")

PROJECT_FIELDS: dict[str, FieldSpec] = {
    "ID": S(required=True, max_len=30),
    "Description": S(required=True, max_len=80),
    "Status": STATUS(*PROJECT_STATUSES),
    "SyncToCRM": B,
    "CreateInCRM": B,
    "CRMFinalSync": B,
    "CompanyKey": FieldSpec(v_int, 1),
    "CompanyDescription": S(),
    "ProjectTypeKey": I,
    "ProjectTypeDescription": S(),
    "DepartmentKey": I,
    "DepartmentDescription": S(),
    **{role: PERSON() for role in _PEOPLE},
    "Location": S(),
    **{name: D for name in _PROJECT_DATES},
    "BillingType": FieldSpec(v_str, "TimeAndExpense", True, None, BILLING_TYPES),
    "RateTableKey": I,
    "RateTableDescription": S(),
    **{name: N for name in _PROJECT_AMOUNTS},
    "Notes": S(),
    "BillingDescription": S(),
    "CustomFields": FieldSpec(lambda v: None if v is None or isinstance(v, dict) else "must be an object"),
    "SummarizeBillingGroup": B,
    "BudgetedOverheadRate": N,
    "WageTableKey": I,
    "WageTableDescription": S(),
    "IsCertified": B,
    "RestrictTimeEntryToResourcesOnly": B,
    "TaxState": S(),
    "TaxLocalKey": I,
    "TaxLocalDescription": S(),
    "ApplySalesTax": B,
    "SalesTaxCode": S(),
    "SalesTaxRate": N,
    "RequireTimesheetNotes": B,
    "PercentDistribution": N,
    "IsFinalBudget": B,
    "BillLaborAsTE": B,
    "BillExpenseAsTE": B,
    "BillConsultantAsTE": B,
    "LockFee": B,
    "LaborEntry": S(),
    "ExpenseConsultantEntry": S(),
}

INVOICE_GROUP_FIELDS: dict[str, FieldSpec] = {
    "ProjectKey": I,
    "Description": S(required=True, max_len=80),
    "ClientKey": REF("Clients"),
    "ClientDescription": DERIVED(),
    "InvoiceFormatKey": I,
    "InvoiceFormatDescription": S(),
    "EmailInvoiceTemplateKey": I,
    "EmailInvoiceTemplateDescription": S(),
    "EmailClientStatementTemplateKey": I,
    "EmailClientStatementTemplateDescription": S(),
    "PrintBackup": B,
    "EmailIncludeBackup": B,
    "InvoiceHeaderText": S(),
    "InvoiceFooterText": S(),
    "InvoiceScope": S(),
    "Notes": S(),
}

PHASE_FIELDS: dict[str, FieldSpec] = {
    "ProjectKey": I,
    "ParentKey": I,
    "InvoiceGroupKey": I,
    "ID": S(required=True),
    "Description": S(required=True, max_len=80),
    "Status": STATUS(*PROJECT_STATUSES),
    "SyncToCRM": B,
    "CreateInCRM": B,
    "CRMFinalSync": B,
    "IsBillingGroup": B,
    "DepartmentKey": I,
    **{role: PERSON() for role in _PEOPLE},
    **{name: D for name in _PROJECT_DATES},
    **{name: N for name in _PROJECT_AMOUNTS},
    "BillingType": FieldSpec(v_str, "TimeAndExpense", True, None, BILLING_TYPES),
    "RateTableKey": I,
    "PhaseInvoiceText": S(),
    "LaborInvoiceText": S(),
    "CustomFields": FieldSpec(lambda v: None if v is None or isinstance(v, dict) else "must be an object"),
}

# Stored resource rows hold the v1 keys (EmployeeKey, VendorKey, ...); the v2 rendering drops them and
# shows the employee as a name object, as S reports ("no key is returned").
RESOURCE_FIELDS: dict[str, FieldSpec] = {
    "PhaseKey": I,
    "Status": STATUS(*STATUSES),
    "Priority": I,
    "Description": S(),
    "Notes": S(),
    "IsTask": B,
    "ActivityType": FieldSpec(v_str, "Labor", False, None, ("Labor", "Consultant", "Expense")),
    "Reference": S(),
    "PercentDistribution": N,
    "Units": N,
    "CostRate": N,
    "CostAmount": N,
    "FeeRate": N,
    "FeeAmount": N,
    "MarkupRate": N,
    "BeginBalanceCostAmount": N,
    "BeginBalanceFeeAmount": N,
    "EmployeeKey": REF("Employees"),
    "EmployeeTypeKey": I,
    "ActivityKey": I,
    "VendorKey": REF("Vendors"),
    "VendorTypeKey": I,
    **{name: D for name in _PROJECT_DATES},
}
RESOURCE_V1_ONLY = ("EmployeeKey", "EmployeeTypeKey", "ActivityKey", "VendorKey", "VendorTypeKey", *_PROJECT_DATES)

_PROJECT_FILTERS = {
    "FilterByStatus": FilterKind.STR_LIST, "FilterByCompany": FilterKind.INT_LIST, "FilterByNameLike": FilterKind.STR,
    "FilterByDescriptionLike": FilterKind.STR, "FilterByDescriptionEquals": FilterKind.STR,
    "FilterByIDLike": FilterKind.STR, "FilterByProjectType": FilterKind.INT_LIST,
    "FilterBySyncToCRM": FilterKind.BOOL_LIST, **DATE_FILTERS,
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
                   lambda r: r.get("Description") or "", _PROJECT_FILTERS),
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

TIMESHEET_FILTERS = {
    "FilterByCompany": FilterKind.INT_LIST, "FilterByEmployee": FilterKind.INT_LIST,
    "FilterByNameLike": FilterKind.STR, "FilterByPaid": FilterKind.BOOL, "FilterByUnpaid": FilterKind.BOOL,
    "FilterBySubmitted": FilterKind.BOOL, "FilterByUnsubmitted": FilterKind.BOOL,
    "FilterByRejected": FilterKind.BOOL, "FilterByEarliestTimesheetDate": FilterKind.DAY,
    "FilterByLatestTimesheetDate": FilterKind.DAY,
}
TIMESHEET_ROW_CAP = 500
DAY_COLUMNS = tuple(f"D{n} {kind}" for kind in ("Regular", "Overtime") for n in range(1, 8))


def check_filter(name: str, kind: str, value: Any) -> str | None:
    """The problem with a filter value of the wrong JSON type, or None."""
    ok = {
        FilterKind.INT_LIST: isinstance(value, list) and all(is_int(v) for v in value),
        FilterKind.STR_LIST: isinstance(value, list) and all(isinstance(v, str) for v in value),
        FilterKind.BOOL_LIST: isinstance(value, list) and all(isinstance(v, bool) for v in value),
        FilterKind.STR: isinstance(value, str),
        FilterKind.BOOL: isinstance(value, bool),
        FilterKind.BOOL_OR_LIST: isinstance(value, bool) or (
            isinstance(value, list) and all(isinstance(v, bool) for v in value)),
        FilterKind.DATE: isinstance(value, str) and parse_stamp(value) is not None,
        FilterKind.DAY: isinstance(value, str) and v_day(value) is None,
    }[kind]
    if ok:
        return None
    if kind == FilterKind.DATE:
        return f'{name} must be a date like "2015-03-11 16:22:54.229 GMT-0700" (got {value!r})'
    if kind == FilterKind.DAY:
        return f'{name} must be a date "YYYY-MM-DD" (got {value!r})'
    return f"{name} must be {kind} (got {value!r})"


def validate_fields(fields: dict[str, FieldSpec], label: str, record: Record) -> list[str]:
    """Problems with the writable fields of ``record`` (already merged with defaults/stored values)."""
    problems: list[str] = []
    for name, fs in fields.items():
        if fs.derived:
            continue
        value = record.get(name)
        problem = fs.validator(value)
        if problem:
            problems.append(f"{label}: {name} {problem}")
            continue
        if fs.required and (value is None or (isinstance(value, str) and not value.strip())):
            problems.append(f"{label}: {name} is required")
            continue
        if fs.max_len is not None and isinstance(value, str) and len(value) > fs.max_len:
            problems.append(f"{label}: {name} must be at most {fs.max_len} characters (got {len(value)})")
        if fs.choices is not None and value not in fs.choices and not (value == "" and not fs.required):
            problems.append(f"{label}: {name} must be one of {', '.join(fs.choices)} (got {value!r})")
    return problems


def unknown_fields(fields: dict[str, FieldSpec], key_field: str, record: Record,
                   extra: tuple[str, ...] = ()) -> list[str]:
    """Names the reference does not list for this record (custom fields ``CF_*`` are allowed)."""
    allowed = set(fields) | {key_field, "LastModifiedDate", *extra}
    return sorted(name for name in record if name not in allowed and not name.startswith("CF_"))


def with_defaults(fields: dict[str, FieldSpec], record: Record) -> Record:
    """Every writable field present: missing ones get their default (lists copied)."""
    out = {}
    for name, fs in fields.items():
        if fs.derived:
            continue
        default = list(fs.default) if isinstance(fs.default, list) else fs.default
        out[name] = record.get(name, default)
    out.update({k: v for k, v in record.items() if k not in fields})
    return out
