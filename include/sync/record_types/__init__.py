"""The record types, in dependency order: a contact needs its firm's mapping, a project its firm's and
its manager's. The engine knows a record type only through its ``RecordType`` (``base``), and the order
derives from each type's reference fields."""

from __future__ import annotations

from include.sync.enums import Direction
from include.sync.record_types.base import (
    AJERA_TO_CRM,
    BOTH,
    AjeraWrite,
    ChildGrid,
    Field,
    Kind,
    Owner,
    RecordType,
    Vocabulary,
)
from include.sync.record_types.contact import CONTACT
from include.sync.record_types.employee import EMPLOYEE
from include.sync.record_types.firm import FIRM
from include.sync.record_types.project import PROJECT
from include.sync.record_types.vendor import VENDOR

_DECLARED = (FIRM, CONTACT, EMPLOYEE, VENDOR, PROJECT)

# Which types must finish before a type starts (the DAG wires its task groups by this): its references.
DEPENDS_ON: dict[str, tuple[str, ...]] = {rt.name: rt.references for rt in _DECLARED}


def _dependency_order(types: tuple[RecordType, ...]) -> tuple[RecordType, ...]:
    """Declaration order, except that a type comes after every type it references (a cycle is an error)."""
    done: dict[str, RecordType] = {}
    by_name = {rt.name: rt for rt in types}

    def visit(rt: RecordType, path: tuple[str, ...]) -> None:
        if rt.name in done:
            return
        if rt.name in path:
            raise ValueError(f"record types refer to each other in a cycle: {' -> '.join((*path, rt.name))}")
        for ref in rt.references:
            if ref not in by_name:
                raise ValueError(f"{rt.name} refers to unknown record type {ref!r}")
            visit(by_name[ref], (*path, rt.name))
        done[rt.name] = rt

    for rt in types:
        visit(rt, ())
    return tuple(done.values())


RECORD_TYPES: dict[str, RecordType] = {rt.name: rt for rt in _dependency_order(_DECLARED)}
ORDER: tuple[str, ...] = tuple(RECORD_TYPES)


def get(name: str) -> RecordType:
    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown record type {name!r}; known: {', '.join(ORDER)}") from None


__all__ = [
    "AJERA_TO_CRM",
    "BOTH",
    "CONTACT",
    "DEPENDS_ON",
    "EMPLOYEE",
    "FIRM",
    "ORDER",
    "PROJECT",
    "RECORD_TYPES",
    "VENDOR",
    "AjeraWrite",
    "ChildGrid",
    "Direction",
    "Field",
    "Kind",
    "Owner",
    "RecordType",
    "Vocabulary",
    "get",
]
