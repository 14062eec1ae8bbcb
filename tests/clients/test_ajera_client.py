"""AjeraClient against the running Ajera simulator."""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

import pytest

from include.clients.ajera import AjeraClient, UpdateResult
from include.clients.errors import AjeraError, AmbiguousWriteError, AuthenticationError, TransientApiError
from include.clients.http import RetryPolicy
from include.clients.ratelimit import RateLimiter
from simulators.harness import AJERA_API_ID, AJERA_LOGIN, PASSWORD, USERNAME

OLD = "2020-01-01 00:00:00.000 GMT+0000"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.5)


def make_seed() -> dict[str, list[dict[str, Any]]]:
    """A tenant in the real shapes (fields left out get the simulator's defaults)."""
    clients = [{"ClientKey": k, "Description": f"Firm {k:03d}", "ClientTypeKey": 1 + k % 3, "LastModifiedDate": OLD}
               for k in range(1, 121)]
    employees = [{"EmployeeKey": k, "FirstName": f"E{k}", "LastName": "Doe", "LastModifiedDate": OLD}
                 for k in range(1, 121)]
    projects = [{"ProjectKey": k, "ID": f"{k:05d}", "Description": f"Project {k}", "Status": "Active",
                 "SyncToCRM": k % 2 == 0, "ProjectManager": {"EmployeeKey": 1}, "BillingType": "TimeAndExpense",
                 "RateTableKey": 1, "ExpenseCostBudget": 1000.0, "LastModifiedDate": OLD} for k in range(1, 31)]
    groups = [{"InvoiceGroupKey": k, "ProjectKey": k, "ClientKey": 1, "Description": "Main", "InvoiceFormatKey": 1}
              for k in range(1, 31)]
    phases = [{"PhaseKey": 1000 + k * 10 + n, "ProjectKey": k, "InvoiceGroupKey": k, "ParentKey": k, "ID": f"0{n}",
               "Description": f"Phase {n}"} for k in range(1, 31) for n in (1, 2)]
    resources = [{"ResourceKey": k, "PhaseKey": 1000 + k * 10 + 1, "EmployeeKey": 1, "Description": "PM",
                  "Units": 4.0} for k in range(1, 31)]
    templates = [{"ProjectTemplateKey": 1, "ID": "T1", "Description": "Std", "BillingType": "TimeAndExpense",
                  "RateTableKey": 1, "InvoiceGroups": [{"Description": "Basic", "InvoiceFormatKey": 1,
                                                        "Phases": [{"ID": "01", "Description": "Design"}]}]}]
    # 3 timesheets a day on weekdays over two months: more than ListTimesheets' 500 rows in a month window.
    sheets = [{"TimesheetKey": n + 1, "TimesheetDate": f"2020-{1 + n // 300:02d}-{1 + (n % 300) // 12:02d}",
               "EmployeeKey": 1 + n % 120,
               "Project": {"Detail": [{"Project Key": 1 + n % 30, "Phase Key": 1000 + (1 + n % 30) * 10 + 1,
                                       "Activity Key": 1, "D1 Regular": 8.0}]}} for n in range(600)]
    return {"Clients": clients, "Contacts": [], "Employees": employees, "Vendors": [], "Projects": projects,
            "InvoiceGroups": groups, "Phases": phases, "Resources": resources, "ProjectTemplates": templates,
            "Timesheets": sheets}


SEEDED = {"seed": make_seed()}
# The client is run against both answers a tenant may give on success: 200 (the docs) and 0 (live tenants).
BOTH_CODES = [{"seed": make_seed(), "settings": {"success_code": code}} for code in (200, 0)]


def client_for(sim, **overrides: Any) -> AjeraClient:
    options: dict[str, Any] = {"timeout": (2.0, 2.0), "retry": FAST_RETRY, "rate_limit_rps": None}
    options.update(overrides)
    return AjeraClient(sim.url, *AJERA_LOGIN, **options)


@pytest.mark.parametrize("ajera_sim", BOTH_CODES, indirect=True)
def test_list_pages_inside(ajera_sim) -> None:
    client = client_for(ajera_sim, page_size=50)
    ajera_sim.reset_stats()
    clients = client.list("Clients")
    assert [c["ClientKey"] for c in clients] == list(range(1, 121))
    assert ajera_sim.stats()["ListClients"] == 3
    assert client.calls == 4  # one login plus three pages
    typed = client.list("Clients", FilterByClientType=[1], FilterByNameLike="firm 0")
    assert [c["ClientKey"] for c in typed] == [k for k in range(3, 100, 3)]
    assert [p["ProjectKey"] for p in client.list("Projects", FilterBySyncToCRM=[True])] == list(range(2, 31, 2))
    client.close()


@pytest.mark.parametrize("ajera_sim", BOTH_CODES, indirect=True)
def test_get_chunks_and_merges(ajera_sim) -> None:
    client = client_for(ajera_sim)
    ajera_sim.reset_stats()
    employees = client.get("Employees", [*range(1, 121), 999])
    assert [e["EmployeeKey"] for e in employees] == list(range(1, 121))
    assert ajera_sim.stats()["GetEmployees"] == 3

    projects = client.get("Projects", range(1, 31))
    assert len(projects) == 30 and ajera_sim.stats()["GetProjects"] == 2
    first = projects[0]
    # The v2 bundle, each project with its own invoice groups, phases and resources attached.
    assert [p["PhaseKey"] for p in first["Phases"]] == [1011, 1012]
    assert first["InvoiceGroups"][0]["InvoiceGroupKey"] == 1 and len(first["Resources"]) == 1
    assert first["ProjectManager"]["FirstName"] == "E1"
    assert all(r["ProjectKey"] == p["ProjectKey"] for p in projects for r in p["Phases"])
    assert all(r["PhaseKey"] in {ph["PhaseKey"] for ph in p["Phases"]} for p in projects for r in p["Resources"])


@pytest.mark.parametrize("ajera_sim", BOTH_CODES, indirect=True)
def test_update_and_create(ajera_sim) -> None:
    client = client_for(ajera_sim)
    base = client.get("Clients", [5, 6])
    result = client.update(
        "Clients",
        [{**base[0], "PrimaryPhoneNumber": "555"}, {**base[1]}, {"ClientKey": -1, "Description": "Brand New"}],
        base,
    )
    assert isinstance(result, UpdateResult)
    assert [(r["OriginalClientKey"], r["ClientKey"]) for r in result.saved] == [(5, 5), (-1, 121)]
    assert result.errors == [{"ErrorID": -1, "ErrorMessage": "Client 6: No changes", "Key": 6}]

    stale = client.update("Clients", [{**base[0], "PrimaryPhoneNumber": "556"}], [base[0]])
    assert stale.saved == [] and stale.errors[0]["Key"] == 5 and "modified since" in stale.errors[0]["ErrorMessage"]

    with pytest.raises(AjeraError) as caught:
        client.update("Clients", [{**base[1], "Description": ""}], [base[1]], single_transaction=True)
    assert caught.value.response_code == 400
    assert "Client 6: Description is required" in str(caught.value)

    projects = client.get("Projects", [1, 2])
    ajera_sim.reset_stats()
    edited = {**projects[0], "Status": "Hold"}
    # v2 UpdateProjects: the changed fields only, and the whole bundle Get returned as the baseline.
    saved = client.update("Projects", [edited], projects)
    assert saved.errors == [] and saved.saved[0]["Status"] == "Hold" and saved.saved[0]["Phases"]
    assert ajera_sim.stats()["UpdateProjects"] == 1

    created = client.create_project(
        {"Description": "Annex", "BillingType": "FixedFee", "RateTableKey": 1},
        [{"Description": "Main", "ClientKey": 2, "InvoiceFormatKey": 1}],
        [{"ID": "01", "Description": "Design"}],
    )
    assert created["ProjectKey"] == 31 and created["ID"] == "00031" and created["InvoiceGroups"][0]["ClientKey"] == 2
    assert client.get("Projects", [31])[0]["Phases"][0]["Description"] == "Design"
    assert client.list_project_templates() == [{"ProjectTemplateKey": 1, "ID": "T1", "Description": "Std"}]
    assert client.get_project_templates([1])[0]["InvoiceGroups"][0]["Phases"][0]["ID"] == "01"
    totals = client.get_project_totals([1, 2])  # one call per project: the method takes one key
    assert [t["ProjectKey"] for t in totals] == [1, 2] and totals[0]["Resource Hours"] == 4.0
    resources = client.get_projects_with_resources([1])[0]["InvoiceGroups"][0]["Phases"][0]["Resources"]
    assert [r["EmployeeKey"] for r in resources] == [1]


@pytest.mark.parametrize("ajera_sim", BOTH_CODES, indirect=True)
def test_failure_is_errors_or_a_code_outside_0_and_200(ajera_sim) -> None:
    """Whichever code the tenant gives on success, a refusal is an AjeraError and a success is not."""
    client = client_for(ajera_sim)
    assert client.call("ListClients", FilterByNameEquals="Firm 001")["Clients"] == [{"ClientKey": 1,
                                                                                    "Description": "Firm 001"}]
    with pytest.raises(AjeraError) as caught:
        client.call("GetClients", RequestedClients=[1, 999])  # Errors with a success code: a failed call
    assert "Client 999: not found" in str(caught.value)
    assert [c["ClientKey"] for c in client.get("Clients", [1, 999])] == [1]  # get reports the rest
    with pytest.raises(AjeraError):
        client.call("ListClients", FilterBySyncToCRM=[True])


def test_failure_rule() -> None:
    from include.clients.ajera import failed

    assert not failed({"ResponseCode": 200, "Errors": []}) and not failed({"ResponseCode": 0, "Errors": []})
    assert failed({"ResponseCode": 0, "Errors": [{"ErrorID": -1, "ErrorMessage": "x"}]})
    assert failed({"ResponseCode": -100, "Errors": []}) and failed({"ResponseCode": 400, "Errors": []})


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_timesheets_walk_windows_sized_to_the_cap(ajera_sim) -> None:
    client = client_for(ajera_sim)
    ajera_sim.reset_stats()
    rows = client.list_timesheets(date(2020, 1, 1), date(2020, 2, 29))
    assert sorted(r["Timesheet Key"] for r in rows) == list(range(1, 601))
    assert ajera_sim.stats()["ListTimesheets"] <= 3  # 600 rows: two windows under the cap, not one a week
    sheets = client.get_timesheets([r["Timesheet Key"] for r in rows[:3]])
    assert [s["TimesheetKey"] for s in sheets] == [r["Timesheet Key"] for r in rows[:3]]
    assert sheets[0]["Project"]["Detail"][0]["D1 Regular"] == 8.0


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_retries_injected_503s(ajera_sim) -> None:
    client = client_for(ajera_sim)
    client.list("Employees")  # log in first, so the faults hit the call itself
    ajera_sim.reset_stats()
    before = client.calls
    ajera_sim.faults(fail_next=2)
    assert len(client.list("Employees")) == 120
    stats = ajera_sim.stats()
    assert stats["_injected_5xx"] == 2 and stats["ListEmployees"] == 1
    assert client.calls - before == 3

    ajera_sim.faults(fail_next=10)
    with pytest.raises(TransientApiError) as caught:
        client.list("Employees")
    assert "4 tries" in str(caught.value)
    assert ajera_sim.stats()["_injected_5xx"] == 2 + FAST_RETRY.attempts
    ajera_sim.faults(fail_next=0)


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_reauthenticates_after_expired_sessions(ajera_sim) -> None:
    client = client_for(ajera_sim)
    client.list("Clients")
    client.list("Projects")
    ajera_sim.reset_stats()
    assert ajera_sim.expire_sessions() == 2  # one v1 and one v2 session
    assert len(client.list("Clients")) == 120
    assert len(client.get("Projects", [1, 2])) == 2
    stats = ajera_sim.stats()
    assert stats["CreateAPISession"] == 2 and stats["ListClients"] == 2 and stats["GetProjects"] == 2


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_rate_limit_stays_under_throttle(ajera_sim) -> None:
    ajera_sim.faults(throttle_rps=9)
    client = client_for(ajera_sim, rate_limit_rps=8.0)
    ajera_sim.reset_stats()
    started = time.monotonic()
    for n in range(30):
        client.get("Clients", [n + 1])
    elapsed = time.monotonic() - started
    stats = ajera_sim.stats()
    assert stats.get("_throttled", 0) <= 1 and stats["GetClients"] == 30
    assert elapsed >= 30 / 8.0 - 0.2


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_honours_retry_after_on_429(ajera_sim) -> None:
    ajera_sim.faults(throttle_rps=4)
    client = client_for(ajera_sim, rate_limit_rps=None, retry=RetryPolicy(attempts=6, base_delay=0.01))
    for n in range(10):
        assert client.get("Clients", [n + 1])[0]["ClientKey"] == n + 1
    assert ajera_sim.stats()["_throttled"] >= 1


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_read_timeouts(ajera_sim) -> None:
    client = client_for(ajera_sim, timeout=(2.0, 0.3))
    client.list("Clients")
    ajera_sim.faults(hang_next=1, hang_seconds=0.6)
    assert len(client.get("Clients", [1, 2])) == 2  # reads are retried
    assert ajera_sim.stats()["_injected_hang"] == 1

    ajera_sim.faults(hang_next=1)
    with pytest.raises(AmbiguousWriteError):
        client.update("Clients", [{"ClientKey": -1, "Description": "Maybe"}], [])

    base = client.get("Clients", [7])
    ajera_sim.faults(hang_next=1)
    # A pure update is safe to replay: the hung try did the work (only its answer was late), so the
    # replay is refused as stale, and the change is there exactly once.
    result = client.update("Clients", [{**base[0], "PrimaryPhoneNumber": "1"}], base)
    assert result.saved == [] and "modified since it was read" in result.errors[0]["ErrorMessage"]
    assert client.get("Clients", [7])[0]["PrimaryPhoneNumber"] == "1"
    time.sleep(0.4)  # let the hung request finish before the server stops


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_ajera_errors_carry_messages(ajera_sim) -> None:
    client = client_for(ajera_sim)
    with pytest.raises(AjeraError) as caught:
        client.call("GetEmployees", RequestedEmployees=list(range(1, 52)))
    assert caught.value.response_code == -100 and caught.value.method == "GetEmployees"
    with pytest.raises(AjeraError) as caught:
        client.list("Clients", FilterByStatus=["Nope"])
    error = caught.value
    assert error.response_code == 400 and "One or more properties contain invalid data" in str(error)
    assert error.errors[0]["ErrorID"] < 0
    assert "FilterByStatus" in error.errors[0]["ErrorMessage"] and "FilterByStatus" in str(error)


def test_limiter_spacing() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert slept == pytest.approx([0.25, 0.25, 0.25, 0.25])


def test_secrets_stay_out_of_repr_errors_and_logs(ajera_sim, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    good = client_for(ajera_sim)
    good.list("Clients")
    token = next(iter(good._tokens.values()))
    assert PASSWORD not in repr(good) and token not in repr(good)
    ajera_sim.faults(fail_next=10)
    with pytest.raises(TransientApiError) as transient:
        good.list("Clients")
    ajera_sim.faults(fail_next=0)
    bad = AjeraClient(ajera_sim.url, AJERA_API_ID, USERNAME, "hunter2-secret", timeout=2, retry=FAST_RETRY,
                      rate_limit_rps=None)
    with pytest.raises(AuthenticationError) as refused:
        bad.list("Clients")
    assert "Unable to authenticate user" in str(refused.value)
    for text in (str(transient.value), str(refused.value), repr(bad), caplog.text):
        assert "hunter2-secret" not in text and PASSWORD not in text and token not in text
    good.close()
    assert ajera_sim.stats()["EndAPISession"] == 1


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_each_method_on_its_session_version(ajera_sim) -> None:
    """One v1 and one v2 session, each method on the version the reference's table gives it."""
    client = client_for(ajera_sim)
    client.list("Clients")
    client.list_project_templates()
    client.get_project_totals([1])
    assert ajera_sim.stats()["CreateAPISession"] == 1
    client.get("Projects", [1])
    client.list_timesheets(date(2020, 1, 1), date(2020, 1, 7))
    assert ajera_sim.stats()["CreateAPISession"] == 2


def test_bundle_helpers_round_trip_and_accept_either_resource_link() -> None:
    """A v2 bundle split per project and back is the bundle as read; a resource may name its phase as
    PhaseKey (the docs) or ParentKey (sbo-inc/ajera)."""
    from include.clients.ajera_bundle import attach_children, changed_fields, detach_children

    bundle = {
        "Projects": [{"ProjectKey": 1, "Description": "A"}, {"ProjectKey": 2, "Description": "B"}],
        "InvoiceGroups": [{"InvoiceGroupKey": 10, "ProjectKey": 1, "ClientKey": 5},
                          {"InvoiceGroupKey": 11, "ProjectKey": 2, "ClientKey": 6}],
        "Phases": [{"PhaseKey": 100, "ProjectKey": 1, "ParentKey": 1, "InvoiceGroupKey": 10},
                   {"PhaseKey": 200, "ProjectKey": 2, "ParentKey": 2, "InvoiceGroupKey": 11}],
        "Resources": [{"ResourceKey": 1000, "PhaseKey": 100}, {"ResourceKey": 2000, "ParentKey": 200}],
    }
    projects = attach_children(bundle)
    assert [[r["ResourceKey"] for r in p["Resources"]] for p in projects] == [[1000], [2000]]
    assert [[g["ClientKey"] for g in p["InvoiceGroups"]] for p in projects] == [[5], [6]]
    assert detach_children(projects) == bundle
    edited = {**projects[0], "Description": "A2"}
    assert changed_fields(edited, projects[0]) == {"ProjectKey": 1, "Description": "A2"}
