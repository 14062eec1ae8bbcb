"""The pages: server-rendered HTML over ``include.sync.review``, mounted by the Airflow API server.

Every route depends on ``access.reader`` or ``access.editor``: the plugin app gets no protection from
Airflow by itself. Actions are plain HTML form posts that answer with a redirect back to the page (303),
so the pages work without JavaScript inside the Airflow UI's frame.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ajera_crm.hooks import sync_database
from ajera_crm.ui.access import SYNC_DAG_ID, LoginRequired, Reviewer, editor, login_url, reader
from include.sync import record_types, review
from include.sync.db import SyncDatabase
from include.sync.enums import SuggestionStatus

HERE = Path(__file__).resolve().parent
TABS = ("mappings", "suggestions", "conflicts", "quarantine", "backlog", "history")
SUGGESTION_STATUSES: tuple[SuggestionStatus, ...] = get_args(SuggestionStatus)

app = FastAPI(title="Ajera-CRM sync pages", docs_url=None, redoc_url=None, openapi_url=None)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
templates = Jinja2Templates(directory=HERE / "templates")


@lru_cache(maxsize=1)
def _database() -> SyncDatabase:
    """One engine for the API server's life (the connection is read once; restart to change it)."""
    db = sync_database()
    db.create_schema()  # idempotent; the review tables may be newer than the last sync run
    return db


def database() -> SyncDatabase:
    return _database()


@app.exception_handler(LoginRequired)
async def _to_login(request: Request, _exc: LoginRequired) -> Response:
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(login_url(str(request.url)), status_code=303)
    return JSONResponse({"detail": "not signed in to Airflow"}, status_code=401)


@app.exception_handler(review.ReviewError)
async def _refused(request: Request, exc: review.ReviewError) -> Response:
    return _render(request, "refused.html", None, {"message": str(exc)}, status_code=exc.status)


def _render(request: Request, template: str, user: Reviewer | None, context: dict[str, Any],
            status_code: int = 200) -> HTMLResponse:
    base = request.scope.get("root_path", "")

    def link(path: str, **query: Any) -> str:
        clean = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{base}{path}" + (f"?{urlencode(clean)}" if clean else "")

    return templates.TemplateResponse(request, template, {
        "base": base, "link": link, "user": user, "record_types": record_types.ORDER,
        "done": request.query_params.get("done"), **context,
    }, status_code=status_code)


def _page(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


# --- Integration Log ------------------------------------------------------------------------------------


@app.get("/", include_in_schema=False)
def _home(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/log", status_code=307)


@app.get("/log", response_class=HTMLResponse)
def log_page(request: Request, page: str | None = None, user: Reviewer = Depends(reader),
             db: SyncDatabase = Depends(database)) -> HTMLResponse:
    return _render(request, "log.html", user,
                   {"runs": review.runs(db, _page(page)), "review_run": review.REVIEW_RUN_ID})


def _filters(record_type: str | None, action: str | None, direction: str | None, q: str | None) -> review.LogFilter:
    return review.LogFilter(record_type=record_type, action=action, direction=direction, text=q)


@app.get("/log/run", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, dag_id: str | None = None, record_type: str | None = None,
             action: str | None = None, direction: str | None = None, q: str | None = None, page: str | None = None,
             user: Reviewer = Depends(reader), db: SyncDatabase = Depends(database)) -> HTMLResponse:
    if dag_id and dag_id != SYNC_DAG_ID:
        return _render(request, "refused.html", user, {"message": f"{dag_id} is not the Ajera-CRM sync; its runs "
                                                       "have no integration log."}, status_code=404)
    filters = _filters(record_type, action, direction, q)
    run = review.get_run(db, run_id)
    if run is None and run_id != review.REVIEW_RUN_ID:
        return _render(request, "refused.html", user, {"message": f"no sync run {run_id!r} (it may not have "
                                                       "started its first task yet)"}, status_code=404)
    return _render(request, "run.html", user, {
        "run_id": run_id, "run": run, "filters": filters, "facets": review.log_facets(db, run_id),
        "entries": review.run_log(db, run_id, filters, _page(page)),
    })


@app.get("/log/run.csv")
def run_csv(run_id: str, record_type: str | None = None, action: str | None = None, direction: str | None = None,
            q: str | None = None, user: Reviewer = Depends(reader), db: SyncDatabase = Depends(database)) -> Response:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in run_id)
    return StreamingResponse(review.log_csv(db, run_id, _filters(record_type, action, direction, q)),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="integration-log-{safe}.csv"'})


# --- Sync Details -----------------------------------------------------------------------------------------


@app.get("/details", response_class=HTMLResponse)
def details_page(request: Request, tab: str = "mappings", record_type: str | None = None, q: str | None = None,
                 status: str | None = None, page: str | None = None,
                 user: Reviewer = Depends(reader), db: SyncDatabase = Depends(database)) -> HTMLResponse:
    tab = tab if tab in TABS else "mappings"
    record_type = record_type if record_type in record_types.ORDER else None
    number = _page(page)
    context: dict[str, Any] = {"tab": tab, "record_type": record_type, "q": q or ""}
    if tab == "mappings":
        record_type = record_type or record_types.ORDER[0]
        context.update(record_type=record_type, counts=review.mapping_counts(db),
                       rows=review.mappings(db, record_type, q, number))
    elif tab == "suggestions":
        status = status if status in SUGGESTION_STATUSES or status == "all" else "proposed"
        context.update(status=status, statuses=SUGGESTION_STATUSES,
                       rows=review.suggestions(db, record_type, None if status == "all" else status, number))
    elif tab == "conflicts":
        context.update(rows=review.open_conflicts(db, record_type, number),
                       decisions=review.decisions(db, record_type))
    elif tab == "quarantine":
        context.update(rows=review.quarantined(db, record_type, number), poison=review.poison(db, record_type))
    elif tab == "backlog":
        context.update(rows=review.backlog(db, record_type, number))
    else:
        context.update(history=review.audit_trail(db, 100))
    return _render(request, "details.html", user, context)


def _back(request: Request, tab: str, message: str) -> RedirectResponse:
    """Back to the tab the action came from (its filters kept), with what was done."""
    query = {k: v for k, v in request.query_params.items() if k in ("record_type", "status", "page", "q")}
    query.update(tab=tab, done=message)
    return RedirectResponse(f"{request.scope.get('root_path', '')}/details?{urlencode(query)}", status_code=303)


@app.post("/suggestions/{suggestion_id}/accept")
def accept_suggestion(request: Request, suggestion_id: int, user: Reviewer = Depends(editor),
                      db: SyncDatabase = Depends(database)) -> Response:
    return _back(request, "suggestions", review.accept_suggestion(db, suggestion_id, user.name))


@app.post("/suggestions/{suggestion_id}/reject")
def reject_suggestion(request: Request, suggestion_id: int, user: Reviewer = Depends(editor),
                      db: SyncDatabase = Depends(database)) -> Response:
    return _back(request, "suggestions", review.reject_suggestion(db, suggestion_id, user.name))


@app.post("/conflicts/{conflict_id}/resolve")
def resolve_conflict(request: Request, conflict_id: int, take: str = Form(...), user: Reviewer = Depends(editor),
                     db: SyncDatabase = Depends(database)) -> Response:
    return _back(request, "conflicts", review.resolve_conflict(db, conflict_id, take, user.name))


@app.post("/quarantine/{quarantine_id}/retry")
def retry_quarantined(request: Request, quarantine_id: int, user: Reviewer = Depends(editor),
                      db: SyncDatabase = Depends(database)) -> Response:
    return _back(request, "quarantine", review.retry_quarantined(db, quarantine_id, user.name))


@app.post("/poison/retry")
def retry_poison(request: Request, record_type: str = Form(...), system: str = Form(...),
                 record_key: str = Form(...), user: Reviewer = Depends(editor),
                 db: SyncDatabase = Depends(database)) -> Response:
    if record_type not in record_types.ORDER:
        return PlainTextResponse(f"unknown record type {record_type!r}", status_code=422)
    return _back(request, "quarantine", review.retry_poison(db, record_type, system, record_key, user.name))
