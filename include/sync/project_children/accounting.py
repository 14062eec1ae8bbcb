"""Project accounting, Ajera -> CRM: ``GetProjectTotals`` plus the project's contract, budget and dates
onto the CRM project's Ajera fields (vantagepoint-records.md §5; the names it lacks are tenant custom
fields, see docs/simulator-contract.md "Project accounting").

GetProjectTotals takes one project per call, so only projects whose transactions could have moved are
read: those Ajera modified since the watermark (staged whole this run), those with time read this run,
and, on the deployment's schedule (``accounting_refresh_hours``), every open mapped project not read for
that long. A hash of the values written per project means an unchanged project costs no CRM write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from include.sync import journal
from include.sync.db import parse_ts, utcnow
from include.sync.enums import Direction, LogAction
from include.sync.journal import Ledger
from include.sync.model import fields_hash
from include.sync.project_children.arrivals import TOTALS, Arrivals, Streamed
from include.sync.project_children.context import ACCOUNTING, ChildContext
from include.sync.project_children.since_read import ACCOUNTING as ACCOUNTING_READS
from include.sync.project_children.since_read import changed_since_read
from include.sync.read_ahead import ReadAhead
from include.sync.record_types import PROJECT

log = logging.getLogger(__name__)

# Totals Ajera splits into labor and the rest: (total, its labor part, CRM measure).
SPLIT = (("Spent", "Spent Labor", "Spent"), ("Cost", "Cost Labor", "Cost"), ("Billed", "Billed Labor", "Billed"))
# Totals Ajera gives as one amount: (total, the split it follows, CRM measure). Shared out between labor
# and the rest in the proportion of that split, so the CRM columns add up to Ajera's figure.
PROPORTIONAL = (("WIP", "Cost", "WIP"), ("Receipts", "Billed", "Received"))
# One Ajera figure -> one CRM field.
DIRECT = {
    "Receivable Balance": "CustAjeraReceivable", "Written off": "CustAjeraWrittenOff",
    "Hours Worked": "CustAjeraHoursWorked", "Resource Hours": "CustAjeraResourceHours",
    "LaborContractAmount": "FeeDirLab", "ExpenseContractAmount": "FeeDirExp",
    "ConsultantContractAmount": "ConsultFee",
    "HoursCostBudget": "CustAjeraHoursBudget", "LaborCostBudget": "CustAjeraLaborCostBudget",
    "ExpenseCostBudget": "CustAjeraExpenseCostBudget", "ConsultantCostBudget": "CustAjeraConsultantCostBudget",
}
# The estimated dates are the project record type's (StartDate/EndDate, both ways); these are Ajera's own.
DATES = {"ActualCompletionDate": "ActCompletionDate", "ActualStartDate": "CustAjeraActualStartDate"}


def _amount(value: Any) -> float:
    try:
        return round(float(value or 0), 2)
    except (TypeError, ValueError):
        return 0.0


def crm_accounting(totals: dict[str, Any]) -> dict[str, Any]:
    """The CRM project fields for one ``GetProjectTotals`` answer (the v1 project plus its totals)."""
    out: dict[str, Any] = {}
    for total, labor, measure in SPLIT:
        whole, part = _amount(totals.get(total)), _amount(totals.get(labor))
        out[f"Ajera{measure}Labor"] = part
        out[f"Ajera{measure}Reimbursable"] = round(whole - part, 2)
    for total, follows, measure in PROPORTIONAL:
        whole, base = _amount(totals.get(total)), _amount(totals.get(follows))
        share = _amount(totals.get(f"{follows} Labor")) / base if base else 0.0
        out[f"Ajera{measure}Labor"] = round(whole * share, 2)
        out[f"Ajera{measure}Reimbursable"] = round(whole - out[f"Ajera{measure}Labor"], 2)
    for name, crm in DIRECT.items():
        out[crm] = _amount(totals.get(name))
    for name, crm in DATES.items():
        value = totals.get(name)
        out[crm] = str(value)[:10] if value else None
    return out


@dataclass(frozen=True)
class AccountingResult:
    fetched: int
    written: int
    unchanged: int
    errors: int


Totals = ReadAhead[str, list[dict[str, Any]]] | Streamed  # (project key, its answer), in key order


def due_projects(ctx: ChildContext, with_new_time: Iterable[str], now: datetime | None = None,
                 projects: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Mapped Ajera projects whose totals may have moved (see the module doc), in key order; ``projects``
    (Ajera key -> its Ajera fields) stands for the mappings when reading ahead of them."""
    mappings = projects if projects is not None else ctx.ajera_fields(PROJECT.name)
    due = set(changed_since_read(ctx, mappings, ACCOUNTING_READS))
    due |= {k for k in with_new_time if k in mappings}
    fetched = {r.ajera_key: parse_ts(r.fetched_at) for r in ctx.db.rows("select_project_accounting")}
    due |= {k for k, last in fetched.items() if last is None and k in mappings}  # time moved (team.py)
    hours = ctx.options.accounting_refresh_hours
    if hours > 0:
        before = (now or datetime.now(UTC)) - timedelta(hours=hours)
        for key, fields in mappings.items():
            closed = fields.get("status") == "closed" and not ctx.options.sync_closed_projects
            last = fetched.get(key)
            if not closed and (last is None or last < before):
                due.add(key)
    return sorted(due, key=lambda k: (len(k), k))


def read_totals(ctx: ChildContext, with_new_time: Iterable[str] = (),
                arrivals: Arrivals | None = None) -> Totals:
    """The due projects' ``GetProjectTotals`` (one project per call): those the reading ahead keeps in this run
    taken as they arrive (``arrivals``), the others read ahead here while their CRM writes go on."""
    due = due_projects(ctx, with_new_time)

    def read(key: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = ctx.ajera.get_project_totals([int(key)])
        return rows

    return Streamed(arrivals, TOTALS, due, read) if arrivals else ReadAhead(read, due)


def sync_accounting(ctx: ChildContext, totals: Totals) -> AccountingResult:
    """Write the totals ``read_totals`` reads; their bookkeeping commits in groups (replaying a write is harmless)."""
    pairs = ctx.pairs("project")
    written_hash = {r.ajera_key: (r.crm_key, r.totals_hash) for r in ctx.db.rows("select_project_accounting")}
    fetched = written = unchanged = errors = 0
    ledger = Ledger(ctx.db)
    try:
        for key, answer in totals:
            crm_key = pairs[key]
            ok, found = ctx.attempt(ACCOUNTING, "accounting: GetProjectTotals failed", answer.result,
                                    ajera_key=key, crm_key=crm_key)
            if not ok:
                errors += 1
                continue
            fetched += 1
            values = crm_accounting(found[0]) if found else None  # overhead and non-billable: no totals
            digest = fields_hash(values) if values is not None else "no-totals"
            if values is None or written_hash.get(key) == (crm_key, digest):
                unchanged += values is not None
                ledger.add(partial(_remember, ctx=ctx, key=key, crm_key=crm_key, digest=digest, wrote=False))
                continue
            ok, _ = ctx.attempt(ACCOUNTING, "accounting: the CRM refused the Ajera fields",
                                partial(ctx.crm.update, "project", crm_key, values), ajera_key=key, crm_key=crm_key)
            if not ok:
                errors += 1
                continue
            written += 1
            ledger.add(partial(_written, ctx=ctx, key=key, crm_key=crm_key, digest=digest, values=values))
    finally:
        ledger.flush()
    ctx.counts.update({"accounting_fetched": fetched, "accounting_written": written,
                       "accounting_unchanged": unchanged})
    return AccountingResult(fetched, written, unchanged, errors)


def _written(tx: Any, ctx: ChildContext, key: str, crm_key: str, digest: str, values: dict[str, Any]) -> None:
    _remember(tx, ctx, key, crm_key, digest, wrote=True)
    journal.log(tx, ctx.run_id, ACCOUNTING, LogAction.UPDATED,
                f"accounting from Ajera: spent labor {values['AjeraSpentLabor']:.2f}, billed "
                f"{values['AjeraBilledLabor'] + values['AjeraBilledReimbursable']:.2f}, hours "
                f"{values['CustAjeraHoursWorked']:.2f}",
                direction=Direction.AJERA_TO_CRM, ajera_key=key, crm_key=crm_key)


def _remember(tx: Any, ctx: ChildContext, key: str, crm_key: str, digest: str, wrote: bool) -> None:
    now = utcnow()
    tx.execute("upsert_project_accounting", {"ajera_key": key, "crm_key": crm_key, "totals_hash": digest,
                                             "now": now, "written_at": now if wrote else None,
                                             "run_id": ctx.run_id})


__all__ = ["AccountingResult", "crm_accounting", "due_projects", "read_totals", "sync_accounting"]
