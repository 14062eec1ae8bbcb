"""Walking ``ListTimesheets``: it has no project filter and stops at 500 rows without saying so, so the client
asks for windows of whole weeks (timesheets are dated by the Monday their week starts), sized from the sheets
per week seen so far to come back near the cap but under it; a window that comes back full was cut short and
is asked again smaller; a single full week is split into days, then into groups of employees."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from include.clients.errors import AjeraError
from include.clients.http import Rows, chunks

TIMESHEET_ROW_CAP = 500  # ListTimesheets silently stops at 500 rows
# A timesheet window is sized for 4% more sheets a week than the last one held: near the cap, with room for
# the week-to-week spread (a window that tips over the cap costs a call of its own and is asked again at 70%).
TIMESHEET_HEADROOM = 1.04
TIMESHEET_SHRINK = 0.7
TIMESHEET_FIRST_WEEKS = 4  # the first window, before the density of sheets is known


class TimesheetWalk:
    """``AjeraClient.list_timesheets``; the client provides ``call`` and ``list`` (declared here for the type
    checker only)."""

    if TYPE_CHECKING:
        def call(self, method: str, **arguments: Any) -> dict[str, Any]: ...

        def list(self, entity: str, **filters: Any) -> Rows: ...

    def list_timesheets(self, earliest: date, latest: date, **filters: Any) -> Rows:
        """Timesheet list rows dated ``earliest``..``latest`` (inclusive). ListTimesheets has no project
        filter and stops at 500 rows without saying so, so the range is walked in windows of whole weeks
        sized from the sheets per week seen so far, to come back near the cap but under it (each call as
        full as it can be: Ajera calls are the scarce resource). A window that comes back full was cut short
        and is asked again smaller; a single week that is full is split (into days, then employees)."""
        rows: dict[Any, dict[str, Any]] = {}
        day, weeks = earliest, TIMESHEET_FIRST_WEEKS
        while day <= latest:
            end = min(day + timedelta(weeks=weeks) - timedelta(days=1), latest)
            got = self.call("ListTimesheets", **self._window_args(day, end, filters)).get("Timesheets") or []
            span_weeks = max(1, ((end - day).days + 1) // 7)
            if len(got) >= TIMESHEET_ROW_CAP and span_weeks > 1:  # cut short, by how much is unknown
                weeks = max(1, int(span_weeks * TIMESHEET_SHRINK))
                continue
            if len(got) >= TIMESHEET_ROW_CAP:
                got = self._timesheet_window(day, end, filters, known_full=True)
            for row in got:
                rows[row.get("Timesheet Key")] = row
            # At most twice as long as the last: a firm's early weeks say little about its later ones.
            per_week = len(got) / span_weeks
            weeks = min(_weeks_that_fit(per_week), 2 * span_weeks) if per_week else 4 * span_weeks
            day = end + timedelta(days=1)
        return list(rows.values())

    @staticmethod
    def _window_args(first: date, last: date, filters: dict[str, Any]) -> dict[str, Any]:
        return {**filters, "FilterByEarliestTimesheetDate": first.isoformat(),
                "FilterByLatestTimesheetDate": last.isoformat()}

    def _timesheet_window(self, first: date, last: date, filters: dict[str, Any], known_full: bool = False) -> Rows:
        if not known_full:
            rows = self.call("ListTimesheets", **self._window_args(first, last, filters)).get("Timesheets") or []
            if len(rows) < TIMESHEET_ROW_CAP:
                return rows
        if first < last:
            middle = first + (last - first) // 2
            return self._timesheet_window(first, middle, filters) + \
                self._timesheet_window(middle + timedelta(days=1), last, filters)
        if "FilterByEmployee" in filters and len(filters["FilterByEmployee"]) <= 1:
            raise AjeraError("ListTimesheets", 0, f"more than {TIMESHEET_ROW_CAP} timesheets for one employee "
                             f"on {first}", [])
        employees = filters.get("FilterByEmployee") or [e["EmployeeKey"] for e in self.list("Employees")]
        out: list[dict[str, Any]] = []
        for group in chunks(list(employees), max(1, len(employees) // 2) if "FilterByEmployee" in filters else 50):
            out.extend(self._timesheet_window(first, last, {**filters, "FilterByEmployee": list(group)}))
        return out


def _weeks_that_fit(sheets_per_week: float) -> int:
    return max(1, int(TIMESHEET_ROW_CAP / (sheets_per_week * TIMESHEET_HEADROOM)))


