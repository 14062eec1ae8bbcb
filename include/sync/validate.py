"""Validate staged extracts; bad rows go to quarantine with a reason and are left out of the plan.

The rules are plain Python so they run in any task without a heavy import; ``include.sync.expectations``
runs the same checks as a Great Expectations suite and records its result for the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from include.sync import journal
from include.sync.db import SyncDatabase
from include.sync.model import Record, System
from include.sync.record_types import RecordType
from include.sync.staging import load_staged


@dataclass(frozen=True)
class ValidationResult:
    system: str
    record_type: str
    checked: int
    quarantined: int


def problems(rt: RecordType, record: Record) -> list[str]:
    found = []
    if not record.key or not record.key.strip():
        found.append("the key is empty")
    if not record.name.strip():
        found.append("the name is empty")
    elif record.system == "ajera" and len(record.name) > rt.name_max_length:
        found.append(f"the name is {len(record.name)} characters, over the limit of {rt.name_max_length}")
    if record.raw is not None and record.modified is None:
        found.append("the modified date is missing")
    return found


def validate(db: SyncDatabase, rt: RecordType, system: System, run_id: str) -> ValidationResult:
    records = load_staged(db, run_id, rt, system, include_quarantined=True)
    bad = {key: problems(rt, record) for key, record in records.items()}
    bad = {key: reasons for key, reasons in bad.items() if reasons}
    with db.begin() as tx:
        for key, reasons in bad.items():
            tx.execute("quarantine_staged", {"run_id": run_id, "system": system, "record_type": rt.name,
                                             "record_key": key})
            journal.quarantine(tx, run_id, rt.name, records[key], "; ".join(reasons), system)
    return ValidationResult(system, rt.name, len(records), len(bad))
