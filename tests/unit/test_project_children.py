"""The pure parts of the project children: totals -> CRM fields, timesheet -> hours, resources -> vendors,
the batch cap's message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from include.sync.batch_cap import backlog_message
from include.sync.project_children.accounting import crm_accounting
from include.sync.project_children.consultants import vendor_keys
from include.sync.project_children.team import TimeRow, time_rows

TOTALS = {"Billed": 1250.0, "Spent": 1000.0, "Cost": 1000.0, "Billed Labor": 500.0, "Spent Labor": 400.0,
          "Cost Labor": 400.0, "Written off": 0.0, "Receipts": 1000.0, "WIP": 100.0, "Receivable Balance": 250.0,
          "Hours Worked": 4.7, "Resource Hours": 40.0, "LaborContractAmount": 9000.0, "ActualStartDate": "2024-02-05",
          "ActualCompletionDate": None}


def test_totals_split_into_labor_and_the_rest() -> None:
    fields = crm_accounting(TOTALS)
    assert (fields["AjeraSpentLabor"], fields["AjeraSpentReimbursable"]) == (400.0, 600.0)
    assert (fields["AjeraBilledLabor"], fields["AjeraBilledReimbursable"]) == (500.0, 750.0)
    # WIP follows cost's labor share (40%), receipts billed's (40%).
    assert (fields["AjeraWIPLabor"], fields["AjeraWIPReimbursable"]) == (40.0, 60.0)
    assert (fields["AjeraReceivedLabor"], fields["AjeraReceivedReimbursable"]) == (400.0, 600.0)
    assert fields["CustAjeraReceivable"] == 250.0 and fields["CustAjeraHoursWorked"] == 4.7
    assert fields["FeeDirLab"] == 9000.0 and fields["CustAjeraActualStartDate"] == "2024-02-05"
    assert fields["ActCompletionDate"] is None
    assert not any(name.endswith("Consultant") and name.startswith("Ajera") for name in fields)


money = st.floats(min_value=0, max_value=1e7, allow_nan=False).map(lambda v: round(v, 2))


@given(total=money, labor=money, whole=money)
def test_each_pair_adds_up_to_ajera_figure(total: float, labor: float, whole: float) -> None:
    labor = min(labor, total)
    fields = crm_accounting({"Cost": total, "Cost Labor": labor, "WIP": whole})
    assert abs(fields["AjeraCostLabor"] + fields["AjeraCostReimbursable"] - total) < 0.011
    assert abs(fields["AjeraWIPLabor"] + fields["AjeraWIPReimbursable"] - whole) < 0.011


def test_timesheet_hours_and_first_day_per_project() -> None:
    sheet = {"TimesheetKey": 7, "TimesheetDate": "2026-03-02", "EmployeeKey": 3, "Project": {"Detail": [
        {"Project Key": 10, **{f"D{d} Regular": 0.0 for d in range(1, 8)},
         **{f"D{d} Overtime": 0.0 for d in range(1, 8)},
         "D3 Regular": 8.0, "D4 Overtime": 1.5},
        {"Project Key": 10, "D2 Regular": 2.0},
        {"Project Key": 11, "D1 Regular": 0.0},
    ]}}
    assert time_rows(sheet) == [TimeRow("7", "10", "3", 11.5, "2026-03-03")]


def test_vendors_on_nested_phases_once_each() -> None:
    project = {"InvoiceGroups": [{"Phases": [
        {"Resources": [{"VendorKey": 5, "VendorTypeKey": 2}, {"EmployeeKey": 2}],
         "Phases": [{"Resources": [{"VendorKey": 9, "VendorTypeKey": None}], "Phases": []}]},
        {"Resources": [{"VendorKey": 5, "VendorTypeKey": 2}], "Phases": []}]}]}
    assert vendor_keys(project) == {"5": 2, "9": None}
    assert list(vendor_keys(project)) == ["5", "9"]


def test_backlog_message_is_deltek_s() -> None:
    assert backlog_message(500, 3) == ("The sync contained more than 500 projects. Please re-run the manual or "
                                       "auto sync 3 more times to sync all remaining projects.")
