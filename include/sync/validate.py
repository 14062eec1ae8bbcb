"""Validate what a run staged; bad rows go to quarantine with a reason and are left out of the plan.

Two layers over the same staged rows: ``problems`` is the fast plain-Python check of one record, and
``include.sync.expectations`` runs the record type's Great Expectations suite over all of them (keys present
and unique, names present and within length, modified dates and statuses valid). A row failing either is
quarantined once, with the reasons of both merged. A retried task finds its rows already quarantined and
neither quarantines nor logs them again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from include.sync import expectations, journal, lock, runs
from include.sync.db import SyncDatabase, parse_ts
from include.sync.enums import Direction
from include.sync.model import Record, System, visible
from include.sync.record_types import RecordType
from include.sync.staging import as_seen, load_staged, mapped_among

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationResult:
    system: str
    record_type: str
    checked: int
    quarantined: int  # bad rows of this run's staging, whether quarantined now or by an earlier try
    newly_quarantined: int = 0
    gx_success: bool = True
    gx_evaluated: int = 0
    gx_successful: int = 0
    gx_failed_expectations: list[str] = field(default_factory=list)
    gx_errors: list[str] = field(default_factory=list)
    gx_seconds: float = 0.0


def problems(rt: RecordType, record: Record, mapped: bool = False) -> list[str]:
    """What is wrong with one record. ``mapped``: the record is linked to a partner (so it may be written)."""
    found = []
    if not record.key or not record.key.strip():
        found.append("the key is empty")
    if not record.name.strip():
        found.append("the name is empty")
    elif not visible(record.name):
        found.append("the name has no visible characters (only spaces, zero-width or format characters)")
    elif record.system == "ajera" and len(record.name) > rt.name_max_length:
        found.append(f"the name is {len(record.name)} characters, over the limit of {rt.name_max_length}")
    elif (record.system == "crm" and (record.flagged or mapped) and Direction.CRM_TO_AJERA in rt.directions
          and len(record.name) > rt.name_max_length):
        # It would go to Ajera, which refuses it: set it aside once here rather than fail the write every run.
        found.append(f"the name is {len(record.name)} characters, over Ajera's limit of {rt.name_max_length}; "
                     "it cannot be written to Ajera (shorten it in the CRM)")
    if record.problem:
        found.append(record.problem)  # what the conversion could not read (bad date, wrong type)
    elif record.raw is not None and record.modified is None:
        found.append("the modified date is missing")
    return found


def find_problems(rt: RecordType, system: System, records: dict[str, Record], mapped: frozenset[str] = frozenset()
                  ) -> tuple[dict[str, list[str]], expectations.SuiteResult]:
    """Reasons per bad key from both layers (each reason once), and the suite's result. No database access."""
    bad: dict[str, list[str]] = {key: _checked(rt, record, key in mapped) for key, record in records.items()}
    suite = expectations.check_records(rt, system, records.values())
    for key, reasons in suite.reasons_by_key().items():
        if key is None or key not in bad:  # cannot happen for staged rows (keys are the primary key)
            log.warning("suite %s named a row that is not staged (key %r): %s", suite.suite, key, reasons)
            continue
        bad[key].extend(reason for reason in reasons if reason not in bad[key])
    return {key: reasons for key, reasons in bad.items() if reasons}, suite


def _checked(rt: RecordType, record: Record, mapped: bool) -> list[str]:
    try:
        return problems(rt, record, mapped)
    except Exception as exc:  # a check that trips on one record quarantines that record, not the type
        return [f"could not be checked ({type(exc).__name__}: {exc})"]


def _bare(record: Record) -> Record:
    """The record as a run that does not read it again sees it: its list columns only."""
    return Record(record.system, record.key, record.name, record.modified, record.flagged, group=record.group)


def future_dated(records: dict[str, Record], now: datetime, skew: timedelta) -> dict[str, str]:
    """Records dated later than the run's start plus the clock-skew tolerance: still synced on their merits
    (the watermark stops at the run's start), but quarantined with the reason so a person fixes the date."""
    limit = now + skew
    return {key: f"the modified date {r.modified.isoformat()} is in the future (the run started {now.isoformat()}); "
                 "synced, but the watermark does not follow it"
            for key, r in records.items() if r.modified is not None and r.modified > limit}


def validate(db: SyncDatabase, rt: RecordType, system: System, run_id: str) -> ValidationResult:
    lock.hold(db, run_id)
    params = {"run_id": run_id, "system": system, "record_type": rt.name}
    # What this run staged. The rest of the picture was checked when it was staged and has not changed since,
    # but for the checks whose answer may have changed (``seen_to_recheck``).
    records = load_staged(db, run_id, rt, system, include_quarantined=True)
    long_names_matter = system == "crm" and Direction.CRM_TO_AJERA in rt.directions
    rechecked = {row.record_key: as_seen(system, row) for row in db.rows("seen_to_recheck", {
        **params, "max_length": rt.name_max_length if long_names_matter else None})}
    records.update(rechecked)
    mapped = frozenset(mapped_among(db, rt, system, records))
    bad, suite = find_problems(rt, system, records, mapped)
    run = db.rows("get_run", {"run_id": run_id})
    started = parse_ts(run[0].started_at) if run else None
    skew = timedelta(seconds=runs.load_options(db, run_id).clock_skew_seconds) if run else timedelta(0)
    warnings = future_dated(records, started, skew) if started else {}
    if suite.errors:
        log.warning("suite %s: expectations that raised: %s", suite.suite, suite.errors)
    with db.begin() as tx:
        already = {row.record_key for row in tx.rows("select_quarantined_staged", params)}
        new = {key: reasons for key, reasons in bad.items() if key not in already}
        for key, reasons in new.items():
            tx.execute("quarantine_staged", {**params, "record_key": key})
            if key in rechecked or _checked(rt, _bare(records[key]), key in mapped):
                # The picture keeps only what would be found again in the record's list columns (its name,
                # its key): a problem of the whole record is this run's, and its next read is checked anew.
                tx.execute("set_seen_quarantined", {**params, "record_key": key, "quarantined": 1})
            journal.quarantine(tx, run_id, rt.name, records[key], "; ".join(reasons), system)
        for key in rechecked.keys() - bad.keys():
            # Fixed, or no longer matters.
            tx.execute("set_seen_quarantined", {**params, "record_key": key, "quarantined": 0})
        logged = {row.record_key for row in tx.rows("quarantine_keys_of_run", params)}
        for key, reason in warnings.items():
            if key not in bad and key not in logged:
                journal.quarantine(tx, run_id, rt.name, records[key], reason, system)
    if new:
        log.info("quarantined %d %s %s record(s): %s", len(new), system, rt.name,
                 {key: "; ".join(reasons) for key, reasons in list(new.items())[:20]})
    return ValidationResult(
        system, rt.name, len(records), len(set(bad) | already), len(new),
        suite.success, suite.evaluated, suite.successful, suite.failed_expectations, suite.errors, suite.seconds,
    )
