"""End of a record type (watermarks) and end of a run (summary and 'Sync Completed')."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from include.sync import batch_cap, journal, lock, sweeps
from include.sync.db import SyncDatabase, format_ts, parse_ts, utcnow
from include.sync.enums import LogAction, RunStatus
from include.sync.model import System
from include.sync.project_children import step as children
from include.sync.record_types import RecordType
from include.sync.runs import RunOptions

# How the summary names each integration-log action, in print order.
COLUMNS = (
    ("mapped", "matched"),
    ("created:crm_to_ajera", "created in Ajera"),
    ("created:ajera_to_crm", "created in CRM"),
    ("updated:ajera_to_crm", "updated Ajera->CRM"),
    ("updated:crm_to_ajera", "updated CRM->Ajera"),
    ("updated:both", "updated both ways"),
    ("unlinked", "unlinked"),
    ("skipped", "skipped"),
    ("ambiguous", "ambiguous (review)"),
    ("suggested", "match suggestions"),
    ("conflict", "in conflict"),
    ("resolved", "conflicts resolved as reviewed"),
    ("error", "in error"),
    ("planned", "planned (dry run)"),
    ("pending", "still pending (logged before)"),
)


# A handful of bad records never fails a record type, however few records it has.
FAILED_FLOOR = 5


class RecordTypeFailed(RuntimeError):
    """More of a record type's records failed than the deployment's threshold (``max_failed_percent``)."""


def check_failures(db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions) -> tuple[int, int]:
    """(failed, total) records of this type in this run; raises ``RecordTypeFailed`` past the threshold.
    Below it, each failed record has its error row and is retried by later runs, and the type goes on."""
    params = {"run_id": run_id, "record_type": rt.name}
    picture = db.rows("count_picture", params)[0]
    total = picture.total
    failed = picture.quarantined + (db.scalar("count_failed_actions", params) or 0)
    if too_many_failed(failed, total, options.max_failed_percent):
        message = (f"{rt.name}: {failed} of {total} records failed (quarantined or in error), more than the "
                   f"threshold of {options.max_failed_percent:g}%: the watermarks stay where they were; the "
                   "integration log names each record and its problem")
        with db.begin() as tx:
            journal.log(tx, run_id, rt.name, LogAction.ERROR, message)
        raise RecordTypeFailed(message)
    return failed, total


def too_many_failed(failed: int, total: int, max_failed_percent: float) -> bool:
    return failed > FAILED_FLOOR and total > 0 and failed * 100.0 > max_failed_percent * total


# A margin for dates coarser than this worker's clock (both APIs give milliseconds; a second covers any
# rounding): a change in the run's first instant may be dated just before its start.
STAMP_RESOLUTION = timedelta(seconds=1)
# The systems whose watermark may move to the floor: those whose dates carry their zone. Ajera writes its
# offset ("GMT-05:00"); the CRM's ModDate has none and is read as UTC (the reference leaves its zone open), so
# a floor from this worker's clock could pass a CRM edit stamped in a zone west of UTC. The CRM's overlap
# costs list pages only: its list rows carry the dates that leave unchanged records unread.
FLOORED: frozenset[System] = frozenset({"ajera"})


@dataclass(frozen=True)
class Window:
    """Where a watermark may move in a run, from the run's start: ``limit`` (start plus the clock skew) at
    most; ``floor`` (start less the clock skew and ``STAMP_RESOLUTION``) at least, for a system the run
    listed. The two clocks agree within the skew, so whatever changed once the run had started is dated after
    the floor, and the next run's window (the watermark less the overlap) reads it."""

    floor: datetime | None = None
    limit: datetime | None = None


def run_window(db: SyncDatabase, run_id: str, options: RunOptions) -> Window:
    rows = db.rows("get_run", {"run_id": run_id})
    started = parse_ts(rows[0].started_at) if rows else None
    if started is None:
        return Window()
    skew = timedelta(seconds=options.clock_skew_seconds)
    return Window(started - skew - STAMP_RESOLUTION, started + skew)


def new_watermark(fetched: str | None, swept: str | None, window: Window) -> str | None:
    """How far a system's watermark moves: to the newest modified date the run read, but not past what its
    sweep saw (what changed after the sweep, even if older than some fetched record, is read next run), nor
    past the window's ``limit`` (a record dated in the future would carry it past every later edit). When
    what was read is older than the window's ``floor`` (the run's start less the clock skew), the watermark
    moves to the floor: the run listed everything changed up to then, and a watermark left at the last
    change would make every later run re-read the overlap before it, however long nothing changes."""
    newest = min(fetched, swept) if fetched and swept else fetched
    newest_at = parse_ts(newest)
    if newest_at and window.limit and newest_at > window.limit:
        return format_ts(window.limit)
    if window.floor and (newest_at is None or newest_at < window.floor):
        return format_ts(window.floor)
    return newest


def advance_watermarks(db: SyncDatabase, rt: RecordType, run_id: str, options: RunOptions) -> dict[str, str | None]:
    """Move each system's watermark to the newest modified date this run read (but not past what its sweep
    saw, nor past the run's start, and at least to its start less the clock skew: ``new_watermark``); only
    called once every apply batch of the record type succeeded. Dry runs write nothing, and a backfill leaves
    the live watermark alone: it read one window only, so what changed between the watermark and that window
    is still unread. The first sync of the type is complete once its whole plan is applied."""
    lock.hold(db, run_id)
    check_failures(db, rt, run_id, options)
    window = run_window(db, run_id, options)
    backfill = options.window_start is not None
    moved: dict[str, str | None] = {}
    if rt.name in batch_cap.announcements(db, run_id):
        # A backlog is left (batch cap): the next run reads again from here, so nothing deferred is lost.
        with db.begin() as tx:
            journal.log(tx, run_id, rt.name, LogAction.COMPLETED,
                        f"{rt.name} done for this run; watermarks kept for the backlog")
        return {"ajera": None, "crm": None}
    for system in ("ajera", "crm"):
        fetched = db.scalar("max_staged_modified", {"run_id": run_id, "system": system, "record_type": rt.name})
        swept = db.scalar("swept_through", {"run_id": run_id, "system": system, "record_type": rt.name})
        listed = db.scalar("extracted_in_run", {"run_id": run_id, "system": system, "record_type": rt.name})
        # A system this run did not list keeps its watermark where its last listing left it; a backfill
        # listed its window only.
        floored = listed and not backfill and system in FLOORED
        moved[system] = newest = new_watermark(fetched, swept, window if floored else replace(window, floor=None))
        if options.dry_run or backfill:
            continue
        params = {"system": system, "record_type": rt.name, "run_id": run_id, "now": utcnow()}
        if newest:
            db.execute("advance_watermark", {**params, "modified_through": newest})
        else:
            db.execute("touch_watermark", params)  # nothing read, but this type did finish a run
    unfinished = sum(n for _, status, n in db.rows("count_actions", {"run_id": run_id, "record_type": rt.name})
                     if status in ("pending", "in_flight"))
    with db.begin() as tx:
        if not options.dry_run and not unfinished:
            tx.execute("mark_first_sync_done", {"record_type": rt.name, "run_id": run_id, "now": utcnow()})
        if backfill:
            message = (f"{rt.name} done; backfill window read through Ajera {moved['ajera']}, CRM {moved['crm']}; "
                       "the live watermarks are left alone")
        else:
            message = (f"{rt.name} done; watermarks Ajera {moved['ajera']}, CRM {moved['crm']}"
                       + (" (dry run: not moved)" if options.dry_run else ""))
        journal.log(tx, run_id, rt.name, LogAction.COMPLETED, message)
    return moved


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    counts: dict[str, dict[str, int]]  # record type -> column label -> count
    pending_batches: int
    failed_tasks: list[str]
    poison: dict[str, int] | None = None  # record type -> records set aside after poison_after failures
    notes: tuple[str, ...] = ()  # what the project children steps did
    backlog: tuple[str, ...] = ()  # re-run announcements (batch cap): the run is fine, but not complete
    deletion_sweep: str = ""  # when every key was last listed (include.sync.sweeps)

    @property
    def completed(self) -> bool:
        return self.pending_batches == 0 and not self.failed_tasks

    def lines(self) -> list[str]:
        out = [f"Sync run {self.run_id}"]
        for record_type, counts in self.counts.items():
            shown = ", ".join(f"{label} {counts.get(label, 0)}" for _, label in COLUMNS
                              if counts.get(label) or label in ("matched", "created in Ajera", "created in CRM",
                                                                "updated Ajera->CRM", "updated CRM->Ajera",
                                                                "skipped", "in conflict", "in error"))
            out.append(f"  {record_type}: {shown}")
        out.extend(f"  {note}" for note in self.notes)
        if self.deletion_sweep:
            out.append(f"  {self.deletion_sweep}")
        errors = sum(c.get("in error", 0) for c in self.counts.values())
        if errors:
            out.append(f"  {errors} records in error: the integration log names each record and the problem; "
                       "failed writes are retried by later runs")
        for record_type, n in sorted((self.poison or {}).items()):
            out.append(f"  {record_type}: {n} poison records set aside after repeated failures (table failed_record); "
                       "fix the data and edit the record to try again")
        if self.failed_tasks:
            out.append(f"  incomplete: {', '.join(self.failed_tasks)}; the next run picks up where this one stopped")
        if self.pending_batches:
            out.append(f"  {self.pending_batches} batches were not applied; re-run to finish them")
        out.extend(self.backlog)
        if self.completed and not self.backlog:
            out.append("Sync Completed")
        return out


def summarise(db: SyncDatabase, run_id: str, options: RunOptions) -> RunSummary:
    labels = {key: label for key, label in COLUMNS}
    counts: dict[str, dict[str, int]] = {t: defaultdict(int) for t in options.record_types}
    rows = db.rows("log_counts", {"run_id": run_id})
    completed = {record_type for record_type, _, action, _ in rows if action == "completed"}
    failed_tasks = [f"{t} did not complete" for t in options.record_types if t not in completed]
    for record_type, direction, action, n in rows:
        label = labels.get(f"{action}:{direction}") or labels.get(action)
        if label and record_type in counts:
            counts[record_type][label] += n
    # Told in an earlier run and still so: counted, not logged again (tables pending_note and quarantine).
    for query in ("pending_counts", "requarantined_counts"):
        for record_type, n in db.rows(query, {"run_id": run_id}):
            if record_type in counts:
                counts[record_type][labels["pending"]] += n
    pending = sum(
        n for t in options.record_types
        for action, status, n in db.rows("count_actions", {"run_id": run_id, "record_type": t})
        if status in ("pending", "in_flight") and not options.dry_run
    )
    poison = {t: n for t, n in db.rows("poison_counts", {}) if t in counts}
    batches = [f"{t}: applied in {len(sizes)} batches of at most {options.batch_size} ({', '.join(map(str, sizes))} "
               "actions)" for t in options.record_types
               if len(sizes := [n for b, n in db.rows("batch_sizes", {"run_id": run_id, "record_type": t})
                                if b >= 0 and not options.dry_run]) > 1]
    steps = children.expected_steps(options)
    notes = [r for r in db.rows("completed_in_run", {"run_id": run_id}) if r.record_type in steps] if steps else []
    failed_tasks += [f"{step} did not complete" for step in steps if step not in {r.record_type for r in notes}]
    return RunSummary(run_id, {t: dict(c) for t, c in counts.items()}, pending, failed_tasks, poison,
                      (*batches, *(f"{r.record_type}: {r.message}" for r in notes)),
                      tuple(batch_cap.announcements(db, run_id).values()), _sweep_note(db, options))


def _sweep_note(db: SyncDatabase, options: RunOptions) -> str:
    last = sweeps.last_swept(db, options.record_types)
    every = f"every {options.deletion_sweep_hours} h" if options.deletion_sweep_hours > 0 else "every run"
    return (f"deletion sweep (every key listed, deleted records unlinked; {every}): last ran {last}" if last
            else f"deletion sweep ({every}): not run yet")


def finish_run(db: SyncDatabase, run_id: str, options: RunOptions) -> RunSummary:
    summary = summarise(db, run_id, options)
    status: RunStatus = "succeeded" if summary.completed else "failed"
    with db.begin() as tx:
        tx.execute("finish_run", {"run_id": run_id, "finished_at": utcnow(), "status": status,
                                  "summary": json.dumps({"counts": summary.counts, "lines": summary.lines()})})
        tx.execute("clear_run_summary", {"run_id": run_id})  # a retried last task must not log twice
        journal.log(tx, run_id, "run", LogAction.SUMMARY, " | ".join(summary.lines()[1:]) or "nothing to do")
    purge_working_tables(db, options.staging_retention_days)
    lock.release(db, run_id)
    return summary


def purge_working_tables(db: SyncDatabase, keep_days: int) -> None:
    """Drop what runs finished more than ``keep_days`` ago staged and planned: only to debug a recent run.
    (A deletion sweep stages every record; the picture of each system, ``seen_record``, is kept.)"""
    before = format_ts(datetime.now(UTC) - timedelta(days=keep_days))
    with db.begin() as tx:
        for query in ("purge_old_staging", "purge_old_plans", "purge_old_batches", "purge_old_read_ahead",
                      "purge_old_extract_ahead"):
            tx.execute(query, {"before": before})
