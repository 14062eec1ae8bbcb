"""Which changed projects the children read again.

A run stages whole every project Ajera modified since the watermark, less an overlap (clocks and commits are
not exact), so a project modified just before the last watermark is staged again by the next runs, unchanged.
Its children were read after that change, by a run that started after it: reading them again would cost an
Ajera call per project in every quiet run. A staged project is read again only if Ajera modified it after
(less the clock skew) the start of the run that last read it, or it was never read before this run. A mapped
project this run did not stage is read again if the picture holds it as modified after its last read started:
the children of an earlier run that staged it did not get to it (a failed or stopped step)."""

from __future__ import annotations

from collections.abc import Container
from datetime import timedelta
from typing import Literal

from include.sync.db import parse_ts
from include.sync.project_children.context import ChildContext

# What a child reads of a project, as ``staged_project_reads`` names its last read.
Read = Literal["totals", "resources"]
ACCOUNTING: Read = "totals"  # GetProjectTotals (project_accounting)
RESOURCES: Read = "resources"  # version 1 records: resources and contacts (project_resources_read)


def changed_since_read(ctx: ChildContext, mapped: Container[str], reads: Read) -> list[str]:
    """The mapped projects staged whole this run as changed and modified since their last read, and those an
    earlier run's children did not get to, in key order."""
    skew = timedelta(seconds=ctx.options.clock_skew_seconds)
    out = []
    for row in ctx.db.rows("staged_project_reads", {"run_id": ctx.run_id}):
        if row.ajera_key not in mapped:
            continue
        run_id, started_at = getattr(row, f"{reads}_run_id"), getattr(row, f"{reads}_started_at")
        # This run's own reads do not count: a later child of this run reads what an earlier one has read.
        last = parse_ts(started_at) if run_id != ctx.run_id else None
        modified = parse_ts(row.modified)
        # A project staged from its copy is no exception: its children may never have read that version (a
        # project an earlier one-way run created, or one whose children step failed).
        if last is None or modified is None or modified > last - skew:
            out.append(row.ajera_key)
    return sorted(out, key=lambda k: (len(k), k))


def mark_resources_read(ctx: ChildContext, keys: list[str]) -> None:
    if keys:
        with ctx.db.begin() as tx:
            tx.execute("mark_resources_read", [{"ajera_key": k, "run_id": ctx.run_id} for k in keys])
