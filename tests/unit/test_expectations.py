"""The Great Expectations suite of the staged extracts, and ``validate`` quarantining what it (or the
plain-Python rules) finds, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from include.sync import expectations, validate
from include.sync.model import Record
from include.sync.record_types import FIRM
from include.sync.staging import load_staged, stage

RUN = "run-gx-1"
WHEN = pd.Timestamp("2024-03-01 12:00", tz="UTC")


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"record_name": "Acme", "modified": WHEN, "flagged": False, "fetched": True, "status": "Active"}
    df = pd.DataFrame([{**base, **row} for row in rows])
    df["name_length"] = df["record_name"].map(lambda v: len(v) if isinstance(v, str) else 0)
    return df


def _clean(n: int = 5) -> list[dict[str, Any]]:
    return [{"record_key": str(i), "record_name": f"Firm {i}"} for i in range(n)]


# --- the suite on a DataFrame ---------------------------------------------------------------------------------

def test_clean_frame_passes() -> None:
    result = expectations.check(FIRM, "ajera", _frame(_clean()))
    assert result.success is True
    assert result.failures == []
    assert result.failed_expectations == []
    assert result.evaluated == result.successful == 7  # keys x2, names x3, modified, status
    assert result.rows == 5


@pytest.mark.parametrize("row, reason", [
    ({"record_key": "9", "record_name": ""}, "the name is empty"),
    ({"record_key": "9", "record_name": "   "}, "the name is empty"),
    ({"record_key": "9", "record_name": None}, "the name is empty"),
    ({"record_key": "9", "record_name": "N" * 81}, "the name is 81 characters, over the limit of 80"),
    ({"record_key": "9", "modified": None}, "the modified date is missing"),
    ({"record_key": "9", "status": "Bogus"}, "the status 'Bogus' is not one of Active, Inactive"),
])
def test_each_bad_row_is_named_with_its_key_and_reason(row: dict[str, Any], reason: str) -> None:
    result = expectations.check(FIRM, "ajera", _frame([*_clean(), row]))
    assert result.success is False
    assert result.failures == [("9", reason)]
    assert result.evaluated == 7
    assert result.successful == 7 - len(result.failed_expectations)


def test_duplicate_key_names_the_key_once() -> None:
    result = expectations.check(FIRM, "ajera", _frame([*_clean(), {"record_key": "3", "record_name": "Other"}]))
    assert result.failures == [("3", "the key 3 is not unique (2 rows)")]
    assert result.failed_expectations == ["expect_column_values_to_be_unique(record_key)"]


def test_missing_key() -> None:
    result = expectations.check(FIRM, "ajera", _frame([*_clean(), {"record_key": None}, {"record_key": " "}]))
    assert result.failures == [(None, "the key is empty"), (" ", "the key is empty")]


def test_all_problems_in_one_frame() -> None:
    df = _frame([
        *_clean(),
        {"record_key": "dup"}, {"record_key": "dup"},
        {"record_key": "empty", "record_name": ""},
        {"record_key": "long", "record_name": "L" * 95},
        {"record_key": "undated", "modified": None},
        {"record_key": "status", "status": "Closed"},
        {"record_key": "swept", "modified": None, "fetched": False, "status": None},  # only swept: fine
    ])
    result = expectations.check(FIRM, "ajera", df)
    assert result.reasons_by_key() == {
        "dup": ["the key dup is not unique (2 rows)"],
        "empty": ["the name is empty"],
        "long": ["the name is 95 characters, over the limit of 80"],
        "undated": ["the modified date is missing"],
        "status": ["the status 'Closed' is not one of Active, Inactive"],
    }
    assert result.success is False
    assert set(result.failed_expectations) == {
        "expect_column_values_to_be_unique(record_key)", "expect_column_values_to_not_be_null(record_name)",
        "expect_column_values_to_be_between(name_length)", "expect_column_values_to_not_be_null(modified)",
        "expect_column_values_to_be_in_set(status)",
    }


def test_crm_limits_and_statuses() -> None:
    df = _frame([
        {"record_key": "ok", "record_name": "N" * 100, "status": "A"},
        {"record_key": "long", "record_name": "N" * 101, "status": "I"},
        {"record_key": "ajera-status", "status": "Active"},
    ])
    result = expectations.check(FIRM, "crm", df)
    assert result.failures == [("long", "the name is 101 characters, over the limit of 100"),
                               ("ajera-status", "the status 'Active' is not one of A, I")]


def test_frame_from_records_and_optional_columns() -> None:
    records = [
        FIRM.from_ajera({"ClientKey": 1, "Description": "Acme", "Status": "Active",
                         "LastModifiedDate": "2024-03-01 12:00:00.000 GMT+0000"}),
        FIRM.from_ajera({"ClientKey": 2, "Description": "No Date", "Status": ""}),  # fetched, undated
        FIRM.from_ajera({"ClientKey": 3, "Description": "Swept"}, full=False),
    ]
    df = expectations.frame(FIRM, records)
    assert list(df.columns) == list(expectations.COLUMNS)
    assert df["fetched"].tolist() == [True, True, False]
    assert df["status"].tolist() == ["Active", None, None]
    assert expectations.check(FIRM, "ajera", df).failures == [("2", "the modified date is missing")]
    # A caller may leave out the optional columns: every row then counts as fetched (so needs a date).
    bare = df[["record_key", "record_name", "modified", "flagged"]]
    assert expectations.check(FIRM, "ajera", bare.iloc[[0]]).success is True
    assert expectations.check(FIRM, "ajera", bare.iloc[[0, 2]]).failures == [("3", "the modified date is missing")]


def test_empty_frame() -> None:
    result = expectations.check(FIRM, "crm", expectations.frame(FIRM, []))
    assert result.success is True and result.failures == [] and result.rows == 0


# --- validate() against the sync database -------------------------------------------------------------------

def _ajera(key: int, name: str, status: str | None = "Active", dated: bool = True) -> Record:
    raw: dict[str, Any] = {"ClientKey": key, "Description": name, "SyncToCRM": True}
    if status is not None:
        raw["Status"] = status
    if dated:
        raw["LastModifiedDate"] = "2024-03-01 12:00:00.000 GMT+0000"
    return FIRM.from_ajera(raw)


def _crm(key: str, name: str, status: str = "A") -> Record:
    return FIRM.from_crm({"ClientID": key, "Name": name, "Status": status, "ModDate": "2024-03-01T12:00:00.000",
                          "AjeraSync": "Y"})


def _stage(db: Any) -> None:
    ajera = [
        _ajera(1, "Good One"),
        _ajera(2, "Good Two", status=None),
        _ajera(3, ""),  # empty name (both layers)
        _ajera(4, "A" * 81),  # over length (both layers)
        _ajera(5, "Undated", dated=False),  # missing modified date (both layers)
        _ajera(6, "Bad Status", status="Bogus"),  # the suite only
        _ajera(7, "", dated=False),  # two problems, each reported by both layers
        FIRM.from_ajera({"ClientKey": 8, "Description": "Swept Only"}, full=False),
    ]
    crm = [
        _crm("c1", "Good CRM"),
        _crm("c2", "C" * 101),  # over the CRM limit (the suite) and, flagged, over Ajera's (the plain check)
        _crm("c3", "Odd Status", status="X"),  # the suite only
    ]
    with db.begin() as tx:
        stage(tx, RUN, FIRM, "ajera", ajera)
        stage(tx, RUN, FIRM, "crm", crm)


EXPECTED = {
    ("ajera", "3"): "the name is empty",
    ("ajera", "4"): "the name is 81 characters, over the limit of 80",
    ("ajera", "5"): "the modified date is missing",
    ("ajera", "6"): "the status 'Bogus' is not one of Active, Inactive",
    ("ajera", "7"): "the name is empty; the modified date is missing",
    # Flagged Sync to Ajera: over Ajera's 80 (it could never be written there) and over the CRM's own 100.
    ("crm", "c2"): "the name is 101 characters, over Ajera's limit of 80; it cannot be written to Ajera (shorten it "
                   "in the CRM); the name is 101 characters, over the limit of 100",
    ("crm", "c3"): "the status 'X' is not one of A, I",
}


def test_validate_quarantines_bad_rows_once_and_leaves_good_rows(sync_db: Any) -> None:
    _stage(sync_db)
    before = {s: load_staged(sync_db, RUN, FIRM, s) for s in ("ajera", "crm")}

    first = {s: validate.validate(sync_db, FIRM, s, RUN) for s in ("ajera", "crm")}  # type: ignore[arg-type]

    assert (first["ajera"].checked, first["ajera"].quarantined, first["ajera"].newly_quarantined) == (8, 5, 5)
    assert (first["crm"].checked, first["crm"].quarantined, first["crm"].newly_quarantined) == (3, 2, 2)
    for result in first.values():
        assert result.gx_success is False
        assert result.gx_evaluated == 7
        assert "expect_column_values_to_be_in_set(status)" in result.gx_failed_expectations
        assert result.gx_errors == []

    quarantine = sync_db.rows("quarantine_for_run", {"run_id": RUN})
    assert {(q.system, q.record_key): q.reason for q in quarantine} == EXPECTED
    assert len(quarantine) == len(EXPECTED)  # one row per bad record
    assert all(q.record_type == "firm" for q in quarantine)

    errors = [r for r in sync_db.rows("log_for_run", {"run_id": RUN}) if r.action == "error"]
    assert sorted((r.ajera_key or r.crm_key, r.message) for r in errors) == sorted(
        (key, f"quarantined {system} record: {reason}") for (system, key), reason in EXPECTED.items())

    # Good rows are untouched and still staged for the plan; bad ones are held back.
    after = {s: load_staged(sync_db, RUN, FIRM, s) for s in ("ajera", "crm")}
    assert set(after["ajera"]) == {"1", "2", "8"}
    assert set(after["crm"]) == {"c1"}
    for system, records in after.items():
        assert records == {k: v for k, v in before[system].items() if k in records}
    assert set(load_staged(sync_db, RUN, FIRM, "ajera", include_quarantined=True)) == {str(k) for k in range(1, 9)}

    # A retried task: nothing quarantined or logged a second time, and the same answer.
    second = {s: validate.validate(sync_db, FIRM, s, RUN) for s in ("ajera", "crm")}  # type: ignore[arg-type]
    assert second["ajera"].newly_quarantined == second["crm"].newly_quarantined == 0
    assert (second["ajera"].quarantined, second["crm"].quarantined) == (5, 2)
    assert len(sync_db.rows("quarantine_for_run", {"run_id": RUN})) == len(EXPECTED)
    assert len([r for r in sync_db.rows("log_for_run", {"run_id": RUN}) if r.action == "error"]) == len(EXPECTED)


def test_validate_clean_staging(sync_db: Any) -> None:
    with sync_db.begin() as tx:
        stage(tx, RUN, FIRM, "ajera", [_ajera(1, "Good One"), _ajera(2, "Good Two")])
    result = validate.validate(sync_db, FIRM, "ajera", RUN)
    assert (result.checked, result.quarantined, result.newly_quarantined) == (2, 0, 0)
    assert result.gx_success is True and result.gx_evaluated == result.gx_successful == 7
    assert result.gx_failed_expectations == []
    assert sync_db.rows("quarantine_for_run", {"run_id": RUN}) == []
    assert set(load_staged(sync_db, RUN, FIRM, "ajera")) == {"1", "2"}


def test_find_problems_merges_reasons_per_key() -> None:
    when = datetime(2024, 3, 1, tzinfo=UTC)
    records = {
        "1": Record("ajera", "1", "", None, False, {}, {"Status": "Nope"}),
        "2": Record("ajera", "2", "Fine", when, False, {}, {"Status": "Active"}),
    }
    bad, suite = validate.find_problems(FIRM, "ajera", records)
    assert bad == {"1": ["the name is empty", "the modified date is missing",
                         "the status 'Nope' is not one of Active, Inactive"]}
    assert suite.success is False


@pytest.mark.parametrize("name", ["firm", "contact", "employee", "vendor", "project"])
def test_status_rules_derive_from_the_record_type_spec(name: str) -> None:
    """The suite's allowed statuses are the status field's vocabulary, per system, and each raw value a
    vocabulary lists reads back as its canonical status."""
    from include.sync import record_types
    from include.sync.expectations import status_rule
    from include.sync.record_types import Kind

    rt = record_types.get(name)
    status = next(f for f in rt.fields if f.kind is Kind.STATUS)
    assert status_rule(rt, "ajera") == (status.ajera, status.vocabulary.ajera_values)
    assert status_rule(rt, "crm") == (status.crm, status.vocabulary.crm_values)
    for canonical, codes in status.vocabulary.ajera.items():
        assert all(status.vocabulary.from_ajera(code) == canonical for code in codes)
    for canonical, code in status.vocabulary.crm.items():
        assert status.vocabulary.from_crm(code) == canonical
    if name == "project":
        assert status_rule(rt, "ajera")[1] == ("Active", "Preliminary", "Marketing", "Hold", "WorkHold", "BillingHold",
                                               "Closed")
    if name == "employee":
        assert status_rule(rt, "ajera")[1] == ("Active", "Inactive") and status_rule(rt, "crm")[1] == ("A", "I", "T")
