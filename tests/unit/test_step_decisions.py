"""The pure decisions inside the extract, apply and finish steps: what a run reads, what it writes, and how far
its watermarks move."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from include.sync.actions import Action, CreateInAjera, CreateInCrm, Link, Update
from include.sync.apply import still_to_write, to_read
from include.sync.apply_steps import Step
from include.sync.copies import Copy
from include.sync.db import format_ts, parse_ts
from include.sync.enums import ActionStatus
from include.sync.extract import changed_since, first_of_each_key, from_copies
from include.sync.finish import FAILED_FLOOR, Window, new_watermark, too_many_failed
from include.sync.model import Record, System
from include.sync.runs import RunOptions

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _crm(key: str, modified: datetime | None = T0) -> Record:
    return Record("crm", key, f"Firm {key}", modified, True)


def test_the_window_is_the_watermark_less_the_overlap_or_a_backfills_interval() -> None:
    options = RunOptions(overlap_minutes=10)
    assert changed_since(options, None) == (None, None)  # never synced: everything
    assert changed_since(options, T0) == (T0 - timedelta(minutes=10), None)
    backfill = RunOptions(window_start=T0 - timedelta(days=1), window_end=T0)
    assert changed_since(backfill, T0 + timedelta(days=5)) == (T0 - timedelta(days=1), T0)


def test_a_key_the_api_returned_twice_is_kept_once_and_the_repeat_named() -> None:
    first, again, other = _crm("7"), _crm("7", T0 + timedelta(hours=1)), _crm("8")
    unique, duplicates = first_of_each_key([first, other, again])
    assert unique == {"7": first, "8": other} and duplicates == [again]


def test_records_unchanged_since_their_copy_are_staged_from_it_unless_asked_to_be_read() -> None:
    swept = {"1": _crm("1"), "2": _crm("2"), "3": _crm("3"), "4": _crm("4", T0 + timedelta(minutes=1))}
    existing = {k: Copy(T0, {"key": k}) for k in ("1", "2", "4")}
    keys = ["1", "2", "3", "4"]
    copied = from_copies(keys, swept, existing, must_read={"2"}, live_window=True)
    assert set(copied) == {"1"}  # 2 asked for again, 3 has no copy, 4 changed since its copy
    assert from_copies(keys, swept, existing, must_read=set(), live_window=False) == {}  # backfill / first sync


def test_an_ajera_copy_is_current_when_the_sweep_saw_the_record_outside_the_window() -> None:
    unchanged = Record("ajera", "5", "Firm 5", None, True, unchanged=True)
    changed = Record("ajera", "6", "Firm 6", None, True)
    existing = {"5": Copy(None, {}), "6": Copy(None, {})}
    assert set(from_copies(["5", "6"], {"5": unchanged, "6": changed}, existing, set(), True)) == {"5"}


def test_a_handful_of_failures_never_fails_a_type_and_past_that_the_threshold_decides() -> None:
    assert not too_many_failed(FAILED_FLOOR, FAILED_FLOOR, 10.0)  # all of a tiny type, still a handful
    assert too_many_failed(FAILED_FLOOR + 1, 50, 10.0)
    assert not too_many_failed(FAILED_FLOOR + 1, 100, 10.0)
    assert not too_many_failed(0, 0, 0.0)


def test_the_watermark_stops_at_the_sweep_and_at_the_runs_limit() -> None:
    fetched, swept = format_ts(T0 + timedelta(minutes=5)), format_ts(T0)
    no_bounds = Window()
    assert new_watermark(fetched, swept, no_bounds) == swept  # a record changed after the sweep is read next run
    assert new_watermark(swept, fetched, no_bounds) == swept
    assert new_watermark(fetched, None, no_bounds) == fetched
    assert new_watermark(None, swept, no_bounds) is None  # nothing read, and no run start: the watermark stays
    future = format_ts(T0 + timedelta(days=400))
    assert new_watermark(future, None, Window(limit=T0)) == format_ts(T0)


def test_a_run_that_read_only_older_changes_moves_the_watermark_to_its_start_less_the_skew() -> None:
    """Left at the last change, the watermark would make every later run re-read the overlap before it for as
    long as nothing changes; the run listed everything up to its start, so the watermark moves there."""
    started, skew = T0, timedelta(minutes=2)
    window = Window(started - skew, started + skew)
    long_ago = format_ts(T0 - timedelta(days=3))
    assert new_watermark(long_ago, None, window) == format_ts(started - skew)
    assert new_watermark(None, None, window) == format_ts(started - skew)  # nothing changed at all
    during = format_ts(T0 + timedelta(seconds=30))  # changed once the run had started: read as it is
    assert new_watermark(during, None, window) == during


@given(st.lists(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
                min_size=1, max_size=3),
       st.datetimes(min_value=datetime(2020, 1, 2), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=1)))
def test_the_watermark_never_passes_what_was_read_nor_the_limit_unless_older_than_the_floor(
        dates: list[datetime], started: datetime, skew: timedelta) -> None:
    fetched = format_ts(max(dates))
    swept = format_ts(min(dates))
    floor, limit = started - skew, started + skew
    moved = parse_ts(new_watermark(fetched, swept, Window(floor, limit)))
    # The later of the floor and what the sweep saw, never past the limit: whatever changed once the run had
    # started (within the clock skew) is at or after it, so the next run's window reads it.
    assert moved == min(limit, max(floor, min(dates)))


# --- apply: what a batch reads before it writes, and what it still has to write ------------------------------

def _step(seq: int, action: Action) -> Step:
    return Step(seq, action, action.ajera_key, action.crm_key, ActionStatus.PENDING)


def _whole(system: System, key: str, **fields: object) -> Record:
    return Record(system, key, key, T0, True, dict(fields), raw={"key": key})


def test_a_batch_reads_what_extract_did_not_stage_whole_and_everything_on_a_retry() -> None:
    steps = [_step(0, Update("u", "A1", "C1", to_ajera={"phone": "1"})),
             _step(1, Update("v", "A2", "C2", to_crm={"phone": "2"})),
             _step(2, Link("l", "A3", "C3")),
             _step(3, CreateInCrm("c", "A4", None, {"name": "c"})),
             _step(4, CreateInAjera("d", None, "C5", {"name": "d"}))]
    staged_a = {"A1": _whole("ajera", "A1"), "A2": replace(_whole("ajera", "A2"), raw=None),
                "A4": _whole("ajera", "A4")}
    staged_c = {"C3": _whole("crm", "C3")}
    # A2 staged bare, A3 not staged: read; A4 and C5 are created, not read; only a link's CRM record is read.
    assert to_read(steps, staged_a, staged_c, retry=False) == (["A2", "A3"], [])
    assert to_read(steps, staged_a, {}, retry=False) == (["A2", "A3"], ["C3"])
    assert to_read(steps, staged_a, staged_c, retry=True) == (["A1", "A2", "A3"], ["C3"])


def test_only_values_the_record_does_not_hold_yet_are_written() -> None:
    record = _whole("ajera", "A1", phone="1", city="Oslo")
    assert still_to_write({"phone": "1", "city": "Bergen"}, record) == {"city": "Bergen"}
    assert still_to_write({"phone": "1"}, record) == {}  # a retry after the write went through: nothing to send
    assert still_to_write({"phone": "1"}, replace(record, raw=None)) == {"phone": "1"}  # not read whole: all
    assert still_to_write({"phone": "1"}, None) == {"phone": "1"}
