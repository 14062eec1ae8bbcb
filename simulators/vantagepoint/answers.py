"""Error and JSON answers of the Vantagepoint simulator."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

SESSION_INVALID = {"Message": "Session is invalid or timed out"}


class ApiFailure(Exception):
    """Raised inside a handler to answer with ``status`` and a JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("Message"))
        self.status = status
        self.body = body


def fail(status: int, message: str, detail: str | None = None) -> ApiFailure:
    """An error answer: ``{"Message": ..., "Detail": ...}`` (the reference's message/detail pair, see
    docs/simulator-contract.md for the casing chosen); ``Detail`` names the record or field concerned."""
    body: dict[str, Any] = {"Message": message}
    if detail:
        body["Detail"] = detail
    return ApiFailure(status, body)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)
