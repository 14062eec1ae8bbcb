"""Project contacts, Ajera -> CRM: a mapped project's Ajera contacts (its v1 ``Contacts[]``) onto the CRM
project's team as contact rows (written as ``PRContactAssoc`` rows, read on ``teammember``; the names are
choices, see docs/simulator-contract.md "Project contacts").

A project's contacts are sorted by Ajera's ``Order``; the first ``project_contact_cap`` (Deltek's five) are
its synced contacts and each one after them gets one log row, over the cap. The lists are read with no call
of their own: the consultants step has just read the changed projects with ``GetProjectsWithResources`` and
those carry ``Contacts[]``. Each list is kept (``project_contact``), so a contact that waits for its mapping
arrives in a later run without the project being read again, and a contact the sync placed is never added
twice (the CRM team is also read before a write, for contacts already there). An unchanged project costs no
CRM call.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

from include.sync import journal
from include.sync.enums import Direction, LogAction
from include.sync.project_children.context import CONTACTS, ChildContext
from include.sync.project_children.since_read import RESOURCES, changed_since_read, mark_resources_read
from include.sync.record_types import PROJECT

log = logging.getLogger(__name__)

GRID = next(g.crm_grid for g in PROJECT.grids if g.name == "contacts")  # teammember: employees and contacts
GRID_BODY = "PRContactAssoc"
UNORDERED = 1 << 31  # a contact without a usable Order goes after the ordered ones


@dataclass(frozen=True)
class ContactPlan:
    """What to do with one project's Ajera contacts (each a contact key), in Ajera's Order."""

    add: tuple[str, ...]  # mapped, within the cap, not on the CRM project yet
    waiting: tuple[str, ...]  # within the cap, but the contact is not mapped yet
    over_cap: tuple[str, ...]  # after the cap (or no room left): logged, not added


def plan_contacts(ordered: Sequence[str], mapped: Container[str], placed: Container[str], cap: int) -> ContactPlan:
    """The pure decision. ``ordered``: the project's Ajera contacts in Order; ``placed``: those the sync has
    already put on the CRM project. The first ``cap`` are the synced ones; placed contacts still on the
    Ajera project take room, so the sync never puts more than ``cap`` on a project."""
    listed = list(dict.fromkeys(ordered))
    room = cap - sum(1 for key in listed if key in placed)
    add: list[str] = []
    waiting: list[str] = []
    over: list[str] = []
    for key in listed[:cap]:
        if key in placed:
            continue
        if key not in mapped:
            waiting.append(key)
        elif room > 0:
            add.append(key)
            room -= 1
        else:
            over.append(key)
    over += [key for key in listed[cap:] if key not in placed]
    return ContactPlan(tuple(add), tuple(waiting), tuple(over))


def ordered_contacts(project: dict[str, Any]) -> list[tuple[str, str]]:
    """(ContactKey, name) of a v1 project's ``Contacts[]`` by ``Order``, then key; each contact once."""
    refs = project.get("Contacts") or []
    refs = [refs] if isinstance(refs, dict) else refs  # a single CONTACTREF object is seen in place of the list

    def rank(ref: dict[str, Any]) -> tuple[int, int, str]:
        order = ref.get("Order")
        key = str(ref.get("ContactKey"))
        return (order if isinstance(order, int) and not isinstance(order, bool) else UNORDERED, len(key), key)

    out: dict[str, str] = {}
    for ref in sorted((r for r in refs if isinstance(r, dict) and r.get("ContactKey") is not None), key=rank):
        name = " ".join(str(ref.get(p) or "").strip() for p in ("FirstName", "LastName")).strip()
        out.setdefault(str(ref["ContactKey"]), name or str(ref.get("Text") or "").strip())
    return list(out.items())


@dataclass(frozen=True)
class ContactResult:
    projects: int  # projects whose contact list was read this run
    added: int
    waiting: int
    over_cap: int
    errors: int


def _read_lists(ctx: ChildContext, projects: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The v1 records of the mapped projects Ajera changed since the watermark: those an earlier child read
    this run, and (only if a child before did not read one) the rest with one call per 25."""
    changed = changed_since_read(ctx, projects, RESOURCES)
    missing = [int(k) for k in changed if k not in ctx.ajera_projects]
    if missing:
        read = ctx.ajera.get_projects_with_resources(missing)
        ctx.ajera_projects.update({str(p.get("ProjectKey")): p for p in read})
        mark_resources_read(ctx, [str(p.get("ProjectKey")) for p in read])
    return {k: ctx.ajera_projects[k] for k in changed if k in ctx.ajera_projects}


def _store_lists(ctx: ChildContext, read: dict[str, dict[str, Any]], projects: dict[str, str],
                 contacts: dict[str, str], stored: dict[str, list[Any]]) -> tuple[int, bool]:
    """Keep each read project's list (``stored``: the lists kept so far). A list not the one kept is new: its
    contacts over the cap are logged with it, in one transaction, so a retried task neither loses nor repeats
    those rows. Returns their number, and whether any list was new."""
    over_cap = 0
    changed = False
    with ctx.db.begin() as tx:
        for project, record in read.items():
            now = ordered_contacts(record)
            if now == [(r.ajera_contact, r.name) for r in stored.get(project, [])]:
                continue
            changed = True
            keys = {key for key, _ in now}
            tx.execute("delete_project_contact", [{"ajera_project": project, "ajera_contact": r.ajera_contact}
                                                  for r in stored.get(project, []) if r.ajera_contact not in keys])
            tx.execute("upsert_project_contact", [{"ajera_project": project, "ajera_contact": key, "position": i,
                                                   "name": name, "run_id": ctx.run_id}
                                                  for i, (key, name) in enumerate(now)])
            placed = {r.ajera_contact for r in stored.get(project, []) if r.crm_contact}
            over = plan_contacts([k for k, _ in now], contacts, placed, ctx.options.project_contact_cap).over_cap
            names = dict(now)
            _log_over_cap(tx, ctx, project, projects[project], record, [(k, names[k]) for k in over])
            over_cap += len(over)
    return over_cap, changed


def _kept(ctx: ChildContext) -> dict[str, list[Any]]:
    lists: dict[str, list[Any]] = {}
    for row in ctx.db.rows("select_project_contacts"):
        lists.setdefault(row.ajera_project, []).append(row)
    return lists


def sync_contacts(ctx: ChildContext) -> ContactResult:
    projects, contacts = ctx.pairs("project"), ctx.pairs("contact")
    read = _read_lists(ctx, projects)
    kept = _kept(ctx)
    over_cap, changed = _store_lists(ctx, read, projects, contacts, kept)
    totals = {"added": 0, "waiting": 0, "over_cap": over_cap, "errors": 0}
    for project, rows in (_kept(ctx) if changed else kept).items():
        if project not in projects:
            continue
        names = {r.ajera_contact: r.name for r in rows}
        plan = plan_contacts([r.ajera_contact for r in rows], contacts,
                             {r.ajera_contact for r in rows if r.crm_contact}, ctx.options.project_contact_cap)
        for key in plan.waiting:
            ctx.wait(CONTACTS, f"project contacts: {_who(key, names)} waits for the contact to be synced; it joins "
                               "the CRM project once mapped", ajera_key=project, crm_key=projects[project])
        totals["waiting"] += len(plan.waiting)
        if plan.add:
            added = _place(ctx, project, projects[project], [(k, contacts[k], names[k]) for k in plan.add])
            if added is None:
                totals["errors"] += 1
            else:
                totals["added"] += added
    ctx.tell_waiting(CONTACTS)
    ctx.counts.update({"project_contacts_added": totals["added"], "project_contacts_waiting": totals["waiting"],
                       "project_contacts_over_cap": totals["over_cap"]})
    return ContactResult(len(read), **totals)


def _who(key: str, names: dict[str, str]) -> str:
    return f"{names[key]} (Ajera contact {key})" if names.get(key) else f"Ajera contact {key}"


def _log_over_cap(tx: Any, ctx: ChildContext, project: str, crm_project: str, record: dict[str, Any],
                  over: list[tuple[str, str]]) -> None:
    title = " ".join(str(record.get(n) or "").strip() for n in ("ID", "Description")).strip() or project
    cap = ctx.options.project_contact_cap
    for key, name in over:
        journal.log(tx, ctx.run_id, CONTACTS, LogAction.SKIPPED,
                    f"project contacts: {_who(key, {key: name})} on project {title} is over the cap of {cap} "
                    "contacts per project; not added to the CRM project",
                    direction=Direction.AJERA_TO_CRM, ajera_key=project, crm_key=crm_project, name=title)


def _place(ctx: ChildContext, project: str, crm_project: str, adds: list[tuple[str, str, str]]) -> int | None:
    """Put the contacts on the CRM project (those already on its team are only recorded); the number
    added, or None when the CRM refused."""
    def write() -> list[dict[str, str]]:
        on_team = {str(r["ContactID"]).upper() for r in ctx.crm.grid("project", crm_project, GRID)
                   if r.get("ContactID")}
        new = [{"ContactID": crm, "_transType": "I"} for _, crm, _ in adds if crm.upper() not in on_team]
        if new:
            ctx.crm.write_grid("project", crm_project, GRID_BODY, new)
        return new

    ok, new = ctx.attempt(CONTACTS, "project contacts: the CRM refused the contact rows", write,
                          ajera_key=project, crm_key=crm_project)
    if not ok or new is None:
        return None
    written = {row["ContactID"] for row in new}
    with ctx.db.begin() as tx:
        tx.execute("place_project_contact", [{"ajera_project": project, "ajera_contact": key,
                                              "crm_project": crm_project, "crm_contact": crm, "run_id": ctx.run_id}
                                             for key, crm, _ in adds])
        if written:
            journal.log(tx, ctx.run_id, CONTACTS, LogAction.UPDATED, "contacts from Ajera added to the project's team: "
                        + ", ".join(name or f"Ajera contact {key}" for key, crm, name in adds if crm in written),
                        direction=Direction.AJERA_TO_CRM, ajera_key=project, crm_key=crm_project)
    return len(written)


__all__ = ["ContactPlan", "ContactResult", "ordered_contacts", "plan_contacts", "sync_contacts"]
