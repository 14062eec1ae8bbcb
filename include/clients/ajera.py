"""Client of the Ajera API (``POST /AjeraAPI.ashx?{id}``), as the sync engine uses it.

Ajera answers almost everything with HTTP 200 and puts the outcome in the body (``ResponseCode``), so
this client separates three layers of failure: transport (timeouts, 5xx, 429: retried with back-off),
session (``ResponseCode`` 401 "Invalid Session": log in again once and replay) and API refusals
(any other ``ResponseCode``: ``AjeraError``, never retried).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import requests

from include.clients.errors import AjeraError, AmbiguousWriteError, ApiError, AuthenticationError
from include.clients.http import RetryPolicy, check_retryable, with_retries

log = logging.getLogger(__name__)

ENTITY_KEYS: dict[str, str] = {
    "Clients": "ClientKey",
    "Contacts": "ContactKey",
    "Employees": "EmployeeKey",
    "Vendors": "VendorKey",
    "Projects": "ProjectKey",
}
# Methods that exist only in API version 2; everything else runs on a version 1 session.
V2_METHODS = frozenset(
    {"ListProjects", "GetProjects", "UpdateProjects", "CreateProjects", "ListProjectTemplates", "GetProjectTotals"}
)
# Keys per Get call: Ajera refuses more than 50 employees (-100), and large GetProjects calls time out.
GET_CHUNK = {"Employees": 50, "Projects": 25}
DEFAULT_CHUNK = 500
TOTALS_CHUNK = 100
PROJECT_CHILDREN = ("InvoiceGroups", "Phases", "Resources")
_ERROR_KEY = re.compile(r"^\S+ (-?\d+):")


@dataclass
class UpdateResult:
    saved: list[dict[str, Any]] = field(default_factory=list)  # as returned, each with Original<Key>
    errors: list[dict[str, Any]] = field(default_factory=list)  # {ErrorID, ErrorMessage, Key (int | None)}


class RateLimiter:
    """Spaces requests at least ``1/rate`` seconds apart, across threads.

    Even spacing rather than a burst bucket: Ajera's throttle (~9 req/s) counts per short window, so a
    burst at start-up would be refused even though the average is fine.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _with_keys(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``Key`` (the record key the message names, if any) so callers can match errors to records."""
    out = []
    for error in errors:
        match = _ERROR_KEY.match(str(error.get("ErrorMessage", "")))
        out.append({**error, "Key": int(match.group(1)) if match else None})
    return out


class AjeraClient:
    def __init__(
        self,
        base_url: str,
        api_id: str,
        username: str,
        password: str,
        *,
        timeout: float | tuple[float, float] = 30,
        retry: RetryPolicy = RetryPolicy(),
        rate_limit_rps: float | None = 8.0,
        page_size: int = 500,
        session: requests.Session | None = None,
        limiter: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._url = f"{self.base_url}/AjeraAPI.ashx?{api_id}"  # api_id: the base64 id as it appears in the URL
        self.username = username
        self._password = password
        self._timeout = timeout if isinstance(timeout, tuple) else (min(float(timeout), 10.0), float(timeout))
        self._retry = retry
        # ``limiter`` (anything with acquire()) replaces the per-client spacing, e.g. a host-wide one.
        self._limiter = limiter if limiter is not None else RateLimiter(rate_limit_rps)
        self.page_size = page_size
        self._owns_http = session is None
        self._http = session or requests.Session()
        self._tokens: dict[int, str] = {}  # API version -> session token
        self._login_lock = threading.Lock()
        self._calls_lock = threading.Lock()
        self.calls = 0  # HTTP requests made, retries and logins included

    def __repr__(self) -> str:
        return f"AjeraClient(base_url={self.base_url!r}, username={self.username!r})"

    def __enter__(self) -> "AjeraClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ---------------------------------------------------------------------------------

    def _post(self, payload: dict[str, Any], method: str, *, ambiguous_write: bool = False) -> dict[str, Any]:
        """One API request with rate limiting and transport retries; returns the response envelope."""
        what = f"Ajera {method}"

        def attempt() -> dict[str, Any]:
            self._limiter.acquire()
            with self._calls_lock:
                self.calls += 1
            response = self._http.post(self._url, json=payload, timeout=self._timeout)
            check_retryable(response, what)
            if response.status_code != 200:
                raise ApiError(f"{what}: HTTP {response.status_code}", status=response.status_code)
            try:
                body = response.json()
            except ValueError as exc:
                raise ApiError(f"{what}: the answer is not JSON", status=response.status_code) from exc
            if not isinstance(body, dict) or "ResponseCode" not in body:
                raise ApiError(f"{what}: the answer is not an Ajera envelope", status=response.status_code)
            return body

        def refuse_replay() -> None:
            raise AmbiguousWriteError(
                f"{what} timed out waiting for the answer; records may have been created. "
                "Look them up before trying again."
            )

        return with_retries(self._retry, what, attempt, on_timeout=refuse_replay if ambiguous_write else None)

    def _token(self, version: int) -> str:
        with self._login_lock:  # one login per version even when threads share the client
            token = self._tokens.get(version)
            if token is not None:
                return token
            envelope = self._post(
                {
                    "Method": "CreateAPISession",
                    "Username": self.username,
                    "Password": self._password,
                    "APIVersion": version,
                    "UseSessionCookie": False,
                },
                "CreateAPISession",
            )
            code, message = envelope.get("ResponseCode"), str(envelope.get("Message", ""))
            if code == 401:
                raise AuthenticationError(
                    f"Ajera refused the credentials of {self.username!r}: {message}", status=401
                )
            if code != 200:
                raise AjeraError("CreateAPISession", int(code or 0), message, envelope.get("Errors") or [])
            token = str(envelope["Content"]["SessionToken"])
            self._tokens[version] = token
            return token

    def _forget(self, version: int, token: str) -> None:
        with self._login_lock:
            if self._tokens.get(version) == token:  # another thread may already have logged in again
                del self._tokens[version]

    def _envelope(
        self, method: str, arguments: dict[str, Any], *, ambiguous_write: bool = False
    ) -> dict[str, Any]:
        """Call a method; log in again once if the session is invalid. Raises AjeraError unless 200."""
        version = 2 if method in V2_METHODS else 1
        envelope: dict[str, Any] = {}
        for replay in (False, True):
            token = self._token(version)
            envelope = self._post(
                {"Method": method, "SessionToken": token, "MethodArguments": arguments},
                method,
                ambiguous_write=ambiguous_write,
            )
            if envelope.get("ResponseCode") == 401 and not replay:
                log.info("Ajera session expired during %s; logging in again", method)
                self._forget(version, token)
                continue
            break
        code = envelope.get("ResponseCode")
        if code != 200:
            message = str(envelope.get("Message", ""))
            raise AjeraError(method, int(code or 0), message, envelope.get("Errors") or [])
        return envelope

    # --- public API --------------------------------------------------------------------------------

    def call(self, method: str, **arguments: Any) -> dict[str, Any]:
        """Call any API method; return its ``Content``."""
        return self._envelope(method, arguments).get("Content") or {}

    def list(self, entity: str, **filters: Any) -> list[dict[str, Any]]:
        """All list items of ``entity`` ("Clients", ...) matching the ``FilterBy...`` arguments."""
        method = f"List{entity}"
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            content = self.call(method, **filters, PageResults=True, PageSize=self.page_size, PageNumber=page)
            items.extend(content.get(entity) or [])
            if page >= int(content.get("PageCount") or 1):
                return items
            page += 1

    def get(self, entity: str, keys: Iterable[int]) -> list[dict[str, Any]]:
        """Whole records for ``keys`` (unknown keys are skipped). Projects carry their InvoiceGroups,
        Phases and Resources as nested lists."""
        unique = list(dict.fromkeys(keys))
        records: list[dict[str, Any]] = []
        for chunk in _chunks(unique, GET_CHUNK.get(entity, DEFAULT_CHUNK)):
            envelope = self._envelope(f"Get{entity}", {f"Requested{entity}": list(chunk)})
            if envelope.get("Errors"):
                log.info("Ajera Get%s: %d keys not returned", entity, len(envelope["Errors"]))
            content = envelope.get("Content") or {}
            if entity == "Projects":
                records.extend(self._nest_project_bundle(content))
            else:
                records.extend(content.get(entity) or [])
        return records

    @staticmethod
    def _nest_project_bundle(content: dict[str, Any]) -> list[dict[str, Any]]:
        by_project: dict[str, dict[Any, list[dict[str, Any]]]] = {name: {} for name in PROJECT_CHILDREN}
        for name in PROJECT_CHILDREN:
            for row in content.get(name) or []:
                by_project[name].setdefault(row.get("ProjectKey"), []).append(row)
        return [
            {**project, **{name: by_project[name].get(project["ProjectKey"], []) for name in PROJECT_CHILDREN}}
            for project in content.get("Projects") or []
        ]

    def update(
        self,
        entity: str,
        updated: Sequence[dict[str, Any]],
        unchanged: Sequence[dict[str, Any]],
        single_transaction: bool = False,
    ) -> UpdateResult:
        """Save edited records (negative keys create). ``unchanged`` holds the baselines exactly as ``get``
        returned them. Refused records come back in ``errors``; with ``single_transaction`` any refusal
        refuses everything and raises ``AjeraError``.

        A read timeout is retried for pure updates (a replay of an applied update is refused as stale, so it
        cannot apply twice) but raises ``AmbiguousWriteError`` when the batch creates records.
        """
        key_field = ENTITY_KEYS[entity]
        strip = PROJECT_CHILDREN if entity == "Projects" else ()
        updated = [{k: v for k, v in r.items() if k not in strip} for r in updated]
        baselines = {r[key_field]: {k: v for k, v in r.items() if k not in strip} for r in unchanged}
        size = max(1, len(updated)) if single_transaction else GET_CHUNK.get(entity, DEFAULT_CHUNK)
        result = UpdateResult()
        for chunk in _chunks(updated, size):
            base = [baselines[r[key_field]] for r in chunk if r.get(key_field) in baselines]
            arguments = {
                f"Updated{entity}": list(chunk),
                f"Unchanged{entity}": base,
                "UseSingleTransaction": single_transaction,
            }
            creates = any(isinstance(r.get(key_field), int) and r[key_field] < 0 for r in chunk)
            envelope = self._envelope(f"Update{entity}", arguments, ambiguous_write=creates)
            result.saved.extend((envelope.get("Content") or {}).get(entity) or [])
            result.errors.extend(_with_keys(envelope.get("Errors") or []))
        return result

    def create_project(
        self,
        project: dict[str, Any],
        invoice_groups: Sequence[dict[str, Any]],
        phases: Sequence[dict[str, Any]],
    ) -> dict[str, Any]:
        """Create a project with its invoice groups and phases; return the saved project record."""
        content = self._envelope(
            "CreateProjects",
            {
                "CreateType": "Project",
                "Project": project,
                "InvoiceGroups": list(invoice_groups),
                "Phases": list(phases),
            },
            ambiguous_write=True,
        ).get("Content") or {}
        saved = content.get("Projects") or []
        return saved[0] if saved else {"ProjectKey": content.get("ProjectKey")}

    def list_project_templates(self) -> list[dict[str, Any]]:
        return self.call("ListProjectTemplates").get("ProjectTemplates") or []

    def get_project_totals(self, keys: Iterable[int]) -> list[dict[str, Any]]:
        totals: list[dict[str, Any]] = []
        for chunk in _chunks(list(dict.fromkeys(keys)), TOTALS_CHUNK):
            totals.extend(self.call("GetProjectTotals", RequestedProjects=list(chunk)).get("Projects") or [])
        return totals

    def end_session(self) -> None:
        """End the API sessions this client opened (best effort: a failure only means it expires later)."""
        with self._login_lock:
            tokens, self._tokens = self._tokens, {}
        for token in tokens.values():
            try:
                self._limiter.acquire()
                with self._calls_lock:
                    self.calls += 1
                self._http.post(
                    self._url, json={"Method": "EndAPISession", "SessionToken": token}, timeout=self._timeout
                )
            except requests.RequestException as exc:
                log.info("Ajera EndAPISession failed: %s", type(exc).__name__)

    def close(self) -> None:
        self.end_session()
        if self._owns_http:
            self._http.close()
