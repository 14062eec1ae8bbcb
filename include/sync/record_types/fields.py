"""A record type's fields: the paths into each system's records, the kinds with their converters each way,
the vocabularies of status values, and ``Field`` itself (``include.sync.record_types.base`` builds the record
type from them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from include.sync.model import (
    text,
)
from include.sync.refs import Refs

Owner = Literal["ajera", "crm", "shared"]
Raw = dict[str, Any]


# --- paths ---------------------------------------------------------------------------------------------

_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def _steps(path: str) -> list[tuple[str, int | None]]:
    out = []
    for part in path.split("."):
        match = _STEP.match(part)
        if not match:
            raise ValueError(f"bad field path {path!r}")
        out.append((match.group(1), int(match.group(2)) if match.group(2) is not None else None))
    return out


def get_path(raw: Raw, path: str) -> Any:
    value: Any = raw
    for name, index in _steps(path):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
        if index is not None:
            value = value[index] if isinstance(value, list) and len(value) > index else None
    return value


def set_path(raw: Raw, path: str, value: Any) -> None:
    """Set ``value`` at ``path``; an object step is created (or replaced by None when the value is None:
    ``ProjectManager`` null means no manager)."""
    steps = _steps(path)
    if len(steps) == 2 and steps[0][1] is None and value is None:
        raw[steps[0][0]] = None
        return
    target = raw
    for name, index in steps[:-1]:
        if index is not None:
            rows = target.setdefault(name, [])
            while len(rows) <= index:
                rows.append({})
            rows[index] = dict(rows[index])
            target = rows[index]
        else:
            # A fresh object: a reference object is written as its key alone ({"EmployeeKey": 7}); the
            # names beside the key are Ajera's to fill in.
            target[name] = {}
            target = target[name]
    target[steps[-1][0]] = value


# --- kinds and vocabularies ----------------------------------------------------------------------------

class Kind(Enum):
    TEXT = "text"  # stripped text; None and "" are the same
    MONEY = "money"  # two decimals as text, "" when unset
    DAY = "day"  # "YYYY-MM-DD", "" when unset
    REF = "ref"  # a reference to another record type, in the neutral form of include.sync.refs
    STATUS = "status"  # a canonical value of the field's vocabulary


class AjeraWrite(Enum):
    FIELD = "field"  # written in the record's own Update call
    CREATE = "create"  # set only when the record is created (a project's client, on its invoice group)
    PARENT = "parent"  # written through the referenced record's list of children (a contact's firm)


@dataclass(frozen=True)
class Vocabulary:
    """The canonical values of a status and each system's codes for them (the first Ajera code is the one
    written)."""

    ajera: dict[str, tuple[str, ...]]
    crm: dict[str, str]
    default: str = "active"  # what a blank or unknown value means

    def from_ajera(self, value: Any) -> str:
        wanted = text(value).casefold()
        for canonical, codes in self.ajera.items():
            if any(code.casefold() == wanted for code in codes):
                return canonical
        return self.default

    def from_crm(self, value: Any) -> str:
        wanted = text(value).upper()
        for canonical, code in self.crm.items():
            if code.upper() == wanted:
                return canonical
        return self.default

    @property
    def ajera_values(self) -> tuple[str, ...]:
        return tuple(code for codes in self.ajera.values() for code in codes)

    @property
    def crm_values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.crm.values()))


ACTIVE_INACTIVE = Vocabulary({"active": ("Active",), "inactive": ("Inactive",)}, {"active": "A", "inactive": "I"})


def _money(value: Any) -> str:
    if value in (None, ""):
        return ""
    return f"{float(value):.2f}"


@dataclass(frozen=True)
class Field:
    """One synced (or read-only) field of a record type: a single line in the type's module."""

    name: str  # canonical
    ajera: str | None  # path in the Ajera record (None: the CRM's own)
    crm: str | None  # field of the CRM record (None: Ajera's own)
    kind: Kind = Kind.TEXT
    ref: str | None = None  # the record type a REF field points at
    owner: Owner = "shared"  # who wins when both sides changed it
    vocabulary: Vocabulary | None = None  # for STATUS
    ajera_write: AjeraWrite = AjeraWrite.FIELD
    synced: bool = True  # False: read to create the partner (a project ID, a template), never compared
    # Overrides where a field is more than a path (the CRM project name's 40-character rule, a terminated
    # employee): (raw, refs) -> value, and (value, target record, refs) -> None.
    read_ajera: Callable[[Raw, Refs], Any] | None = None
    read_crm: Callable[[Raw, Refs], Any] | None = None
    write_ajera: Callable[[Any, Raw, Refs], None] | None = None
    write_crm: Callable[[Any, Raw, Refs], None] | None = None

    # reading -----------------------------------------------------------------------------------------
    def from_ajera(self, raw: Raw, refs: Refs) -> Any:
        if self.read_ajera is not None:
            return self.read_ajera(raw, refs)
        value = get_path(raw, self.ajera) if self.ajera else None
        if self.kind is Kind.REF:
            return refs.from_ajera(self.ref or "", value)
        if self.kind is Kind.STATUS and self.vocabulary:
            return self.vocabulary.from_ajera(value)
        return self._plain(value)

    def from_crm(self, raw: Raw, refs: Refs) -> Any:
        if self.read_crm is not None:
            return self.read_crm(raw, refs)
        value = raw.get(self.crm) if self.crm else None
        if self.kind is Kind.REF:
            return refs.from_crm(self.ref or "", value)
        if self.kind is Kind.STATUS and self.vocabulary:
            return self.vocabulary.from_crm(value)
        return self._plain(value)

    def _plain(self, value: Any) -> str:
        if self.kind is Kind.MONEY:
            return _money(value)
        if self.kind is Kind.DAY:
            return text(value)[:10]
        return text(value)

    # writing -----------------------------------------------------------------------------------------
    def to_ajera(self, value: Any, record: Raw, refs: Refs) -> None:
        if self.write_ajera is not None:
            self.write_ajera(value, record, refs)
            return
        if not self.ajera:
            return
        if self.kind is Kind.REF:
            key = refs.ajera_key(self.ref or "", value)
            set_path(record, self.ajera, int(key) if key else None)
        elif self.kind is Kind.STATUS and self.vocabulary:
            current = get_path(record, self.ajera)
            # Keep Ajera's finer value when it already means the same (Preliminary is "active" too).
            if current is None or self.vocabulary.from_ajera(current) != value:
                codes = self.vocabulary.ajera.get(value)
                if not codes:  # a state Ajera records otherwise (a terminated employee: Inactive and a date)
                    raise ValueError(f"{self.name} {value!r} has no Ajera status code to write")
                set_path(record, self.ajera, codes[0])
        elif self.kind is Kind.MONEY:
            set_path(record, self.ajera, float(value) if value else 0.0)
        elif self.kind is Kind.DAY:
            set_path(record, self.ajera, value or None)
        else:
            set_path(record, self.ajera, value if value is not None else "")

    def to_crm(self, value: Any, body: Raw, refs: Refs) -> None:
        if self.write_crm is not None:
            self.write_crm(value, body, refs)
            return
        if not self.crm:
            return
        if self.kind is Kind.REF:
            body[self.crm] = refs.crm_key(self.ref or "", value) or ""
        elif self.kind is Kind.STATUS and self.vocabulary:
            body[self.crm] = self.vocabulary.crm[value]
        elif self.kind is Kind.MONEY:
            body[self.crm] = float(value) if value else None
        elif self.kind is Kind.DAY:
            body[self.crm] = value or None
        else:
            body[self.crm] = value
