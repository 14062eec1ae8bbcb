"""The sync database: schema and named queries, on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import exc, text

from include.sync.db import _VALUES, SQL_DIR, SyncDatabase, format_ts, load_queries, parse_ts, utcnow
from include.sync.enums import ActionKind, Direction, LinkMethod, LogAction, PlannedBy, ReviewAction

UTC = UTC
T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)

TABLES = ["sync_run", "record_mapping", "watermark", "staged_record", "planned_action", "integration_log",
          "quarantine", "match_suggestion", "sync_conflict", "project_batch", "failed_record"]


def test_schema_creation_is_idempotent(sync_db: SyncDatabase):
    sync_db.create_schema()
    sync_db.create_schema()
    with sync_db.engine.connect() as conn:
        for table in TABLES:
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0


# --- every named query parses and runs ----------------------------------------------------------------

_BIND = re.compile(r"(?<![:\w]):(\w+)")
_INTS = {"limit": 10, "offset": 0, "batch_size": 500, "poison_after": 5, "seq": 0, "batch_no": 0,
         "flagged": 1, "dry_run": 0, "action_count": 1, "id": 1, "attempts": 1, "quarantined": 0,
         "conflict_id": 1, "quarantine_id": 1, "position": 1, "max_length": 80, "unmapped_only": 1}
_FLOATS = {"score": 0.9, "hours": 7.5}
_ENUM_VALUES = {"planned_by": PlannedBy.DIFF.value, "direction": Direction.NONE.value,
                "match_method": LinkMethod.NAME_EXACT.value, "mode": "two_way", "resolution": "review",
                "winner": "crm"}
_TIMES = {"now", "started_at", "finished_at", "modified", "window_start", "window_end", "before",
          "modified_through", "ajera_modified", "crm_modified", "synced_at", "quarantined_at", "logged_at",
          "written_at"}


def _params(sql: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in _BIND.findall(sql):
        if name in _INTS:
            params[name] = _INTS[name]
        elif name in _FLOATS:
            params[name] = _FLOATS[name]
        elif name in _TIMES:
            params[name] = format_ts(T0)
        elif name == "keys":
            params[name] = ["k1", "k2"]
        elif name == "system":
            params[name] = "ajera"
        elif name == "status":
            params[name] = ("succeeded" if "sync_run" in sql else "rejected" if "match_suggestion" in sql else "done")
        elif name in _ENUM_VALUES:  # columns with a CHECK: a value they allow
            params[name] = _ENUM_VALUES[name]
        elif name == "action":
            params[name] = (ActionKind.UPDATE.value if "planned_action" in sql else
                            ReviewAction.RETRY_RECORD.value if "review_action" in sql else LogAction.ERROR.value)
        else:
            params[name] = f"v_{name}"
    return params


def test_every_named_query_runs(sync_db: SyncDatabase):
    queries = load_queries()
    assert len(queries) >= 30
    # Inserts first so the selects and updates have rows to work on.
    order = sorted(queries, key=lambda n: (not n.startswith(("insert", "start", "upsert", "record_")), n))
    for name in order:
        sql = queries[name]
        params = _params(sql)
        with sync_db.begin() as tx:
            if sql.lstrip().upper().startswith("SELECT"):
                tx.rows(name, params)
            else:
                tx.execute(name, params)


def test_no_query_formats_values_into_its_text():
    queries = load_queries()
    for name, sql in queries.items():
        assert not re.search(r"\{\w*\}", sql), f"{name} has a format placeholder"
        assert "%s" not in sql and "%(" not in sql, f"{name} has a DB-API placeholder"
        assert "?" not in sql, f"{name} has a positional placeholder"
    schema = (SQL_DIR / "schema.sql").read_text()
    # The one dialect substitution, and the CHECK lists made from the enums.
    assert set(re.findall(r"\{(\w*)\}", schema)) == {"serial_pk"} | {p.strip("{}") for p in _VALUES}
    source = (SQL_DIR.parent / "sync" / "db.py").read_text()
    assert ".format(" not in source and 'f"SELECT' not in source and 'f"INSERT' not in source


def test_every_sql_file_statement_is_named():
    for path in sorted(SQL_DIR.glob("*.sql")):
        if path.name.startswith("schema"):  # the DDL: schema.sql and each feature's schema_*.sql
            continue
        body = path.read_text()
        first = next(line for line in body.splitlines() if line.strip())
        assert re.match(r"--\s*name:\s*\w+", first), f"{path.name} starts with an unnamed statement"


def test_unknown_query_name_is_a_clear_error(sync_db: SyncDatabase):
    with pytest.raises(KeyError, match="no query named"):
        sync_db.sql("drop_everything")


# --- mappings -----------------------------------------------------------------------------------------


def _mapping(ajera_key: str, crm_key: str, method: str = "name_exact", run_id: str = "run1",
             record_type: str = "firm") -> dict[str, Any]:
    return {"record_type": record_type, "ajera_key": ajera_key, "crm_key": crm_key, "match_method": method,
            "ajera_modified": None, "crm_modified": None, "ajera_hash": None, "crm_hash": None,
            "ajera_fields": None, "crm_fields": None,
            "run_id": run_id, "now": utcnow(), "synced_at": None}


def test_insert_mapping_on_conflict_keeps_the_first_pair(sync_db: SyncDatabase):
    sync_db.execute("insert_mapping", _mapping("A1", "C1", "name_exact", "run1"))
    sync_db.execute("insert_mapping", _mapping("A1", "C1", "created_in_crm", "run2"))  # a retried task
    sync_db.execute("insert_mapping", _mapping("A1", "C2", "name_recheck", "run2"))  # same Ajera key
    sync_db.execute("insert_mapping", _mapping("A2", "C1", "name_recheck", "run2"))  # same CRM key
    rows = sync_db.rows("select_mappings", {"record_type": "firm"})
    assert [(r.ajera_key, r.crm_key, r.match_method) for r in rows] == [("A1", "C1", "name_exact")]
    assert sync_db.rows("mapping_by_crm_key", {"record_type": "firm", "crm_key": "C1"})[0].ajera_key == "A1"
    # Another record type is its own key space.
    sync_db.execute("insert_mapping", _mapping("A1", "C1", record_type="contact"))
    assert sync_db.scalar("count_mappings", {"record_type": "contact"}) == 1


def test_crm_key_is_unique_per_record_type(sync_db: SyncDatabase):
    sync_db.execute("insert_mapping", _mapping("A1", "C1"))
    insert = text("INSERT INTO record_mapping (record_type, ajera_key, crm_key, match_method, linked_run_id, "
                  "linked_at) VALUES ('firm', 'A2', 'C1', 'x', 'r', 'now')")
    with pytest.raises(exc.IntegrityError), sync_db.engine.begin() as conn:
        conn.execute(insert)
    # And the Ajera key, the primary key.
    with pytest.raises(exc.IntegrityError), sync_db.engine.begin() as conn:
            conn.execute(text(insert.text.replace("'A2', 'C1'", "'A1', 'C9'")))


def test_mark_synced_and_delete_mapping(sync_db: SyncDatabase):
    sync_db.execute("insert_mapping", _mapping("A1", "C1"))
    sync_db.execute("mark_synced", {"record_type": "firm", "ajera_key": "A1", "ajera_modified": format_ts(T0),
                                    "crm_modified": format_ts(T0), "ajera_hash": "ha", "crm_hash": "hc",
                                    "ajera_fields": "{}", "crm_fields": "{}",
                                    "now": utcnow()})
    row = sync_db.rows("select_mappings", {"record_type": "firm"})[0]
    assert (parse_ts(row.ajera_modified), row.ajera_hash, row.crm_hash) == (T0, "ha", "hc")
    sync_db.execute("delete_mapping", {"record_type": "firm", "ajera_key": "A1", "crm_key": "C1"})
    assert sync_db.scalar("count_mappings", {"record_type": "firm"}) == 0


# --- watermarks ---------------------------------------------------------------------------------------


def _advance(db: SyncDatabase, when: datetime, run_id: str, system: str = "ajera") -> None:
    db.execute("advance_watermark", {"system": system, "record_type": "firm", "modified_through": format_ts(when),
                                     "run_id": run_id, "now": utcnow()})


def _watermark(db: SyncDatabase, system: str = "ajera") -> datetime | None:
    return parse_ts(db.scalar("get_watermark", {"system": system, "record_type": "firm"}))


def test_advance_watermark_never_moves_backwards(sync_db: SyncDatabase):
    assert _watermark(sync_db) is None
    _advance(sync_db, T0, "run1")
    assert _watermark(sync_db) == T0
    _advance(sync_db, T0 - timedelta(days=30), "backfill")  # an old window must not rewind it
    assert _watermark(sync_db) == T0
    _advance(sync_db, T0 - timedelta(microseconds=1), "backfill2")
    assert _watermark(sync_db) == T0
    _advance(sync_db, T0, "same")
    assert _watermark(sync_db) == T0
    _advance(sync_db, T0 + timedelta(microseconds=1), "run2")
    assert _watermark(sync_db) == T0 + timedelta(microseconds=1)
    _advance(sync_db, T0 + timedelta(days=400), "run3")  # across a year boundary
    assert _watermark(sync_db) == T0 + timedelta(days=400)
    with sync_db.engine.connect() as conn:
        assert conn.execute(text("SELECT run_id FROM watermark WHERE system = 'ajera'")).scalar() == "run3"
    assert _watermark(sync_db, "crm") is None  # per system


def test_format_ts_is_fixed_width_so_text_order_is_time_order():
    stamps = [T0, T0 + timedelta(microseconds=1), T0.replace(microsecond=0) + timedelta(seconds=1),
              datetime(2026, 1, 31, 7, 0, 0, 500000, timezone(timedelta(hours=-5))), datetime(2026, 1, 31, 12, 0)]
    texts = [format_ts(s) for s in stamps]
    assert len({len(t) for t in texts}) == 1
    assert sorted(texts) == [format_ts(s) for s in sorted(s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps)]
    assert parse_ts(format_ts(T0)) == T0 and parse_ts(None) is None


# --- failed records -----------------------------------------------------------------------------------


def _fail(db: SyncDatabase, poison_after: int, key: str = "A1", error: str = "boom") -> tuple[int, int, str]:
    db.execute("record_failure", {"record_type": "firm", "system": "ajera", "record_key": key, "error": error,
                                  "now": utcnow(), "poison_after": poison_after})
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT attempts, poison, last_error FROM failed_record WHERE record_key = :k"),
                           {"k": key}).one()
    return row.attempts, row.poison, row.last_error


def test_record_failure_counts_attempts_and_turns_poison(sync_db: SyncDatabase):
    assert _fail(sync_db, 3, error="e1") == (1, 0, "e1")
    assert _fail(sync_db, 3, error="e2") == (2, 0, "e2")
    assert _fail(sync_db, 3, error="e3") == (3, 1, "e3")
    assert _fail(sync_db, 3, error="e4") == (4, 1, "e4")
    rows = sync_db.rows("failed_keys", {"record_type": "firm", "system": "ajera"})
    assert [(r.record_key, r.attempts, r.poison) for r in rows] == [("A1", 4, 1)]
    sync_db.execute("clear_failure", {"record_type": "firm", "system": "ajera", "record_key": "A1"})
    assert sync_db.rows("failed_keys", {"record_type": "firm", "system": "ajera"}) == []
    assert _fail(sync_db, 3) == (1, 0, "boom")  # a fresh start after success


def test_record_failure_with_poison_after_one_is_poison_at_once(sync_db: SyncDatabase):
    """poison_after=N means "poison once attempts >= N"; for N=1 the very first failure qualifies."""
    assert _fail(sync_db, 1) == (1, 1, "boom")


# --- batches ------------------------------------------------------------------------------------------


def _plan(db: SyncDatabase, n: int, run_id: str = "run1") -> None:
    db.execute("insert_action", [
        {"run_id": run_id, "record_type": "firm", "seq": i, "planned_by": "diff", "action": "update",
         "ajera_key": str(i), "crm_key": f"C{i}", "record_name": f"Firm {i}", "detail": "{}"}
        for i in range(n)
    ])


@pytest.mark.parametrize(("actions", "batch_size", "expected"), [
    (1201, 500, [500, 500, 201]),
    (1000, 500, [500, 500]),
    (499, 500, [499]),
    (20, 7, [7, 7, 6]),
    (3, 1, [1, 1, 1]),
])
def test_assign_batches_uses_integer_division(sync_db: SyncDatabase, actions: int, batch_size: int,
                                              expected: list[int]):
    _plan(sync_db, actions)
    sync_db.execute("assign_batches", {"run_id": "run1", "record_type": "firm", "batch_size": batch_size})
    sizes = sync_db.rows("batch_sizes", {"run_id": "run1", "record_type": "firm"})
    assert [tuple(r) for r in sizes] == list(enumerate(expected))
    last = sync_db.rows("select_batch_actions", {"run_id": "run1", "record_type": "firm", "batch_no": 0})
    assert [r.seq for r in last] == list(range(expected[0]))


def test_count_planned_and_clear_plan(sync_db: SyncDatabase):
    _plan(sync_db, 5)
    params = {"run_id": "run1", "record_type": "firm", "planned_by": "diff"}
    assert sync_db.scalar("count_planned", params) == 5
    sync_db.execute("clear_plan", params)
    assert sync_db.scalar("count_planned", params) == 0


# --- pages with optional filters ----------------------------------------------------------------------


def _log(db: SyncDatabase, run_id: str, action: str) -> None:
    db.execute("insert_log", {"run_id": run_id, "now": utcnow(), "record_type": "firm", "direction": "none",
                              "action": action, "ajera_key": None, "crm_key": None, "record_name": None,
                              "message": f"{run_id} {action}"})


def test_log_page_with_and_without_filters(sync_db: SyncDatabase):
    for run_id, action in [("r1", "created"), ("r1", "error"), ("r2", "created"), ("r2", "updated")]:
        _log(sync_db, run_id, action)
    page = lambda **f: [r.message for r in sync_db.rows("log_page", {"run_id": None, "action": None, "limit": 10,  # noqa: E731
                                                                    "offset": 0, **f})]
    assert page() == ["r2 updated", "r2 created", "r1 error", "r1 created"]
    assert page(run_id="r1") == ["r1 error", "r1 created"]
    assert page(action="created") == ["r2 created", "r1 created"]
    assert page(run_id="r2", action="created") == ["r2 created"]
    assert page(limit=2, offset=1) == ["r2 created", "r1 error"]
    assert page(run_id="nope") == []


def test_mapping_page_with_and_without_filter(sync_db: SyncDatabase):
    sync_db.execute("insert_mapping", _mapping("A1", "C1", record_type="firm"))
    sync_db.execute("insert_mapping", _mapping("A2", "C2", record_type="firm"))
    sync_db.execute("insert_mapping", _mapping("A1", "C1", record_type="contact"))
    page = lambda rt, limit=10: [(r.record_type, r.ajera_key) for r in  # noqa: E731
                                 sync_db.rows("mapping_page", {"record_type": rt, "limit": limit, "offset": 0})]
    assert sorted(page(None)) == [("contact", "A1"), ("firm", "A1"), ("firm", "A2")]
    assert sorted(page("firm")) == [("firm", "A1"), ("firm", "A2")]
    assert len(page(None, limit=1)) == 1


def test_select_staged_by_keys_expands_a_list(sync_db: SyncDatabase):
    from include.sync.model import Record
    from include.sync.record_types import FIRM
    from include.sync.staging import stage

    with sync_db.begin() as tx:
        stage(tx, "r1", FIRM, "crm", [Record("crm", k, k, None, False) for k in ("a", "b", "c")])
    rows = sync_db.rows("select_staged_by_keys", {"run_id": "r1", "system": "crm", "record_type": "firm",
                                                  "keys": ["a", "c", "zz"]})
    assert sorted(r.record_key for r in rows) == ["a", "c"]


def test_start_run_twice_restarts_the_same_row(sync_db: SyncDatabase):
    run = {"run_id": "r1", "started_at": utcnow(), "mode": "two_way", "dry_run": 0, "record_types": "firm",
           "window_start": None, "window_end": None, "options": "{}"}
    sync_db.execute("start_run", run)
    sync_db.execute("finish_run", {"run_id": "r1", "finished_at": utcnow(), "status": "failed", "summary": "{}"})
    sync_db.execute("start_run", run)  # a retried start task
    row = sync_db.rows("get_run", {"run_id": "r1"})[0]
    assert (row.status, row.finished_at) == ("running", None)
    assert len(sync_db.rows("recent_runs", {"limit": 10})) == 1


def test_purge_keeps_recent_runs_and_the_audit_tables(sync_db: SyncDatabase):
    import json as _json
    from datetime import timedelta as _td

    from include.sync.finish import purge_working_tables

    for run_id, finished in (("old", T0 - _td(days=30)), ("recent", None)):
        sync_db.execute("start_run", {"run_id": run_id, "started_at": format_ts(T0), "mode": "two_way", "dry_run": 0,
                                      "record_types": "firm", "window_start": None, "window_end": None,
                                      "options": "{}"})
        if finished is not None:
            sync_db.execute("finish_run", {"run_id": run_id, "finished_at": format_ts(finished), "status": "succeeded",
                                           "summary": _json.dumps({})})
        sync_db.execute("insert_staged", {"run_id": run_id, "system": "ajera", "record_type": "firm", "record_key": "1",
                                          "record_name": "Acme", "modified": None, "flagged": 0, "record_group": None,
                                          "content_hash": None, "payload": None})
        sync_db.execute("insert_log", {"run_id": run_id, "now": utcnow(), "record_type": "firm", "direction": "none",
                                       "action": "mapped", "ajera_key": "1", "crm_key": "C1", "record_name": "Acme",
                                       "message": "m"})
    purge_working_tables(sync_db, keep_days=7)
    assert [r.record_key for r in sync_db.rows("select_staged", {"run_id": "old", "system": "ajera",
                                                                 "record_type": "firm"})] == []
    assert len(sync_db.rows("select_staged", {"run_id": "recent", "system": "ajera", "record_type": "firm"})) == 1
    assert len(sync_db.rows("log_for_run", {"run_id": "old"})) == 1  # the integration log is kept


def test_watermark_stops_at_what_the_sweep_saw(sync_db: SyncDatabase):
    """A record changed between the sweep and the fetch must be read next run, so the watermark may not
    jump to a fetched record's newer date."""
    from include.sync.finish import advance_watermarks
    from include.sync.record_types import FIRM
    from include.sync.runs import RunOptions

    swept, fetched = T0, T0 + timedelta(minutes=30)
    for system in ("ajera", "crm"):
        sync_db.execute("insert_staged", {"run_id": "r1", "system": system, "record_type": "firm", "record_key": "1",
                                          "record_name": "Acme", "modified": format_ts(fetched), "flagged": 0,
                                          "record_group": None, "content_hash": "h", "payload": "{}"})
        sync_db.execute("record_sweep", {"run_id": "r1", "system": system, "record_type": "firm",
                                         "swept_through": format_ts(swept)})
    advance_watermarks(sync_db, FIRM, "r1", RunOptions(record_types=("firm",)))
    assert sync_db.scalar("get_watermark", {"system": "ajera", "record_type": "firm"}) == format_ts(swept)


@pytest.mark.parametrize("listed", [("ajera", "crm"), ("crm",)])
def test_a_quiet_run_moves_the_ajera_watermark_to_its_start_less_the_skew(sync_db: SyncDatabase,
                                                                          listed: tuple[str, ...]):
    """The last change was days ago: left there, the watermark would make every run re-read the overlap before
    it. A run that listed Ajera moves its watermark to the run's start less the clock skew. A system the run
    did not list keeps its watermark, and so does the CRM, whose dates carry no zone to set against this
    worker's clock."""
    from include.sync.finish import STAMP_RESOLUTION, advance_watermarks
    from include.sync.record_types import FIRM
    from include.sync.runs import RunOptions

    started, options = T0 + timedelta(days=3), RunOptions(record_types=("firm",), clock_skew_seconds=120)
    sync_db.execute("start_run", {"run_id": "r2", "started_at": format_ts(started), "mode": "two_way",
                                  "dry_run": 0, "record_types": "firm", "window_start": None, "window_end": None,
                                  "options": "{}"})
    for system in ("ajera", "crm"):
        sync_db.execute("advance_watermark", {"system": system, "record_type": "firm",
                                              "modified_through": format_ts(T0), "run_id": "r1", "now": format_ts(T0)})
    for system in listed:
        sync_db.execute("record_sweep", {"run_id": "r2", "system": system, "record_type": "firm",
                                         "swept_through": None})
    advance_watermarks(sync_db, FIRM, "r2", options)
    floor = started - timedelta(seconds=120) - STAMP_RESOLUTION
    assert sync_db.scalar("get_watermark", {"system": "ajera", "record_type": "firm"}) == format_ts(
        floor if "ajera" in listed else T0)
    assert sync_db.scalar("get_watermark", {"system": "crm", "record_type": "firm"}) == format_ts(T0)


def test_a_bound_name_in_a_query_comment_is_not_a_parameter() -> None:
    from include.sync.db import load_queries

    assert all("--" not in line.lstrip()[:2] for q in load_queries().values() for line in q.splitlines())
    # The query whose comment says "(unmapped_only set)" once said ":unmapped_only": SQLAlchemy bound it.
    assert "-- " not in load_queries()["select_picture_columns"]
