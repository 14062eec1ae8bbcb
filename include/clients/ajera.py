"""Client of the Ajera API (``POST /AjeraAPI.ashx?{id}``), as the sync engine uses it.

Ajera answers everything with HTTP 200 and puts the outcome in the body, so this client separates three
layers of failure: transport (timeouts, 5xx, 429: retried with back-off), session ("Invalid Session": log
in again once and replay) and API refusals (``AjeraError``, never retried). A call failed when its
``ResponseCode`` is outside {0, 200} or its ``Errors`` is not empty: tenants answer success with 200 or
with 0 (ajera-records.md §1), and the code alone never decides. Methods run on a version 1 or version 2
session as the reference's table says; the client keeps one session per version.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from include.clients.ajera_bundle import attach_children, changed_fields, detach_children
from include.clients.ajera_timesheets import TimesheetWalk
from include.clients.errors import AjeraError, AmbiguousWriteError, ApiError, AuthenticationError
from include.clients.http import RetryPolicy, Rows, check_retryable, chunks, with_retries
from include.clients.ratelimit import RateLimiter

log = logging.getLogger(__name__)

ENTITY_KEYS: dict[str, str] = {
    "Clients": "ClientKey",
    "Contacts": "ContactKey",
    "Employees": "EmployeeKey",
    "Vendors": "VendorKey",
    "Projects": "ProjectKey",
}
# The session version each method needs (ajera-records.md §2); everything else runs on version 1. GetProjects
# and ListProjects work on both: version 2 gives the flat project bundle this client works with.
V2_METHODS = frozenset({"ListProjects", "GetProjects", "UpdateProjects", "CreateProjects", "ListTimesheets",
                        "GetTimesheets"})
SUCCESS_CODES = frozenset({0, 200})  # 200 in the docs, 0 from live tenants (sbo-inc/ajera 0.5.0)
# Keys per Get call: Ajera refuses more than 50 employees (-100), and large GetProjects calls time out (25 is the
# tested size; GetProjectsWithResources reads the same projects with more in each, so it takes no more).
GET_CHUNK = {"Employees": 50, "Projects": 25, "ProjectsWithResources": 25}
# Records per Update call. The public record states no limit on Updates (ajera-records.md §7), so they take
# the page size, except projects: UpdateProjects carries each project's whole bundle as its baseline, as big
# as the GetProjects answer it came from, so it keeps that call's tested size.
UPDATE_CHUNK = {"Projects": GET_CHUNK["Projects"]}
DEFAULT_CHUNK = 500
_ERROR_KEY = re.compile(r"^\S+ (-?\d+):")
_INVALID_SESSION = "invalid session"


@dataclass
class UpdateResult:
    saved: list[dict[str, Any]] = field(default_factory=list)  # as returned, each with Original<Key>
    errors: list[dict[str, Any]] = field(default_factory=list)  # {ErrorID, ErrorMessage, Key (int | None)}




def _with_keys(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``Key`` (the record key the message names, if any) so callers can match errors to records."""
    out = []
    for error in errors:
        match = _ERROR_KEY.match(str(error.get("ErrorMessage", "")))
        out.append({**error, "Key": int(match.group(1)) if match else None})
    return out


class AjeraClient(TimesheetWalk):
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

    def __enter__(self) -> AjeraClient:
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
            content = envelope.get("Content") or {}
            if not failed(envelope) and content.get("SessionToken"):
                token = str(content["SessionToken"])
                self._tokens[version] = token
                return token
            if code == 401 or "authenticate" in (message + _error_text(envelope)).lower():
                raise AuthenticationError(
                    f"Ajera refused the credentials of {self.username!r}: {message}", status=401
                )
            raise AjeraError("CreateAPISession", int(code or 0), message, envelope.get("Errors") or [])

    def _forget(self, version: int, token: str) -> None:
        with self._login_lock:
            if self._tokens.get(version) == token:  # another thread may already have logged in again
                del self._tokens[version]

    def _envelope(
        self, method: str, arguments: dict[str, Any], *, ambiguous_write: bool = False, partial: bool = False,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Call a method; log in again once if the session is invalid. Raises ``AjeraError`` when the call
        failed: a code outside {0, 200}, or any ``Errors`` unless ``partial`` (Get and Update report
        per-record refusals in ``Errors`` beside what they did)."""
        version = version or (2 if method in V2_METHODS else 1)
        envelope: dict[str, Any] = {}
        for replay in (False, True):
            token = self._token(version)
            envelope = self._post(
                {"Method": method, "SessionToken": token, "MethodArguments": arguments},
                method,
                ambiguous_write=ambiguous_write,
            )
            if _session_expired(envelope) and not replay:
                log.info("Ajera session expired during %s; logging in again", method)
                self._forget(version, token)
                continue
            break
        code = envelope.get("ResponseCode")
        if code not in SUCCESS_CODES or (envelope.get("Errors") and not partial):
            raise AjeraError(method, int(code or 0), str(envelope.get("Message", "")), envelope.get("Errors") or [])
        return envelope

    # --- public API --------------------------------------------------------------------------------

    def call(self, method: str, **arguments: Any) -> dict[str, Any]:
        """Call any API method; return its ``Content`` (``AjeraError`` if the call failed)."""
        return self._envelope(method, arguments).get("Content") or {}

    def list(self, entity: str, **filters: Any) -> Rows:
        """All list items of ``entity`` ("Clients", ..., "ProjectTemplates") matching the ``FilterBy...``
        arguments, as the API documents them (``FilterByCompany=[1]``, ``FilterBySyncToCRM=[True]``)."""
        method = f"List{entity}"
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            content = self.call(method, **filters, PageResults=True, PageSize=self.page_size, PageNumber=page)
            items.extend(content.get(entity) or [])
            if page >= int(content.get("PageCount") or 1):
                return items
            page += 1

    def get(self, entity: str, keys: Iterable[int]) -> Rows:
        """Whole records for ``keys`` (unknown keys are skipped). A project comes from the version 2 bundle
        with its own ``InvoiceGroups``, ``Phases`` and ``Resources`` lists attached, so ``update`` can send
        the bundle back as the baseline exactly as it was read."""
        unique = list(dict.fromkeys(keys))
        records: list[dict[str, Any]] = []
        for chunk in chunks(unique, GET_CHUNK.get(entity, DEFAULT_CHUNK)):
            envelope = self._envelope(f"Get{entity}", {f"Requested{entity}": list(chunk)}, partial=True)
            if envelope.get("Errors"):
                log.info("Ajera Get%s: %d keys not returned", entity, len(envelope["Errors"]))
            content = envelope.get("Content") or {}
            records.extend(attach_children(content) if entity == "Projects" else content.get(entity) or [])
        return records

    def update(
        self,
        entity: str,
        updated: Sequence[dict[str, Any]],
        unchanged: Sequence[dict[str, Any]],
        single_transaction: bool = False,
    ) -> UpdateResult:
        """Save edited records (negative keys create, except projects: ``create_project``). ``unchanged``
        holds the baselines exactly as ``get`` returned them. Refused records come back in ``errors``; with
        ``single_transaction`` any refusal refuses everything and raises ``AjeraError``.

        Projects go as version 2 ``UpdateProjects``: each edited project as its key and changed fields, the
        baselines as the bundle ``{Projects, InvoiceGroups, Phases, Resources}`` GetProjects returned.

        A read timeout is retried for pure updates (a replay of an applied update is refused as stale, so it
        cannot apply twice) but raises ``AmbiguousWriteError`` when the batch creates records.
        """
        key_field = ENTITY_KEYS[entity]
        baselines = {r[key_field]: r for r in unchanged}
        size = max(1, len(updated)) if single_transaction else UPDATE_CHUNK.get(entity, DEFAULT_CHUNK)
        result = UpdateResult()
        for chunk in chunks(list(updated), size):
            base = [baselines[r[key_field]] for r in chunk if r.get(key_field) in baselines]
            if entity == "Projects":
                arguments: dict[str, Any] = {
                    "UpdatedProjects": [changed_fields(r, baselines.get(r["ProjectKey"])) for r in chunk],
                    "UnchangedProjects": detach_children(base),
                }
                if single_transaction:
                    arguments["UseSingleTransaction"] = True
            else:
                arguments = {
                    f"Updated{entity}": list(chunk),
                    f"Unchanged{entity}": base,
                    "UseSingleTransaction": single_transaction,
                }
            creates = any(isinstance(r.get(key_field), int) and r[key_field] < 0 for r in chunk)
            envelope = self._envelope(f"Update{entity}", arguments, ambiguous_write=creates, partial=True)
            content = envelope.get("Content") or {}
            result.saved.extend(attach_children(content) if entity == "Projects" else content.get(entity) or [])
            result.errors.extend(_with_keys(envelope.get("Errors") or []))
        return result

    def create_project(
        self,
        project: dict[str, Any],
        invoice_groups: Sequence[dict[str, Any]],
        phases: Sequence[dict[str, Any]],
    ) -> dict[str, Any]:
        """Create a project (``Description``, ``BillingType``, ``RateTableKey`` required) with its invoice
        groups (each ``ClientKey`` and ``InvoiceFormatKey``) and phases; return the saved project with its
        children attached, as ``get`` returns it."""
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
        saved = attach_children(content)
        if not saved:
            raise AjeraError("CreateProjects", 0, "the answer holds no project", [])
        return saved[0]

    def list_project_templates(self) -> Rows:
        """``{ProjectTemplateKey, ID, Description}`` of every template."""
        return self.list("ProjectTemplates")

    def get_project_templates(self, keys: Iterable[int]) -> Rows:
        """Whole templates (the version 1 project shape: invoice groups with their phase trees)."""
        content = self._envelope("GetProjectTemplates", {"RequestedProjects": list(dict.fromkeys(keys))},
                                 partial=True).get("Content") or {}
        return content.get("ProjectTemplates") or []

    def get_project_totals(self, keys: Iterable[int]) -> Rows:
        """One GetProjectTotals call per project (the API takes one key): the version 1 project with the
        totals under their spaced names ("Billed Labor", "Hours Worked", ...). Projects Ajera keeps no
        totals for (overhead, non-billable) are left out."""
        totals: list[dict[str, Any]] = []
        for key in dict.fromkeys(keys):
            content = self._envelope("GetProjectTotals", {"RequestedProjectTotals": int(key)},
                                     partial=True).get("Content") or {}
            if content.get("ProjectTotals"):
                totals.append(content["ProjectTotals"])
        return totals

    def get_projects_with_resources(self, keys: Iterable[int]) -> Rows:
        """Version 1 projects whose phases carry ``Resources`` with ``EmployeeKey``/``VendorKey``."""
        projects: list[dict[str, Any]] = []
        for chunk in chunks(list(dict.fromkeys(keys)), GET_CHUNK["ProjectsWithResources"]):
            content = self._envelope("GetProjectsWithResources", {"RequestedProjects": list(chunk)},
                                     partial=True).get("Content") or {}
            projects.extend(content.get("Projects") or [])
        return projects

    def get_timesheets(self, keys: Iterable[int]) -> Rows:
        """Whole timesheets: ``{TimesheetKey, TimesheetDate, EmployeeKey, Project: {Detail: [...]}}``."""
        sheets: list[dict[str, Any]] = []
        for chunk in chunks(list(dict.fromkeys(keys)), DEFAULT_CHUNK):
            content = self._envelope("GetTimesheets", {"RequestedTimesheets": list(chunk)},
                                     partial=True).get("Content") or {}
            sheets.extend(content.get("Timesheets") or [])
        return sheets

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
                    self._url, json={"Method": "EndAPISession", "SessionToken": token, "MethodArguments": {}},
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                log.info("Ajera EndAPISession failed: %s", type(exc).__name__)

    def close(self) -> None:
        self.end_session()
        if self._owns_http:
            self._http.close()


def failed(envelope: dict[str, Any]) -> bool:
    """Ajera's failure rule: a code outside {0, 200}, or any Errors."""
    return envelope.get("ResponseCode") not in SUCCESS_CODES or bool(envelope.get("Errors"))


def _error_text(envelope: dict[str, Any]) -> str:
    return " ".join(str(e.get("ErrorMessage", "")) for e in envelope.get("Errors") or [] if isinstance(e, dict))


def _session_expired(envelope: dict[str, Any]) -> bool:
    text = f"{envelope.get('Message', '')} {_error_text(envelope)}".lower()
    return envelope.get("ResponseCode") == 401 or _INVALID_SESSION in text
