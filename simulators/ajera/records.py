"""Record shapes of the simulated Ajera API: fields, validation, dates and list projections.

Everything here is pure (no state) so the service can validate a whole batch before writing any of it,
which is what ``UseSingleTransaction`` needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

Record = dict[str, Any]

DATE_FORMAT_LEN = 23  # "YYYY-MM-DD HH:MM:SS.fff": fixed width, so canonical UTC stamps sort as text

_FILTER_DATE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,6}))?)?"
    r"\s*(?:(?:GMT|UTC|Z)\s*([+-]\d{2}:?\d{2})?)?\s*$"
)


def format_stamp(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + f".{epoch_ms % 1000:03d} GMT+0000"


def parse_stamp(value: Any) -> int | None:
    """Epoch milliseconds of an Ajera date string (any ``GMT±hhmm`` offset), or None if unparseable."""
    if not isinstance(value, str):
        return None
    match = _FILTER_DATE.match(value)
    if not match:
        return None
    day, clock, fraction, offset = match.groups()
    clock = clock or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    try:
        moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
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
    return format_stamp(millis) if millis is not None else None


# --- field kinds -------------------------------------------------------------------------------------

Validator = Callable[[Any], str | None]  # returns a problem description, or None when valid


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def v_str(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or null"


def v_int(value: Any) -> str | None:
    return None if value is None or _is_int(value) else "must be an integer or null"


def v_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def v_num(value: Any) -> str | None:
    ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
    return None if ok else "must be a number or null"


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def v_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _DAY.match(value):
        try:
            datetime.strptime(value, "%Y-%m-%d")
            return None
        except ValueError:
            pass
    return 'must be a date "YYYY-MM-DD" or null'


ADDRESS_FIELDS = ("Line1", "City", "State", "Zip")


def v_address(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return "must be an object {Line1, City, State, Zip} or null"
    unknown = set(value) - set(ADDRESS_FIELDS)
    if unknown:
        return f"has unknown fields {sorted(unknown)}"
    if any(v is not None and not isinstance(v, str) for v in value.values()):
        return "fields must be strings or null"
    return None


PERSON_FIELDS = ("EmployeeKey", "FirstName", "MiddleName", "LastName")


def v_person(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not _is_int(value.get("EmployeeKey")):
        return "must be an object with an integer EmployeeKey, or null"
    return None


@dataclass(frozen=True)
class FieldSpec:
    validator: Validator
    default: Any = None
    required: bool = False  # must be a non-empty string
    max_len: int | None = None
    choices: tuple[str, ...] | None = None
    ref: str | None = None  # plural name of the table the integer must be a key of


def S(required: bool = False, max_len: int | None = None) -> FieldSpec:
    return FieldSpec(v_str, None, required, max_len)


def STATUS(*choices: str, default: str = "Active") -> FieldSpec:
    return FieldSpec(v_str, default, True, None, choices)


I = FieldSpec(v_int)
B = FieldSpec(v_bool, False)
N = FieldSpec(v_num, 0.0)
D = FieldSpec(v_date)
ADDRESS = FieldSpec(v_address)


def PERSON() -> FieldSpec:
    return FieldSpec(v_person, ref="Employees")


def REF(table: str) -> FieldSpec:
    return FieldSpec(v_int, ref=table)


PROJECT_STATUSES = ("Preliminary", "Active", "Hold", "WorkHold", "BillingHold", "Closed", "Marketing")


def full_name(record: Record) -> str:
    parts = (record.get("FirstName"), record.get("MiddleName"), record.get("LastName"))
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


@dataclass(frozen=True)
class EntitySpec:
    plural: str  # "Clients": method suffix and Content key
    singular: str  # "Client": used in error messages and OriginalClientKey
    key: str
    fields: dict[str, FieldSpec]
    list_fields: tuple[str, ...]
    name_of: Callable[[Record], str]
    derived: tuple[str, ...] = ()  # read-only fields the server computes when rendering
    filters: frozenset[str] = field(default_factory=frozenset)  # extra List filters it supports

    @property
    def original_key(self) -> str:
        return f"Original{self.key}"


COMMON_FILTERS = frozenset(
    {
        "FilterByStatus",
        "FilterByNameLike",
        "FilterByNameEquals",
        "FilterByDescriptionEquals",
        "FilterByEarliestModifiedDate",
        "FilterByLatestModifiedDate",
    }
)
PAGING_ARGS = frozenset({"PageResults", "PageSize", "PageNumber"})

ENTITIES: dict[str, EntitySpec] = {
    spec.plural: spec
    for spec in (
        EntitySpec(
            "Clients",
            "Client",
            "ClientKey",
            {
                "Description": S(required=True, max_len=80),
                "Status": STATUS("Active", "Inactive"),
                "ClientTypeKey": I,
                "Email": S(),
                "Phone": S(),
                "Website": S(),
                "Address": ADDRESS,
                "SyncToCRM": B,
            },
            ("ClientKey", "Description"),
            lambda r: r.get("Description") or "",
            filters=frozenset({"FilterBySyncToCRM"}),
        ),
        EntitySpec(
            "Contacts",
            "Contact",
            "ContactKey",
            {
                "FirstName": S(),
                "MiddleName": S(),
                "LastName": S(required=True),
                "Title": S(),
                "Email": S(),
                "Phone": S(),
                "ClientKey": REF("Clients"),
                "Status": STATUS("Active", "Inactive"),
                "SyncToCRM": B,
            },
            ("ContactKey", "FirstName", "MiddleName", "LastName", "Company"),
            full_name,
            derived=("Company",),
            filters=frozenset({"FilterBySyncToCRM", "FilterByCompany"}),
        ),
        EntitySpec(
            "Employees",
            "Employee",
            "EmployeeKey",
            {
                "FirstName": S(required=True),
                "MiddleName": S(),
                "LastName": S(required=True),
                "Title": S(),
                "Email": S(),
                "Status": STATUS("Active", "Inactive", "Terminated"),
            },
            ("EmployeeKey", "FirstName", "MiddleName", "LastName"),
            full_name,
        ),
        EntitySpec(
            "Vendors",
            "Vendor",
            "VendorKey",
            {
                "Name": S(required=True),
                "Status": STATUS("Active", "Inactive"),
                "VendorTypeKey": I,
                "VendorTypeIsConsultant": B,
                "Email": S(),
                "Phone": S(),
            },
            ("VendorKey", "Name"),
            lambda r: r.get("Name") or "",
        ),
        EntitySpec(
            "Projects",
            "Project",
            "ProjectKey",
            {
                "ID": S(required=True),
                "Description": S(required=True, max_len=80),
                "Status": STATUS(*PROJECT_STATUSES),
                "SyncToCRM": B,
                "CreateInCRM": B,
                "CRMFinalSync": B,
                "ClientKey": REF("Clients"),
                "ProjectManager": PERSON(),
                "PrincipalInCharge": PERSON(),
                "Location": S(),
                "BillingType": S(),
                "StartDate": D,
                "EndDate": D,
                "TotalContractAmount": N,
                "LaborBudget": N,
                "ExpenseBudget": N,
                "ConsultantBudget": N,
                "ProjectTypeKey": I,
            },
            ("ProjectKey", "ID", "Description"),
            lambda r: r.get("Description") or "",
            filters=frozenset({"FilterBySyncToCRM", "FilterByCompany"}),
        ),
    )
}

PROJECT_METHODS = frozenset(
    {"ListProjects", "GetProjects", "UpdateProjects", "CreateProjects", "ListProjectTemplates", "GetProjectTotals"}
)


def validate_fields(spec: EntitySpec, key: Any, record: Record) -> list[str]:
    """Problems with the writable fields of ``record`` (already merged with defaults/stored values)."""
    label = f"{spec.singular} {key}"
    problems: list[str] = []
    for name, fs in spec.fields.items():
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
        if fs.choices is not None and value not in fs.choices:
            problems.append(f"{label}: {name} must be one of {', '.join(fs.choices)} (got {value!r})")
    return problems


def list_item(spec: EntitySpec, rendered: Record) -> Record:
    item = {name: rendered.get(name) for name in spec.list_fields}
    item["LastModifiedDate"] = rendered.get("LastModifiedDate")
    return item
