"""VantagepointClient against the running Vantagepoint simulator."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from include.clients.errors import AmbiguousWriteError, ApiError, AuthenticationError, TransientApiError
from include.clients.http import RetryPolicy
from include.clients.vantagepoint import VantagepointClient, _server_message
from simulators.harness import (
    CRM_CLIENT_ID,
    CRM_CLIENT_SECRET,
    CRM_DATABASE,
    CRM_LOGIN,
    PASSWORD,
    USERNAME,
    SimulatorHandle,
)

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=1.0)


def make_client(sim: SimulatorHandle, **overrides: object) -> VantagepointClient:
    options: dict[str, object] = {"timeout": (2.0, 2.0), "retry": FAST_RETRY, "page_size": 10}
    options.update(overrides)
    return VantagepointClient(
        sim.url, *CRM_LOGIN, **options  # type: ignore[arg-type]
    )


@pytest.fixture
def client(crm_sim: SimulatorHandle) -> Iterator[VantagepointClient]:
    with make_client(crm_sim) as vp:
        yield vp


def test_paging_over_more_than_a_page(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    for i in range(25):
        client.create("firm", {"Name": f"Firm {i:02d}"})
    crm_sim.reset_stats()
    firms = client.list("firm")
    assert [f["Name"] for f in firms] == [f"Firm {i:02d}" for i in range(25)]
    assert crm_sim.stats()["GET /api/firm"] == 3  # 10 + 10 + 5: the short page ends the walk
    # Exactly a multiple of the page size needs one more (empty) page to know it is the end.
    assert len(client.list("firm", page_size=5)) == 25
    assert next(client.iter_list("firm", fields=["Name"]))["Name"] == "Firm 00"


def test_filters(client: VantagepointClient) -> None:
    acme = client.create("firm", {"Name": "Acme", "AjeraSync": "Y"})
    client.create("firm", {"Name": "Beta", "AjeraSync": "N"})
    since = datetime.strptime(acme["ModDate"], "%Y-%m-%dT%H:%M:%S.%f")
    assert [f["Name"] for f in client.list("firm", [("AjeraSync", "=", "Y")])] == ["Acme"]
    assert [f["Name"] for f in client.list("firm", [("Name", "like", "%ET%")])] == ["Beta"]
    assert [f["Name"] for f in client.list("firm", [("ModDate", ">=", since), ("Name", "!=", "Acme")])] == ["Beta"]
    window = client.list("firm", [("ModDate", ">=", since), ("ModDate", "<", since)], fields=["Name"])
    assert window == []
    rows = client.list("firm", fields=["Name"], order="Name_D")
    assert rows == [{"ClientID": r["ClientID"], "Name": r["Name"]} for r in rows] and rows[0]["Name"] == "Beta"


def test_project_lists_ask_for_project_rows_only(client: VantagepointClient) -> None:
    client.create("project", {"WBS1": "P1", "Name": "Bridge"})
    client.create("project", {"WBS1": "P1", "WBS2": "01", "Name": "Design"})
    client.create("project", {"WBS1": "P1", "WBS2": "01", "WBS3": "001", "Name": "Survey"})
    assert [p["Name"] for p in client.list("project")] == ["Bridge"]
    assert [p["Name"] for p in client.list("project", [("Name", "like", "%g%")])] == ["Bridge"]
    assert [p["Name"] for p in client.list("project", wbstype="wbs2")] == ["Design"]
    assert [p["Name"] for p in client.list("project", wbstype=None)] == ["Bridge", "Design", "Survey"]


def test_long_queries_go_through_post_as_get(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    client.create("firm", {"Name": "Acme"})
    crm_sim.reset_stats()
    filters = [("Name", "!=", f"not-this-one-{i:03d}") for i in range(40)]
    assert [f["Name"] for f in client.list("firm", filters)] == ["Acme"]
    assert crm_sim.stats().get("POST /api/firm") == 1 and "GET /api/firm" not in crm_sim.stats()


def test_create_get_update_delete(client: VantagepointClient) -> None:
    firm = client.create("firm", {"Name": "Acme", "PrimaryCity": "Boston"})
    assert len(firm["ClientID"]) == 32 and firm["ClientID"] == firm["ClientID"].upper()
    assert client.get("firm", firm["ClientID"]) == firm
    updated = client.update("firm", firm["ClientID"], {"PrimaryPhone": "555-0100"})
    assert updated["PrimaryPhone"] == "555-0100" and updated["PrimaryCity"] == "Boston"
    assert updated["ModDate"] > firm["ModDate"]
    assert client.delete("firm", firm["ClientID"]) is True
    assert client.get("firm", firm["ClientID"]) is None
    assert client.delete("firm", firm["ClientID"]) is False
    with pytest.raises(ApiError) as info:
        client.update("firm", firm["ClientID"], {"PrimaryPhone": "1"})
    assert info.value.status == 404 and firm["ClientID"] in str(info.value)  # the Detail names the record


def test_grid_round_trip(client: VantagepointClient) -> None:
    firm = client.create("firm", {"Name": "Acme"})
    client.create("employee", {"Employee": "E1", "FirstName": "Pat", "LastName": "Kim"})
    project = client.create("project", {"WBS1": "P1", "Name": "Bridge", "ClientID": firm["ClientID"]})
    saved = client.write_grid("project", "P1", "ClendorProjectAssoc",
                              [{"ClientID": firm["ClientID"], "Role": "sysOwner", "PrimaryInd": "Y",
                                "_transType": "I"}])
    assert saved["ModDate"] > project["ModDate"]
    client.write_grid("project", "P1", "EMPROJECTASSOC", [{"Employee": "E1", "Role": "PM", "_transType": "I"}])
    assert [(r["ClientID"], r["Role"], r["ClientName"]) for r in client.grid("project", "P1", "firmClient")] == [
        (firm["ClientID"], "sysOwner", "Acme")
    ]
    [row] = client.grid("project", "P1", "employee")
    client.write_grid("project", "P1", "EMPROJECTASSOC",
                      [{"RecordID": row["RecordID"], "Role": "Principal", "CRMHours": 8, "_transType": "U"}])
    assert [(r["Role"], r["CRMHours"]) for r in client.grid("project", "P1", "employee")] == [("Principal", 8)]
    client.write_grid("project", "P1", "EMPROJECTASSOC", [{"Employee": "E1", "_transType": "D"}])
    assert client.grid("project", "P1", "employee") == []
    with pytest.raises(ValueError):
        client.write_grid("project", "P1", "EMPROJECTASSOC", [{"Employee": "E1"}])


def test_retries_through_injected_503s(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    client.list("firm")  # logs in
    crm_sim.reset_stats()
    calls_before = client.calls
    crm_sim.faults(fail_next=2)
    assert client.list("firm") == []
    stats = crm_sim.stats()
    assert stats["_injected_5xx"] == 2 and stats["GET /api/firm"] == 1
    assert client.calls - calls_before == 3


def test_gives_up_with_transient_error(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    client.list("firm")
    crm_sim.faults(fail_next=10)
    with pytest.raises(TransientApiError) as info:
        client.list("firm")
    assert "after 4 tries" in str(info.value)
    assert crm_sim.stats()["_injected_5xx"] == 4


def test_reauthenticates_after_sessions_expire(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    client.list("firm")
    crm_sim.expire_sessions()  # refresh tokens die too, so the client must fall back to the password grant
    crm_sim.reset_stats()
    assert client.list("firm") == []
    stats = crm_sim.stats()
    assert stats["GET /api/firm"] == 2  # the 401, then the replay
    assert stats["POST /api/token"] == 2  # refused refresh, then a password login


@pytest.mark.parametrize("crm_sim", [{"settings": {"token_seconds": 1}}], indirect=True)
def test_refreshes_an_expiring_token(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    client.list("firm")
    time.sleep(1.05)
    crm_sim.reset_stats()
    assert client.list("firm") == []
    stats = crm_sim.stats()
    # Refreshed ahead of the call rather than after a 401.
    assert stats["POST /api/token"] == 1 and stats["GET /api/firm"] == 1


def test_honours_retry_after(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    client.list("firm")
    crm_sim.faults(throttle_rps=4)
    started = time.monotonic()
    for _ in range(10):
        client.list("firm")
    elapsed = time.monotonic() - started
    # 10 calls at 4/s with a burst of 4: at least ~1.5 s, which a 0.01 s back-off alone would not take.
    assert elapsed >= 1.2
    assert crm_sim.stats()["_throttled"] >= 1


def test_hung_create_is_ambiguous_not_retried(crm_sim: SimulatorHandle) -> None:
    with make_client(crm_sim, timeout=(2.0, 0.3)) as vp:
        vp.list("firm")
        crm_sim.reset_stats()
        crm_sim.faults(hang_next=1, hang_seconds=0.6)
        with pytest.raises(AmbiguousWriteError):
            vp.create("firm", {"Name": "Maybe"})
        time.sleep(0.5)  # the hung request completes on the server
        assert crm_sim.stats()["POST /api/firm"] == 1
        assert [f["Name"] for f in vp.list("firm")] == ["Maybe"]


def test_hung_read_is_retried(crm_sim: SimulatorHandle) -> None:
    with make_client(crm_sim, timeout=(2.0, 0.3)) as vp:
        vp.list("firm")
        crm_sim.faults(hang_next=1, hang_seconds=0.5)
        assert vp.list("firm") == []


def test_bad_request_is_api_error_with_message(crm_sim: SimulatorHandle, client: VantagepointClient) -> None:
    crm_sim.reset_stats()
    with pytest.raises(ApiError) as info:
        client.create("project", {"WBS1": "P1", "Name": "N" * 41})
    assert not isinstance(info.value, TransientApiError)
    assert info.value.status == 400 and "longer than 40" in str(info.value)
    assert info.value.details == {"Message": info.value.details["Message"], "Detail": "'P1'"}
    assert crm_sim.stats()["POST /api/project"] == 1  # not retried


def test_bad_credentials(crm_sim: SimulatorHandle) -> None:
    with VantagepointClient(crm_sim.url, USERNAME, "wrong-password", CRM_DATABASE, CRM_CLIENT_ID, CRM_CLIENT_SECRET,
                            retry=FAST_RETRY) as vp, pytest.raises(AuthenticationError) as info:
        vp.list("firm")
    assert "wrong-password" not in str(info.value) and "incorrect" in str(info.value)


def test_secrets_stay_out_of_repr_errors_and_logs(
    crm_sim: SimulatorHandle, client: VantagepointClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.list("firm")
    access = client._access.reveal() if client._access else ""
    assert access
    crm_sim.expire_sessions()
    crm_sim.faults(fail_next=1)
    client.list("firm")
    crm_sim.faults(fail_next=10)
    with pytest.raises(TransientApiError) as info:
        client.list("firm")
    texts = [repr(client), str(client), str(info.value), repr(info.value), caplog.text, repr(vars(client))]
    for text in texts:
        assert PASSWORD not in text and CRM_CLIENT_SECRET not in text
        assert access not in text
        if client._access:
            assert client._access.reveal() not in text


@pytest.mark.parametrize("body, expected", [
    ({"Message": "Record not found", "Detail": "WBS1 99-999999"}, "Record not found (WBS1 99-999999)"),
    ({"message": "Record not found", "detail": "WBS1 99-999999"}, "Record not found (WBS1 99-999999)"),
    ({"Message": "Validation failed for project 'P1': ...", "Detail": "'P1'"},
     "Validation failed for project 'P1': ..."),
    ({"error": "invalid_grant", "error_description": "Your login has been disabled."}, "Your login has been disabled."),
])
def test_error_text_reads_either_casing(body: dict[str, str], expected: str) -> None:
    """The reference leaves the error body's casing open (a Go client reads message/detail ignoring case)."""
    response = requests.Response()
    response.status_code = 404
    response._content = json.dumps(body).encode()
    assert _server_message(response) == expected
