"""Which changed projects the children read again.

A run stages whole every project Ajera modified since the watermark, less an overlap (clocks and commits are
not exact), so a project modified just before the last watermark is staged again by the next runs, unchanged.
Its children were read after that change, by a run that started after it: reading them again would cost an
Ajera call per project in every quiet run. A staged project is read again only if Ajera modified it after
(less the clock skew) the start of the run that last read it, or it was never read before this run."""

from __future__ import annotations

from collections.abc import Container
from datetime import timedelta

from include.sync.db import parse_ts
from include.sync.project_children.context import ChildContext
from include.sync.record_types import PROJECT
from include.sync.staging import load_staged

ACCOUNTING = "accounting_read_runs"  # totals (project_accounting)
RESOURCES = "resources_read_runs"  # version 1 records: resources and contacts (project_resources_read)


def changed_since_read(ctx: ChildContext, mapped: Container[str], reads: str) -> list[str]:
    """The mapped projects staged whole this run as changed and modified since their last read, in key order."""
    # This run's own reads do not count: a later child of this run reads what an earlier one has read.
    read_at = {r.ajera_key: parse_ts(r.started_at) for r in ctx.db.rows(reads) if r.run_id != ctx.run_id}
    skew = timedelta(seconds=ctx.options.clock_skew_seconds)
    out = []
    for key, record in load_staged(ctx.db, ctx.run_id, PROJECT, "ajera").items():
        if record.raw is None or record.unchanged or key not in mapped:
            continue
        last = read_at.get(key)
        if last is None or record.modified is None or record.modified > last - skew:
            out.append(key)
    return sorted(out, key=lambda k: (len(k), k))


def mark_resources_read(ctx: ChildContext, keys: list[str]) -> None:
    if keys:
        with ctx.db.begin() as tx:
            tx.execute("mark_resources_read", [{"ajera_key": k, "run_id": ctx.run_id} for k in keys])
