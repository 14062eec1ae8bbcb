"""Record shapes of the simulated Vantagepoint hubs and their validation rules.

Validation is deliberately strict (unknown fields, bad flags, over-long names, dangling references are all
400s) so a mapping bug in the sync engine shows up as a clear error instead of silently stored junk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SERVER_FIELDS = ("CreateUser", "CreateDate", "ModUser", "ModDate")
YN = ("Y", "N")


@dataclass(frozen=True)
class Field:
    kind: str = "text"  # text | flag | enum | number | date | ref
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    default: Any = None
    ref: str | None = None  # hub the value must exist in (kind "ref")


def _flag(default: str = "N") -> Field:
    return Field("flag", choices=YN, default=default)


def _enum(*choices: str, default: str | None = None) -> Field:
    return Field("enum", choices=choices, default=default if default is not None else choices[0])


@dataclass(frozen=True)
class HubSpec:
    name: str
    key: str
    key_kind: str  # "hex" (server-made 32 hex) | "code" (client-supplied or numbered)
    fields: dict[str, Field]
    key_max_len: int = 32
    number_width: int = 5  # zero padding of server-numbered codes
    rules: tuple[Callable[[dict[str, Any]], list[tuple[str, str]]], ...] = ()
    derived: tuple[str, ...] = ()  # read-only, filled on read from related records

    def canonical(self, name: str) -> str | None:
        """The field's own spelling for a name given in any case (filters and fieldFilter ignore case)."""
        return _canonical_names(self).get(name.lower())

    def all_fields(self) -> dict[str, Field]:
        """Every readable field, the key and the server-maintained ones included."""
        out: dict[str, Field] = {self.key: Field("text")}
        out.update(self.fields)
        for name in self.derived:
            out[name] = Field("text")
        for name in SERVER_FIELDS:
            out[name] = Field("date") if name.endswith("Date") else Field("text")
        return out


def _canonical_names(spec: HubSpec) -> dict[str, str]:
    cached = _CANONICAL.get(spec.name)
    if cached is None:
        cached = _CANONICAL[spec.name] = {name.lower(): name for name in spec.all_fields()}
    return cached


_CANONICAL: dict[str, dict[str, str]] = {}


def _vendor_only_firm_cannot_sync(record: dict[str, Any]) -> list[tuple[str, str]]:
    if record.get("VendorInd") == "Y" and record.get("ClientInd") == "N" and record.get("AjeraSync") == "Y":
        return [("AjeraSync", "a vendor-only firm (VendorInd Y, ClientInd N) cannot be AjeraSync Y")]
    return []


def _text(*names: str, max_len: int) -> dict[str, Field]:
    return {name: Field(max_len=max_len) for name in names}


# The 15 accounting fields Ajera fills on a CRM project (decimal 19,4 in the PR table; reference §5).
AJERA_PROJECT_FIELDS: tuple[str, ...] = tuple(
    f"Ajera{measure}{kind}"
    for measure in ("Spent", "Cost", "WIP", "Billed", "Received")
    for kind in ("Labor", "Reimbursable", "Consultant")
)
_AJERA_TOTALS = {name: Field("number", default=0) for name in AJERA_PROJECT_FIELDS}
# Tenant custom fields (`Cust<Name>`, reference §6) the sync uses where the reference names no field for an
# Ajera figure (docs/simulator-contract.md, "Project accounting").
_AJERA_CUSTOM = {
    **{name: Field("number", default=0) for name in (
        "CustAjeraReceivable", "CustAjeraWrittenOff", "CustAjeraHoursWorked", "CustAjeraResourceHours",
        "CustAjeraHoursBudget", "CustAjeraLaborCostBudget", "CustAjeraExpenseCostBudget",
        "CustAjeraConsultantCostBudget")},
    "CustAjeraActualStartDate": Field("date"),
}
_ADDRESS_LINES = ("PrimaryAddress1", "PrimaryAddress2", "PrimaryAddress3", "PrimaryAddress4")

HUBS: dict[str, HubSpec] = {
    "firm": HubSpec(
        "firm",
        key="ClientID",
        key_kind="hex",
        fields={
            "Client": Field(max_len=20),
            "Name": Field(max_len=100, required=True),
            "Status": _enum("A", "I", "D"),
            "ClientInd": _flag("Y"),
            "VendorInd": _flag("N"),
            "Vendor": Field(max_len=20),
            "VName": Field(max_len=100),
            "Type": Field(max_len=50),
            **_text(*_ADDRESS_LINES, max_len=255),
            "PrimaryCity": Field(max_len=50),
            "PrimaryState": Field(max_len=50),
            "PrimaryZip": Field(max_len=20),
            "PrimaryCountry": Field(max_len=50),
            "PrimaryPhone": Field(max_len=50),
            "PrimaryFax": Field(max_len=50),
            "PrimaryEmail": Field(max_len=255),
            "WebSite": Field(max_len=255),
            "Memo": Field(),
            "AjeraSync": _flag("N"),
        },
        rules=(_vendor_only_firm_cannot_sync,),
    ),
    "contact": HubSpec(
        "contact",
        key="ContactID",
        key_kind="hex",
        fields={
            "ClientID": Field("ref", ref="firm"),
            "FirstName": Field(max_len=50),
            "MiddleName": Field(max_len=50),
            "LastName": Field(max_len=50, required=True),
            "Salutation": Field(max_len=20),
            "Suffix": Field(max_len=20),
            "PreferredName": Field(max_len=50),
            "Title": Field(max_len=100),
            "Email": Field(max_len=255),
            **_text("Phone", "CellPhone", "HomePhone", "Fax", max_len=50),
            **_text("Address1", "Address2", "Address3", "Address4", max_len=255),
            "City": Field(max_len=50),
            "State": Field(max_len=50),
            "Zip": Field(max_len=20),
            "Country": Field(max_len=50),
            "ContactStatus": _enum("A", "I"),
            "Memo": Field(),
            "AjeraSync": _flag("N"),
        },
        derived=("flName", "ClientName"),
    ),
    "employee": HubSpec(
        "employee",
        key="Employee",
        key_kind="code",
        key_max_len=20,
        number_width=5,
        fields={
            "EmployeeCompany": Field(max_len=14, default=""),
            "HomeCompany": Field(max_len=14, default=""),
            "FirstName": Field(max_len=50, required=True),
            "MiddleName": Field(max_len=50),
            "LastName": Field(max_len=50, required=True),
            "PreferredName": Field(max_len=50),
            "Title": Field(max_len=100),
            "EMail": Field(max_len=255),
            "WorkPhone": Field(max_len=50),
            "MobilePhone": Field(max_len=50),
            "Status": _enum("A", "I", "T"),
            "Supervisor": Field("ref", ref="employee"),
            "HireDate": Field("date"),
            "TerminationDate": Field("date"),
        },
    ),
    "project": HubSpec(
        "project",
        key="WBS1",
        key_kind="code",
        key_max_len=30,
        number_width=6,
        fields={
            # Blank on a project row; set on its phase (WBS2) and task (WBS3) rows.
            "WBS2": Field(max_len=30, default=""),
            "WBS3": Field(max_len=30, default=""),
            "Name": Field(max_len=40, required=True),
            "LongName": Field(max_len=255),
            "SubLevel": _flag("N"),
            "ChargeType": _enum("R", "H", "P"),
            "Status": _enum("A", "I", "D"),
            "Stage": Field(max_len=50),
            "Probability": Field("number"),
            "ProjMgr": Field("ref", ref="employee"),
            "Principal": Field("ref", ref="employee"),
            "Supervisor": Field("ref", ref="employee"),
            "ClientID": Field("ref", ref="firm"),
            "BillingClientID": Field("ref", ref="firm"),
            "ContactID": Field("ref", ref="contact"),
            "Org": Field(max_len=30),
            "ProjectType": Field(max_len=50),
            **{name: Field("number") for name in ("Fee", "ReimbAllow", "ConsultFee", "FeeDirLab", "FeeDirExp")},
            **{name: Field("date") for name in ("StartDate", "EndDate", "EstCompletionDate", "ActCompletionDate")},
            "AjeraSync": _flag("N"),
            "ProjectTemplate": Field(max_len=50, default=""),
            **_AJERA_TOTALS,
            **_AJERA_CUSTOM,
        },
    ),
}
WBS_LEVELS = {"wbs1": ("WBS1",), "wbs2": ("WBS1", "WBS2"), "wbs3": ("WBS1", "WBS2", "WBS3")}


@dataclass(frozen=True)
class GridSpec:
    name: str  # URL segment: /api/project/{WBS1}/{name}
    body_name: str  # PUT body property carrying the _transType rows
    table: str  # store table / seed key
    row_key: str  # the record a row links to (unique per project)
    row_id: str  # the row's own server-made id, which a U/D row may name instead of row_key
    ref: str  # hub the row key must exist in
    fields: dict[str, Field] = field(default_factory=dict)
    derived: tuple[str, ...] = ()  # read-only, filled from the linked record on read
    stamped: bool = False  # rows carry their own ModDate


GRIDS: dict[str, GridSpec] = {
    "firmclient": GridSpec(
        "firmClient",
        "ClendorProjectAssoc",
        "firmClient",
        "ClientID",
        "PKey",
        "firm",
        {
            "WBS2": Field(max_len=30, default=""),
            "WBS3": Field(max_len=30, default=""),
            "Role": Field(max_len=50),
            "RoleDescription": Field(max_len=100),
            "TeamStatus": Field(max_len=20, default="Active"),
            "PrimaryInd": _flag("N"),
            "ClientInd": Field("flag", choices=YN),  # default: copied from the firm
            "VendorInd": Field("flag", choices=YN),
            "IsSubconsultant": _flag("N"),
            "CostAmount": Field("number", default=0),
        },
        derived=("ClientName",),
    ),
    "employee": GridSpec(
        "employee",
        "EMProjectAssoc",
        "projectEmployee",
        "Employee",
        "RecordID",
        "employee",
        {
            "WBS2": Field(max_len=30, default=""),
            "WBS3": Field(max_len=30, default=""),
            "Role": Field(max_len=50),
            "RoleDescription": Field(max_len=100),
            "TeamStatus": Field(max_len=20, default="Active"),
            "StartDate": Field("date"),
            "EndDate": Field("date"),
            "CRMHours": Field("number", default=0),
        },
        stamped=True,
    ),
    # The mixed project team: contact rows are written here (PRContactAssoc), and a read of teammember also
    # shows the employee grid's rows (simulators.vantagepoint.team); the derived fields are filled on read.
    "teammember": GridSpec(
        "teammember",
        "PRContactAssoc",
        "projectContact",
        "ContactID",
        "RecordID",
        "contact",
        {
            "WBS2": Field(max_len=30, default=""),
            "WBS3": Field(max_len=30, default=""),
            "Role": Field(max_len=50),
            "RoleDescription": Field(max_len=100),
            "PrimaryInd": _flag("N"),
        },
        derived=("RecordType", "Employee", "flName", "StartDate", "EndDate", "Hours"),
        stamped=True,
    ),
}
GRID_BY_BODY_NAME = {g.body_name.lower(): g for g in GRIDS.values()}

# --- dates ---------------------------------------------------------------------------------------------

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def format_ms(ms: int) -> str:
    """Milliseconds since the epoch -> "2016-11-01T22:47:17.190" (UTC, no zone), the Vantagepoint form."""
    stamp = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime(DATE_FORMAT)
    return f"{stamp}.{ms % 1000:03d}"


def parse_datetime(value: str) -> datetime:
    """Parse the date forms a caller may send; an explicit zone is converted to naive UTC."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def canonical_datetime(value: str) -> str:
    """A string that sorts like the datetime it names, so list filters compare strings, not datetimes."""
    if len(value) == 23 and value[10] == "T" and value[19] == ".":
        return value  # already the server's own form: the fast path for ModDate on every row
    parsed = parse_datetime(value)
    return parsed.strftime(DATE_FORMAT) + f".{parsed.microsecond // 1000:03d}"


def ms_of(value: str) -> int:
    parsed = parse_datetime(value).replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


# --- validation -----------------------------------------------------------------------------------------

HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")


def check_value(name: str, spec: Field, value: Any, exists: Callable[[str, str], bool]) -> str | None:
    """Return why ``value`` is not acceptable for the field, or None."""
    if value is None or value == "":
        return f"{name} is required" if spec.required else None
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name} must be a number, got {value!r}"
        return None
    if not isinstance(value, str):
        return f"{name} must be a string, got {type(value).__name__}"
    if spec.kind in ("flag", "enum") and value not in spec.choices:
        return f"{name} must be one of {'|'.join(spec.choices)}, got {value!r}"
    if spec.kind == "date":
        try:
            parse_datetime(value)
        except ValueError:
            return f"{name} must be a date like 2024-01-31 or 2024-01-31T00:00:00.000, got {value!r}"
    if spec.kind == "ref" and spec.ref and not exists(spec.ref, value):
        return f"{name} {value!r} does not exist in {spec.ref}"
    if spec.max_len is not None and len(value) > spec.max_len:
        return f"{name} is longer than {spec.max_len} characters ({len(value)})"
    return None


def check_fields(
    specs: dict[str, Field],
    values: dict[str, Any],
    exists: Callable[[str, str], bool],
    *,
    only: set[str] | None = None,
) -> list[tuple[str, str]]:
    """Validate ``values`` (restricted to ``only`` if given); return (field, message) pairs."""
    errors: list[tuple[str, str]] = []
    for name, spec in specs.items():
        if only is not None and name not in only:
            continue
        problem = check_value(name, spec, values.get(name), exists)
        if problem:
            errors.append((name, problem))
    return errors
