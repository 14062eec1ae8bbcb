"""What the clients sent and got back, reduced to what the floor and the tables need.

The recorder wraps each client's ``requests.Session.request``. It keeps no credentials and no tokens:
a session token is only mapped to the API version it was issued for. List answers are kept as bytes and
decoded after the run, so the timed run does not pay for the bookkeeping.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from benchmark.floor import AjeraCall, entity_of


def _row_key(row: dict[str, Any], entity: str) -> Any:
    """A row's key: ``<Entity minus s>Key`` when present (ClientKey), else its first ``...Key`` field."""
    preferred = entity[:-1] + "Key" if entity.endswith("s") else entity + "Key"
    if preferred in row:
        return row[preferred]
    for name, value in row.items():
        if name.endswith("Key"):
            return value
    return json.dumps(row, sort_keys=True, default=str)


def _scalars(values: Any) -> tuple[Any, ...]:
    if isinstance(values, list):
        return tuple(v for v in values if isinstance(v, (int, str)))
    if isinstance(values, (int, str)):
        return (values,)
    return ()


@dataclass
class _Pending:
    method: str
    arguments: dict[str, Any]
    token: str | None
    version_asked: int | None
    status: int = 0
    content: bytes | None = None
    at: float = field(default_factory=time.perf_counter)  # when it was sent


@dataclass
class Recorder:
    ajera: list[_Pending] = field(default_factory=list)
    crm: Counter[str] = field(default_factory=Counter)
    crm_at: list[float] = field(default_factory=list)  # when each CRM request was sent
    _versions: dict[str, int] = field(default_factory=dict)  # token -> API version (tokens stay in memory only)

    def wrap_ajera(self, session: requests.Session) -> None:
        original = session.request

        def request(method: str, url: str, **kwargs: Any) -> requests.Response:
            body = kwargs.get("json") if isinstance(kwargs.get("json"), dict) else {}
            call = _Pending(str(body.get("Method", "?")), body.get("MethodArguments") or {},
                            body.get("SessionToken"), body.get("APIVersion"))
            response = original(method, url, **kwargs)
            call.status = response.status_code
            if call.method == "CreateAPISession" and response.status_code == 200:
                token = ((response.json() or {}).get("Content") or {}).get("SessionToken")
                if token and call.version_asked is not None:
                    self._versions[str(token)] = int(call.version_asked)
            elif call.method.startswith("List") and response.status_code == 200:
                call.content = response.content
            self.ajera.append(call)
            return response

        session.request = request  # type: ignore[method-assign]

    def wrap_crm(self, session: requests.Session) -> None:
        original = session.request

        def request(method: str, url: str, **kwargs: Any) -> requests.Response:
            path = url.split("/api/", 1)[-1].split("?", 1)[0]
            parts = path.split("/")
            shape = "/".join([parts[0], *(["{key}"] if len(parts) > 1 else []), *parts[2:]])
            self.crm[f"{method.upper()} {shape}"] += 1
            self.crm_at.append(time.perf_counter())
            return original(method, url, **kwargs)

        session.request = request  # type: ignore[method-assign]

    def timeline(self, start: float, end: float, steps: list[tuple[float, str]], parts: int = 12) -> list[str]:
        """The run cut into ``parts`` equal slices: Ajera and CRM requests per second in each, and the steps
        that started in it, to see where the rate-limited Ajera calls were not going on."""
        width = max((end - start) / parts, 1e-9)
        rows = []
        for n in range(parts):
            lo, hi = start + n * width, start + (n + 1) * width
            ajera = sum(1 for p in self.ajera if lo <= p.at < hi) / width
            crm = sum(1 for t in self.crm_at if lo <= t < hi) / width
            started = ", ".join(name for t, name in steps if lo <= t < hi)
            rows.append(f"{lo - start:7.1f}s  Ajera {ajera:5.1f}/s  CRM {crm:6.1f}/s  {started}")
        return rows

    def mark(self) -> tuple[int, Counter[str]]:
        return len(self.ajera), Counter(self.crm)

    def ajera_calls(self, since: int = 0) -> list[AjeraCall]:
        """The Ajera requests since ``since``, decoded (List answers parsed only now)."""
        out = []
        for p in self.ajera[since:]:
            call = AjeraCall(p.method, self._versions.get(str(p.token)) if p.token else None, p.status == 429)
            entity = entity_of(p.method)
            if p.method.startswith("List") and p.content:
                content = (json.loads(p.content).get("Content") or {})
                rows = content.get(entity) or []
                call.rows = tuple(_row_key(r, entity) for r in rows if isinstance(r, dict))
            elif p.method.startswith("Update"):
                written = []
                for name, value in p.arguments.items():
                    if name.startswith("Updated") and isinstance(value, list):
                        written.extend(_row_key(r, entity) for r in value if isinstance(r, dict))
                call.written = tuple(written)
            else:
                keys: list[Any] = []
                for name, value in p.arguments.items():
                    if name.startswith("Requested"):
                        keys.extend(_scalars(value))
                        call.one_key = call.one_key or not isinstance(value, list)
                call.keys = tuple(keys)
                if not keys:
                    call.signature = json.dumps(p.arguments, sort_keys=True, default=str)
            out.append(call)
        return out
