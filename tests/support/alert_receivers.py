"""Real alert receivers on loopback: an SMTP server (aiosmtpd) and a chat-webhook HTTP server.

tests/conftest.py registers the fixtures (``smtp_server``, ``webhook``) for every test module; each test
gets fresh servers and the Airflow connections that point at them."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    def bodies(self) -> list[str]:
        out = []
        for message in self.messages:
            part = message.get_body(preferencelist=("html", "plain"))
            out.append(part.get_content() if part is not None else "")
        return out


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """aiosmtpd on a free loopback port; ``smtp_default`` points at it (plain SMTP, no TLS, no login)."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mailbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=mailbox.host, port=mailbox.port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": mailbox.host, "port": mailbox.port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.test",
                  "retry_limit": 0, "timeout": 10},
    }))
    monkeypatch.setenv("ALERT_EMAIL_TO", "data-team@example.test")
    yield mailbox
    controller.stop()


@dataclass
class Webhook:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A chat-webhook receiver; ``ajera_crm_alerts`` points at it. Its URL carries a secret token, as
    Slack's and Teams' do."""
    state = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.posts.append(json.loads(self.rfile.read(length)))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0SECRET/B0SECRET/xoxSecretToken42"
    monkeypatch.setenv("AIRFLOW_CONN_AJERA_CRM_ALERTS", json.dumps({"conn_type": "http", "host": state.url}))
    yield state
    server.shutdown()
    server.server_close()
