"""What apply works on: one planned action (``Step``), and the words its log rows use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from include.sync.concurrent import Seen
from include.sync.model import Record

CREATES = ("create_in_crm", "create_in_ajera")


@dataclass
class Step:
    """One planned action as apply works on it."""

    seq: int
    kind: str
    name: str
    ajera_key: str | None
    crm_key: str | None
    status: str
    detail: dict[str, Any]
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



def full_record(record: Record | None) -> Record | None:
    return record if record is not None and record.raw is not None else None


def direction(step: Step) -> str:
    if step.kind == "create_in_crm":
        return "ajera_to_crm"
    if step.kind == "create_in_ajera":
        return "crm_to_ajera"
    if step.to_crm and step.to_ajera:
        return "both"
    return "crm_to_ajera" if step.to_ajera else "ajera_to_crm"


def verb(step: Step) -> str:
    return {"create_in_crm": "create in the CRM", "create_in_ajera": "create in Ajera",
            "link": "link", "update": "update"}[step.kind]


def update_message(step: Step) -> str:
    parts = []
    if step.to_crm:
        parts.append(f"CRM fields {', '.join(sorted(step.to_crm))} from Ajera")
    if step.to_ajera:
        parts.append(f"Ajera fields {', '.join(sorted(step.to_ajera))} from the CRM")
    return "updated " + "; ".join(parts) if parts else "already in step"


def link_message(step: Step) -> str:
    how = {"name_exact": "same name (case-insensitive), first-time matching",
           "name_recheck": "same name as a flagged record (checked before creating)",
           "recovered_create": "found after an interrupted create (no duplicate made)",
           "suggestion": "accepted match suggestion"}.get(step.detail.get("method", ""), "linked")
    extra = update_message(step) if (step.to_crm or step.to_ajera) else ""
    return f"linked: {how}" + (f"; {extra}" if extra else "")
