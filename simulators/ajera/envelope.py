"""The Ajera answer envelope and how a call fails, shared by the simulator's modules."""

from __future__ import annotations

import uuid
from typing import Any

INVALID_DATA = "One or more properties contain invalid data"
SUCCESS = "Success"
SUCCESS_WITH_ERRORS = "Success with errors"
TRANSACTION_REFUSED = "One or more records were refused; no changes were saved"


class ApiFailure(Exception):
    def __init__(self, code: int, message: str, errors: list[str] | None = None, content: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or []
        self.content = content


Answer = tuple[str, list[str], Any]  # (message, errors, content) of a call that was carried out


def envelope(code: int, message: str, errors: list[str], content: Any) -> dict[str, Any]:
    return {
        "ResponseCode": code,
        "Message": message,
        "Errors": [{"ErrorID": -i, "ErrorMessage": text} for i, text in enumerate(errors, start=1)],
        "Content": content if content is not None else {},
        "UsageKey": str(uuid.uuid4()),
    }


def invalid(errors: list[str]) -> ApiFailure:
    return ApiFailure(400, INVALID_DATA, errors)


def answer(errors: list[str], content: Any) -> Answer:
    return (SUCCESS_WITH_ERRORS if errors else SUCCESS), errors, content
