"""The record types, in dependency order: a contact needs its firm's mapping, a project its firm's and
its manager's. The engine knows a record type only through its ``RecordType``."""

from __future__ import annotations

from include.sync.record_types.base import AJERA_TO_CRM, BOTH, Direction, Owner, RecordType
from include.sync.record_types.contact import CONTACT
from include.sync.record_types.employee import EMPLOYEE
from include.sync.record_types.firm import FIRM
from include.sync.record_types.project import PROJECT
from include.sync.record_types.vendor import VENDOR

RECORD_TYPES: dict[str, RecordType] = {rt.name: rt for rt in (FIRM, CONTACT, EMPLOYEE, VENDOR, PROJECT)}
ORDER: tuple[str, ...] = tuple(RECORD_TYPES)
# Which types must finish before a type starts (the DAG wires its task groups by this).
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "firm": (),
    "contact": ("firm",),
    "employee": (),
    "vendor": (),
    "project": ("firm", "employee"),
}


def get(name: str) -> RecordType:
    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown record type {name!r}; known: {', '.join(ORDER)}") from None


__all__ = ["AJERA_TO_CRM", "BOTH", "DEPENDS_ON", "Direction", "ORDER", "Owner", "RECORD_TYPES", "RecordType",
           "get", "CONTACT", "EMPLOYEE", "FIRM", "PROJECT", "VENDOR"]
