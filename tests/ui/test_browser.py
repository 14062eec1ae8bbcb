"""The pages in headless Chromium against a real API server, as a data engineer uses them: sign in, read
the Integration Log (filter, CSV), and on Sync Details accept a match suggestion, decide a conflict and retry
a quarantined record; then the next DAG run (run by Airflow) links the pair, writes the decided value across
and reads the record again. Screenshots go to ``var/artefacts/screenshots/``."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from playwright import sync_api as playwright_api

from include.sync.record_types import FIRM
from tests.support.ui import ARTEFACTS, USERS, ApiServer, World

pytestmark = pytest.mark.integration  # one Airflow cluster at a time: tests/support/scheduling.py

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ARTEFACTS / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


def sign_in(browser: Any, server: ApiServer, user: str) -> Any:
    """Airflow's own login form, as a person uses it; returns a page with the session cookie."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{server.url}/ajera-crm/log")
    page.wait_for_url(re.compile(r".*/auth/login.*"))  # not signed in: sent to Airflow's login
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(USERS[user][1])
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/ajera-crm/log$"))  # and back to the page asked for
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_review_flow_in_the_browser(world: World, browser: Any) -> None:
    server, first, second = world.server, world.runs[0], world.runs[1]
    page = sign_in(browser, server, "admin")

    # Integration Log: both runs with their summaries.
    runs = page.locator("#runs tbody tr")
    assert runs.count() == 2
    assert second in runs.nth(0).inner_text() and "firm: " in runs.nth(0).inner_text()
    assert "conflict 1" in runs.nth(0).inner_text()
    assert "mapped" in runs.nth(1).inner_text() and "suggested" in runs.nth(1).inner_text()
    shot(page, "01-integration-log-runs")

    # A run's record actions, filtered, then downloaded as CSV with the same filters.
    page.locator(f"#runs a:text-is('{first}')").click()
    page.wait_for_selector("#entries")
    total = int(re.search(r"(\d+) rows?", page.locator(".pager").last.inner_text()).group(1))
    page.select_option("select[name=action]", "suggested")
    page.locator("button:text-is('Filter')").click()
    page.wait_for_url(re.compile(r".*action=suggested.*"))
    suggested = page.locator("#entries tbody tr")
    assert 0 < suggested.count() < total
    assert all(row == "suggested" for row in suggested.locator("td.action").all_inner_texts())
    page.fill("input[name=q]", world.near_miss["crm_name"][:8])
    page.locator("button:text-is('Filter')").click()
    page.wait_for_url(re.compile(r".*q=.*"))
    assert page.locator("#entries tbody tr").count() >= 1
    assert world.near_miss["crm_name"] in page.locator("#entries").inner_text()
    shot(page, "02-run-log-filtered")
    with page.expect_download() as download_info:
        page.locator("#csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("integration-log-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows and all(r["action"] == "suggested" and r["run_id"] == first for r in rows)
    assert any(world.near_miss["crm_name"] in r["message"] for r in rows)
    (ARTEFACTS / "integration-log-filtered.csv").write_bytes(Path(download.path()).read_bytes())

    # Errors and conflicts stand out in a run's log.
    page.goto(f"{server.url}/ajera-crm/log/run?{urlencode({'run_id': second, 'action': 'conflict'})}")
    conflict_row = page.locator("#entries tr.conflict").first
    assert "phone" in conflict_row.inner_text()
    assert conflict_row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    shot(page, "03-run-log-conflict")

    # Sync Details: mapping tables with both keys and both names, searchable.
    page.locator("nav.tabs a:text-is('Sync Details')").click()
    page.wait_for_selector("#mappings")
    exact = world.conflict_pair
    page.fill("input[name=q]", exact["ajera_name"])
    page.locator("button:text-is('Search')").click()
    page.wait_for_url(re.compile(r".*q=.*"))
    found = page.locator("#mappings tbody tr")
    assert found.count() == 1
    cells = found.first.locator("td").all_inner_texts()
    assert cells[:4] == [str(exact["ajera"]), exact["ajera_name"], exact["crm"], exact["crm_name"]]
    shot(page, "04-sync-details-mappings")

    # Accept a match suggestion.
    page.locator("nav.sub a:text-is('Match suggestions')").click()
    row = page.locator("#suggestions tbody tr", has_text=world.near_miss["crm_name"]).first
    row.locator("button:text-is('Accept')").click()
    page.wait_for_selector(".banner.ok")
    assert "the next run links them" in page.locator(".banner.ok").inner_text()
    shot(page, "05-suggestion-accepted")

    # Decide the conflict: take Ajera's phone.
    page.locator("nav.sub a:text-is('Conflicts')").click()
    row = page.locator("#conflicts tbody tr", has_text="phone").first
    assert "(555) 010-1111" in row.inner_text() and "(555) 020-2222" in row.inner_text()
    assert world.conflict_pair["ajera_name"] in row.inner_text()  # a reviewer sees which records, by name
    shot(page, "06-conflict-awaiting-review")
    row.locator("button:text-is(\"Take Ajera's\")").click()
    page.wait_for_selector(".banner.ok")
    assert page.locator("#conflicts").count() == 0  # nothing else awaits review
    assert "next run" in page.locator("#decisions").inner_text()
    shot(page, "07-conflict-decided")

    # Retry the quarantined firm.
    page.locator("nav.sub a:text-is('Quarantine & poison')").click()
    row = page.locator("#quarantine tbody tr", has_text=world.bad_firm).first
    assert "status 'Z'" in row.inner_text()
    row.locator("button:text-is('Retry')").click()
    page.wait_for_selector(".banner.ok")
    quarantined = page.locator("#quarantine tbody tr", has_text=world.bad_firm).first
    assert "retry requested by admin" in quarantined.inner_text()
    shot(page, "08-quarantine-retry-requested")

    page.locator("nav.sub a:text-is('Review history')").click()
    history = page.locator("#history tbody tr")
    assert history.count() == 3 and all("admin" in t for t in history.all_inner_texts())
    shot(page, "09-review-history")

    # The next run, by Airflow, honours all three.
    third = world.sync()
    a_key, c_key = str(world.near_miss["ajera"]), world.near_miss["crm"]
    assert world.rows("SELECT match_method FROM record_mapping WHERE record_type = 'firm' AND ajera_key = :a "
                      "AND crm_key = :c", a=a_key, c=c_key)[0].match_method == "suggestion"
    pair = world.conflict_pair
    assert world.harness.crm.get(FIRM.crm_hub, pair["crm"])[FIRM.field("phone").crm] == "(555) 010-1111"
    decision = world.rows("SELECT applied_run_id FROM conflict_decision")
    assert [d.applied_run_id for d in decision] == [third]
    assert world.rows("SELECT read_run_id FROM record_retry")[0].read_run_id == third
    reread = world.rows("SELECT payload FROM staged_record WHERE run_id = :r AND system = 'crm' AND record_key = :k",
                        r=third, k=world.bad_firm)
    assert reread and reread[0].payload is not None  # read in full again (and, still bad, quarantined again)

    page.goto(f"{server.url}/ajera-crm/log/run?{urlencode({'run_id': third, 'q': a_key})}")
    entries = page.locator("#entries").inner_text()
    assert "accepted match suggestion" in entries
    page.goto(f"{server.url}/ajera-crm/log/run?{urlencode({'run_id': third, 'action': 'resolved'})}")
    assert "took Ajera's value" in page.locator("#entries").inner_text()
    shot(page, "10-next-run-applied-the-decision")
    page.goto(f"{server.url}/ajera-crm/log/run?{urlencode({'run_id': third})}")
    shot(page, "11-next-run-log")

    # Nothing awaits review any more (that it does not come back in later runs, for every record type, is
    # tests/integration/test_review_decisions.py).
    page.goto(f"{server.url}/ajera-crm/details?tab=conflicts")
    assert page.locator("#conflicts").count() == 0 and third in page.locator("#decisions").inner_text()
    shot(page, "12-conflicts-after-next-run")
    page.goto(f"{server.url}/ajera-crm/details?tab=mappings&q={a_key}")
    assert "suggestion" in page.locator("#mappings").inner_text()
    page.context.close()


def test_read_only_user_sees_no_actions_in_the_browser(world: World, browser: Any) -> None:
    page = sign_in(browser, world.server, "viewer")
    assert "(read only)" in page.locator("header").inner_text()
    for tab in ("suggestions", "conflicts", "quarantine"):
        page.goto(f"{world.server.url}/ajera-crm/details?tab={tab}&status=all")
        assert page.locator("form[method=post]").count() == 0, tab
        if tab == "suggestions":
            assert page.locator("#suggestions tbody tr").count() > 0
            shot(page, "13-read-only-suggestions")
    page.context.close()


def test_pages_inside_the_airflow_ui(world: World, browser: Any) -> None:
    """The nav entry and the DAG run tab render the pages in Airflow's own UI."""
    page = sign_in(browser, world.server, "admin")
    page.goto(f"{world.server.url}/plugin/ajera-crm-log")
    frame = page.frame_locator("iframe").first
    frame.locator("#runs").wait_for()
    assert frame.locator("#runs tbody tr").count() >= 2
    shot(page, "14-airflow-ui-integration-log")
    # An action taken inside Airflow's frame (sandboxed, same origin): the form post goes through.
    page.goto(f"{world.server.url}/plugin/ajera-crm-details")
    frame = page.frame_locator("iframe").first
    frame.locator("nav.sub a:text-is('Match suggestions')").click()
    row = frame.locator("#suggestions tbody tr").first
    name = row.locator("td").nth(1).inner_text()
    row.locator("button:text-is('Reject')").click()
    assert "rejected match suggestion" in frame.locator(".banner.ok").inner_text()
    assert name.split(" (")[0] in frame.locator(".banner.ok").inner_text()
    shot(page, "16-airflow-ui-suggestion-rejected")
    run_id = world.runs[-1]
    page.goto(f"{world.server.url}/dags/ajera_crm_sync/runs/{quote(run_id)}/plugin/ajera-crm-run-log")
    frame = page.frame_locator("iframe").first
    # The last run may have logged no record action (notes already told are not logged again): the page then
    # says so instead of showing the table.
    frame.locator("#entries, p.empty").first.wait_for()
    assert run_id in frame.locator("h2").first.inner_text()
    shot(page, "15-airflow-ui-dag-run-tab")
    page.context.close()
