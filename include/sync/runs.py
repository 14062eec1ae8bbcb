"""A sync run's options, stored in ``sync_run`` so every task reads them by run id (XCom carries ids only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from include.sync import declared, lock, record_types
from include.sync.db import SyncDatabase, format_ts, parse_ts, utcnow
from include.sync.declared import declare
from include.sync.enums import Direction, Mode
from include.sync.planner import Options


class Section(StrEnum):
    """The trigger form's sections, in the order the form shows them (as Deltek's sync dialog groups them)."""

    WHAT = "What to sync"
    DELTEK = "Deltek sync options"
    RUN = "How to run"


DEPLOYMENT_DEFAULT = "deployment_default"  # a form choice: the value the deployment's environment sets

_PLURAL = {"firm": "Firms", "contact": "Contacts", "employee": "Employees", "vendor": "Consultant vendors",
           "project": "Projects"}


def record_type_label(name: str) -> str:
    rt = record_types.RECORD_TYPES[name]
    direction = ("both ways" if len(rt.directions) > 1
                 else "Ajera to CRM" if Direction.AJERA_TO_CRM in rt.directions else "CRM to Ajera")
    return f"{_PLURAL.get(name, name.title())} ({direction})"


@dataclass(frozen=True)
class RunOptions:
    """Every option of a run, each declared once: its default, bounds and description, its section when it is
    on the trigger form (the form is generated from these, in this order), and the environment variable
    when the deployment sets it. ``from_form`` reads a run's options; ``Settings`` the deployment's."""

    record_types: tuple[str, ...] = declare(
        record_types.ORDER, "Record types to sync; they always run in dependency order (firms before contacts "
        "and projects). Types left out are skipped.", title="Record types", section=Section.WHAT,
        choices={name: record_type_label(name) for name in record_types.ORDER})
    mode: Mode = declare(
        "two_way", "Two-way carries changes both ways; one-way only imports CRM records into Ajera.",
        title="Sync mode", section=Section.WHAT, env="AJERA_CRM_SYNC_MODE",
        choices={"two_way": "Two-way (Ajera 8.09 and later)",
                 "one_way": "One-way: CRM to Ajera import only (before Ajera 8.09)"})
    sync_closed_projects: bool = declare(
        False, "Also sync projects that are closed on both sides (left alone by default).",
        title="Sync closed projects", section=Section.DELTEK)
    contact_cap: int = declare(
        5, "At most this many contacts per firm are synced (Deltek's default is 5); the next ones are logged as "
        "skipped.", title="Synced contacts per firm", section=Section.DELTEK, minimum=1, maximum=100)
    project_contact_cap: int = declare(
        5, "At most this many of an Ajera project's contacts (in Ajera's order) are put on the CRM project "
        "(Deltek's default is 5); the next ones are logged as over the cap.",
        title="Synced contacts per project", section=Section.DELTEK, minimum=0, maximum=100)
    map_unsynced_projects: bool = declare(
        False, "Link Ajera projects not set to sync and not mapped to the CRM project of exactly the same name; "
        "ambiguous names are logged.", title="Map unsynced Ajera projects to existing CRM projects",
        section=Section.DELTEK)
    sync_historical_consultants: bool = declare(
        False, "Also push every consultant already on every mapped project to the CRM project's firms "
        "(resumable).", title="Sync historical project consultants to CRM", section=Section.DELTEK)
    max_project_batches: int = declare(
        0, "Deltek's cap: at most this many batches of projects per run; the log says how many re-runs remain. "
        "0 runs every batch now.", title="Project batches per run", section=Section.DELTEK,
        minimum=0, maximum=1000)  # include.sync.batch_cap
    dry_run: bool = declare(
        False, "Plan everything into the integration log as 'planned' and write nothing to either system, the "
        "mappings or the watermarks.", title="Dry run (plan only)", section=Section.RUN)
    batch_size: int = declare(
        500, "Planned actions per apply task (Deltek syncs 500 projects per batch).", title="Actions per batch",
        section=Section.RUN, minimum=1, maximum=5000)
    # Set by the deployment (its environment), not on the form.
    overlap_minutes: int = declare(
        10, "Re-read this much before the watermark: clocks and commits are not exact.",
        env="AJERA_CRM_OVERLAP_MINUTES", minimum=0)
    clock_skew_seconds: int = declare(
        120, "Changes on both sides this close together are a conflict, not 'the newer side wins'.",
        env="AJERA_CRM_CLOCK_SKEW_SECONDS", minimum=0)
    poison_after: int = declare(
        5, "A record failing this many runs in a row is set aside.", env="AJERA_CRM_POISON_AFTER", minimum=1)
    max_failed_percent: float = declare(
        20.0, "A record type fails when more of its records than this end in error (and more than a few).",
        env="AJERA_CRM_MAX_FAILED_PERCENT", minimum=0, maximum=100)
    staging_retention_days: int = declare(
        7, "What finished runs staged and planned is kept this long (the integration log, mappings, "
        "conflicts, quarantine and each system's picture are kept).", env="AJERA_CRM_STAGING_RETENTION_DAYS",
        minimum=0)
    deletion_sweep_hours: int = declare(
        24, "List every key (to see deletions) this often; 0: every run (include.sync.sweeps).",
        env="AJERA_CRM_DELETION_SWEEP_HOURS", minimum=0)
    # Project children (Ajera -> CRM): accounting, team, consultants (include.sync.project_children).
    accounting_refresh_hours: int = declare(
        24, "Every open mapped project's totals are read at least this often (0: only on change).",
        env="AJERA_CRM_ACCOUNTING_REFRESH_HOURS", minimum=0)
    timesheet_overlap_weeks: int = declare(
        2, "Re-read this many weeks before the last timesheet read: sheets are edited late.",
        env="AJERA_CRM_TIMESHEET_OVERLAP_WEEKS", minimum=0)
    timesheet_history_weeks: int = declare(
        156, "The first timesheet read, when no mapped project has a start date.",
        env="AJERA_CRM_TIMESHEET_HISTORY_WEEKS", minimum=1)
    consultant_backfill_batch: int = declare(
        100, "Projects per consultant back-fill batch (each recorded when done).", minimum=1)
    # Set by the run itself.
    window_start: datetime | None = declare(
        None, "Set for backfills: the run's data interval is the modified-date window.")
    window_end: datetime | None = declare(None, "The end of a backfill's window.")
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        declared.check_all(self, _option)
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


def _option(name: str) -> str:
    return f"option {name}"


def on_form() -> dict[str, declared.Spec]:
    """The options on the trigger form, in its order."""
    return {name: spec for name, spec in declared.specs(RunOptions).items() if spec.section}


def from_form(values: Mapping[str, Any], deployment: Mapping[str, Any] | None = None,
              **fixed: Any) -> RunOptions:
    """A run's options from the trigger form's ``values``: each option on the form from its value, else (left
    out, empty or ``DEPLOYMENT_DEFAULT``) the ``deployment``'s default (``Settings.option_defaults``), else the
    declared one. Options not on the form come from ``deployment``; ``fixed`` ones are given (the window).
    A bad value raises ValueError naming the option."""
    given = {name: values.get(name) for name in on_form() if values.get(name) != DEPLOYMENT_DEFAULT}
    chosen = {name: value for name, value in given.items() if declared.given(value)}
    options: RunOptions = declared.build(RunOptions, chosen, _option, fixed={**(deployment or {}), **fixed})
    return options


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
