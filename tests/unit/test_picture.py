"""The picture of each system (``seen_record``): a run stages only what it read, and its later steps see that
over every record as the sync last saw it. A deletion sweep drops what it no longer listed; a re-read record is
validated again; a record not re-read keeps the quarantine its last check gave it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from include.sync import lock, sweeps, validate
from include.sync.db import SyncDatabase
from include.sync.extract import held_for_review
from include.sync.model import Record
from include.sync.plan_frames import stream_plan_side
from include.sync.record_types import FIRM
from include.sync.staging import load_staged, stage


def _crm(key: str, name: str, flagged: bool = False, whole: bool = True,
         modified: str = "2024-03-01T12:00:00.000") -> Record:
    raw = {"ClientID": key, "Name": name, "Status": "A", "ModDate": modified, "AjeraSync": "Y" if flagged else "N"}
    return FIRM.from_crm(raw, full=whole)


def _stage(db: SyncDatabase, run_id: str, records: list[Record], swept: bool) -> None:
    """A run's extract; the run before it has ended (its lock released)."""
    if (holder := lock.current(db)) is not None:
        lock.release(db, holder.holder)
    with db.begin() as tx:
        stage(tx, run_id, FIRM, "crm", records, swept=swept)


def _map(db: SyncDatabase, ajera_key: str, crm_key: str, crm_modified: str | None = None,
         crm_hash: str | None = None) -> None:
    db.execute("insert_mapping", {"record_type": "firm", "ajera_key": ajera_key, "crm_key": crm_key,
                                  "match_method": "name_exact", "ajera_modified": None, "crm_modified": crm_modified,
                                  "ajera_hash": None, "crm_hash": crm_hash, "ajera_fields": None,
                                  "crm_fields": None, "run_id": "r1", "now": "2024-03-01T12:00:00+00:00",
                                  "synced_at": None})


def _picture(db: SyncDatabase, run_id: str) -> dict[str, tuple[Any, ...]]:
    """The planner's columns of the whole CRM picture: its unmapped records, and its mapped ones by key."""
    mapped = [row.crm_key for row in db.rows("select_mapping_keys", {"record_type": FIRM.name})]
    side = stream_plan_side(db, run_id, FIRM, "crm", mapped)
    return {row.key: (row.name, row.fetched, row.problem) for row in side.itertuples()}


def test_a_run_between_sweeps_stages_only_what_it_read_and_sees_the_rest_as_last_seen(sync_db: SyncDatabase) -> None:
    _stage(sync_db, "r1", [_crm("a", "Alpha", whole=False), _crm("b", "Beta", whole=False),
                           _crm("c", "Gamma", whole=False)], swept=True)
    _stage(sync_db, "r2", [_crm("b", "Beta Renamed")], swept=False)

    assert set(load_staged(sync_db, "r2", FIRM, "crm")) == {"b"}  # what r2 read, and nothing else
    assert _picture(sync_db, "r2") == {"a": ("Alpha", False, False), "b": ("Beta Renamed", True, False),
                                       "c": ("Gamma", False, False)}
    by_keys = load_staged(sync_db, "r2", FIRM, "crm", keys=["a", "b", "zz"])
    assert (by_keys["a"].raw, by_keys["b"].name, "zz" in by_keys) == (None, "Beta Renamed", False)

    _stage(sync_db, "r3", [_crm("a", "Alpha", whole=False), _crm("b", "Beta Renamed", whole=False)], swept=True)
    assert set(_picture(sync_db, "r3")) == {"a", "b"}  # the sweep no longer listed c: gone


def test_a_bad_name_stays_set_aside_until_the_record_is_read_again_fixed(sync_db: SyncDatabase) -> None:
    _stage(sync_db, "r1", [_crm("a", "Alpha"), _crm("b", "")], swept=True)
    assert validate.validate(sync_db, FIRM, "crm", "r1").quarantined == 1
    _stage(sync_db, "r2", [], swept=False)
    second = validate.validate(sync_db, FIRM, "crm", "r2")  # b is checked again, and logged only once
    assert (second.checked, second.quarantined) == (1, 1)
    assert sync_db.rows("quarantine_for_run", {"run_id": "r2"}) == []
    assert _picture(sync_db, "r2")["b"][2] is True  # not read again: still set aside

    _stage(sync_db, "r3", [_crm("b", "Beta Fixed")], swept=False)
    assert validate.validate(sync_db, FIRM, "crm", "r3").quarantined == 0
    assert _picture(sync_db, "r3")["b"] == ("Beta Fixed", True, False)


def test_a_problem_of_the_whole_record_is_that_run_s_only(sync_db: SyncDatabase) -> None:
    # A bad status is seen only in a whole read. Left out of that run's plan, the record is not held back
    # for good: a later run that does not read it sees it as its list columns show it (it may be linked).
    bad = FIRM.from_crm({"ClientID": "b", "Name": "Beta", "Status": "X", "ModDate": "2024-03-01T12:00:00.000",
                         "AjeraSync": "N"})
    _stage(sync_db, "r1", [_crm("a", "Alpha"), bad], swept=True)
    assert validate.validate(sync_db, FIRM, "crm", "r1").quarantined == 1
    assert _picture(sync_db, "r1")["b"][2] is True
    _stage(sync_db, "r2", [], swept=False)
    assert validate.validate(sync_db, FIRM, "crm", "r2").quarantined == 0
    assert _picture(sync_db, "r2")["b"] == ("Beta", False, False)


def test_a_run_plans_from_what_it_staged_even_where_the_picture_lacks_it(sync_db: SyncDatabase) -> None:
    # A run whose extract ran on a version without the picture (or whose rows a later run replaced there):
    # what it staged is its picture, so nothing it staged looks gone.
    _stage(sync_db, "r1", [_crm("a", "Alpha"), _crm("b", "Beta")], swept=True)
    with sync_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM seen_record"))
    assert _picture(sync_db, "r1") == {"a": ("Alpha", True, False), "b": ("Beta", True, False)}
    assert set(load_staged(sync_db, "r1", FIRM, "crm", keys=["a", "b"])) == {"a", "b"}


def test_a_long_crm_name_is_checked_again_once_its_record_is_mapped(sync_db: SyncDatabase) -> None:
    # Unflagged and unmapped, a CRM name over Ajera's limit harms nothing; linked since, it would go to Ajera.
    long_name = "L" * (FIRM.name_max_length + 1)
    _stage(sync_db, "r1", [_crm("a", long_name, whole=False)], swept=True)
    assert validate.validate(sync_db, FIRM, "crm", "r1").quarantined == 0
    _map(sync_db, "1", "a")
    _stage(sync_db, "r2", [], swept=False)
    result = validate.validate(sync_db, FIRM, "crm", "r2")
    assert (result.checked, result.newly_quarantined) == (1, 1)
    reasons = [q.reason for q in sync_db.rows("quarantine_for_run", {"run_id": "r2"})]
    assert len(reasons) == 1 and "over Ajera's limit" in reasons[0]
    assert _picture(sync_db, "r2")["a"][2] is True


def test_a_list_row_the_picture_holds_as_it_is_is_not_staged_again(sync_db: SyncDatabase) -> None:
    # What the modified-date overlap lists again, unchanged, is left to the picture; anything that differs, a
    # whole read, a row with a problem, a record looked at again for a reason, or one set aside is staged.
    _stage(sync_db, "r1", [_crm("a", "Alpha", whole=False), _crm("b", "Beta", whole=False),
                           _crm("c", "Gamma", whole=False), _crm("q", "", whole=False),
                           _crm("w", "Waiting", whole=False)], swept=True)
    validate.validate(sync_db, FIRM, "crm", "r1")  # q: no name, set aside in the picture
    listed = [_crm("a", "Alpha", whole=False), _crm("b", "Beta", whole=False, modified="2024-03-02T08:00:00.000"),
              _crm("c", "Gamma"), _crm("q", "", whole=False), _crm("w", "Waiting", whole=False),
              _crm("n", "New", whole=False)]
    kept = sweeps.not_as_seen(sync_db, FIRM, "crm", listed, looked_at={"w"})
    assert [r.key for r in kept] == ["b", "c", "q", "w", "n"]


def test_a_crm_record_read_with_a_later_date_and_the_same_values_moves_its_mapping_date(
        sync_db: SyncDatabase) -> None:
    # The sync's own team and totals writes move a CRM project's date and nothing it carries: the mapping takes the
    # new date, so the next run's list row matches it. A changed value, or a bare row, leaves the mapping as it is.
    before = "2024-03-01T12:00:00.000000+00:00"
    same, edited = _crm("a", "Alpha", modified="2024-03-02T08:00:00.000"), _crm("b", "Beta Renamed")
    _map(sync_db, "1", "a", before, same.content_hash)
    _map(sync_db, "2", "b", before, _crm("b", "Beta").content_hash)
    _map(sync_db, "3", "c", before, _crm("c", "Gamma").content_hash)
    future = _crm("d", "Delta", modified="2031-01-01T00:00:00.000")  # a clock ahead: it would hide later edits
    _map(sync_db, "4", "d", before, future.content_hash)
    _stage(sync_db, "r2", [same, edited, _crm("c", "Gamma", whole=False, modified="2024-03-02T08:00:00.000"),
                           future], swept=False)
    sync_db.execute("refresh_crm_dates", {"run_id": "r2", "record_type": "firm",
                                          "latest": "2024-03-02T09:00:00.000000+00:00"})
    dates = {m.crm_key: m.crm_modified for m in sync_db.rows("select_mappings", {"record_type": "firm"})}
    assert dates == {"a": "2024-03-02T08:00:00.000000+00:00", "b": before, "c": before, "d": before}


def test_the_mappings_of_listed_keys_are_the_same_by_key_or_from_the_whole_table(
        sync_db: SyncDatabase, monkeypatch: Any) -> None:
    from include.sync import staging

    for n in range(6):
        _map(sync_db, f"A{n}", f"c{n}")
    keys = {"ajera": ["A1", "A4", "zz", "c2"], "crm": ["c0", "c5", "A3", "nope"]}
    by_key = {system: staging.mapped_among(sync_db, FIRM, system, ks) for system, ks in keys.items()}
    assert by_key == {"ajera": {"A1", "A4"}, "crm": {"c0", "c5"}}
    monkeypatch.setattr(staging, "BY_KEY_UP_TO", 1)  # as a sweep's many keys are looked up
    assert {system: staging.mapped_among(sync_db, FIRM, system, ks) for system, ks in keys.items()} == by_key


def test_a_run_between_sweeps_looks_again_at_flagged_unmapped_records_but_not_those_held_for_review(
        sync_db: SyncDatabase) -> None:
    _stage(sync_db, "r1", [_crm("a", "Alpha", flagged=True), _crm("b", "Beta", flagged=True),
                           _crm("c", "Gamma", flagged=True), _crm("d", "Delta")], swept=True)
    _map(sync_db, "A3", "c")
    sync_db.execute("upsert_suggestion", {"record_type": "firm", "ajera_key": "A2", "crm_key": "b",
                                          "ajera_name": "Beta Inc", "crm_name": "Beta", "score": 95.0,
                                          "method": "fuzzy", "run_id": "r1", "now": "2024-03-01T12:00:00+00:00"})
    held = held_for_review(sync_db, FIRM, "crm")
    assert held == {"b"}
    seen = sweeps.seen_again(sync_db, FIRM, "crm", keys=[], held=held)
    assert seen is not None and list(seen) == ["a"]  # b is held for review, c is mapped, d is not flagged
    assert set(sweeps.seen_again(sync_db, FIRM, "crm", keys=["b"], held=held) or {}) == {"a", "b"}  # asked for
