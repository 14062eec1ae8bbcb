"""ListTimesheets and GetTimesheets of the simulated Ajera API (version 2): the documented filters, the row
cap, and each sheet's total hours."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulators.ajera.envelope import answer, invalid
from simulators.ajera.fields import Record, full_name
from simulators.ajera.project_records import DAY_COLUMNS, TIMESHEET_FILTERS, TIMESHEET_ROW_CAP

if TYPE_CHECKING:
    from simulators.ajera.service import AjeraService


def hours(detail: Record) -> float:
    return sum(float(detail.get(column) or 0) for column in DAY_COLUMNS)


class Timesheets:
    """The timesheet part of ``ProjectStore``."""

    s: AjeraService
    t: dict[str, Any]

    if TYPE_CHECKING:  # from ProjectStore
        def people(self) -> dict[int, Record]: ...

    def list_timesheets(self, args: dict[str, Any]) -> Any:
        problems = self.s.filter_problems("ListTimesheets", TIMESHEET_FILTERS, args)
        if problems:
            raise invalid(problems)
        people = self.people()
        preds: list[Callable[[Record], bool]] = []
        if args.get("FilterByEmployee") is not None:
            preds.append(lambda t, v=set(args["FilterByEmployee"]): t["EmployeeKey"] in v)
        if args.get("FilterByCompany") is not None:
            preds.append(lambda t, v=set(args["FilterByCompany"]):
                         people.get(t["EmployeeKey"], {}).get("CompanyKey", 1) in v)
        if args.get("FilterByNameLike") is not None:
            preds.append(lambda t, n=args["FilterByNameLike"].casefold():  # noqa: B008 - bound once, when built
                         n in full_name(people.get(t["EmployeeKey"], {})).casefold())
        for arg, wanted in (("FilterBySubmitted", True), ("FilterByUnsubmitted", False)):
            if args.get(arg) is True:
                preds.append(lambda t, w=wanted: bool(t.get("Submitted")) == w)
        for arg in ("FilterByPaid", "FilterByRejected"):  # no payroll, no approvals in the simulator
            if args.get(arg) is True:
                preds.append(lambda t: False)
        if args.get("FilterByEarliestTimesheetDate"):
            preds.append(lambda t, d=args["FilterByEarliestTimesheetDate"]: t["TimesheetDate"] >= d)
        if args.get("FilterByLatestTimesheetDate"):
            preds.append(lambda t, d=args["FilterByLatestTimesheetDate"]: t["TimesheetDate"] <= d)
        rows = sorted((t for t in self.t["Timesheets"].all() if all(p(t) for p in preds)),
                      key=lambda t: (t["TimesheetDate"], t["TimesheetKey"]))[:TIMESHEET_ROW_CAP]
        rows, paging = self.s.page(rows, args)
        items = []
        for ts in rows:
            emp = people.get(ts["EmployeeKey"], {})
            items.append({
                "Timesheet Key": ts["TimesheetKey"], "Employee Key": ts["EmployeeKey"], "Employee": full_name(emp),
                "First Name": emp.get("FirstName", ""), "Last Name": emp.get("LastName", ""),
                "Timesheet Date": ts["TimesheetDate"],
                "Timesheet Total": round(sum(hours(d) for d in (ts.get("Project") or {}).get("Detail") or []), 2),
                "Submitted": bool(ts.get("Submitted")),
            })
        return answer([], {"Timesheets": items, **paging})

    def get_timesheets(self, args: dict[str, Any]) -> Any:
        keys = self.s.requested("RequestedTimesheets", args, "TimesheetKey")
        found, errors = [], []
        for key in keys:
            row = self.t["Timesheets"].get(key)
            if row is None:
                errors.append(f"Timesheet {key}: not found")
            else:
                found.append({k: row[k] for k in ("TimesheetKey", "TimesheetDate", "EmployeeKey", "Project")})
        return answer(errors, {"Timesheets": found})
