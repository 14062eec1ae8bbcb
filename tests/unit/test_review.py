"""What the pages read and the review actions, on the sync database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from include.sync import review
from include.sync.db import SyncDatabase, utcnow
from include.sync.review import LogFilter, NotFound, ReviewError


def _run(db: SyncDatabase, run_id: str, started: str | None = None, types: str = "firm") -> None:
    db.execute("start_run", {"run_id": run_id, "started_at": started or utcnow(), "mode": "two_way", "dry_run": 0,
                             "record_types": types, "window_start": None, "window_end": None, "options": "{}"})


def _log(db: SyncDatabase, run_id: str, action: str, name: str, message: str = "m", record_type: str = "firm",
         direction: str = "both", ajera_key: str | None = None, crm_key: str | None = None) -> None:
    db.execute("insert_log", {"run_id": run_id, "now": utcnow(), "record_type": record_type, "direction": direction,
                              "action": action, "ajera_key": ajera_key, "crm_key": crm_key, "record_name": name,
                              "message": message})


def _suggest(db: SyncDatabase, ajera_key: str, crm_key: str, record_type: str = "firm") -> int:
    db.execute("upsert_suggestion", {"record_type": record_type, "ajera_key": ajera_key, "crm_key": crm_key,
                                     "ajera_name": f"A {ajera_key}", "crm_name": f"C {crm_key}", "score": 95.0,
                                     "method": "fuzzy", "run_id": "run-1", "now": utcnow()})
    return next(r.id for r in review.suggestions(db, record_type, None).rows
                if (r.ajera_key, r.crm_key) == (ajera_key, crm_key))


def _conflict(db: SyncDatabase, run_id: str = "run-1", resolution: str = "review", field: str = "phone") -> int:
    db.execute("insert_conflict", {"run_id": run_id, "record_type": "firm", "ajera_key": "1", "crm_key": "C1",
                                   "field_name": field, "ajera_value": "111", "crm_value": "222",
                                   "resolution": resolution, "reason": "near tie", "now": utcnow()})
    with db.begin() as tx:
        return tx.conn.exec_driver_sql("SELECT MAX(id) FROM sync_conflict").scalar()


def _quarantine(db: SyncDatabase, run_id: str = "run-1", key: str | None = "7") -> int:
    db.execute("insert_quarantine", {"run_id": run_id, "system": "crm", "record_type": "firm", "record_key": key,
                                     "record_name": "Bad Firm", "reason": "the status 'Z' is not one of A, I",
                                     "payload": None, "now": utcnow()})
    with db.begin() as tx:
        return tx.conn.exec_driver_sql("SELECT MAX(id) FROM quarantine").scalar()


def _audit(db: SyncDatabase) -> list[Any]:
    return review.audit_trail(db)


def _review_log(db: SyncDatabase) -> list[Any]:
    return db.rows("log_for_run", {"run_id": review.REVIEW_RUN_ID})


# --- reading ------------------------------------------------------------------------------------------


def test_like_pattern_matches_the_users_text_literally() -> None:
    assert review.like_pattern("  ") is None and review.like_pattern(None) is None
    assert review.like_pattern("50%_Off\\") == "%50\\%\\_off\\\\%"


def test_runs_newest_first_with_counts_per_type_and_action(sync_db: SyncDatabase) -> None:
    for i in range(3):
        _run(sync_db, f"run-{i}", f"2026-01-0{i + 1}T00:00:00.000000+00:00")
    _log(sync_db, "run-2", "mapped", "A")
    _log(sync_db, "run-2", "mapped", "B")
    _log(sync_db, "run-2", "error", "C", record_type="contact")
    page = review.runs(sync_db, page=1, per_page=2)
    assert [r.run_id for r in page.rows] == ["run-2", "run-1"] and (page.total, page.pages) == (3, 2)
    assert page.rows[0].counts == {"firm": {"mapped": 2}, "contact": {"error": 1}}
    assert (page.rows[0].total("error"), page.rows[0].total("conflict")) == (1, 0)
    assert [r.run_id for r in review.runs(sync_db, page=2, per_page=2).rows] == ["run-0"]
    assert review.get_run(sync_db, "run-2").counts == page.rows[0].counts  # type: ignore[union-attr]
    assert review.get_run(sync_db, "nope") is None


def test_run_log_filters_page_on_the_server(sync_db: SyncDatabase) -> None:
    _run(sync_db, "run-1")
    _run(sync_db, "run-2")
    for i in range(7):
        _log(sync_db, "run-1", "mapped", f"Harbor {i}", direction="both", ajera_key=str(i))
    _log(sync_db, "run-1", "error", "Bad_Name 100%", message="update failed: 400", direction="ajera_to_crm")
    _log(sync_db, "run-1", "conflict", "Other", record_type="contact", crm_key="CX9")
    _log(sync_db, "run-2", "mapped", "Harbor 99")
    everything = review.run_log(sync_db, "run-1", LogFilter(), per_page=3)
    assert (everything.total, everything.pages, len(everything.rows)) == (9, 3, 3)
    assert review.run_log(sync_db, "run-1", LogFilter(), page=3, per_page=3).rows[-1].record_name == "Other"
    beyond = review.run_log(sync_db, "run-1", LogFilter(), page=9, per_page=3)
    assert (beyond.rows, beyond.total) == ([], 9)

    def names(**f: str) -> list[str]:
        return [r.record_name for r in review.run_log(sync_db, "run-1", LogFilter(**f)).rows]

    assert names(action="error") == ["Bad_Name 100%"]
    assert names(record_type="contact") == ["Other"]
    assert names(direction="ajera_to_crm") == ["Bad_Name 100%"]
    assert names(text="HARBOR 3") == ["Harbor 3"]  # case-insensitive, this run only
    assert names(text="_name 100%") == ["Bad_Name 100%"] and names(text="e_n") == []  # % and _ are literal
    assert names(text="400") == ["Bad_Name 100%"] and names(text="cx9") == ["Other"]  # message and keys too
    assert names(action="mapped", text="harbor 6") == ["Harbor 6"]
    assert names(action=" ", record_type="") == names()  # empty filters mean "any"
    assert review.log_facets(sync_db, "run-1") == {"record_type": ["contact", "firm"],
                                                   "action": ["conflict", "error", "mapped"],
                                                   "direction": ["ajera_to_crm", "both"]}


def test_log_csv_streams_every_filtered_row(sync_db: SyncDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "CSV_CHUNK", 2)
    _run(sync_db, "run-1")
    for i in range(5):
        _log(sync_db, "run-1", "mapped", f"Firm {i}")
    _log(sync_db, "run-1", "error", "=HYPERLINK(\"x\")", message="-bad")
    text = "".join(review.log_csv(sync_db, "run-1", LogFilter()))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6 and list(rows[0]) == ["run_id", *review.LOG_COLUMNS]
    assert rows[-1]["record_name"] == "'=HYPERLINK(\"x\")" and rows[-1]["message"] == "'-bad"  # no formulas
    errors_csv = "".join(review.log_csv(sync_db, "run-1", LogFilter(action="error")))
    only_errors = list(csv.DictReader(io.StringIO(errors_csv)))
    assert [r["action"] for r in only_errors] == ["error"]


def test_mappings_carry_both_names_and_are_searchable(sync_db: SyncDatabase) -> None:
    _run(sync_db, "run-1", "2026-01-01T00:00:00.000000+00:00")
    _run(sync_db, "run-2", "2026-01-02T00:00:00.000000+00:00")
    staged = [("run-1", "ajera", "1", "Old Name"), ("run-2", "ajera", "1", "Acme Engineering"),
              ("run-2", "crm", "C1", "ACME Engineering Inc"), ("run-2", "ajera", "2", "Beta Surveying"),
              ("run-2", "crm", "C2", "Beta Surveying"), ("run-1", "ajera", "3", "Gone Since"),
              ("run-1", "crm", "C3", "Gone Since CRM")]
    from include.sync.model import Record
    from include.sync.record_types import FIRM
    from include.sync.staging import stage

    with sync_db.begin() as tx:  # each run sweeps: run-2 no longer lists 3 and C3
        for run_id in ("run-1", "run-2"):
            for system in ("ajera", "crm"):
                stage(tx, run_id, FIRM, system, [Record(system, k, n, None, False) for r, s_, k, n in staged  # type: ignore[arg-type]
                                                 if r == run_id and s_ == system])
    for a, c, run in (("1", "C1", "run-1"), ("2", "C2", "run-1"), ("3", "C3", "run-1")):
        sync_db.execute("insert_mapping", {"record_type": "firm", "ajera_key": a, "crm_key": c,
                                           "match_method": "name_exact",
                                           "ajera_modified": None, "crm_modified": None, "ajera_hash": None,
                                           "crm_hash": None, "ajera_fields": None, "crm_fields": None, "run_id": run,
                                           "now": utcnow(), "synced_at": None})
    page = review.mappings(sync_db, "firm")
    assert [(m.ajera_key, m.ajera_name, m.crm_key, m.crm_name) for m in page.rows] == [
        ("1", "Acme Engineering", "C1", "ACME Engineering Inc"),  # as last seen
        ("2", "Beta Surveying", "C2", "Beta Surveying"),
        ("3", "Gone Since", "C3", "Gone Since CRM"),  # no longer listed: the linking run's names
    ]
    assert [m.ajera_key for m in review.mappings(sync_db, "firm", "acme engineering INC").rows] == ["1"]
    assert [m.ajera_key for m in review.mappings(sync_db, "firm", "c2").rows] == ["2"]
    assert review.mappings(sync_db, "contact").total == 0
    assert review.mapping_counts(sync_db) == {"firm": 3, "contact": 0, "employee": 0, "vendor": 0, "project": 0}
    with pytest.raises(ValueError, match="unknown record type"):
        review.mappings(sync_db, "widget")


# --- actions ------------------------------------------------------------------------------------------


def test_accept_and_reject_suggestions_are_audited_once(sync_db: SyncDatabase) -> None:
    first, second, third = _suggest(sync_db, "1", "C1"), _suggest(sync_db, "1", "C2"), _suggest(sync_db, "2", "C3")
    message = review.accept_suggestion(sync_db, first, "alice")
    assert "next run links them" in message
    with pytest.raises(ReviewError, match="already accepted"):
        review.accept_suggestion(sync_db, first, "bob")
    with pytest.raises(ReviewError, match="already in accepted suggestion"):
        review.accept_suggestion(sync_db, second, "bob")  # Ajera 1 is taken by the first
    review.reject_suggestion(sync_db, second, "bob")
    with pytest.raises(NotFound):
        review.reject_suggestion(sync_db, 999_999, "bob")
    statuses = {r.id: r.status for r in review.suggestions(sync_db, "firm", None).rows}
    assert statuses == {first: "accepted", second: "rejected", third: "proposed"}
    assert [r.id for r in review.suggestions(sync_db).rows] == [third]  # the default list: awaiting review
    audit = _audit(sync_db)
    assert [(a.actor, a.action, a.ajera_key, a.crm_key) for a in audit] == [
        ("bob", "reject_suggestion", "1", "C2"), ("alice", "accept_suggestion", "1", "C1")]
    logged = _review_log(sync_db)
    assert [(r.action, r.record_type, r.ajera_key) for r in logged] == [("reviewed", "firm", "1")] * 2
    assert logged[0].message.startswith("alice: accepted match suggestion")
    reviewed = sync_db.rows("reviewed_suggestions", {"record_type": "firm"})
    assert dict(((r.ajera_key, r.crm_key), r.status) for r in reviewed)[("1", "C1")] == "accepted"


def test_resolve_conflict_records_the_decision_until_a_run_applies_it(sync_db: SyncDatabase) -> None:
    settled = _conflict(sync_db, resolution="ajera_wins", field="email")
    conflict = _conflict(sync_db)
    assert [c.id for c in review.open_conflicts(sync_db).rows] == [conflict]  # settled ones are not open
    with pytest.raises(ReviewError, match="settled by the run"):
        review.resolve_conflict(sync_db, settled, "crm", "alice")
    with pytest.raises(ReviewError, match="'ajera' or 'crm'"):
        review.resolve_conflict(sync_db, conflict, "both", "alice")  # type: ignore[arg-type]
    message = review.resolve_conflict(sync_db, conflict, "crm", "alice")
    assert "take the CRM's value '222'" in message
    assert review.open_conflicts(sync_db).total == 0
    assert review.pending_decisions(sync_db, "firm") == {("1", "C1"): {"phone": "crm"}}
    [decision] = review.decisions(sync_db)
    assert (decision.winner, decision.decided_by, decision.applied_run_id) == ("crm", "alice", None)
    assert _audit(sync_db)[0].action == "take_crm"

    sync_db.execute("mark_decision_applied", {"record_type": "firm", "ajera_key": "1", "crm_key": "C1",
                                              "field_name": "phone", "run_id": "run-2", "now": utcnow()})
    assert review.pending_decisions(sync_db, "firm") == {}
    # The same field in conflict again later is a new question: open again, and the old row is stale.
    again = _conflict(sync_db, run_id="run-3")
    assert [c.id for c in review.open_conflicts(sync_db).rows] == [again]
    with pytest.raises(ReviewError, match="out of date"):
        review.resolve_conflict(sync_db, conflict, "ajera", "bob")
    review.resolve_conflict(sync_db, again, "ajera", "bob")
    assert review.pending_decisions(sync_db, "firm") == {("1", "C1"): {"phone": "ajera"}}
    with pytest.raises(NotFound):
        review.resolve_conflict(sync_db, 999_999, "ajera", "bob")


def test_retry_quarantined_record_until_a_run_reads_it(sync_db: SyncDatabase) -> None:
    keyless = _quarantine(sync_db, key=None)
    row = _quarantine(sync_db)
    assert {q.id for q in review.quarantined(sync_db).rows} == {keyless, row}
    with pytest.raises(ReviewError, match="no key"):
        review.retry_quarantined(sync_db, keyless, "alice")
    review.retry_quarantined(sync_db, row, "alice")
    assert review.pending_retries(sync_db, "firm", "crm") == {"7"}
    assert review.pending_retries(sync_db, "firm", "ajera") == set()
    shown = {q.id: q.requested_by for q in review.quarantined(sync_db).rows}
    assert shown == {keyless: None, row: "alice"}

    sync_db.execute("mark_retries_read", {"run_id": "run-2", "system": "crm", "record_type": "firm"})
    assert review.pending_retries(sync_db, "firm", "crm") == set()
    assert {q.id for q in review.quarantined(sync_db).rows} == {keyless}  # read again: off the list
    requarantined = _quarantine(sync_db, run_id="run-2")  # still bad: back on the list, retry offered again
    assert {q.id: q.requested_by for q in review.quarantined(sync_db).rows} == {keyless: None, requarantined: None}
    with pytest.raises(NotFound):
        review.retry_quarantined(sync_db, 999_999, "alice")


def test_retry_poison_record_makes_it_an_ordinary_failure_again(sync_db: SyncDatabase) -> None:
    for _ in range(2):
        sync_db.execute("record_failure", {"record_type": "firm", "system": "ajera", "record_key": "5",
                                           "error": "HTTP 400 bad phone", "now": utcnow(), "poison_after": 2})
    assert [(p.record_key, p.attempts) for p in review.poison(sync_db).rows] == [("5", 2)]
    message = review.retry_poison(sync_db, "firm", "ajera", "5", "alice")
    assert "bad phone" in message
    assert review.poison(sync_db).total == 0
    [failed] = sync_db.rows("failed_keys", {"record_type": "firm", "system": "ajera"})
    assert (failed.poison, failed.attempts) == (0, 0)
    assert review.pending_retries(sync_db, "firm", "ajera") == {"5"}
    with pytest.raises(NotFound, match="not a poison record"):
        review.retry_poison(sync_db, "firm", "ajera", "5", "alice")
    assert [a.action for a in _audit(sync_db)] == ["retry_record"]


def test_backlog_lists_batches_not_applied(sync_db: SyncDatabase) -> None:
    _run(sync_db, "run-1")
    for batch_no, status in ((0, "done"), (1, "pending"), (2, "running")):  # running: a try failed
        sync_db.execute("insert_batch", {"run_id": "run-1", "record_type": "project", "batch_no": batch_no,
                                         "action_count": 500})
        sync_db.execute("set_batch_status", {"run_id": "run-1", "record_type": "project", "batch_no": batch_no,
                                             "status": status})
    assert [(b.batch_no, b.status, b.action_count) for b in review.backlog(sync_db).rows] == [(1, "pending", 500),
                                                                                              (2, "running", 500)]
    assert review.backlog(sync_db, "firm").total == 0
