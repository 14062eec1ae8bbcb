"""Client for the Vantagepoint REST API (hubs firm, contact, employee, project and the project sub-grids).

Behaviour the sync engine relies on (see docs/simulator-contract.md, "Clients"):
- one ``requests.Session``; (connect, read) timeouts on every call;
- transient failures (connection errors, timeouts, 5xx, 429 with ``Retry-After``) are retried with back-off;
- the bearer token is refreshed shortly before it expires, and on a 401 the client re-authenticates once
  (refresh grant, falling back to the password grant) and replays the call;
- a create (POST) whose answer never arrived is *not* retried: it raises ``AmbiguousWriteError`` so the
  caller can look the record up first;
- passwords and tokens never appear in reprs, logs or exception messages.

Threads may share a client (the in-process runner syncs independent record types at once): the token
and the call count are kept under a lock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from include.clients.errors import AmbiguousWriteError, ApiError, AuthenticationError
from include.clients.http import RetryPolicy, Rows, check_retryable, with_retries

log = logging.getLogger(__name__)

Filter = tuple[str, str, Any]  # (field name, opp, value); opp one of = != >= < like
Timeout = float | tuple[float, float]

# The project hub returns phase and task rows too unless asked for project rows only.
PROJECT_ROWS_ONLY = {"project": "wbs1"}
# Queries longer than this go in the body of a "dvp-postAsGet" POST rather than the URL.
MAX_QUERY_CHARS = 1800
# Refresh this long before the token's stated expiry (capped at a tenth of its lifetime for short tokens).
REFRESH_MARGIN_SECONDS = 60.0


class _Secret:
    """Holds a credential so that it never shows up by accident in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


def format_filter_value(value: Any) -> str:
    """Render a filter value the way Vantagepoint expects (datetimes as 2024-01-01T04:00:00.000)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, bool):
        return "Y" if value else "N"
    return "" if value is None else str(value)


def encode_filters(filters: Iterable[Filter]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for index, (name, opp, value) in enumerate(filters):
        pairs += [
            (f"filterHash[{index}][name]", name),
            (f"filterHash[{index}][opp]", opp),
            (f"filterHash[{index}][value]", format_filter_value(value)),
        ]
    return pairs


def _may_have_been_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request may have reached the server (so a create may have happened)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ReadTimeout):
        return True
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the real cause
    return not isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _server_message(response: requests.Response) -> str:
    """The error text of an answer: REST errors carry message/detail (casing varies), token errors the OAuth pair."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason or ""
    if isinstance(body, dict):
        by_lower = {str(k).lower(): v for k, v in body.items()}
        message = by_lower.get("message") or by_lower.get("error_description") or by_lower.get("error") or ""
        detail = by_lower.get("detail")
        return f"{message} ({detail})" if detail and str(detail) not in str(message) else str(message)
    return str(body)[:500]


class VantagepointClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        database: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: Timeout = 30,
        retry: RetryPolicy = RetryPolicy(),
        page_size: int = 500,
        session: requests.Session | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        # Accept both the server root and the API base (".../api"), as deployments are configured either way.
        self.api_url = base if base.endswith("/api") else f"{base}/api"
        self.username = username
        self.database = database
        self.client_id = client_id
        self._password = _Secret(password)
        self._client_secret = _Secret(client_secret)
        self.timeout: tuple[float, float] = (
            (float(timeout[0]), float(timeout[1])) if isinstance(timeout, tuple) else (min(10.0, timeout), timeout)
        )
        self.retry = retry
        self.page_size = page_size
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.calls = 0
        self._lock = threading.RLock()  # the token and the call count
        self._access: _Secret | None = None
        self._refresh: _Secret | None = None
        self._expires_at = 0.0  # time.monotonic() deadline
        self._margin = 0.0

    def __repr__(self) -> str:
        return f"VantagepointClient(api_url={self.api_url!r}, username={self.username!r}, database={self.database!r})"

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> VantagepointClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- authentication ---------------------------------------------------------------------------------

    def _count(self) -> None:
        with self._lock:
            self.calls += 1

    def _token_request(self, form: dict[str, str], what: str) -> requests.Response:
        self._count()
        response = self.session.post(f"{self.api_url}/token", data=form, timeout=self.timeout)
        check_retryable(response, what)
        return response

    def _store_token(self, body: dict[str, Any]) -> None:
        lifetime = float(body.get("expires_in") or 0)
        self._access = _Secret(str(body["access_token"]))
        refresh = body.get("refresh_token")
        self._refresh = _Secret(str(refresh)) if refresh else None
        self._expires_at = time.monotonic() + lifetime
        self._margin = min(REFRESH_MARGIN_SECONDS, lifetime / 10)

    def _login(self) -> None:
        form = {
            "Username": self.username,
            "Password": self._password.reveal(),
            "grant_type": "password",
            "Integrated": "N",
            "database": self.database,
            "Client_Id": self.client_id,
            "client_secret": self._client_secret.reveal(),
        }
        response = self._token_request(form, "Vantagepoint login")
        if response.status_code != 200:
            self._access = None
            raise AuthenticationError(
                f"Vantagepoint login as {self.username!r} refused: HTTP {response.status_code} "
                f"{_server_message(response)}",
                status=response.status_code,
            )
        self._store_token(response.json())
        log.info("Vantagepoint: logged in as %s", self.username)

    def _refresh_token(self) -> bool:
        """Try the refresh grant; return False (so the caller logs in afresh) if it is refused."""
        if self._refresh is None:
            return False
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh.reveal(),
            "Client_Id": self.client_id,
            "client_secret": self._client_secret.reveal(),
        }
        self._refresh = None  # single-use, whatever happens next
        response = self._token_request(form, "Vantagepoint token refresh")
        if response.status_code != 200:
            log.info("Vantagepoint: token refresh refused (HTTP %s); logging in again", response.status_code)
            return False
        self._store_token(response.json())
        log.debug("Vantagepoint: token refreshed")
        return True

    def _reauthenticate(self, rejected: str | None = None) -> None:
        """A new token; ``rejected``: the bearer a 401 answered, so a token another thread got since is kept."""
        with self._lock:
            if rejected is not None and self._access is not None and f"Bearer {self._access.reveal()}" != rejected:
                return
            self._access = None
            if not self._refresh_token():
                self._login()

    def _bearer(self) -> str:
        with self._lock:
            if self._access is None:
                self._login()
            elif time.monotonic() >= self._expires_at - self._margin:
                self._reauthenticate()
            assert self._access is not None
            return f"Bearer {self._access.reveal()}"

    # --- requests ---------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
        ambiguous_if_lost: bool = False,
        ok: tuple[int, ...] = (200, 201),
        allow: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send one API call with retries and re-authentication; raise ApiError unless the status is in
        ``ok`` or ``allow``."""
        what = f"Vantagepoint {method} {path}"
        url = f"{self.api_url}/{path}"
        reauthenticated = False
        bearer = ""

        def send() -> requests.Response:
            nonlocal bearer
            self._count()
            bearer = self._bearer()
            all_headers = {"Authorization": bearer, "Accept": "application/json", **(headers or {})}
            try:
                return self.session.request(
                    method, url, params=params, json=json, data=data, headers=all_headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                if ambiguous_if_lost and _may_have_been_sent(exc):
                    raise AmbiguousWriteError(
                        f"{what}: no answer ({type(exc).__name__}); the record may or may not have been created"
                    ) from exc
                raise

        def attempt() -> requests.Response:
            nonlocal reauthenticated
            response = send()
            if response.status_code == 401 and not reauthenticated:
                reauthenticated = True
                log.info("%s: session invalid; re-authenticating once", what)
                self._reauthenticate(rejected=bearer)
                response = send()
            check_retryable(response, what)
            return response

        response = with_retries(self.retry, what, attempt)
        if response.status_code in ok or response.status_code in allow:
            return response
        if response.status_code == 401:
            raise AuthenticationError(f"{what}: HTTP 401 {_server_message(response)}", status=401)
        details: Any = None
        with contextlib.suppress(ValueError):
            details = response.json()
        raise ApiError(
            f"{what}: HTTP {response.status_code} {_server_message(response)}",
            status=response.status_code,
            details=details,
        )

    @staticmethod
    def _path(*parts: str) -> str:
        return "/".join(quote(str(p), safe="") for p in parts)

    # --- hubs ------------------------------------------------------------------------------------------

    def iter_list(
        self,
        hub: str,
        filters: Sequence[Filter] | None = None,
        fields: Sequence[str] | None = None,
        *,
        order: str | None = None,
        page_size: int | None = None,
        wbstype: str | None = "",
    ) -> Iterator[dict[str, Any]]:
        """Yield every matching record, fetching page after page until a short page.

        ``order`` is a column name, ``Name_D`` for descending. On the project hub only project rows come
        back unless ``wbstype`` says otherwise ("wbs2" phases, "wbs3" tasks, None every row)."""
        size = page_size or self.page_size
        base: list[tuple[str, str]] = encode_filters(filters or [])
        level = PROJECT_ROWS_ONLY.get(hub) if wbstype == "" else wbstype
        if level:
            base.append(("wbstype", level))
        if fields:
            base.append(("fieldFilter", ",".join(fields)))
        if order:
            base.append(("order", order))
        page = 1
        while True:
            pairs = [("page", str(page)), ("pageSize", str(size)), *base]
            if len(urlencode(pairs)) > MAX_QUERY_CHARS:
                response = self._request(
                    "POST",
                    self._path(hub),
                    data=urlencode(pairs),
                    headers={"dvp-postAsGet": "true", "Content-Type": "application/x-www-form-urlencoded"},
                    ok=(200,),
                )
            else:
                response = self._request("GET", self._path(hub), params=pairs, ok=(200,))
            rows = response.json()
            if not isinstance(rows, list):
                raise ApiError(f"Vantagepoint GET {hub}: expected a JSON array, got {type(rows).__name__}")
            yield from rows
            if len(rows) < size:
                return
            page += 1

    def list(
        self,
        hub: str,
        filters: Sequence[Filter] | None = None,
        fields: Sequence[str] | None = None,
        *,
        order: str | None = None,
        page_size: int | None = None,
        wbstype: str | None = "",
    ) -> Rows:
        return list(self.iter_list(hub, filters, fields, order=order, page_size=page_size, wbstype=wbstype))

    def get(self, hub: str, key: str) -> dict[str, Any] | None:
        response = self._request("GET", self._path(hub, key), ok=(200,), allow=(404,))
        if response.status_code == 404:
            return None
        body = response.json()
        if isinstance(body, list):
            return body[0] if body else None
        record: dict[str, Any] = body
        return record

    def create(self, hub: str, record: dict[str, Any]) -> dict[str, Any]:
        response = self._request("POST", self._path(hub), json=record, ambiguous_if_lost=True, ok=(200, 201))
        created: dict[str, Any] = response.json()
        return created

    def update(self, hub: str, key: str, changes: dict[str, Any]) -> dict[str, Any]:
        updated: dict[str, Any] = self._request("PUT", self._path(hub, key), json=changes, ok=(200,)).json()
        return updated

    def delete(self, hub: str, key: str) -> bool:
        """Delete a record; return False if it did not exist."""
        response = self._request("DELETE", self._path(hub, key), ok=(200, 204), allow=(404,))
        return response.status_code != 404

    def grid(self, hub: str, key: str, grid: str) -> Rows:
        """Rows of a sub-grid, e.g. ``grid("project", wbs1, "firmClient")``."""
        rows: Rows = self._request("GET", self._path(hub, key, grid), ok=(200,)).json()
        return rows

    def write_grid(self, hub: str, key: str, grid_name: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Insert/update/delete sub-grid rows, each carrying ``_transType`` I|U|D, e.g.
        ``write_grid("project", wbs1, "EMPROJECTASSOC", [{"Employee": "00001", "_transType": "I"}])``.
        Returns the saved parent record."""
        for row in rows:
            if row.get("_transType") not in ("I", "U", "D"):
                raise ValueError(f"grid row needs _transType I, U or D: {row!r}")
        return self.update(hub, key, {grid_name: list(rows)})


__all__ = ["Filter", "VantagepointClient", "encode_filters", "format_filter_value"]
