"""Every page and action of the plugin, through a real API server: refused without a valid Airflow session,
actions refused to a read-only user (and nothing written), everything allowed to an editor."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests

from include.sync.db import SyncDatabase, utcnow
from tests.ui.conftest import ApiServer

pytestmark = pytest.mark.integration

P = "/ajera-crm"
PAGES = [f"{P}/log", f"{P}/log/run?run_id=run-1", f"{P}/log/run?run_id=review", f"{P}/log/run.csv?run_id=run-1",
         *(f"{P}/details?tab={tab}" for tab in ("mappings", "suggestions", "conflicts", "quarantine", "backlog",
                                                "history"))]
ACTIONS = [(f"{P}/suggestions/1/accept", {}), (f"{P}/suggestions/2/reject", {}),
           (f"{P}/conflicts/1/resolve", {"take": "ajera"}), (f"{P}/conflicts/1/resolve", {"take": "crm"}),
           (f"{P}/quarantine/1/retry", {}),
           (f"{P}/poison/retry", {"record_type": "firm", "system": "crm", "record_key": "C9"})]
SECRET_NAME = "Harbor & Sons Engineering"


@pytest.fixture(scope="module")
def seeded(api_server: ApiServer) -> Iterator[SyncDatabase]:
    """One of everything the pages show, written straight into the sync database."""
    db = SyncDatabase(api_server.sync_db_url)
    db.create_schema()
    now = utcnow()
    with db.begin() as tx:
        tx.execute("start_run", {"run_id": "run-1", "started_at": now, "mode": "two_way", "dry_run": 0,
                                 "record_types": "firm", "window_start": None, "window_end": None, "options": "{}"})
        tx.execute("insert_log", {"run_id": "run-1", "now": now, "record_type": "firm", "direction": "both",
                                  "action": "mapped", "ajera_key": "1", "crm_key": "C1", "record_name": SECRET_NAME,
                                  "message": "linked"})
        for ajera_key, crm_key in (("2", "C2"), ("3", "C3")):
            tx.execute("upsert_suggestion", {"record_type": "firm", "ajera_key": ajera_key, "crm_key": crm_key,
                                             "ajera_name": SECRET_NAME, "crm_name": "Harbor and Sons Engineering",
                                             "score": 100.0, "method": "normalised", "run_id": "run-1", "now": now})
        tx.execute("insert_conflict", {"run_id": "run-1", "record_type": "firm", "ajera_key": "1", "crm_key": "C1",
                                       "field_name": "phone", "ajera_value": "1", "crm_value": "2",
                                       "resolution": "review", "reason": "near tie", "now": now})
        tx.execute("insert_quarantine", {"run_id": "run-1", "system": "ajera", "record_type": "firm",
                                         "record_key": "7", "record_name": SECRET_NAME, "reason": "bad",
                                         "payload": None, "now": now})
        tx.execute("record_failure", {"record_type": "firm", "system": "crm", "record_key": "C9", "error": "boom",
                                      "now": now, "poison_after": 1})
    yield db
    db.dispose()


def _state(db: SyncDatabase) -> list[Any]:
    with db.begin() as tx:
        return [tx.conn.exec_driver_sql(sql).all() for sql in (
            "SELECT status FROM match_suggestion ORDER BY id", "SELECT * FROM conflict_decision",
            "SELECT * FROM record_retry", "SELECT poison, attempts FROM failed_record", "SELECT * FROM review_action")]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_page_request_is_refused(api_server: ApiServer, seeded: SyncDatabase, path: str) -> None:
    browser = requests.get(api_server.url + path, headers={"Accept": "text/html"}, allow_redirects=False, timeout=10)
    assert browser.status_code == 303 and "/auth/login" in browser.headers["location"], browser.text[:300]
    assert SECRET_NAME not in browser.text
    api = requests.get(api_server.url + path, allow_redirects=False, timeout=10)
    assert api.status_code == 401 and SECRET_NAME not in api.text
    forged = requests.get(api_server.url + path, cookies={"_token": "not.a.jwt"}, allow_redirects=False, timeout=10)
    assert forged.status_code in (401, 403) and SECRET_NAME not in forged.text
    bearer = requests.get(api_server.url + path, headers={"Authorization": "Bearer not.a.jwt"}, timeout=10)
    assert bearer.status_code in (401, 403) and SECRET_NAME not in bearer.text


@pytest.mark.parametrize("path, form", ACTIONS)
def test_anonymous_and_read_only_actions_are_refused(api_server: ApiServer, seeded: SyncDatabase, path: str,
                                                     form: dict[str, str]) -> None:
    before = _state(seeded)
    anonymous = requests.post(api_server.url + path, data=form, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 401
    viewer = api_server.token("viewer")
    for auth in ({"headers": {"Authorization": f"Bearer {viewer}"}}, {"cookies": {"_token": viewer}}):
        refused = requests.post(api_server.url + path, data=form, allow_redirects=False, timeout=10, **auth)
        assert refused.status_code == 403, refused.text
        assert "edit access" in refused.text
    assert _state(seeded) == before  # nothing decided, nothing audited


@pytest.mark.parametrize("path", PAGES)
def test_read_only_user_reads_every_page_without_action_buttons(api_server: ApiServer, seeded: SyncDatabase,
                                                                path: str) -> None:
    response = requests.get(api_server.url + path, cookies={"_token": api_server.token("viewer")}, timeout=10)
    assert response.status_code == 200, response.text[:500]
    assert "<form class=\"inline\" method=\"post\"" not in response.text
    if "tab=suggestions" in path:
        assert SECRET_NAME.replace("&", "&amp;") in response.text and "(read only)" in response.text


def test_cross_site_post_is_refused_even_for_an_editor(api_server: ApiServer, seeded: SyncDatabase) -> None:
    before = _state(seeded)
    response = requests.post(api_server.url + f"{P}/suggestions/2/reject", allow_redirects=False, timeout=10,
                             cookies={"_token": api_server.token("admin")}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert _state(seeded) == before


def test_editor_gets_every_page(api_server: ApiServer, seeded: SyncDatabase) -> None:
    token = api_server.token("admin")
    for path in PAGES:
        response = requests.get(api_server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, (path, response.text[:500])
    page = requests.get(api_server.url + f"{P}/details?tab=suggestions", cookies={"_token": token}, timeout=10).text
    assert "Accept</button>" in page and "Reject</button>" in page


def test_plugin_is_registered_with_its_views(api_server: ApiServer) -> None:
    token = api_server.token("admin")
    plugins = requests.get(f"{api_server.url}/api/v2/plugins", headers={"Authorization": f"Bearer {token}"},
                           timeout=10).json()["plugins"]
    ours = [p for p in plugins if p["name"] == "ajera_crm_ui"]
    assert len(ours) == 1, plugins
    views = {(v["name"], v["destination"], v["href"]) for v in ours[0]["external_views"]}
    assert ("Integration Log", "nav", "/ajera-crm/log") in views
    assert ("Sync Details", "nav", "/ajera-crm/details") in views
    assert ("Integration Log", "dag_run", "/ajera-crm/log/run?run_id={RUN_ID}&dag_id={DAG_ID}") in views
    errors = requests.get(f"{api_server.url}/api/v2/importErrors", headers={"Authorization": f"Bearer {token}"},
                          timeout=10)
    assert errors.status_code == 200
