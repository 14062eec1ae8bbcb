"""Every page and action of the plugin, through a real API server: refused without a valid Airflow session,
actions refused to a read-only user (and nothing written), everything allowed to an editor."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.support.ui import ApiServer, World

pytestmark = pytest.mark.integration  # one Airflow cluster at a time: tests/support/scheduling.py

P = "/ajera-crm"
RUN = "{run}"  # the world's first run, filled in by each test
PAGES = [f"{P}/log", f"{P}/log/run?run_id={RUN}&action=suggested", f"{P}/log/run?run_id=review",
         f"{P}/log/run.csv?run_id={RUN}",
         *(f"{P}/details?tab={tab}&status=all" for tab in ("mappings", "suggestions", "conflicts", "quarantine",
                                                           "backlog", "history"))]
ACTIONS = [(f"{P}/suggestions/1/accept", {}), (f"{P}/suggestions/2/reject", {}),
           (f"{P}/conflicts/1/resolve", {"take": "ajera"}), (f"{P}/conflicts/1/resolve", {"take": "crm"}),
           (f"{P}/quarantine/1/retry", {}),
           (f"{P}/poison/retry", {"record_type": "firm", "system": "crm", "record_key": "C9"})]


def _url(world: World, path: str) -> str:
    return world.server.url + path.replace(RUN, quote(world.runs[0]))


def _secret(world: World) -> str:
    """A record name the pages show to a signed-in reader, and to nobody else."""
    return world.near_miss["crm_name"]


def _state(world: World) -> list[Any]:
    tables = ("SELECT status FROM match_suggestion ORDER BY id", "SELECT * FROM conflict_decision",
              "SELECT * FROM record_retry", "SELECT poison, attempts FROM failed_record", "SELECT * FROM review_action")
    return [world.rows(sql) for sql in tables]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_page_request_is_refused(world: World, path: str) -> None:
    url, secret = _url(world, path), _secret(world)
    browser = requests.get(url, headers={"Accept": "text/html"}, allow_redirects=False, timeout=10)
    assert browser.status_code == 303 and "/auth/login" in browser.headers["location"], browser.text[:300]
    assert secret not in browser.text
    api = requests.get(url, allow_redirects=False, timeout=10)
    assert api.status_code == 401 and secret not in api.text
    forged = requests.get(url, cookies={"_token": "not.a.jwt"}, allow_redirects=False, timeout=10)
    assert forged.status_code in (401, 403) and secret not in forged.text
    bearer = requests.get(url, headers={"Authorization": "Bearer not.a.jwt"}, timeout=10)
    assert bearer.status_code in (401, 403) and secret not in bearer.text


@pytest.mark.parametrize("path, form", ACTIONS)
def test_anonymous_and_read_only_actions_are_refused(world: World, path: str, form: dict[str, str]) -> None:
    before = _state(world)
    anonymous = requests.post(_url(world, path), data=form, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 401
    viewer = world.server.token("viewer")
    for auth in ({"headers": {"Authorization": f"Bearer {viewer}"}}, {"cookies": {"_token": viewer}}):
        refused = requests.post(_url(world, path), data=form, allow_redirects=False, timeout=10, **auth)
        assert refused.status_code == 403, refused.text
        assert "edit access" in refused.text
    assert _state(world) == before  # nothing decided, nothing audited


@pytest.mark.parametrize("path", PAGES)
def test_read_only_user_reads_every_page_without_action_buttons(world: World, path: str) -> None:
    response = requests.get(_url(world, path), cookies={"_token": world.server.token("viewer")}, timeout=10)
    assert response.status_code == 200, response.text[:500]
    assert 'method="post"' not in response.text
    if ".csv" not in path:
        assert "(read only)" in response.text
    if "tab=suggestions" in path or "action=suggested" in path or ".csv" in path:
        assert html.escape(_secret(world), quote=False) in response.text


def test_cross_site_post_is_refused_even_for_an_editor(world: World) -> None:
    before = _state(world)
    suggestion = world.rows("SELECT MIN(id) AS id FROM match_suggestion")[0].id
    response = requests.post(_url(world, f"{P}/suggestions/{suggestion}/reject"), allow_redirects=False, timeout=10,
                             cookies={"_token": world.server.token("admin")}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    opaque = requests.post(_url(world, f"{P}/suggestions/{suggestion}/reject"), allow_redirects=False, timeout=10,
                           cookies={"_token": world.server.token("admin")}, headers={"Origin": "null"})
    assert opaque.status_code == 403
    assert _state(world) == before


def test_editor_gets_every_page(world: World) -> None:
    token = world.server.token("admin")
    for path in PAGES:
        response = requests.get(_url(world, path), headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, (path, response.text[:500])
        assert "(read only)" not in response.text
    page = requests.get(_url(world, f"{P}/details?tab=suggestions"), cookies={"_token": token}, timeout=10).text
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


def test_pages_answer_clearly_for_what_is_not_there(world: World) -> None:
    admin = {"cookies": {"_token": world.server.token("admin")}, "timeout": 10}
    other_dag = requests.get(_url(world, f"{P}/log/run?run_id=x&dag_id=some_other_dag"), **admin)
    assert other_dag.status_code == 404 and "not the Ajera-CRM sync" in other_dag.text
    missing = requests.get(_url(world, f"{P}/log/run?run_id=no-such-run"), **admin)
    assert missing.status_code == 404 and "no sync run" in missing.text
    before = _state(world)
    gone = requests.post(_url(world, f"{P}/suggestions/999999/accept"), allow_redirects=False, **admin)
    assert gone.status_code == 404 and "no match suggestion 999999" in gone.text
    bad_take = requests.post(_url(world, f"{P}/conflicts/999999/resolve"), data={"take": "both"},
                             allow_redirects=False, **admin)
    assert bad_take.status_code == 409 and "take must be" in bad_take.text
    assert _state(world) == before
