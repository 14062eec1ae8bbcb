"""The planned actions, one type per kind with its own fields, and their ``planned_action`` row.

The planners make them, ``plan_step`` stores them (``to_row``), and ``batch_cap`` and apply read them back
(``from_row``): the ``detail`` JSON is written and read here only. Its keys stay those of the rows written
before these types, so a run's plan stored by an older version still applies.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from include.sync.enums import ActionKind, LinkMethod
from include.sync.model import System

Fields = dict[str, Any]


@dataclass(frozen=True)
class _Planned(ABC):
    kind: ClassVar[ActionKind]
    name: str
    ajera_key: str | None
    crm_key: str | None

    def to_row(self) -> dict[str, Any]:
        """The action's columns of ``planned_action`` (``insert_action``'s parameters but the run's)."""
        return {"action": self.kind.value, "ajera_key": self.ajera_key, "crm_key": self.crm_key,
                "record_name": self.name, "detail": json.dumps(self._detail(), default=str)}

    @abstractmethod
    def _detail(self) -> dict[str, Any]:
        """The kind's own fields, as the ``detail`` JSON."""


@dataclass(frozen=True)
class Link(_Planned):
    """Link two unmapped records. Reconciled: both were read in full when planned, and ``to_crm``/``to_ajera``
    are what goes across; else apply reconciles them once it has read both."""

    kind: ClassVar[ActionKind] = ActionKind.LINK
    method: LinkMethod = LinkMethod.NAME_EXACT
    reconciled: bool = False
    to_crm: Fields = field(default_factory=dict)
    to_ajera: Fields = field(default_factory=dict)

    def _detail(self) -> dict[str, Any]:
        if not self.reconciled:
            return {"method": self.method.value}
        return {"method": self.method.value, "to_crm": self.to_crm, "to_ajera": self.to_ajera, "reconciled": True}


@dataclass(frozen=True)
class Update(_Planned):
    """Carry a mapped pair's changes across. ``decisions``: the conflicts a person decided (field -> winning
    side) that this write carries out; None when there were none to look at."""

    kind: ClassVar[ActionKind] = ActionKind.UPDATE
    to_crm: Fields = field(default_factory=dict)
    to_ajera: Fields = field(default_factory=dict)
    ajera_changed: bool = False
    crm_changed: bool = False
    decisions: dict[str, System] | None = None

    def _detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"to_crm": self.to_crm, "to_ajera": self.to_ajera,
                                  "ajera_changed": self.ajera_changed, "crm_changed": self.crm_changed}
        if self.decisions is not None:
            detail["decisions"] = self.decisions
        return detail


@dataclass(frozen=True)
class _Create(_Planned):
    fields: Fields = field(default_factory=dict)  # the source record's, as the plan read them

    def _detail(self) -> dict[str, Any]:
        return {"fields": self.fields}


@dataclass(frozen=True)
class CreateInCrm(_Create):
    """Create the Ajera record ``ajera_key`` in the CRM."""

    kind: ClassVar[ActionKind] = ActionKind.CREATE_IN_CRM


@dataclass(frozen=True)
class CreateInAjera(_Create):
    """Create the CRM record ``crm_key`` in Ajera."""

    kind: ClassVar[ActionKind] = ActionKind.CREATE_IN_AJERA


Action = Link | Update | CreateInCrm | CreateInAjera
Create = CreateInCrm | CreateInAjera


def from_row(row: Any) -> Action:
    """The action of a ``planned_action`` row (anything with its ``action``, keys, ``record_name`` and
    ``detail`` columns as attributes)."""
    kind = ActionKind(row.action)
    detail: Mapping[str, Any] = json.loads(row.detail or "{}")
    common = (row.record_name, row.ajera_key, row.crm_key)
    if kind is ActionKind.LINK:
        return Link(*common, method=LinkMethod(detail["method"]), reconciled=bool(detail.get("reconciled")),
                    to_crm=dict(detail.get("to_crm") or {}), to_ajera=dict(detail.get("to_ajera") or {}))
    if kind is ActionKind.UPDATE:
        decisions = detail.get("decisions")
        return Update(*common, to_crm=dict(detail["to_crm"]), to_ajera=dict(detail["to_ajera"]),
                      ajera_changed=bool(detail["ajera_changed"]), crm_changed=bool(detail["crm_changed"]),
                      decisions=dict(decisions) if decisions is not None else None)
    if kind is ActionKind.CREATE_IN_CRM:
        return CreateInCrm(*common, fields=dict(detail["fields"]))
    return CreateInAjera(*common, fields=dict(detail["fields"]))


def writes_ajera(action: Action) -> bool:
    """Whether applying it writes to Ajera (as planned: apply drops what Ajera already holds)."""
    return isinstance(action, CreateInAjera) or (isinstance(action, Link | Update) and bool(action.to_ajera))


def changed_fields(action: Action) -> list[str]:
    """The fields a link or an update writes, either way, by name."""
    if isinstance(action, Link | Update):
        return sorted({*action.to_crm, *action.to_ajera})
    return []
