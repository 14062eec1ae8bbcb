"""The stateful core of the Ajera simulator: its tables, the seed, and method dispatch (sessions, rendering,
reads and updates are mixed in from their own modules).

It speaks in plain dicts (request payload in, response envelope out) so the FastAPI layer stays thin.
Every request runs under the database lock: the simulator favours simple, obviously consistent state over
parallel throughput, which the real API (throttled at ~9 req/s) does not offer either.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from simulators.ajera import projects as proj
from simulators.ajera.envelope import (
    SUCCESS,
    Answer,
    ApiFailure,
    envelope,
    invalid,
)
from simulators.ajera.fields import (
    Record,
    unknown_fields,
    with_defaults,
)
from simulators.ajera.reads import Reads
from simulators.ajera.records import ENTITIES, METHOD_VERSIONS
from simulators.ajera.rendering import Rendering
from simulators.ajera.sessions import ApiSession, Sessions
from simulators.ajera.stamps import canonical_stamp, parse_stamp, stored_stamp
from simulators.ajera.updates import Updates
from simulators.credentials import AJERA_API_ID, PASSWORD, USERNAME
from simulators.store import Database, Table

DEFAULT_SETTINGS: dict[str, Any] = {
    "api_id": AJERA_API_ID,
    "username": USERNAME,
    "password": PASSWORD,
    "session_seconds": 3600,
    "company_name": "Ajera Simulator",
    "ajera_version": "9.90.02",
    "max_employee_keys": 50,
    # ResponseCode of a successful non-session call: 200 as the docs show, or 0 as sbo-inc/ajera 0.5.0
    # reports from live tenants (the reference's open question 1). CreateAPISession answers 200 either way.
    "success_code": 200,
    # The tenant's zone, in which LastModifiedDate is written ("... GMT-05:00 (Eastern Standard Time)").
    "utc_offset_minutes": -300,
    "zone_name": "Eastern Standard Time",
}

# Tables besides the five entities: a project's children, templates and timesheets.
CHILD_TABLES = {
    "InvoiceGroups": "InvoiceGroupKey",
    "Phases": "PhaseKey",
    "Resources": "ResourceKey",
    "ProjectTemplates": "ProjectTemplateKey",
    "Timesheets": "TimesheetKey",
    # A project's v1 Contacts[] (CONTACTREF rows), one row per project: {ProjectKey, Contacts}. Kept apart
    # from the project row because the v2 shape lists no Contacts (whether v2 has them is unknown).
    "ProjectContacts": "ProjectKey",
}


class AjeraService(Sessions, Rendering, Reads, Updates):
    """The simulated Ajera API: its tables, the seed, and a method call's dispatch; sessions, rendering,
    reads and updates are each in their own module."""

    def __init__(
        self,
        db: Database,
        settings: dict[str, Any] | None = None,
        seed: dict[str, list[Record]] | None = None,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._count = count or (lambda _name: None)
        self.sessions: dict[str, ApiSession] = {}
        self.tables: dict[str, Table] = {name: db.table(name, spec.key) for name, spec in ENTITIES.items()}
        for name, key in CHILD_TABLES.items():
            self.tables[name] = db.table(name, key)
        if seed and all(len(t) == 0 for t in self.tables.values()):
            self._load_seed(seed)
        self._last_ms = {
            name: max((parse_stamp(r.get("LastModifiedDate")) or 0 for r in self.tables[name].all()), default=0)
            for name in ENTITIES
        }
        self.projects = proj.ProjectStore(self)

    # --- set-up ------------------------------------------------------------------------------------

    def _load_seed(self, seed: dict[str, list[Record]]) -> None:
        unknown = set(seed) - set(self.tables)
        if unknown:
            raise ValueError(f"unknown seed tables: {sorted(unknown)}")
        now = stored_stamp(int(time.time() * 1000))
        links: dict[int, list[int]] = {}  # client key -> contact keys given as ContactClientKey in the seed
        for name, rows in seed.items():
            prepared = []
            for row in rows:
                row = dict(row)
                if name == "Contacts" and row.get("ContactClientKey") is not None:
                    links.setdefault(row["ContactClientKey"], []).append(row["ContactKey"])
                if name in ENTITIES:
                    spec = ENTITIES[name]
                    for derived in spec.derived:
                        row.pop(derived, None)
                    bad = unknown_fields(spec.fields, spec.key, row)
                    if bad:
                        raise ValueError(f"seed {name} {row.get(spec.key)}: fields the reference does not list: {bad}")
                    row = with_defaults(spec.fields, row)
                    # Canonical UTC stamps compare correctly as text, which keeps date filters a cheap scan.
                    row["LastModifiedDate"] = canonical_stamp(row.get("LastModifiedDate")) or now
                else:
                    row = proj.seed_child(name, row)
                prepared.append(row)
            self.tables[name].put_many(prepared)
        for client_key, contact_keys in links.items():
            client = self.tables["Clients"].get(client_key)
            if client is None:
                raise ValueError(f"seed contact refers to unknown client {client_key}")
            listed = {ref["ContactKey"] for ref in client.get("Contacts") or []}
            extra = [{"ContactKey": k, "Order": len(listed) + i + 1} for i, k in enumerate(contact_keys)
                     if k not in listed]
            client["Contacts"] = list(client.get("Contacts") or []) + extra
            self.tables["Clients"].put(client, commit=False)
        self.db.commit()

    @property
    def success_code(self) -> int:
        return int(self.settings["success_code"])

    # --- dispatch ----------------------------------------------------------------------------------

    def handle(self, query: str, body: bytes) -> dict[str, Any]:
        method = "(none)"
        try:
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                payload = None
            if isinstance(payload, dict) and isinstance(payload.get("Method"), str):
                method = payload["Method"]
            self._count(method)
            if unquote(query) != self.settings["api_id"]:
                raise ApiFailure(404, "Invalid API URL")
            if not isinstance(payload, dict):
                raise ApiFailure(400, "Invalid request: the body must be a JSON object")
            if method == "(none)":
                raise ApiFailure(400, "Invalid request: Method is required")
            with self.db.lock:
                return self._dispatch(method, payload)
        except ApiFailure as failure:
            return envelope(failure.code, failure.message, failure.errors, failure.content)

    def _dispatch(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "CreateAPISession":
            return envelope(200, SUCCESS, [], self._create_session(payload))
        needs = METHOD_VERSIONS.get(method)
        if needs is None:
            raise ApiFailure(400, f"Unauthorized method: {method}")
        session = self._session(payload.get("SessionToken"))
        if needs != "both" and int(needs) != session.version:
            raise ApiFailure(
                400, f"Unauthorized method {method} for api version {session.version} but is supported with "
                     f"api version {needs}")
        if method == "EndAPISession":
            self.sessions.pop(payload["SessionToken"], None)
            return envelope(self.success_code, SUCCESS, [], {})
        arguments = payload.get("MethodArguments")
        if arguments is None:
            raise invalid(["MethodArguments is required (it can be {})"])
        if not isinstance(arguments, dict):
            raise invalid(["MethodArguments must be an object"])
        message, errors, content = self._handler(method, session.version)(arguments)
        return envelope(self.success_code, message, errors, content)

    def _handler(self, method: str, version: int) -> Callable[[dict[str, Any]], Answer]:
        p = self.projects
        fixed: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "ListProjects": lambda a: self._list(ENTITIES["Projects"], a),
            "GetProjects": p.get_v2 if version == 2 else p.get_v1,
            "CreateProjects": p.create,
            "UpdateProjects": p.update,
            "ListProjectTemplates": p.list_templates,
            "GetProjectTemplates": p.get_templates,
            "GetProjectTotals": p.totals,
            "GetProjectsWithResources": p.get_with_resources,
            "ListTimesheets": p.list_timesheets,
            "ListVendorTypes": self._list_vendor_types,
            "GetTimesheets": p.get_timesheets,
        }
        if method in fixed:
            return fixed[method]
        for verb, fn in (("List", self._list), ("Get", self._get), ("Update", self._update)):
            if method.startswith(verb) and method[len(verb):] in ENTITIES:
                spec = ENTITIES[method[len(verb):]]
                return lambda args, fn=fn, spec=spec: fn(spec, args)  # type: ignore[misc]
        raise ApiFailure(400, f"Unauthorized method: {method}")
