"""Sessions of the simulated Ajera API: CreateAPISession's credentials and answer, a session's version and
expiry, and expiring them all (the control call)."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from simulators.ajera.envelope import ApiFailure, invalid
from simulators.store import Database


@dataclass
class ApiSession:
    version: int
    expires_at: float  # epoch seconds


class Sessions:
    """The sessions part of ``AjeraService``."""

    db: Database
    settings: dict[str, Any]
    sessions: dict[str, ApiSession]

    def expire_sessions(self) -> int:
        with self.db.lock:
            count = len(self.sessions)
            self.sessions.clear()
            return count

    def _create_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        version = payload.get("APIVersion", 1)
        if version not in (1, 2) or isinstance(version, bool):
            raise invalid([f"APIVersion must be 1 or 2 (got {version!r})"])
        ok_user = secrets.compare_digest(str(payload.get("Username", "")), str(self.settings["username"]))
        ok_pass = secrets.compare_digest(str(payload.get("Password", "")), str(self.settings["password"]))
        if not (ok_user and ok_pass):
            raise ApiFailure(401, "Unable to authenticate user", ["Unable to authenticate user"])
        token = str(uuid.uuid4())
        expires_at = time.time() + float(self.settings["session_seconds"])
        self.sessions[token] = ApiSession(version, expires_at)
        offset = timedelta(minutes=int(self.settings["utc_offset_minutes"]))
        expires = datetime.fromtimestamp(expires_at, tz=timezone(offset))
        return {
            "SessionToken": token,
            "SessionExpiration": expires.isoformat(timespec="microseconds"),
            "CompanyName": self.settings["company_name"],
            "AjeraVersion": self.settings["ajera_version"],
            "APIURL": f"AjeraAPI.ashx?{self.settings['api_id']}",
            "UsingICRMobile": False,
        }

    def _session(self, token: Any) -> ApiSession:
        session = self.sessions.get(token) if isinstance(token, str) else None
        if session is None:
            raise ApiFailure(401, "Invalid Session", ["Invalid Session"])
        if time.time() >= session.expires_at:
            del self.sessions[token]
            raise ApiFailure(401, "Invalid Session", ["Invalid Session"])
        return session
