"""Authentication of the Vantagepoint simulator: OAuth password and refresh grants at /api/token, the issued
tokens (in memory only, so a restart logs everybody out), and the bearer check of every other call."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from simulators.vantagepoint.answers import SESSION_INVALID, ApiFailure, json_response


@dataclass
class _Token:
    user: str
    expires: float


class Sessions:
    """Issued access and refresh tokens (in memory)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def issue(self, user: str) -> dict[str, Any]:
        now = time.time()
        lifetime = float(self.settings["token_seconds"])
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            self._access[access] = _Token(user, now + lifetime)
            self._refresh[refresh] = _Token(user, now + float(self.settings["refresh_seconds"]))
        expires_in: int | float = int(lifetime) if float(lifetime).is_integer() else lifetime
        return {"access_token": access, "token_type": "bearer", "expires_in": expires_in, "refresh_token": refresh}

    def redeem_refresh(self, refresh: str) -> str | None:
        """Use up a refresh token (they are single-use); return its user if it was valid."""
        with self._lock:
            token = self._refresh.pop(refresh, None)
        if token is None or token.expires < time.time():
            return None
        return token.user

    def user_of(self, access: str) -> str | None:
        with self._lock:
            token = self._access.get(access)
            if token is None:
                return None
            if token.expires < time.time():
                del self._access[access]
                return None
            return token.user

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._access)
            self._access.clear()
            self._refresh.clear()
        return count


def token_answer(body: bytes, config: dict[str, Any], sessions: Sessions) -> Response:
    """The answer of POST /api/token to this form body."""
    form = {k.lower(): v for k, v in parse_qsl(body.decode("utf-8", "replace"))}
    grant = form.get("grant_type", "")

    def oauth_error(error: str, description: str) -> Response:
        return json_response({"error": error, "error_description": description}, 400)

    if form.get("client_id") != config["client_id"] or form.get("client_secret") != config["client_secret"]:
        return oauth_error("invalid_client", "The client id or client secret is not valid")
    if grant == "password":
        if form.get("username") != config["username"] or form.get("password") != config["password"]:
            return oauth_error("invalid_grant", "The user name or password is incorrect")
        if form.get("database") != config["database"]:
            return oauth_error("invalid_grant", "The database is not valid")
        return json_response(sessions.issue(config["username"]))
    if grant == "refresh_token":
        user = sessions.redeem_refresh(form.get("refresh_token", ""))
        if user is None:
            return oauth_error("invalid_grant", "The refresh token is invalid or expired")
        return json_response(sessions.issue(user))
    return oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")


def authorize(request: Request, sessions: Sessions) -> str:
    """The user of the request's bearer token; a missing, unknown or expired token is answered 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = sessions.user_of(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise ApiFailure(401, dict(SESSION_INVALID))
    return user
