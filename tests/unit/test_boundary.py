"""Text sanitised at the boundary: control characters, wrong JSON types, strict flags, invisible names."""

from __future__ import annotations

import pytest

from include.sync import record_types
from include.sync.model import WrongType, clean_text, name_text, parse_flag, text, visible
from include.sync.validate import problems


@pytest.mark.parametrize("raw, clean", [
    ("Acme\x00 Corp", "Acme Corp"), ("Tab\tand\nnew line", "Tab and new line"), ("Bell\x07", "Bell"),
    ("C1\x85\x9f", "C1"), ("DEL\x7f", "DEL"), ("  Zoë Müller-Łukasz ", "Zoë Müller-Łukasz"),
])
def test_control_characters_are_removed(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_containers_are_never_stringified() -> None:
    with pytest.raises(WrongType):
        text(["Alpha", "Beta"])
    with pytest.raises(WrongType):
        text({"first": "x"})
    with pytest.raises(WrongType):
        name_text(42)
    assert text(42) == "42" and text(None) == ""


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (None, False), ("false", False), ("False", False), ("N", False), ("", False),
    ("Y", True), ("true", True), ("yes", True), (1, True), (0, False),
])
def test_flags_are_parsed_strictly(value: object, expected: bool) -> None:
    assert parse_flag(value) is expected


@pytest.mark.parametrize("value", ["maybe", 2, {"x": 1}, [True]])
def test_a_flag_that_is_no_flag_is_a_wrong_type(value: object) -> None:
    with pytest.raises(WrongType):
        parse_flag(value)


def test_invisible_names() -> None:
    assert not visible("\u200b\u200c\u200d\ufeff")
    assert not visible("\u2060 \u00a0")
    assert visible("O'Brien") and visible("Łukasz")


def test_a_record_of_wrong_types_is_a_problem_not_a_crash() -> None:
    rt = record_types.get("contact")
    record = rt.from_ajera({"ContactKey": 7, "FirstName": {"a": 1}, "LastName": 12, "SyncToCRM": "false",
                            "LastModifiedDate": "2026-01-01 00:00:00.000 GMT+0000"})
    assert record.problem and "name" in record.problem
    assert problems(rt, record)
    project = record_types.get("project").from_ajera({"ProjectKey": 3, "Description": "Library", "SyncToCRM": "false",
                                                      "CreateInCRM": "N"})
    assert project.flagged is False


def test_a_zero_width_name_is_rejected() -> None:
    rt = record_types.get("firm")
    record = rt.from_crm({"ClientID": "X1", "Name": "\u200b\u200b", "ModDate": "2026-01-01T00:00:00.000",
                          "AjeraSync": "Y"})
    assert any("visible" in p for p in problems(rt, record))


def test_a_list_as_a_name_is_quarantined_not_written() -> None:
    rt = record_types.get("firm")
    record = rt.from_ajera({"ClientKey": 3, "Description": ["Alpha", "Beta"], "SyncToCRM": True,
                            "LastModifiedDate": "2026-01-01 00:00:00.000 GMT+0000"})
    assert record.name == "" and record.problem and "array" in record.problem
