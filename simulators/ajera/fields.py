"""Field kinds of the simulated Ajera API's records: validators, the field spec and its short constructors,
list filter kinds, and the pure checks a write runs (types, required, lengths, choices, unknown names).

Everything here is pure (no state) so the service can validate a whole batch before writing any of it,
which is what ``UseSingleTransaction`` needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulators.ajera.stamps import parse_stamp

Record = dict[str, Any]

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
