"""Writes to the integration log, quarantine, conflicts and failed-record tables, and their grouping
into fewer commits (``Ledger``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from include.sync.db import SyncDatabase, Tx, utcnow
from include.sync.enums import PENDING_NOTE_ACTIONS, Direction, LogAction
from include.sync.model import Record
from include.sync.plan_model import Conflict, Note
from include.sync.secrets import scrub


def log(tx: Tx, run_id: str, record_type: str, action: LogAction, message: str, *,
        direction: Direction = Direction.NONE, ajera_key: str | None = None, crm_key: str | None = None,
        name: str | None = None) -> None:
    tx.execute("insert_log", {
        "run_id": run_id, "now": utcnow(), "record_type": record_type, "direction": direction.value,
        "action": action.value, "ajera_key": ajera_key, "crm_key": crm_key, "record_name": name,
        "message": scrub(message),
    })


def notes(tx: Tx, run_id: str, record_type: str, raised: list[Note], dry_run: bool, settle: bool) -> None:
    """Log the planner's notes about records. A note an earlier run (or an earlier step or try of this run)
    already logged, word for word about the same records, is not logged again but counted as pending.
    ``settle`` (the last planning step of a run): notes not raised again this run are dropped, so a record
    is told about again if it comes back."""
    if dry_run:
        for note in raised:
            action = LogAction.PLANNED if note.action == LogAction.UNLINKED else note.action
            log(tx, run_id, record_type, action,
                "dry run: " + note.message if action == LogAction.PLANNED else note.message,
                direction=note.direction, ajera_key=note.ajera_key, crm_key=note.crm_key, name=note.name)
        return
    scope = {"record_type": record_type}
    known = {(r.ajera_key, r.crm_key, r.message) for r in tx.rows("select_pending_notes", scope)}
    seen: set[tuple[str, str, str]] = set()
    touched: list[dict[str, Any]] = []  # one statement for all: a quiet run at M touches about 12,000
    now = utcnow()
    # The records whose holding note was told before: what is said beside it was told with it.
    told = {(n.ajera_key or "", n.crm_key or "") for n in raised
            if n.action in PENDING_NOTE_ACTIONS and (n.ajera_key or "", n.crm_key or "", n.message) in known}
    for note in raised:
        subject = (note.ajera_key or "", note.crm_key or "", note.message)
        if note.beside_held and subject[:2] in told:
            continue
        if note.action in PENDING_NOTE_ACTIONS:
            params = {**scope, "ajera_key": subject[0], "crm_key": subject[1], "message": note.message,
                      "action": note.action.value, "run_id": run_id, "now": now}
            if subject in seen:
                continue
            seen.add(subject)
            if subject in known:
                touched.append(params)
                continue
            tx.execute("insert_pending_note", params)
        log(tx, run_id, record_type, note.action, note.message, direction=note.direction,
            ajera_key=note.ajera_key, crm_key=note.crm_key, name=note.name)
    if touched:
        tx.execute("touch_pending_note", touched)
    if settle:
        tx.execute("settle_pending_notes", {**scope, "run_id": run_id})


def quarantine(tx: Tx, run_id: str, record_type: str, record: Record | dict[str, Any], reason: str,
               system: str) -> None:
    """A quarantine row and its log line, once: the same record quarantined for the same reason by an earlier
    run (nobody has fixed it) is only set aside again, not reported again."""
    if isinstance(record, Record):
        key, name, payload = record.key, record.name, record.raw
    else:
        key, name, payload = None, None, record
    if key is not None and tx.scalar("quarantined_before", {"record_type": record_type, "system": system,
                                                            "record_key": key, "reason": reason, "run_id": run_id}):
        return
    tx.execute("insert_quarantine", {
        "run_id": run_id, "system": system, "record_type": record_type, "record_key": key, "record_name": name,
        "reason": scrub(reason), "payload": json.dumps(payload, default=str) if payload is not None else None,
        "now": utcnow(),
    })
    log(tx, run_id, record_type, LogAction.ERROR, f"quarantined {system} record: {reason}", name=name,
        ajera_key=key if system == "ajera" else None, crm_key=key if system != "ajera" else None)


def record_failure(tx: Tx, record_type: str, system: str, key: str, error: str, poison_after: int) -> None:
    tx.execute("record_failure", {"record_type": record_type, "system": system, "record_key": key,
                                  "error": scrub(error)[:2000], "now": utcnow(), "poison_after": poison_after})


def clear_failure(tx: Tx, record_type: str, system: str, key: str) -> None:
    tx.execute("clear_failure", {"record_type": record_type, "system": system, "record_key": key})


def conflict(tx: Tx, run_id: str, record_type: str, c: Conflict, dry_run: bool) -> None:
    """A conflict row (not in a dry run) and its log line, with both values and the resolution."""
    if not dry_run:
        tx.execute("insert_conflict", {
            "run_id": run_id, "record_type": record_type, "ajera_key": c.ajera_key, "crm_key": c.crm_key,
            "field_name": c.field_name, "ajera_value": _text(c.ajera_value), "crm_value": _text(c.crm_value),
            "resolution": c.resolution, "reason": c.reason, "now": utcnow(),
        })
    log(tx, run_id, record_type, LogAction.PLANNED if dry_run else LogAction.CONFLICT,
        f"{'dry run: ' if dry_run else ''}{c.field_name}: Ajera {c.ajera_value!r} vs CRM {c.crm_value!r} -> "
        f"{c.resolution} ({c.reason})", direction=Direction.BOTH, ajera_key=c.ajera_key, crm_key=c.crm_key)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class Ledger:
    """Bookkeeping committed in groups instead of one transaction per record: for writes whose replay is
    harmless. A link or an update lost by a crash before a flush is found already written by the retry
    (nothing to send), which records the state then; accounting not recorded is read and written again.
    Creates never wait here: their mapping commits right after the create, so a retry never creates twice.
    """

    def __init__(self, db: SyncDatabase, every: int = 100) -> None:
        self.db = db
        self.every = every
        self.pending: list[Callable[[Tx], None]] = []

    def add(self, entry: Callable[[Tx], None]) -> None:
        self.pending.append(entry)
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.db.begin() as tx:
            for entry in self.pending:
                entry(tx)
        self.pending.clear()
