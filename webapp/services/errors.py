"""Errors the services raise on purpose; each carries its facts and a one-line message.

The class names are the API's vocabulary (not_found, conflict, ...), hence no Error suffix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class ServiceError(Exception):
    """Base of every refusal by a service; ``code`` is stable for API clients."""

    code = "error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFound(ServiceError):  # noqa: N818
    """Something named does not exist (or is not visible to the caller)."""

    code = "not_found"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what} does not exist")


class AlreadyExists(ServiceError):  # noqa: N818
    """Something with the same identity is already there."""

    code = "already_exists"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what} already exists")


class Invalid(ServiceError):  # noqa: N818
    """The input breaks a rule; ``details`` holds per-field facts when there are any."""

    code = "invalid"

    def __init__(self, message: str, details: Any = None) -> None:
        self.details = details
        super().__init__(message)


class Forbidden(ServiceError):  # noqa: N818
    """The acting user may not do this."""

    code = "forbidden"


class Conflict(ServiceError):  # noqa: N818
    """Someone else changed the thing first; reload and try again."""

    code = "conflict"


class TooSoon(ServiceError):  # noqa: N818
    """Done too recently to be done again yet; ``retry_at`` says when it may be."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(message)
