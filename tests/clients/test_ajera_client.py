"""AjeraClient against the running Ajera simulator."""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import pytest

from include.clients.ajera import AjeraClient, RateLimiter, UpdateResult
from include.clients.errors import AjeraError, AmbiguousWriteError, AuthenticationError, TransientApiError
from include.clients.http import RetryPolicy

API_ID = base64.b64encode(b"ajera-sim:1").decode()
PASSWORD = "sync-password"
OLD = "2020-01-01 00:00:00.000 GMT+0000"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.5)


def make_seed() -> dict[str, list[dict[str, Any]]]:
    clients = [
        {"ClientKey": k, "Description": f"Firm {k:03d}", "Status": "Active", "ClientTypeKey": None, "Email": None,
         "Phone": None, "Website": None, "Address": None, "SyncToCRM": k % 3 == 0, "LastModifiedDate": OLD}
        for k in range(1, 121)
    ]
    employees = [
        {"EmployeeKey": k, "FirstName": f"E{k}", "MiddleName": None, "LastName": "Doe", "Title": None,
         "Email": None, "Status": "Active", "LastModifiedDate": OLD}
        for k in range(1, 121)
    ]
    projects = [
        {"ProjectKey": k, "ID": f"{k:05d}", "Description": f"Project {k}", "Status": "Active", "SyncToCRM": True,
         "CreateInCRM": False, "CRMFinalSync": False, "ClientKey": 1, "ProjectManager": {"EmployeeKey": 1},
         "PrincipalInCharge": None, "Location": None, "BillingType": "Hourly", "StartDate": None, "EndDate": None,
         "TotalContractAmount": 0.0, "LaborBudget": 0.0, "ExpenseBudget": 1000.0, "ConsultantBudget": 0.0,
         "ProjectTypeKey": None, "LastModifiedDate": OLD}
        for k in range(1, 31)
    ]
    groups = [{"InvoiceGroupKey": k, "ProjectKey": k, "ClientKey": 1, "Description": "Main"} for k in range(1, 31)]
    phases = [
        {"PhaseKey": k * 10 + n, "ProjectKey": k, "InvoiceGroupKey": k, "ParentKey": None, "ID": f"0{n}",
         "Description": f"Phase {n}"}
        for k in range(1, 31)
        for n in (1, 2)
    ]
    resources = [
        {"ResourceKey": k, "PhaseKey": k * 10 + 1, "ProjectKey": k, "Type": "Employee", "EmployeeKey": 1,
         "Role": "PM", "Hours": 4.0, "FirstEntryDate": "2020-02-01"}
        for k in range(1, 31)
    ]
    templates = [{"ProjectTemplateKey": 1, "Description": "Std", "BillingType": "Hourly",
                  "Phases": [{"ID": "01", "Description": "Design"}]}]
    return {"Clients": clients, "Contacts": [], "Employees": employees, "Vendors": [], "Projects": projects,
            "InvoiceGroups": groups, "Phases": phases, "Resources": resources, "ProjectTemplates": templates}


SEEDED = {"seed": make_seed()}


def client_for(sim, **overrides: Any) -> AjeraClient:
    options: dict[str, Any] = {"timeout": (2.0, 2.0), "retry": FAST_RETRY, "rate_limit_rps": None}
    options.update(overrides)
    return AjeraClient(sim.url, API_ID, "sync", PASSWORD, **options)


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_list_pages_inside(ajera_sim) -> None:
    client = client_for(ajera_sim, page_size=50)
    ajera_sim.reset_stats()
    clients = client.list("Clients")
    assert [c["ClientKey"] for c in clients] == list(range(1, 121))
    assert ajera_sim.stats()["ListClients"] == 3
    assert client.calls == 4  # one login plus three pages
    synced = client.list("Clients", FilterBySyncToCRM=True, FilterByNameLike="firm 0")
    assert [c["ClientKey"] for c in synced] == [k for k in range(3, 100, 3)]
    client.close()


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_get_chunks_and_merges(ajera_sim) -> None:
    client = client_for(ajera_sim)
    ajera_sim.reset_stats()
    employees = client.get("Employees", list(range(1, 121)) + [999])
    assert [e["EmployeeKey"] for e in employees] == list(range(1, 121))
    assert ajera_sim.stats()["GetEmployees"] == 3

    projects = client.get("Projects", range(1, 31))
    assert len(projects) == 30 and ajera_sim.stats()["GetProjects"] == 2
    first = projects[0]
    assert [p["PhaseKey"] for p in first["Phases"]] == [11, 12]
    assert first["InvoiceGroups"][0]["InvoiceGroupKey"] == 1 and len(first["Resources"]) == 1
    assert first["ProjectManager"]["FirstName"] == "E1"
    assert all(r["ProjectKey"] == p["ProjectKey"] for p in projects for r in p["Phases"])


@pytest.mark.parametrize("ajera_sim", [SEEDED], indirect=True)
def test_update_and_create(ajera_sim) -> None:
    client = client_for(ajera_sim)
    base = client.get("Clients", [5, 6])
    result = client.update(
        "Clients",
        [{**base[0], "Phone": "555"}, {**base[1]}, {"ClientKey": -1, "Description": "Brand New"}],
        base,
    )
    assert isinstance(result, UpdateResult)
    assert [(r["OriginalClientKey"], r["ClientKey"]) for r in result.saved] == [(5, 5), (-1, 121)]
    assert result.errors == [{"ErrorID": 1, "ErrorMessage": "Client 6: No changes", "Key": 6}]

    stale = client.update("Clients", [{**base[0], "Phone": "556"}], [base[0]])
    assert stale.saved == [] and stale.errors[0]["Key"] == 5 and "modified since" in stale.errors[0]["ErrorMessage"]

    with pytest.raises(AjeraError) as caught:
        client.update("Clients", [{**base[1], "Description": ""}], [base[1]], single_transaction=True)
    assert caught.value.response_code == 400
    assert "Client 6: Description is required" in str(caught.value)

    projects = client.get("Projects", [1])
    edited = {**projects[0], "Status": "Hold"}
    saved = client.update("Projects", [edited], projects)  # nested lists are stripped before sending
    assert saved.errors == [] and saved.saved[0]["Status"] == "Hold"

    created = client.create_project(
        {"Description": "Annex", "BillingType": "Fixed", "ClientKey": 2},
        [{"Description": "Main"}],
        [{"ID": "01", "Description": "Design"}],
    )
    assert created["ProjectKey"] == 31 and created["ID"] == "00031"
    assert client.get("Projects", [31])[0]["Phases"][0]["Description"] == "Design"
    assert client.list_project_templates()[0]["ProjectTemplateKey"] == 1
    totals = client.get_project_totals([1, 2])
    assert [t["ProjectKey"] for t in totals] == [1, 2] and totals[0]["Cost Labor"] > 0


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
    result = client.update("Clients", [{**base[0], "Phone": "1"}], base)
    assert result.saved == [] and "modified since it was read" in result.errors[0]["ErrorMessage"]
    assert client.get("Clients", [7])[0]["Phone"] == "1"
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
    bad = AjeraClient(ajera_sim.url, API_ID, "sync", "hunter2-secret", timeout=2, retry=FAST_RETRY,
                      rate_limit_rps=None)
    with pytest.raises(AuthenticationError) as refused:
        bad.list("Clients")
    assert "Unable to authenticate user" in str(refused.value)
    for text in (str(transient.value), str(refused.value), repr(bad), caplog.text):
        assert "hunter2-secret" not in text and PASSWORD not in text and token not in text
    good.close()
    assert ajera_sim.stats()["EndAPISession"] == 1
