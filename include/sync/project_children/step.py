"""The children of mapped projects in one step, after the project record type: team first (the
timesheets say whose time moved), then accounting (those projects' totals are due), then consultants,
then contacts (from the projects the consultants step read)."""

from __future__ import annotations

import logging
from typing import Any

from include.sync import journal
from include.sync.db import SyncDatabase
from include.sync.enums import LogAction
from include.sync.project_children import accounting, consultants, contacts, team
from include.sync.project_children.arrivals import RESOURCES, TIMESHEETS, Arrivals, stored
from include.sync.project_children.context import STEP, ChildContext
from include.sync.runs import RunOptions

log = logging.getLogger(__name__)
BACKFILL = "consultant_backfill"


def expected_steps(options: RunOptions) -> tuple[str, ...]:
    """The children steps this run must complete (each logs 'completed' under its name)."""
    if applies(options):
        return ()
    return (STEP, BACKFILL) if options.sync_historical_consultants else (STEP,)


def applies(options: RunOptions) -> str | None:
    """Why the children do not run in this run, or None when they do."""
    if "project" not in options.record_types:
        return "projects are not selected"
    if options.mode != "two_way":
        return "one-way mode imports CRM records into Ajera only"
    if options.dry_run:
        return "dry run"
    return None


def sync_children(db: SyncDatabase, ajera: Any, crm: Any, run_id: str, options: RunOptions) -> dict[str, Any]:
    reason = applies(options)
    if reason:
        log.info("project accounting, team, consultants and contacts skipped: %s", reason)
        return {"skipped": reason}
    ctx = ChildContext(db, ajera, crm, run_id, options)
    # The Ajera reads go on beside this step (ahead.py): each part is taken as soon as it is read, the CRM
    # writes that need no totals first, then the totals as they arrive.
    arrivals = Arrivals(db, run_id)
    arrivals.wait_for(TIMESHEETS)
    moved = set() if team.read_this_run(ctx) else team.read_timesheets(ctx)
    team_result = team.sync_team(ctx)
    arrivals.wait_for(RESOURCES)
    ctx.ajera_projects.update({key: rows[0] for key, rows in stored(db, run_id, RESOURCES).items() if rows})
    consultant_result = consultants.sync_consultants(ctx)
    contact_result = contacts.sync_contacts(ctx)
    with accounting.read_totals(ctx, moved, arrivals) as totals:
        accounting_result = accounting.sync_accounting(ctx, totals)
    errors = accounting_result.errors + team_result.errors + consultant_result.errors + contact_result.errors
    with db.begin() as tx:
        journal.log(tx, run_id, STEP, LogAction.COMPLETED,
                    f"accounting: {accounting_result.fetched} projects' totals read, {accounting_result.written} "
                    f"written, {accounting_result.unchanged} unchanged; team: {team_result.written} rows written, "
                    f"{team_result.waiting} waiting for their employee; consultants: {consultant_result.added} "
                    f"added on {consultant_result.projects} projects ({consultant_result.firms_created} vendor "
                    f"firms created); contacts: {contact_result.added} added, {contact_result.waiting} waiting for "
                    f"their contact, {contact_result.over_cap} over the cap of {options.project_contact_cap}"
                    + (f"; {errors} errors (the integration log names each)" if errors else ""))
    return {"accounting": accounting_result.__dict__, "team": team_result.__dict__,
            "consultants": consultant_result.__dict__, "contacts": contact_result.__dict__}


def consultant_backfill(db: SyncDatabase, ajera: Any, crm: Any, run_id: str, options: RunOptions) -> dict[str, Any]:
    if not options.sync_historical_consultants:
        return {"skipped": "Sync historical project consultants to CRM is not set"}
    reason = applies(options)
    if reason:
        return {"skipped": reason}
    ctx = ChildContext(db, ajera, crm, run_id, options)
    result = consultants.backfill(ctx, options.consultant_backfill_batch)
    with db.begin() as tx:
        journal.log(tx, run_id, BACKFILL, LogAction.COMPLETED,
                    f"consultant back-fill: {result.projects} projects read, {result.added} consultants added, "
                    f"{result.firms_created} vendor firms created")
    return result.__dict__
