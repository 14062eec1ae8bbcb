"""Writes to the integration log, quarantine, conflicts and failed-record tables."""

from __future__ import annotations

import json
from typing import Any

from include.sync.db import Tx, utcnow
from include.sync.model import Record
from include.sync.secrets import scrub


def log(tx: Tx, run_id: str, record_type: str, action: str, message: str, *, direction: str = "none",
        ajera_key: str | None = None, crm_key: str | None = None, name: str | None = None) -> None:
    tx.execute("insert_log", {
        "run_id": run_id, "now": utcnow(), "record_type": record_type, "direction": direction,
        "action": action, "ajera_key": ajera_key, "crm_key": crm_key, "record_name": name, "message": scrub(message),
    })


def quarantine(tx: Tx, run_id: str, record_type: str, record: Record | dict[str, Any], reason: str,
               system: str) -> None:
    if isinstance(record, Record):
        key, name, payload = record.key, record.name, record.raw
    else:
        key, name, payload = None, None, record
    tx.execute("insert_quarantine", {
        "run_id": run_id, "system": system, "record_type": record_type, "record_key": key, "record_name": name,
        "reason": scrub(reason), "payload": json.dumps(payload, default=str) if payload is not None else None,
        "now": utcnow(),
    })
    log(tx, run_id, record_type, "error", f"quarantined {system} record: {reason}",
        direction="none", name=name, **({"ajera_key": key} if system == "ajera" else {"crm_key": key}))


def record_failure(tx: Tx, record_type: str, system: str, key: str, error: str, poison_after: int) -> None:
    tx.execute("record_failure", {"record_type": record_type, "system": system, "record_key": key,
                                  "error": scrub(error)[:2000], "now": utcnow(), "poison_after": poison_after})


def clear_failure(tx: Tx, record_type: str, system: str, key: str) -> None:
    tx.execute("clear_failure", {"record_type": record_type, "system": system, "record_key": key})


def conflict(tx: Tx, run_id: str, record_type: str, c: Any, dry_run: bool) -> None:
    """A conflict row (not in a dry run) and its log line, with both values and the resolution."""
    if not dry_run:
        tx.execute("insert_conflict", {
            "run_id": run_id, "record_type": record_type, "ajera_key": c.ajera_key, "crm_key": c.crm_key,
            "field_name": c.field_name, "ajera_value": _text(c.ajera_value), "crm_value": _text(c.crm_value),
            "resolution": c.resolution, "reason": c.reason, "now": utcnow(),
        })
    log(tx, run_id, record_type, "planned" if dry_run else "conflict",
        f"{'dry run: ' if dry_run else ''}{c.field_name}: Ajera {c.ajera_value!r} vs CRM {c.crm_value!r} -> "
        f"{c.resolution} ({c.reason})", direction="both", ajera_key=c.ajera_key, crm_key=c.crm_key)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
