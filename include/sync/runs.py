"""A sync run's options, stored in ``sync_run`` so every task reads them by run id (XCom carries ids only)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from include.sync import lock, record_types
from include.sync.db import SyncDatabase, format_ts, parse_ts, utcnow
from include.sync.planner import Mode, Options


@dataclass(frozen=True)
class RunOptions:
    record_types: tuple[str, ...] = record_types.ORDER
    mode: Mode = "two_way"
    dry_run: bool = False
    batch_size: int = 500  # planned actions per mapped apply task (Deltek's batch of 500 projects)
    overlap_minutes: int = 10  # re-read this much before the watermark: clocks and commits are not exact
    clock_skew_seconds: int = 120
    poison_after: int = 5  # a record failing this many runs in a row is set aside
    max_failed_percent: float = 20.0  # a record type fails when more of its records than this end in error
    sync_closed_projects: bool = False
    map_unsynced_projects: bool = False  # trigger form: link unflagged unmapped Ajera projects by exact name
    max_project_batches: int = 0  # Deltek's cap on project batches per run; 0 runs them all (include.sync.batch_cap)
    contact_cap: int = 5  # synced contacts per firm (Deltek's default)
    staging_retention_days: int = 7  # staged snapshots and plans of finished runs are kept this long
    # Project children (Ajera -> CRM): accounting, team, consultants (include.sync.project_children).
    accounting_refresh_hours: int = 24  # every open mapped project's totals at least this often (0: only on change)
    timesheet_overlap_weeks: int = 2  # re-read this many weeks before the last read: sheets are edited late
    timesheet_history_weeks: int = 156  # the first timesheet read, when no mapped project has a start date
    sync_historical_consultants: bool = False  # trigger form: the consultant back-fill
    consultant_backfill_batch: int = 100  # projects per back-fill batch (each recorded when done)
    project_contact_cap: int = 5  # Ajera contacts put on each CRM project (Deltek's five); the next are logged
    window_start: datetime | None = None  # set for backfills: the data interval is the modified window
    window_end: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [t for t in self.record_types if t not in record_types.RECORD_TYPES]
        if unknown:
            raise ValueError(f"unknown record types {unknown}; known: {list(record_types.ORDER)}")
        if self.mode not in ("two_way", "one_way"):
            raise ValueError(f"mode must be two_way or one_way, not {self.mode!r}")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.project_contact_cap < 0:
            raise ValueError("project_contact_cap must be 0 or more")
        # Keep dependency order whatever order the trigger form gave.
        object.__setattr__(self, "record_types", tuple(t for t in record_types.ORDER if t in self.record_types))

    @property
    def planner_options(self) -> Options:
        return Options(mode=self.mode, clock_skew=timedelta(seconds=self.clock_skew_seconds),
                       sync_closed=self.sync_closed_projects, cap=self.contact_cap,
                       match_unsynced=self.map_unsynced_projects)

    def to_json(self) -> str:
        data = asdict(self)
        data["window_start"] = format_ts(self.window_start) if self.window_start else None
        data["window_end"] = format_ts(self.window_end) if self.window_end else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, blob: str) -> RunOptions:
        data = json.loads(blob)
        data["record_types"] = tuple(data["record_types"])
        data["window_start"] = parse_ts(data.get("window_start"))
        data["window_end"] = parse_ts(data.get("window_end"))
        return cls(**data)


def start_run(db: SyncDatabase, run_id: str, options: RunOptions) -> None:
    lock.hold(db, run_id)
    db.execute("start_run", {
        "run_id": run_id, "started_at": utcnow(), "mode": options.mode, "dry_run": int(options.dry_run),
        "record_types": ",".join(options.record_types),
        "window_start": format_ts(options.window_start) if options.window_start else None,
        "window_end": format_ts(options.window_end) if options.window_end else None,
        "options": options.to_json(),
    })


def load_options(db: SyncDatabase, run_id: str) -> RunOptions:
    rows = db.rows("get_run", {"run_id": run_id})
    if not rows:
        raise LookupError(f"sync run {run_id!r} was never started (the start_run task did not run)")
    return RunOptions.from_json(rows[0].options)


# --- what a run leaves for a person ----------------------------------------------------------------------

@dataclass(frozen=True)
class Attention:
    """Per-run counts that a deployment alerts on above its thresholds."""

    record_errors: int = 0
    conflicts_for_review: int = 0
    quarantined: int = 0

    LABELS: ClassVar[dict[str, str]] = {"record_errors": "record errors",
                                        "conflicts_for_review": "conflicts awaiting review",
                                        "quarantined": "quarantined rows"}

    def above(self, limits: Attention) -> list[str]:
        """One phrase per count over its limit, e.g. ``"3 record errors (threshold 0)"``."""
        return [f"{getattr(self, name)} {label} (threshold {getattr(limits, name)})"
                for name, label in self.LABELS.items() if getattr(self, name) > getattr(limits, name)]


def attention(db: SyncDatabase, run_id: str) -> Attention:
    row = db.rows("run_attention_counts", {"run_id": run_id})[0]
    return Attention(max(int(row.record_errors), 0), int(row.conflicts_for_review), int(row.quarantined))


def task_failures(db: SyncDatabase, run_id: str) -> list[str]:
    return [row.message for row in db.rows("run_task_failures", {"run_id": run_id})]


def one_line(db: SyncDatabase, run_id: str) -> str | None:
    """The run in one line (the DAG run's note): options, totals over every record type, the outcome."""
    rows = db.rows("get_run", {"run_id": run_id})
    if not rows:
        return None
    run = rows[0]
    summary = json.loads(run.summary) if run.summary else {}
    totals: dict[str, int] = {}
    for counts in (summary.get("counts") or {}).values():
        for label, n in counts.items():
            totals[label] = totals.get(label, 0) + n
    parts = [("dry run, " if run.dry_run else "") + run.mode.replace("_", "-"), run.record_types.replace(",", ", ")]
    if run.window_start:
        parts.append(f"window {run.window_start[:16]} to {(run.window_end or '')[:16]}")
    parts.append(", ".join(f"{label} {n}" for label, n in totals.items() if n) or "no changes")
    lines = summary.get("lines") or []
    outcome = ("Sync Completed" if "Sync Completed" in lines
               else "incomplete" if run.status == "failed" else run.status)
    return " · ".join([*parts, outcome])
