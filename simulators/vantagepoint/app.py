"""A stateful simulator of the Vantagepoint REST API (the subset the sync uses).

See docs/simulator-contract.md ("Vantagepoint") for the behaviour this implements. State lives in
``simulators.store`` tables (one per hub, one per project sub-grid); tokens live in memory only, so a
restart logs everybody out, as a real server restart would.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulators.credentials import CRM_CLIENT_ID, CRM_CLIENT_SECRET, CRM_DATABASE, PASSWORD, USERNAME
from simulators.faults import FaultConfig, FaultInjector, install
from simulators.store import Database, Table
from simulators.vantagepoint.query import QueryError, parse_list_query
from simulators.vantagepoint.schema import (
    GRID_BY_BODY_NAME,
    GRIDS,
    HEX32,
    HUBS,
    SERVER_FIELDS,
    Field,
    GridSpec,
    HubSpec,
    canonical_datetime,
    check_fields,
    format_ms,
    ms_of,
)
from simulators.vantagepoint.team import teammember_rows

DEFAULT_SETTINGS: dict[str, Any] = {
    # "VERB hub" pairs the API user has no access to, e.g. ["DELETE firm"]: answered 403.
    "denied": (),
    "username": USERNAME,
    "password": PASSWORD,
    "database": CRM_DATABASE,
    "client_id": CRM_CLIENT_ID,
    "client_secret": CRM_CLIENT_SECRET,
    "token_seconds": 1799,
    "refresh_seconds": 86400,
}
SESSION_INVALID = {"Message": "Session is invalid or timed out"}


class ApiFailure(Exception):
    """Raised inside a handler to answer with ``status`` and a JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("Message"))
        self.status = status
        self.body = body


def _fail(status: int, message: str, detail: str | None = None) -> ApiFailure:
    """An error answer: ``{"Message": ..., "Detail": ...}`` (the reference's message/detail pair, see
    docs/simulator-contract.md for the casing chosen); ``Detail`` names the record or field concerned."""
    body: dict[str, Any] = {"Message": message}
    if detail:
        body["Detail"] = detail
    return ApiFailure(status, body)


class Clock:
    """Modified-date source for one table: UTC milliseconds, strictly increasing even within a millisecond."""

    def __init__(self, last_ms: int = 0) -> None:
        self.last_ms = last_ms
        self._lock = threading.Lock()

    def stamp(self) -> str:
        with self._lock:
            self.last_ms = max(int(time.time() * 1000), self.last_ms + 1)
            return format_ms(self.last_ms)


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


class VantagepointSim:
    """The simulator's state and behaviour, independent of HTTP routing."""

    def __init__(self, db: Database, settings: dict[str, Any]) -> None:
        self.db = db
        self.settings = settings
        self.sessions = Sessions(settings)
        self.tables: dict[str, Table] = {name: db.table(name, spec.key) for name, spec in HUBS.items()}
        # Phase (WBS2) and task (WBS3) rows of projects: one record type with the project rows, own table.
        self.wbs = db.table("projectWbs", "_id")
        self.grids: dict[str, Table] = {g.table: db.table(g.table, "_id") for g in GRIDS.values()}
        self.clocks = {name: Clock(self._last_mod_ms(table)) for name, table in self.tables.items()}
        self._next_number = {name: self._max_number(table) for name, table in self.tables.items()}

    # --- start-up ---------------------------------------------------------------------------------------

    @staticmethod
    def _last_mod_ms(table: Table) -> int:
        """Continue after the newest ModDate on disk, so dates stay increasing across a restart."""
        newest = max((row.get("ModDate") or "" for row in table.all()), default="")
        return ms_of(newest) if newest else 0

    @staticmethod
    def _max_number(table: Table) -> int:
        return max((int(k) for k in (r[table.key_field] for r in table.all()) if str(k).isdigit()), default=0)

    def is_empty(self) -> bool:
        return all(len(t) == 0 for t in (*self.tables.values(), self.wbs, *self.grids.values()))

    def load_seed(self, seed: dict[str, list[dict[str, Any]]]) -> None:
        """Load seed records as given (no validation of values: they model data already in the system), but
        refuse a field the hub does not have, so a generator that drifts from the API shape fails loudly."""
        unknown_tables = set(seed) - set(HUBS) - {g.table for g in GRIDS.values()}
        if unknown_tables:
            raise ValueError(f"seed has unknown tables {sorted(unknown_tables)}")
        user = self.settings["username"]
        for hub, spec in HUBS.items():
            records, phases = [], []
            # Seed rows model data already in the system: one shared stamp for those without dates, rather
            # than one millisecond each (which would put a large seed's dates in the future).
            stamp = self.clocks[hub].stamp()
            for raw in seed.get(hub, []):
                self._check_seed_fields(hub, raw, set(spec.all_fields()) - set(spec.derived))
                record = self._normalise_keys(spec, self._with_defaults(spec, raw))
                if not record.get(spec.key):
                    record[spec.key] = self._new_key(spec)
                for name, value in (("CreateUser", user), ("CreateDate", stamp), ("ModUser", user), ("ModDate", stamp)):
                    record[name] = raw.get(name) or value
                (phases if record.get("WBS2") else records).append(record)
            self.tables[hub].put_many(records)
            if phases:
                self.wbs.put_many([{**row, "_id": _wbs_id(row)} for row in phases])
                for wbs1 in {row["WBS1"] for row in phases}:
                    parent = self.tables[hub].get(wbs1)
                    if parent is not None and parent.get("SubLevel") != "Y":
                        self.tables[hub].put({**parent, "SubLevel": "Y"})
            self.clocks[hub] = Clock(max(self.clocks[hub].last_ms, self._last_mod_ms(self.tables[hub])))
            self._next_number[hub] = max(self._next_number[hub], self._max_number(self.tables[hub]))
        for grid in GRIDS.values():
            rows = []
            known = {grid.row_key, grid.row_id, "WBS1", *grid.fields, *(["ModDate"] if grid.stamped else [])}
            for raw in seed.get(grid.table, []):
                self._check_seed_fields(grid.table, raw, known)
                row = self._new_grid_row(grid, raw["WBS1"], self._normal_ref(grid.ref, raw[grid.row_key]))
                row.update(self._normalise(grid.fields, {n: raw[n] for n in grid.fields if raw.get(n) is not None}))
                if raw.get(grid.row_id):
                    row[grid.row_id] = raw[grid.row_id]
                rows.append(row)
            self.grids[grid.table].put_many(rows)

    @staticmethod
    def _check_seed_fields(table: str, raw: dict[str, Any], known: set[str]) -> None:
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"seed {table} record has fields the API does not have: {unknown}")

    # --- records ----------------------------------------------------------------------------------------

    @staticmethod
    def _with_defaults(spec: HubSpec, values: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {spec.key: values.get(spec.key)}
        for name, field_spec in spec.fields.items():
            record[name] = values.get(name, field_spec.default)
        for name in SERVER_FIELDS:
            record[name] = values.get(name)
        return record

    def _normal_ref(self, hub: str, value: Any) -> Any:
        """Hex keys are upper case on the server; a caller may send them in either case."""
        if isinstance(value, str) and HUBS[hub].key_kind == "hex" and HEX32.match(value):
            return value.upper()
        return value

    def _normalise(self, specs: dict[str, Field], record: dict[str, Any]) -> dict[str, Any]:
        """Values as the server stores them: hex keys upper case, dates in its one datetime form."""
        for name, field_spec in specs.items():
            value = record.get(name)
            if field_spec.kind == "ref" and field_spec.ref and name in record:
                record[name] = self._normal_ref(field_spec.ref, value)
            elif field_spec.kind == "date" and isinstance(value, str) and value:
                with contextlib.suppress(ValueError):  # validation names the bad value
                    record[name] = canonical_datetime(value)
        return record

    def _normalise_keys(self, spec: HubSpec, record: dict[str, Any]) -> dict[str, Any]:
        if spec.key_kind == "hex" and spec.key in record:
            record[spec.key] = self._normal_ref(spec.name, record[spec.key])
        return self._normalise(spec.fields, record)

    def _new_key(self, spec: HubSpec) -> str:
        if spec.key_kind == "hex":
            return secrets.token_hex(16).upper()
        table = self.tables[spec.name]
        while True:
            self._next_number[spec.name] += 1
            key = str(self._next_number[spec.name]).zfill(spec.number_width)
            if not table.exists(key):
                return key

    def exists(self, hub: str, key: str) -> bool:
        return self.tables[hub].exists(self._normal_ref(hub, key))

    def get(self, spec: HubSpec, key: str) -> dict[str, Any]:
        key = self._normal_ref(spec.name, key)
        record = self.tables[spec.name].get(key)
        if record is None:
            raise _fail(404, "Record not found", f"{spec.key} {key}")
        return record

    def rows(self, spec: HubSpec) -> list[dict[str, Any]]:
        """Every row of a hub in its default order; a project's phase and task rows follow it."""
        if spec.name != "project" or len(self.wbs) == 0:
            return list(self.tables[spec.name].all())
        below: dict[str, list[dict[str, Any]]] = {}
        for row in self.wbs.all():
            below.setdefault(row["WBS1"], []).append(row)
        out: list[dict[str, Any]] = []
        for row in self.tables[spec.name].all():
            out.append(row)
            out.extend(sorted(below.get(row["WBS1"], ()), key=lambda r: (r["WBS2"], r["WBS3"])))
        return out

    def present(self, spec: HubSpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows as the API answers them: without store ids, with the derived read-only fields."""
        out = []
        for row in rows:
            row = {k: v for k, v in row.items() if k != "_id"}
            if spec.name == "contact":
                firm = self.tables["firm"].peek(row["ClientID"]) if row.get("ClientID") else None
                # Seeded bad data (a list or number as a name) must not break the whole list answer.
                row["flName"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName"))
                                         if isinstance(p, str) and p)
                row["ClientName"] = (firm or {}).get("Name") or ""
            out.append(row)
        return out

    def _check_body(self, spec: HubSpec, body: Any, allowed_extra: set[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _fail(400, f"The request body for {spec.name} must be a JSON object")
        read_only = set(SERVER_FIELDS) | set(spec.derived)
        unknown = [n for n in body if n not in spec.fields and n != spec.key and n not in read_only]
        unknown = [n for n in unknown if n.lower() not in allowed_extra]
        if unknown:
            raise _fail(400, f"Unknown field(s) on {spec.name}: {', '.join(unknown)}", ", ".join(unknown))
        # Server-maintained and derived fields are accepted (a caller may send back what it read) and ignored.
        return self._normalise_keys(spec, {k: v for k, v in body.items() if k not in read_only})

    def _validate(self, spec: HubSpec, record: dict[str, Any], changed: set[str] | None, label: str) -> None:
        errors = check_fields(spec.fields, record, self.exists, only=changed)
        for rule in spec.rules:
            errors.extend(rule(record))
        if errors:
            detail = "; ".join(message for _, message in errors)
            raise _fail(400, f"Validation failed for {spec.name} {label}: {detail}", label)

    def create(self, spec: HubSpec, body: Any, user: str) -> dict[str, Any]:
        values = self._check_body(spec, body)
        key = values.get(spec.key)
        if key in (None, ""):
            key = None
        elif not isinstance(key, str):
            raise _fail(400, f"{spec.key} must be a string", spec.key)
        elif spec.key_kind == "hex" and not HEX32.match(key):
            raise _fail(400, f"{spec.key} must be 32 hexadecimal characters, got {key!r}", spec.key)
        elif len(key) > spec.key_max_len:
            raise _fail(400, f"{spec.key} is longer than {spec.key_max_len} characters ({len(key)})", spec.key)
        if spec.name == "project" and values.get("WBS2"):
            return self._create_wbs(spec, key, values, user)
        if values.get("WBS3"):
            raise _fail(400, "WBS3 needs a WBS2: a task belongs to a phase", "WBS3")
        if key is not None and self.exists(spec.name, key):
            raise _fail(400, f"Duplicate key: {spec.name} {key!r} already exists", f"{spec.key} {key}")
        record = self._with_defaults(spec, values)
        label = repr(key) if key else f"(new, Name {values.get('Name', values.get('LastName'))!r})"
        self._validate(spec, record, None, label)
        record[spec.key] = key or self._new_key(spec)
        stamp = self.clocks[spec.name].stamp()
        record.update(CreateUser=user, CreateDate=stamp, ModUser=user, ModDate=stamp)
        return self.tables[spec.name].put(record)

    def _create_wbs(self, spec: HubSpec, wbs1: str | None, values: dict[str, Any], user: str) -> dict[str, Any]:
        """A phase (WBS2) or task (WBS3) row under an existing project (and phase)."""
        if not wbs1:
            raise _fail(400, "A phase or task row needs the WBS1 of its project", "WBS1")
        parent = self.get(spec, wbs1)
        row = self._with_defaults(spec, values)
        label = f"{wbs1!r} / {row['WBS2']!r}" + (f" / {row['WBS3']!r}" if row["WBS3"] else "")
        if row["WBS3"] and not self.wbs.exists(_wbs_id({**row, "WBS3": ""})):
            raise _fail(400, f"Phase {row['WBS2']!r} of project {wbs1!r} does not exist", "WBS2")
        if self.wbs.exists(_wbs_id(row)):
            raise _fail(400, f"Duplicate key: project {label} already exists", f"WBS1 {wbs1}")
        self._validate(spec, row, None, label)
        stamp = self.clocks[spec.name].stamp()
        row.update(CreateUser=user, CreateDate=stamp, ModUser=user, ModDate=stamp, _id=_wbs_id(row))
        self.wbs.put(row)
        if parent.get("SubLevel") != "Y":
            self.tables[spec.name].put({**parent, "SubLevel": "Y", "ModUser": user, "ModDate": stamp})
        return {k: v for k, v in row.items() if k != "_id"}

    def update(self, spec: HubSpec, key: str, body: Any, user: str) -> dict[str, Any]:
        grid_names = set(GRID_BY_BODY_NAME) if spec.name == "project" else set()
        values = self._check_body(spec, body, grid_names)
        record = self.get(spec, key)
        key = record[spec.key]
        if values.get(spec.key, key) != key:
            raise _fail(400, f"{spec.key} cannot be changed ({key!r} -> {values[spec.key]!r})", spec.key)
        for level in ("WBS2", "WBS3"):
            if values.get(level):
                raise _fail(400, f"{level} cannot be set: PUT /project/{{WBS1}} updates the project row", level)
        grid_writes = [(GRID_BY_BODY_NAME[n.lower()], v) for n, v in values.items() if n.lower() in grid_names]
        changes = {n: v for n, v in values.items() if n in spec.fields}
        record.update(changes)
        self._validate(spec, record, set(changes), repr(key))
        stamp = self.clocks[spec.name].stamp()
        # Check every grid row before writing any, so a bad row leaves the project untouched.
        planned = [self._plan_grid(grid, key, rows, stamp) for grid, rows in grid_writes]
        for grid, (puts, deletes) in zip((g for g, _ in grid_writes), planned):
            table = self.grids[grid.table]
            table.put_many(puts)
            for row_id in deletes:
                table.delete(row_id)
        record.update(ModUser=user, ModDate=stamp)
        return self.tables[spec.name].put(record)

    def delete(self, spec: HubSpec, key: str) -> None:
        key = self.get(spec, key)[spec.key]
        self.tables[spec.name].delete(key)
        if spec.name == "project":
            for table in (self.wbs, *self.grids.values()):
                for row in [r for r in table.all() if r["WBS1"] == key]:
                    table.delete(row["_id"])

    # --- project sub-grids ------------------------------------------------------------------------------

    def grid_rows(self, grid: GridSpec, wbs1: str) -> list[dict[str, Any]]:
        wbs1 = self.get(HUBS["project"], wbs1)["WBS1"]
        out = []
        for row in self.grids[grid.table].all():
            if row["WBS1"] != wbs1:
                continue
            row = {k: v for k, v in row.items() if k != "_id"}
            if "ClientName" in grid.derived:
                row["ClientName"] = (self.tables["firm"].peek(row["ClientID"]) or {}).get("Name") or ""
            out.append(row)
        if grid.name == "teammember":  # the mixed team: its contacts, then the employee grid's rows
            employees = [{k: v for k, v in r.items() if k != "_id"}
                         for r in self.grids[GRIDS["employee"].table].all() if r["WBS1"] == wbs1]
            return teammember_rows(out, employees, self.tables["contact"], self.tables["employee"])
        return out

    def _new_grid_row(self, grid: GridSpec, wbs1: str, row_key: str) -> dict[str, Any]:
        row: dict[str, Any] = {grid.row_id: secrets.token_hex(16).upper(), "WBS1": wbs1, grid.row_key: row_key}
        row.update({name: spec.default for name, spec in grid.fields.items()})
        if grid.ref == "firm":
            # A firm's roles on a project start as the firm's own client/vendor flags.
            firm = self.tables["firm"].get(row_key) or {}
            row["ClientInd"] = firm.get("ClientInd") or "Y"
            row["VendorInd"] = firm.get("VendorInd") or "N"
        row["_id"] = f"{wbs1}|{row_key}"
        return row

    def _grid_row_of(self, grid: GridSpec, wbs1: str, row: dict[str, Any], label: str) -> tuple[str, Any]:
        """The row's store id, from its row key or (for U/D rows) its own id."""
        row_key = self._normal_ref(grid.ref, row.get(grid.row_key))
        if isinstance(row_key, str) and row_key:
            return f"{wbs1}|{row_key}", row_key
        row_id = row.get(grid.row_id)
        if row.get("_transType", "").upper() != "I" and isinstance(row_id, str) and row_id:
            for stored in self.grids[grid.table].all():
                if stored["WBS1"] == wbs1 and str(stored.get(grid.row_id, "")).upper() == row_id.upper():
                    return stored["_id"], stored[grid.row_key]
            raise _fail(400, f"{label}: {grid.row_id} {row_id!r} is not on the project", grid.row_id)
        raise _fail(400, f"{label}: {grid.row_key} is required", grid.row_key)

    def _plan_grid(self, grid: GridSpec, wbs1: str, rows: Any, stamp: str) -> tuple[list[dict[str, Any]], list[str]]:
        where = f"{grid.body_name} of project {wbs1!r}"
        if not isinstance(rows, list):
            raise _fail(400, f"{where} must be an array of rows", grid.body_name)
        table = self.grids[grid.table]
        puts: dict[str, dict[str, Any]] = {}
        deletes: list[str] = []
        accepted = {grid.row_key, grid.row_id, "_transType", "_originalValues", "WBS1", *grid.derived}
        for index, row in enumerate(rows):
            label = f"{where}, row {index}"
            if not isinstance(row, dict):
                raise _fail(400, f"{label} must be an object", grid.body_name)
            trans = str(row.get("_transType", "")).upper()
            if trans not in ("I", "U", "D"):
                raise _fail(400, f"{label}: _transType must be I, U or D", "_transType")
            unknown = [n for n in row if n not in grid.fields and n not in accepted]
            if unknown:
                raise _fail(400, f"{label}: unknown field(s) {', '.join(unknown)}", ", ".join(unknown))
            if row.get("WBS1") not in (None, "", wbs1):
                raise _fail(400, f"{label}: WBS1 {row['WBS1']!r} is not this project", "WBS1")
            row_id, row_key = self._grid_row_of(grid, wbs1, row, label)
            current = puts.get(row_id) or table.get(row_id)
            if row_id in deletes:
                current = None
            if trans == "I":
                if current is not None:
                    raise _fail(400, f"{label}: {grid.row_key} {row_key!r} is already on the project", grid.row_key)
                if not self.exists(grid.ref, row_key):
                    raise _fail(400, f"{label}: {grid.row_key} {row_key!r} does not exist in {grid.ref}", grid.row_key)
                current = self._new_grid_row(grid, wbs1, row_key)
            elif current is None:
                raise _fail(400, f"{label}: {grid.row_key} {row_key!r} is not on the project", grid.row_key)
            if trans == "D":
                puts.pop(row_id, None)
                deletes.append(row_id)
                continue
            changes = self._normalise(grid.fields, {n: v for n, v in row.items() if n in grid.fields})
            current.update(changes)
            errors = check_fields(grid.fields, current, self.exists, only=set(changes))
            if errors:
                raise _fail(400, f"{label}: " + "; ".join(m for _, m in errors), ", ".join(f for f, _ in errors))
            if grid.stamped:
                current["ModDate"] = stamp
            if row_id in deletes:
                deletes.remove(row_id)
            puts[row_id] = current
        return list(puts.values()), deletes


def _wbs_id(row: dict[str, Any]) -> str:
    return f"{row['WBS1']}|{row['WBS2']}|{row['WBS3']}"


class _BufferedBody:
    """Read the whole request body before the fault middleware can hang the request.

    A client whose read timeout fires during an injected hang has disconnected by the time the handler
    runs; without the body read up front the handler would fail and the write silently not happen. A real
    server that has the request does the write and only the answer is lost, which is the case a client
    must handle (``AmbiguousWriteError``), so the simulator makes that the deterministic outcome.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away before sending everything: nothing to replay
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        async def send_if_connected(message: Message) -> None:
            # The client gave up waiting (an injected hang): the work is done, the answer is lost.
            with contextlib.suppress(OSError):
                await send(message)

        await self.app(scope, replay, send_if_connected)


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(
    db_path: str = ":memory:",
    faults: FaultConfig | None = None,
    seed: dict[str, list[dict[str, Any]]] | None = None,
    settings: dict[str, Any] | None = None,
) -> FastAPI:
    unknown = set(settings or {}) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown Vantagepoint simulator settings: {sorted(unknown)}")
    config = {**DEFAULT_SETTINGS, **(settings or {})}
    sim = VantagepointSim(Database(db_path), config)
    if seed and sim.is_empty():
        sim.load_seed(seed)

    app = FastAPI(title="Vantagepoint simulator", openapi_url=None, docs_url=None, redoc_url=None)
    injector = FaultInjector(faults)
    install(app, injector, sim.sessions.expire_all)
    # Added after install() so it wraps the fault middleware: see _BufferedBody.
    app.add_middleware(_BufferedBody)
    app.state.sim = sim
    app.state.injector = injector

    @app.exception_handler(ApiFailure)
    async def _api_failure(_: Request, exc: ApiFailure) -> Response:
        return _json_response(exc.body, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Deltek answers an unknown path (or a verb a path does not take) with 404.
        status = 404 if exc.status_code in (404, 405) else exc.status_code
        message = "Unknown path" if status == 404 else str(exc.detail)
        return _json_response({"Message": message, "Detail": f"{request.method} {request.url.path}"}, status)

    def authorize(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        user = sim.sessions.user_of(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise ApiFailure(401, dict(SESSION_INVALID))
        return user

    def hub_spec(hub: str) -> HubSpec:
        spec = HUBS.get(hub)
        if spec is None:
            raise _fail(404, "Unknown path", f"/api/{hub}")
        return spec

    async def json_body(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"null")
        except ValueError:
            raise _fail(400, "The request body is not valid JSON") from None

    def list_records(spec: HubSpec, pairs: list[tuple[str, str]]) -> Response:
        try:
            query = parse_list_query(pairs, spec)
        except QueryError as exc:
            raise _fail(400, str(exc)) from None
        return _json_response(query.project(sim.present(spec, query.run(sim.rows(spec))), spec.key))

    def echoed(spec: HubSpec, record: dict[str, Any], request: Request) -> dict[str, Any]:
        """The saved record as a POST/PUT answers it: a ``fieldFilter`` in the query limits it, as on a GET."""
        pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k.lower() == "fieldfilter"]
        try:
            query = parse_list_query(pairs, spec)
        except QueryError as exc:
            raise _fail(400, str(exc)) from None
        [shown] = query.project(sim.present(spec, [record]), spec.key)
        return shown

    def permit(verb: str, spec: HubSpec) -> None:
        if f"{verb} {spec.name}" in config["denied"]:
            action = {"GET": "read", "POST": "add", "PUT": "update", "DELETE": "delete"}[verb]
            raise _fail(403, f"You do not have {action} access to {spec.name}", spec.name)

    @app.post("/api/token")
    async def token(request: Request) -> Response:
        injector.count("POST /api/token")
        form = {k.lower(): v for k, v in parse_qsl((await request.body()).decode("utf-8", "replace"))}
        grant = form.get("grant_type", "")

        def oauth_error(error: str, description: str) -> Response:
            return _json_response({"error": error, "error_description": description}, 400)

        if form.get("client_id") != config["client_id"] or form.get("client_secret") != config["client_secret"]:
            return oauth_error("invalid_client", "The client id or client secret is not valid")
        if grant == "password":
            if form.get("username") != config["username"] or form.get("password") != config["password"]:
                return oauth_error("invalid_grant", "The user name or password is incorrect")
            if form.get("database") != config["database"]:
                return oauth_error("invalid_grant", "The database is not valid")
            return _json_response(sim.sessions.issue(config["username"]))
        if grant == "refresh_token":
            user = sim.sessions.redeem_refresh(form.get("refresh_token", ""))
            if user is None:
                return oauth_error("invalid_grant", "The refresh token is invalid or expired")
            return _json_response(sim.sessions.issue(user))
        return oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    @app.get("/api/{hub}")
    async def list_hub(hub: str, request: Request) -> Response:
        injector.count(f"GET /api/{hub}")
        authorize(request)
        spec = hub_spec(hub)
        permit("GET", spec)
        return list_records(spec, parse_qsl(request.url.query, keep_blank_values=True))

    @app.post("/api/{hub}")
    async def create_record(hub: str, request: Request) -> Response:
        injector.count(f"POST /api/{hub}")
        user = authorize(request)
        spec = hub_spec(hub)
        if request.headers.get("dvp-postasget", "").lower() == "true":
            # The long-query form: a GET whose query string did not fit in the URL.
            permit("GET", spec)
            body = (await request.body()).decode("utf-8", "replace")
            pairs = parse_qsl(request.url.query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
            return list_records(spec, pairs)
        permit("POST", spec)
        record = sim.create(spec, await json_body(request), user)
        location = f"{request.base_url}api/{spec.name}/{record[spec.key]}"
        return _json_response(echoed(spec, record, request), 201, {"Location": location})

    @app.get("/api/{hub}/{key}")
    async def get_record(hub: str, key: str, request: Request) -> Response:
        injector.count(f"GET /api/{hub}")
        authorize(request)
        spec = hub_spec(hub)
        permit("GET", spec)
        # Employees may be addressed as "Employee|Company"; the simulator keys on the code alone.
        record = sim.get(spec, key.split("|")[0] if spec.name == "employee" else key)
        return _json_response(sim.present(spec, [record]))

    @app.put("/api/{hub}/{key}")
    async def update_record(hub: str, key: str, request: Request) -> Response:
        injector.count(f"PUT /api/{hub}")
        user = authorize(request)
        spec = hub_spec(hub)
        permit("PUT", spec)
        return _json_response(echoed(spec, sim.update(spec, key, await json_body(request), user), request))

    @app.delete("/api/{hub}/{key}")
    async def delete_record(hub: str, key: str, request: Request) -> Response:
        injector.count(f"DELETE /api/{hub}")
        authorize(request)
        spec = hub_spec(hub)
        permit("DELETE", spec)
        sim.delete(spec, key)
        return _json_response({"Message": f"{spec.name} {key!r} deleted"})

    @app.get("/api/{hub}/{key}/{grid}")
    async def get_grid(hub: str, key: str, grid: str, request: Request) -> Response:
        injector.count(f"GET /api/{hub}")
        authorize(request)
        spec = hub_spec(hub)
        permit("GET", spec)
        grid_spec = GRIDS.get(grid.lower()) if spec.name == "project" else None
        if grid_spec is None or grid_spec.name != grid:
            raise _fail(404, "Unknown path", f"/api/{hub}/{{key}}/{grid}")
        return _json_response(sim.grid_rows(grid_spec, key))

    return app
