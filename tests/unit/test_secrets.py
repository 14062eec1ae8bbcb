"""Secrets scrubbed from every log line and log row: registered values and secret shapes, URLs included."""

from __future__ import annotations

import logging

import pytest

from include.sync import secrets

WEBHOOK = "https://hooks.chat.example/services/T0001/B0002/xoxbSECRETwebhookTOKEN"


@pytest.fixture(autouse=True)
def _registered() -> None:
    secrets.register("sync-password", "s3cr3t-client", WEBHOOK)
    secrets.install()


@pytest.mark.parametrize("line", [
    f"chat webhook alert failed: 404 Client Error: Not Found for url: {WEBHOOK}",
    "HTTPSConnectionPool(host='hooks.chat.example'): /services/T0001/B0002/xoxbSECRETwebhookTOKEN",
    "login refused: password sync-password, client_secret=s3cr3t-client",
    "GET https://user:hunter22@db.example:5432/sync failed",
    "POST https://api.example/api/token?access_token=eyJhbGciOiJIUzI1NiJ9.abc&x=1",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature",
    '{"SessionToken": "7f9c2b1e-0d3a-4c55-9e1f-aa55aa55aa55", "Method": "ListClients"}',
])
def test_scrub_hides_secrets(line: str) -> None:
    out = secrets.scrub(line)
    for secret in ("sync-password", "s3cr3t-client", "xoxbSECRETwebhookTOKEN", "hunter22", "eyJhbGciOiJIUzI1NiJ9",
                   "7f9c2b1e-0d3a"):
        assert secret not in out, out
    assert secrets.MASK in out


def test_every_log_record_is_scrubbed_whatever_the_logger_and_handler(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("urllib3.somewhere").error("posting to %s failed", WEBHOOK)
    try:
        raise RuntimeError(f"bad answer from {WEBHOOK}")
    except RuntimeError:
        logging.getLogger("ajera_crm.notifiers").exception("webhook")
    text = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "xoxbSECRETwebhookTOKEN" not in text
    assert "posting to *** failed" in text


def test_plain_words_and_short_values_are_left_alone() -> None:
    secrets.register("abc", "", None)
    assert secrets.scrub("abc sync of firms") == "abc sync of firms"
