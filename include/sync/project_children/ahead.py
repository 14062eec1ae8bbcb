"""The project children's Ajera reads, done ahead: timesheets, the changed projects' resources and the due
projects' totals are read while the project batches (and the contacts) are still being written, and kept
for the children step, which runs meanwhile once every type is done and takes each answer as it is kept.

Ajera is the scarce resource (about 9 calls a second) and the children are most of a first sync's Ajera
calls (``GetProjectTotals`` takes one project per call). Read after every record type, they would start only
once the CRM writes of the types are done; read here, right after the project plan, the two go on together.
Which projects to read is known from the plan: the mapped projects plus those the plan links or creates in
the CRM. What the children step finds here it does not read again; whatever is missing (a project the plan
did not foresee, or the reading stopped) it reads itself, so reading ahead changes when Ajera is asked,
never what is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from include.clients.errors import ApiError
from include.sync.db import SyncDatabase
from include.sync.project_children import accounting, team
from include.sync.project_children.arrivals import DONE, RESOURCES, TIMESHEETS, TOTALS, keep, stored
from include.sync.project_children.context import ChildContext
from include.sync.project_children.since_read import RESOURCES as RESOURCE_READS
from include.sync.project_children.since_read import changed_since_read
from include.sync.read_ahead import ReadAhead
from include.sync.record_types import PROJECT
from include.sync.runs import RunOptions
from include.sync.staging import load_staged

log = logging.getLogger(__name__)

KEEP_EVERY = 50  # answers per commit: the bookkeeping stays off the rate-limited reads' path


@dataclass(frozen=True)
class AheadResult:
    timesheets: int
    totals: int
    projects: int


def future_projects(ctx: ChildContext) -> dict[str, dict[str, Any]]:
    """Ajera key -> Ajera fields of the projects mapped once this run's project batches are written."""
    projects = ctx.ajera_fields(PROJECT.name)
    planned = [r.ajera_key for r in ctx.db.rows("planned_project_mappings", {"run_id": ctx.run_id})]
    staged = load_staged(ctx.db, ctx.run_id, PROJECT, "ajera", keys=[k for k in planned if k not in projects])
    projects.update({key: dict(record.fields) for key, record in staged.items()})
    return projects


def read_ahead(db: SyncDatabase, ajera: Any, run_id: str, options: RunOptions) -> AheadResult:
    """Read what the children will need; an Ajera refusal or outage only leaves that read to the children
    step (which logs it per project), so this step never holds the children back."""
    ctx = ChildContext(db, ajera, None, run_id, options)
    projects = future_projects(ctx)
    totals = resources = 0
    try:  # in the order the children step uses them: team, consultants and contacts, then accounting
        if not team.read_this_run(ctx):  # a retried task: already read and stored
            team.read_timesheets(ctx, projects=projects)
        keep(ctx, DONE, {TIMESHEETS: []})
        resources = _read_resources(ctx, projects)
        keep(ctx, DONE, {RESOURCES: []})
        totals = _read_totals(ctx, projects)
    except ApiError as exc:
        log.warning("reading ahead for the project children stopped (the children step reads the rest): %s", exc)
    finally:
        keep(ctx, DONE, {TIMESHEETS: [], RESOURCES: [], TOTALS: []})
    log.info("read ahead for the project children: %d timesheets, %d projects' totals, %d projects' resources",
             ctx.counts["timesheets_read"], totals, resources)
    return AheadResult(ctx.counts["timesheets_read"], totals, resources)


def _read_totals(ctx: ChildContext, projects: dict[str, dict[str, Any]]) -> int:
    """The due projects' totals (not those a retried task already kept), kept in groups as they come."""
    kept = stored(ctx.db, ctx.run_id, TOTALS)
    due = [k for k in accounting.due_projects(ctx, (), projects=projects) if k not in kept]
    buffer: dict[str, list[dict[str, Any]]] = {}
    try:
        with ReadAhead(lambda key: ctx.ajera.get_project_totals([int(key)]), due) as reads:
            for key, answer in reads:
                try:
                    buffer[key] = answer.result()
                except ApiError:
                    continue  # this project's own problem: the children step reads it again and logs it
                if len(buffer) >= KEEP_EVERY:
                    keep(ctx, TOTALS, buffer)
    finally:
        keep(ctx, TOTALS, buffer)
    return len(due)


def _read_resources(ctx: ChildContext, projects: dict[str, dict[str, Any]]) -> int:
    """The version 1 projects (resources, contacts) of the changed projects the consultants step looks at."""
    kept = stored(ctx.db, ctx.run_id, RESOURCES)
    changed = [k for k in changed_since_read(ctx, projects, RESOURCE_READS) if k not in kept]
    read = ctx.ajera.get_projects_with_resources([int(k) for k in changed]) if changed else []
    keep(ctx, RESOURCES, {str(p.get("ProjectKey")): [p] for p in read})
    return len(read)
