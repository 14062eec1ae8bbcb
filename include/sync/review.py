"""What the Integration Log and Sync Details pages read, and the review actions a person takes there.

Plain Python over the sync database (no Airflow, no web framework): the UI plugin checks who may do what,
then calls these. Every action commits in one transaction with a ``review_action`` audit row (who, when,
what) and an integration-log row under the run id ``review``; the next sync run honours the decision:

* an accepted match suggestion is linked by the next run (``plan_record_type`` links accepted pairs);
* a conflict answered "take Ajera's" / "take the CRM's" is written across by the next run, which then
  records both sides as synced, so the conflict does not come back (``pending_decisions``);
* a quarantined or poison record set to "retry" is read again in full by the next run (``pending_retries``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from include.sync import journal, record_types
from include.sync.db import SyncDatabase, Tx, utcnow
from include.sync.enums import Direction, LogAction, ReviewAction, SuggestionStatus
from include.sync.model import SYSTEMS, System

REVIEW_RUN_ID = "review"  # the integration-log "run" that review actions are filed under
PER_PAGE = 50
CSV_CHUNK = 2000
LOG_COLUMNS = ("logged_at", "record_type", "direction", "action", "ajera_key", "crm_key", "record_name", "message")

Side = Literal["ajera", "crm"]
T = TypeVar("T")


class ReviewError(Exception):
    """An action that cannot be taken; ``status`` is the HTTP status a page answers with."""

    status = 409


class NotFound(ReviewError):
    status = 404


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class LogFilter:
    """The Integration Log's filters; an empty value means "any"."""

    record_type: str | None = None
    action: str | None = None
    direction: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        for name in ("record_type", "action", "direction", "text"):
            value = getattr(self, name)
            object.__setattr__(self, name, value.strip() if value and value.strip() else None)

    def params(self) -> dict[str, Any]:
        return {"record_type": self.record_type, "action": self.action, "direction": self.direction,
                "pattern": like_pattern(self.text)}


@dataclass(frozen=True)
class RunRow:
    """One run of the Integration Log's list, with its counts per record type and action."""

    run_id: str
    started_at: str
    finished_at: str | None
    status: str
    mode: str
    dry_run: bool
    record_types: list[str]
    window_start: str | None
    window_end: str | None
    lines: list[str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # record type -> log action -> rows

    def total(self, action: str) -> int:
        return sum(by_action.get(action, 0) for by_action in self.counts.values())

    @property
    def backfill(self) -> bool:
        return self.window_start is not None


def like_pattern(text: str | None) -> str | None:
    """A case-insensitive "contains" LIKE pattern; the user's own % and _ match literally."""
    if not text or not text.strip():
        return None
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _paged(db: SyncDatabase, query: str, params: dict[str, Any], page: int, per_page: int = PER_PAGE) -> Page[Any]:
    page = max(1, page)
    rows = db.rows(query, {**params, "limit": per_page, "offset": (page - 1) * per_page})
    total = rows[0].total if rows else 0
    if not rows and page > 1:  # past the end (rows went away): the count still tells how many there are
        probe = db.rows(query, {**params, "limit": 1, "offset": 0})
        total = probe[0].total if probe else 0
    return Page(rows, total, page, per_page)


def runs(db: SyncDatabase, page: int = 1, per_page: int = 20) -> Page[RunRow]:
    found = _paged(db, "run_page", {}, page, per_page)
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    if found.rows:
        for run_id, record_type, action, n in db.rows("run_log_counts", {"keys": [r.run_id for r in found.rows]}):
            counts[run_id][record_type][action] = n
    rows = [_run_row(r, {t: dict(c) for t, c in counts[r.run_id].items()}) for r in found.rows]
    return Page(rows, found.total, found.page, found.per_page)


def get_run(db: SyncDatabase, run_id: str) -> RunRow | None:
    rows = db.rows("get_run", {"run_id": run_id})
    if not rows:
        return None
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for record_type, _direction, action, n in db.rows("log_counts", {"run_id": run_id}):
        counts[record_type][action] = counts[record_type].get(action, 0) + n
    return _run_row(rows[0], dict(counts))


def _run_row(r: Any, counts: dict[str, dict[str, int]]) -> RunRow:
    return RunRow(r.run_id, r.started_at, r.finished_at, r.status, r.mode, bool(r.dry_run),
                  [t for t in r.record_types.split(",") if t], r.window_start, r.window_end,
                  json.loads(r.summary).get("lines", []) if r.summary else [], counts)


def log_facets(db: SyncDatabase, run_id: str) -> dict[str, list[str]]:
    """The record types, actions and directions a run's log holds: the choices of its filters."""
    found: dict[str, set[str]] = {"record_type": set(), "action": set(), "direction": set()}
    for record_type, direction, action, _ in db.rows("log_counts", {"run_id": run_id}):
        found["record_type"].add(record_type)
        found["action"].add(action)
        found["direction"].add(direction)
    return {name: sorted(values) for name, values in found.items()}


def run_log(db: SyncDatabase, run_id: str, filters: LogFilter, page: int = 1, per_page: int = PER_PAGE) -> Page[Any]:
    return _paged(db, "log_filtered", {"run_id": run_id, **filters.params()}, page, per_page)


def log_csv(db: SyncDatabase, run_id: str, filters: LogFilter) -> Iterator[str]:
    """The filtered log of a run as CSV text, a chunk at a time (a run can log tens of thousands of rows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("run_id", *LOG_COLUMNS))
    offset = 0
    while True:
        rows = db.rows("log_filtered", {"run_id": run_id, **filters.params(), "limit": CSV_CHUNK, "offset": offset})
        for row in rows:
            writer.writerow((run_id, *(_csv_safe(getattr(row, c)) for c in LOG_COLUMNS)))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < CSV_CHUNK:
            return
        offset += CSV_CHUNK


def _csv_safe(value: Any) -> Any:
    """Record names come from two systems' users: a leading = + - @ would run as a formula in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def mapping_counts(db: SyncDatabase) -> dict[str, int]:
    found = {record_type: n for record_type, n in db.rows("mapping_type_counts", {})}
    return {t: found.get(t, 0) for t in record_types.ORDER}


def mappings(db: SyncDatabase, record_type: str, text: str | None = None, page: int = 1) -> Page[Any]:
    record_types.get(record_type)  # a clear error for an unknown type
    return _paged(db, "mapping_names_page", {"record_type": record_type, "pattern": like_pattern(text)}, page)


def suggestions(db: SyncDatabase, record_type: str | None = None, status: str | None = "proposed",
                page: int = 1) -> Page[Any]:
    return _paged(db, "suggestion_review_page", {"record_type": record_type, "status": status}, page)


def open_conflicts(db: SyncDatabase, record_type: str | None = None, page: int = 1) -> Page[Any]:
    return _paged(db, "open_conflicts", {"record_type": record_type}, page)


def decisions(db: SyncDatabase, record_type: str | None = None, limit: int = 20) -> list[Any]:
    return db.rows("decision_page", {"record_type": record_type, "limit": limit, "offset": 0})


def quarantined(db: SyncDatabase, record_type: str | None = None, page: int = 1) -> Page[Any]:
    return _paged(db, "open_quarantine", {"record_type": record_type}, page)


def poison(db: SyncDatabase, record_type: str | None = None, page: int = 1) -> Page[Any]:
    return _paged(db, "poison_page", {"record_type": record_type}, page)


def backlog(db: SyncDatabase, record_type: str | None = None, page: int = 1) -> Page[Any]:
    return _paged(db, "batch_backlog", {"record_type": record_type}, page)


def audit_trail(db: SyncDatabase, limit: int = 20) -> list[Any]:
    return db.rows("review_action_page", {"limit": limit, "offset": 0})


# --- what the next run honours -------------------------------------------------------------------------


def pending_decisions(db: SyncDatabase, record_type: str) -> dict[tuple[str, str], dict[str, Side]]:
    """Conflicts a person decided and no run has applied yet: (Ajera key, CRM key) -> field -> winner."""
    found: dict[tuple[str, str], dict[str, Side]] = defaultdict(dict)
    for row in db.rows("pending_decisions", {"record_type": record_type}):
        found[(row.ajera_key, row.crm_key)][row.field_name] = row.winner
    return dict(found)


def pending_retries(db: SyncDatabase, record_type: str, system: System) -> set[str]:
    """Keys a person asked to read again (quarantined or poison records)."""
    return {row.record_key for row in db.rows("pending_retries", {"record_type": record_type, "system": system})}


# --- actions ------------------------------------------------------------------------------------------


def accept_suggestion(db: SyncDatabase, suggestion_id: int, actor: str) -> str:
    with db.begin() as tx:
        s = _suggestion(tx, suggestion_id)
        clash = tx.rows("accepted_with_either_key", {"record_type": s.record_type, "id": s.id,
                                                     "ajera_key": s.ajera_key, "crm_key": s.crm_key})
        if clash:
            raise ReviewError(f"{s.record_type} Ajera {s.ajera_key} or CRM {s.crm_key} is already in accepted "
                              f"suggestion {clash[0].id}; reject this one instead")
        _decide_suggestion(tx, s, "accepted")
        message = (f"accepted match suggestion: Ajera {s.ajera_name!r} ({s.ajera_key}) / CRM {s.crm_name!r} "
                   f"({s.crm_key}); the next run links them")
        _audit(tx, actor, ReviewAction.ACCEPT_SUGGESTION, s.record_type, message, s.ajera_key, s.crm_key, s.ajera_name)
    return message


def reject_suggestion(db: SyncDatabase, suggestion_id: int, actor: str) -> str:
    with db.begin() as tx:
        s = _suggestion(tx, suggestion_id)
        _decide_suggestion(tx, s, "rejected")
        message = (f"rejected match suggestion: Ajera {s.ajera_name!r} ({s.ajera_key}) / CRM {s.crm_name!r} "
                   f"({s.crm_key}); not proposed again")
        _audit(tx, actor, ReviewAction.REJECT_SUGGESTION, s.record_type, message, s.ajera_key, s.crm_key, s.ajera_name)
    return message


def resolve_conflict(db: SyncDatabase, conflict_id: int, winner: str, actor: str) -> str:
    """``winner`` is what a person sent (checked here): 'ajera' or 'crm'."""
    if winner not in SYSTEMS:
        raise ReviewError(f"take must be 'ajera' or 'crm', not {winner!r}")
    with db.begin() as tx:
        rows = tx.rows("get_conflict", {"id": conflict_id})
        if not rows:
            raise NotFound(f"no conflict {conflict_id}")
        c = rows[0]
        if c.resolution != "review":
            raise ReviewError(f"conflict {conflict_id} was settled by the run ({c.resolution}); nothing to decide")
        newer = tx.scalar("newer_conflict", {"record_type": c.record_type, "ajera_key": c.ajera_key,
                                             "crm_key": c.crm_key, "field_name": c.field_name})
        if newer != c.id:
            raise ReviewError(f"conflict {conflict_id} is out of date: a later run logged conflict {newer} on "
                              f"the same field; decide that one")
        tx.execute("upsert_decision", {"record_type": c.record_type, "ajera_key": c.ajera_key, "crm_key": c.crm_key,
                                       "field_name": c.field_name, "winner": winner, "conflict_id": c.id,
                                       "actor": actor, "now": utcnow()})
        value = c.ajera_value if winner == "ajera" else c.crm_value
        message = (f"conflict on {c.field_name}: take {'Ajera' if winner == 'ajera' else 'the CRM'}'s value "
                   f"{value!r} (Ajera {c.ajera_value!r} vs CRM {c.crm_value!r}); the next run writes it across")
        action = ReviewAction.TAKE_AJERA if winner == "ajera" else ReviewAction.TAKE_CRM
        _audit(tx, actor, action, c.record_type, message, c.ajera_key, c.crm_key, None)
    return message


def retry_quarantined(db: SyncDatabase, quarantine_id: int, actor: str) -> str:
    with db.begin() as tx:
        rows = tx.rows("get_quarantine", {"id": quarantine_id})
        if not rows:
            raise NotFound(f"no quarantined record {quarantine_id}")
        q = rows[0]
        if not q.record_key:
            raise ReviewError(f"quarantined row {quarantine_id} has no key to read again ({q.reason}); "
                              f"fix it in {'Ajera' if q.system == 'ajera' else 'the CRM'}")
        message = (f"retry quarantined {q.system} {q.record_type} {q.record_key} ({q.reason}): "
                   f"the next run reads it again")
        _request_retry(tx, q.record_type, q.system, q.record_key, q.id, actor, message, q.record_name)
    return message


def retry_poison(db: SyncDatabase, record_type: str, system: str, record_key: str, actor: str) -> str:
    record_types.get(record_type)
    with db.begin() as tx:
        rows = tx.rows("get_failed", {"record_type": record_type, "system": system, "record_key": record_key})
        if not rows or not rows[0].poison:
            raise NotFound(f"{system} {record_type} {record_key} is not a poison record")
        tx.execute("release_poison", {"record_type": record_type, "system": system, "record_key": record_key,
                                      "now": utcnow()})
        message = (f"retry poison {system} {record_type} {record_key} (failed {rows[0].attempts} runs: "
                   f"{rows[0].last_error[:200]}): the next run reads it again and counts its failures afresh")
        _request_retry(tx, record_type, system, record_key, None, actor, message, None)
    return message


def _suggestion(tx: Tx, suggestion_id: int) -> Any:
    rows = tx.rows("get_suggestion", {"id": suggestion_id})
    if not rows:
        raise NotFound(f"no match suggestion {suggestion_id}")
    return rows[0]


def _decide_suggestion(tx: Tx, s: Any, status: SuggestionStatus) -> None:
    if not tx.execute("decide_suggestion", {"id": s.id, "status": status, "now": utcnow()}):
        raise ReviewError(f"match suggestion {s.id} is already {s.status}")


def _request_retry(tx: Tx, record_type: str, system: str, key: str, quarantine_id: int | None, actor: str,
                   message: str, name: str | None) -> None:
    tx.execute("upsert_retry", {"record_type": record_type, "system": system, "record_key": key,
                                "quarantine_id": quarantine_id, "actor": actor, "now": utcnow()})
    keys = {"ajera_key": key, "crm_key": None} if system == "ajera" else {"ajera_key": None, "crm_key": key}
    _audit(tx, actor, ReviewAction.RETRY_RECORD, record_type, message, name=name, **keys)


def _audit(tx: Tx, actor: str, action: ReviewAction, record_type: str, message: str,
           ajera_key: str | None, crm_key: str | None, name: str | None) -> None:
    tx.execute("insert_review_action", {"now": utcnow(), "actor": actor, "action": action.value,
                                        "record_type": record_type, "ajera_key": ajera_key, "crm_key": crm_key,
                                        "detail": message})
    journal.log(tx, REVIEW_RUN_ID, record_type, LogAction.REVIEWED, f"{actor}: {message}", direction=Direction.NONE,
                ajera_key=ajera_key, crm_key=crm_key, name=name)
