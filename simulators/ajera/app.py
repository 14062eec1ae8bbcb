"""FastAPI app of the Ajera API simulator (see docs/simulator-contract.md, "Ajera")."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from simulators.ajera import admin
from simulators.ajera.service import AjeraService
from simulators.faults import FaultConfig, FaultInjector, install
from simulators.store import Database


def create_app(
    db_path: str = ":memory:",
    faults: FaultConfig | None = None,
    seed: dict[str, list[dict[str, Any]]] | None = None,
    settings: dict[str, Any] | None = None,
) -> FastAPI:
    db = Database(db_path)
    injector = FaultInjector(faults)
    service = AjeraService(db, settings=settings, seed=seed, count=injector.count)
    app = FastAPI(title="Ajera API simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.injector = injector
    app.state.db = db
    install(app, injector, service.expire_sessions)

    @app.post("/AjeraAPI.ashx")
    async def ajera_api(request: Request) -> JSONResponse:
        body = await request.body()
        # The handler is synchronous and takes the database lock, so keep it off the event loop: an
        # injected hang (an async sleep in the fault middleware) must never stall other requests.
        answer = await run_in_threadpool(service.handle, request.url.query, body)
        return JSONResponse(answer)

    @app.post("/_sim/timesheets")
    async def enter_time(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            row = admin.enter_time(service, int(body["EmployeeKey"]), int(body["ProjectKey"]), str(body["Date"]),
                                   float(body["Hours"]))
        except (KeyError, LookupError, ValueError) as exc:
            return JSONResponse({"Message": str(exc)}, status_code=400)
        return JSONResponse(row)

    @app.post("/_sim/resources")
    async def add_resource(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            row = admin.add_resource(service, int(body.pop("ProjectKey")), body)
        except (KeyError, LookupError, ValueError) as exc:
            return JSONResponse({"Message": str(exc)}, status_code=400)
        return JSONResponse(row)

    @app.post("/_sim/project_contacts")
    async def set_project_contacts(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            row = admin.set_project_contacts(service, int(body["ProjectKey"]), body.get("Contacts"))
        except (KeyError, LookupError, ValueError, TypeError) as exc:
            return JSONResponse({"Message": str(exc)}, status_code=400)
        return JSONResponse(row)

    return app
