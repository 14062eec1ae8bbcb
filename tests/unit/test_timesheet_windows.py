"""How the Ajera client walks ListTimesheets (no project filter, a silent 500-row cap): windows sized to come
back near the cap, so the calls stay near the floor of ceil(rows / 500), and nothing is lost to the cap."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from include.clients.ajera import AjeraClient
from include.clients.ajera_timesheets import TIMESHEET_ROW_CAP

MONDAY = date(2024, 1, 1)


class ListOnly(AjeraClient):
    """The client with ListTimesheets answered from a list in memory, capped as Ajera caps it."""

    def __init__(self, sheets: list[tuple[int, date, int]]) -> None:
        super().__init__("http://unused", "id", "user", "password", rate_limit_rps=None)
        self.sheets = sheets  # (key, week start, employee)
        self.windows: list[tuple[date, date, int]] = []

    def call(self, method: str, **arguments: Any) -> dict[str, Any]:
        assert method == "ListTimesheets"
        first = date.fromisoformat(arguments["FilterByEarliestTimesheetDate"])
        last = date.fromisoformat(arguments["FilterByLatestTimesheetDate"])
        employees = set(arguments.get("FilterByEmployee") or [])
        rows = [{"Timesheet Key": key, "Employee Key": who} for key, day, who in self.sheets
                if first <= day <= last and (not employees or who in employees)]
        self.windows.append((first, last, len(rows)))
        return {"Timesheets": rows[:TIMESHEET_ROW_CAP]}

    def list(self, entity: str, **filters: Any) -> list[dict[str, Any]]:
        assert entity == "Employees"
        return [{"EmployeeKey": who} for who in sorted({who for _, _, who in self.sheets})]


def weekly(employees: int, weeks: int, start: date = MONDAY) -> list[tuple[int, date, int]]:
    return [(w * employees + e + 1, start + timedelta(weeks=w), e + 1) for w in range(weeks) for e in range(employees)]


def test_a_steady_firm_costs_few_calls_over_the_floor() -> None:
    sheets = weekly(employees=120, weeks=104)  # two years of a 120-person firm: 12,480 sheets
    client = ListOnly(sheets)
    rows = client.list_timesheets(MONDAY, MONDAY + timedelta(weeks=104) - timedelta(days=1))
    assert sorted(r["Timesheet Key"] for r in rows) == list(range(1, len(sheets) + 1))
    floor = math.ceil(len(sheets) / TIMESHEET_ROW_CAP)
    assert len(client.windows) <= math.ceil(floor * 1.15) + 1, client.windows  # a week a day would be 104


def test_a_full_window_is_asked_again_smaller_and_a_full_week_is_split_by_employee() -> None:
    sheets = weekly(employees=40, weeks=8) + [(10_000 + e, MONDAY + timedelta(weeks=8), 900 + e) for e in range(700)]
    client = ListOnly(sheets)
    rows = client.list_timesheets(MONDAY, MONDAY + timedelta(weeks=9) - timedelta(days=1))
    assert len(rows) == len(sheets)
    assert any(count >= TIMESHEET_ROW_CAP for _, _, count in client.windows)  # it met the cap and recovered


def test_empty_history_is_crossed_in_growing_windows() -> None:
    sheets = weekly(employees=10, weeks=2, start=MONDAY + timedelta(weeks=300))
    client = ListOnly(sheets)
    rows = client.list_timesheets(MONDAY, MONDAY + timedelta(weeks=302))
    assert len(rows) == 20 and len(client.windows) <= 6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 400)), min_size=0, max_size=3000))
def test_no_sheet_is_lost_to_the_cap(drawn: list[tuple[int, int]]) -> None:
    sheets = [(n, MONDAY + timedelta(weeks=week), who) for n, (week, who) in enumerate(drawn)]
    sheets = list({(day, who): (n, day, who) for n, day, who in sheets}.values())  # one sheet per employee-week
    client = ListOnly(sheets)
    rows = client.list_timesheets(MONDAY, MONDAY + timedelta(weeks=61))
    assert sorted(r["Timesheet Key"] for r in rows) == sorted(n for n, _, _ in sheets)
