"""What apply works on: one planned action (``Step``), and the words its log rows use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from include.sync.actions import Action, CreateInAjera, CreateInCrm, Link, from_row
from include.sync.concurrent import Seen
from include.sync.enums import ActionKind, ActionStatus, Direction, LinkMethod
from include.sync.model import Record


@dataclass
class Step:
    """One planned action as apply works on it: the action as planned (or as recovered: a create found done
    becomes a link), the keys as they become known, and the writes as they settle."""

    seq: int
    action: Action
    ajera_key: str | None
    crm_key: str | None
    status: ActionStatus
    ajera: Record | None = None
    crm: Record | None = None
    to_ajera: dict[str, Any] = field(default_factory=dict)
    to_crm: dict[str, Any] = field(default_factory=dict)
    planned: tuple[dict[str, Any], dict[str, Any]] = ({}, {})  # (to_crm, to_ajera) before dropping what is in place
    error: str | None = None
    # What the plan read of each side (staged fields, else the mapping's last-synced ones): the sync state
    # recorded after the write is this plus what was written, so an edit made meanwhile is seen next run.
    seen_ajera: Seen | None = None
    seen_crm: Seen | None = None

    @classmethod
    def of(cls, row: Any) -> Step:
        """The step of a ``select_batch_actions`` row."""
        return cls(row.seq, from_row(row), row.ajera_key, row.crm_key, ActionStatus(row.status))

    @property
    def kind(self) -> ActionKind:
        return self.action.kind

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def creates(self) -> bool:
        return isinstance(self.action, CreateInCrm | CreateInAjera)

    def create_fields(self) -> dict[str, Any]:
        """The fields a create writes."""
        if not isinstance(self.action, CreateInCrm | CreateInAjera):
            raise TypeError(f"{self.name}: a {self.kind} has no fields to create with")
        return self.action.fields


def full_record(record: Record | None) -> Record | None:
    return record if record is not None and record.raw is not None else None


def direction(step: Step) -> Direction:
    if isinstance(step.action, CreateInCrm):
        return Direction.AJERA_TO_CRM
    if isinstance(step.action, CreateInAjera):
        return Direction.CRM_TO_AJERA
    if step.to_crm and step.to_ajera:
        return Direction.BOTH
    return Direction.CRM_TO_AJERA if step.to_ajera else Direction.AJERA_TO_CRM


_VERB = {ActionKind.CREATE_IN_CRM: "create in the CRM", ActionKind.CREATE_IN_AJERA: "create in Ajera",
         ActionKind.LINK: "link", ActionKind.UPDATE: "update"}
_HOW_LINKED = {LinkMethod.NAME_EXACT: "same name (case-insensitive), first-time matching",
               LinkMethod.NAME_RECHECK: "same name as a flagged record (checked before creating)",
               LinkMethod.RECOVERED_CREATE: "found after an interrupted create (no duplicate made)",
               LinkMethod.SUGGESTION: "accepted match suggestion"}


def verb(step: Step) -> str:
    return _VERB[step.kind]


def update_message(step: Step) -> str:
    parts = []
    if step.to_crm:
        parts.append(f"CRM fields {', '.join(sorted(step.to_crm))} from Ajera")
    if step.to_ajera:
        parts.append(f"Ajera fields {', '.join(sorted(step.to_ajera))} from the CRM")
    return "updated " + "; ".join(parts) if parts else "already in step"


def link_message(step: Step) -> str:
    how = _HOW_LINKED.get(step.action.method, "linked") if isinstance(step.action, Link) else "linked"
    extra = update_message(step) if (step.to_crm or step.to_ajera) else ""
    return f"linked: {how}" + (f"; {extra}" if extra else "")
