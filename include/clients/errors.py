"""Errors raised by the API clients. Messages never carry passwords or tokens."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A call the server answered with a failure that retrying will not fix."""

    def __init__(self, message: str, *, status: int | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


class TransientApiError(ApiError):
    """A failure worth retrying (5xx, throttling, timeout, connection reset) that outlived its retries."""


class AuthenticationError(ApiError):
    """The credentials were refused; re-authentication cannot help."""


class AmbiguousWriteError(ApiError):
    """A create timed out: it may or may not have happened. Look the record up before trying again."""


class AjeraError(ApiError):
    """The Ajera API answered with ResponseCode != 200."""

    def __init__(self, method: str, response_code: int, message: str, errors: list[dict[str, Any]]) -> None:
        detail = "; ".join(str(e.get("ErrorMessage", e)) for e in errors)
        super().__init__(
            f"Ajera {method} failed ({response_code} {message})" + (f": {detail}" if detail else ""),
            status=response_code,
            details=errors,
        )
        self.method = method
        self.response_code = response_code
        self.errors = errors
