"""A stateful simulator of the Vantagepoint REST API (the subset the sync uses): its FastAPI routes.

See docs/simulator-contract.md ("Vantagepoint") for the behaviour this implements. The state and the records'
rules are in ``hub_store`` (and ``grids``), tokens in ``auth``, the error answers in ``answers``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from simulators.credentials import CRM_CLIENT_ID, CRM_CLIENT_SECRET, CRM_DATABASE, PASSWORD, USERNAME
from simulators.faults import FaultConfig, FaultInjector, install
from simulators.store import Database
from simulators.vantagepoint.answers import ApiFailure, fail, json_response
from simulators.vantagepoint.auth import authorize, token_answer
from simulators.vantagepoint.hub_store import VantagepointSim
from simulators.vantagepoint.middleware import BufferedBody
from simulators.vantagepoint.query import QueryError, parse_list_query
from simulators.vantagepoint.schema import GRIDS, HUBS, HubSpec

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


@dataclass
class _Hubs:
    """What the record routes share: the simulator, its settings and the call counter."""

    sim: VantagepointSim
    config: dict[str, Any]
    injector: FaultInjector

    def enter(self, verb: str, hub: str, request: Request) -> tuple[str, HubSpec]:
        """Count the call, check the token, the hub and the user's access; returns the user and the hub."""
        self.injector.count(f"{verb} /api/{hub}")
        user = authorize(request, self.sim.sessions)
        return user, self.hub_spec(hub)

    @staticmethod
    def hub_spec(hub: str) -> HubSpec:
        spec = HUBS.get(hub)
        if spec is None:
            raise fail(404, "Unknown path", f"/api/{hub}")
        return spec

    def list_records(self, spec: HubSpec, pairs: list[tuple[str, str]]) -> Response:
        try:
            query = parse_list_query(pairs, spec)
        except QueryError as exc:
            raise fail(400, str(exc)) from None
        return json_response(query.project(self.sim.present(spec, query.run(self.sim.rows(spec))), spec.key))

    def echoed(self, spec: HubSpec, record: dict[str, Any], request: Request) -> dict[str, Any]:
        """The saved record as a POST/PUT answers it: a ``fieldFilter`` in the query limits it, as on a GET."""
        pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k.lower() == "fieldfilter"]
        try:
            query = parse_list_query(pairs, spec)
        except QueryError as exc:
            raise fail(400, str(exc)) from None
        [shown] = query.project(self.sim.present(spec, [record]), spec.key)
        return shown

    def permit(self, verb: str, spec: HubSpec) -> None:
        if f"{verb} {spec.name}" in self.config["denied"]:
            action = {"GET": "read", "POST": "add", "PUT": "update", "DELETE": "delete"}[verb]
            raise fail(403, f"You do not have {action} access to {spec.name}", spec.name)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise fail(400, "The request body is not valid JSON") from None


def _record_routes(app: FastAPI, hubs: _Hubs) -> None:
    """The hub routes: list (also as POST-as-GET), create, get, update, delete, and a project's grids."""
    sim = hubs.sim

    @app.get("/api/{hub}")
    async def list_hub(hub: str, request: Request) -> Response:
        _, spec = hubs.enter("GET", hub, request)
        hubs.permit("GET", spec)
        return hubs.list_records(spec, parse_qsl(request.url.query, keep_blank_values=True))

    @app.post("/api/{hub}")
    async def create_record(hub: str, request: Request) -> Response:
        user, spec = hubs.enter("POST", hub, request)
        if request.headers.get("dvp-postasget", "").lower() == "true":
            # The long-query form: a GET whose query string did not fit in the URL.
            hubs.permit("GET", spec)
            body = (await request.body()).decode("utf-8", "replace")
            pairs = parse_qsl(request.url.query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
            return hubs.list_records(spec, pairs)
        hubs.permit("POST", spec)
        record = sim.create(spec, await _json_body(request), user)
        location = f"{request.base_url}api/{spec.name}/{record[spec.key]}"
        return json_response(hubs.echoed(spec, record, request), 201, {"Location": location})

    @app.get("/api/{hub}/{key}")
    async def get_record(hub: str, key: str, request: Request) -> Response:
        _, spec = hubs.enter("GET", hub, request)
        hubs.permit("GET", spec)
        # Employees may be addressed as "Employee|Company"; the simulator keys on the code alone.
        record = sim.get(spec, key.split("|")[0] if spec.name == "employee" else key)
        return json_response(sim.present(spec, [record]))

    @app.put("/api/{hub}/{key}")
    async def update_record(hub: str, key: str, request: Request) -> Response:
        user, spec = hubs.enter("PUT", hub, request)
        hubs.permit("PUT", spec)
        return json_response(hubs.echoed(spec, sim.update(spec, key, await _json_body(request), user), request))

    @app.delete("/api/{hub}/{key}")
    async def delete_record(hub: str, key: str, request: Request) -> Response:
        _, spec = hubs.enter("DELETE", hub, request)
        hubs.permit("DELETE", spec)
        sim.delete(spec, key)
        return json_response({"Message": f"{spec.name} {key!r} deleted"})

    @app.get("/api/{hub}/{key}/{grid}")
    async def get_grid(hub: str, key: str, grid: str, request: Request) -> Response:
        _, spec = hubs.enter("GET", hub, request)
        hubs.permit("GET", spec)
        grid_spec = GRIDS.get(grid.lower()) if spec.name == "project" else None
        if grid_spec is None or grid_spec.name != grid:
            raise fail(404, "Unknown path", f"/api/{hub}/{{key}}/{grid}")
        return json_response(sim.grid_rows(grid_spec, key))


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
    # Added after install() so it wraps the fault middleware: see BufferedBody.
    app.add_middleware(BufferedBody)
    app.state.sim = sim
    app.state.injector = injector

    @app.exception_handler(ApiFailure)
    async def _api_failure(_: Request, exc: ApiFailure) -> Response:
        return json_response(exc.body, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Deltek answers an unknown path (or a verb a path does not take) with 404.
        status = 404 if exc.status_code in (404, 405) else exc.status_code
        message = "Unknown path" if status == 404 else str(exc.detail)
        return json_response({"Message": message, "Detail": f"{request.method} {request.url.path}"}, status)

    @app.post("/api/token")
    async def token(request: Request) -> Response:
        injector.count("POST /api/token")
        return token_answer(await request.body(), config, sim.sessions)

    _record_routes(app, _Hubs(sim, config, injector))
    return app
