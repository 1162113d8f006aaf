"""The one place where errors become HTTP: ``{"error": {"code", "message", "details"}}``.

Refusals by the services (``ServiceError``), engine errors that reach a view, validation
errors of marshmallow/webargs and every werkzeug HTTP error get their status and shape here.
Anything else is a bug: it is logged with its traceback and answered with a plain 500.
Pages outside ``/api/`` keep Flask's own error pages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine import Conflict as EngineConflict
from engine import (
    EngineError,
    FormDataInvalid,
    InvalidProcess,
    NotWaiting,
    Problem,
    TaskNotOpen,
)
from webapp.services.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    TooSoon,
)
from webapp.services.tokens import Unauthenticated

API_PREFIXES = ("/api/", "/healthz")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

SERVICE_STATUS: dict[type[ServiceError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    AlreadyExists: 409,
    Conflict: 409,
    Invalid: 422,
    TooSoon: 429,
}


class ApiError(Exception):
    """An error a view raises with its status, code and details (e.g. a bad cursor)."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 details: Any = None) -> None:
        self.status = status
        self.code = code or HTTP_CODES.get(status, "error")
        self.message = message
        self.details = details
        super().__init__(message)


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    """Return the JSON error body with ``status``."""
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(InvalidProcess, _invalid_process)
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(StaleDataError, _stale_data)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _is_api_request() -> bool:
    return request.path.startswith(API_PREFIXES)


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _service_error(exc: ServiceError) -> Response:
    status = next((s for cls, s in SERVICE_STATUS.items() if isinstance(exc, cls)), 422)
    details = field_details(exc.details) if isinstance(exc, Invalid) else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooSoon):
        details = {"retry_at": exc.retry_at.isoformat()}
        headers = {"Retry-After": str(_seconds_until(exc.retry_at))}
    return error_response(status, exc.code, exc.message, details, headers)


def _seconds_until(moment: datetime) -> int:
    return max(1, math.ceil((moment - datetime.now(UTC)).total_seconds()))


def problem_item(problem: Problem) -> dict[str, Any]:
    """A deploy problem or warning as the API shows it; ``file`` when the deploy had several,
    ``code`` and ``params`` (its facts) when the engine names its kind, for clients that word
    it in their user's language. ``message`` stays the engine's English."""
    item: dict[str, Any] = {"element_id": problem.element_id, "line": problem.line,
                            "message": problem.message}
    if problem.file:
        item["file"] = problem.file
    if problem.code:
        item["code"] = problem.code
        item["params"] = problem.facts
    return item


def _invalid_process(exc: InvalidProcess) -> Response:
    details = [problem_item(p) for p in exc.problems]
    return error_response(422, "invalid_process",
                          f"the procedure has {len(details)} problem(s); nothing was deployed",
                          details)


def _engine_error(exc: EngineError) -> Response:
    # the services translate these already; this keeps a stray one from becoming a 500
    if isinstance(exc, FormDataInvalid):
        return error_response(422, "invalid", "the form has errors", field_details(exc.errors))
    if isinstance(exc, TaskNotOpen | EngineConflict):
        return error_response(409, "conflict", str(exc))
    if isinstance(exc, NotWaiting):
        return error_response(404, "not_found", str(exc))
    return error_response(422, "invalid", str(exc))


def _validation_error(exc: ValidationError) -> Response:
    return error_response(422, "invalid", "the request has errors", field_details(exc.messages))


def _stale_data(_exc: StaleDataError) -> Response:
    return error_response(409, "conflict", "the application was changed by someone else; reload it")


def _database_unavailable(exc: OperationalError) -> HTTPException | Response:
    # the database is down, unreachable or too busy: nothing the client did wrong
    reason = (str(exc.orig or exc).strip().splitlines() or ["no details"])[0]
    current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path,
                             reason)
    if not _is_api_request():
        return InternalServerError(original_exception=exc)
    return error_response(503, "unavailable", "the database is unavailable; retry in a moment",
                          headers={"Retry-After": "5"})


def _http_error(exc: HTTPException) -> HTTPException | Response:
    if not _is_api_request():
        return exc
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    if "messages" in data:  # webargs: {location: {field: [messages]}}
        return error_response(status, HTTP_CODES.get(status, "error"), "the request has errors",
                              field_details(_strip_locations(data["messages"])))
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("retry-after", "allow")}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(status, HTTP_CODES.get(status, "error"), _message(exc), None, headers)


def _unexpected(exc: Exception) -> HTTPException | Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # a genuine bug: log it with its traceback, tell the client nothing internal
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if not _is_api_request():
        return InternalServerError(original_exception=exc)
    return error_response(500, "internal_error", "something went wrong on our side; it was logged")


def _message(exc: HTTPException) -> str:
    description = exc.description or exc.name
    return description.split("\n")[0].strip()


def _strip_locations(messages: Any) -> Any:
    if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "form", "files",
                                                           "headers", "view_args", "path"}:
        merged: dict[str, Any] = {}
        for location, inner in messages.items():
            if isinstance(inner, Mapping):
                merged.update(inner)
            else:
                merged[location] = inner
        return merged
    return messages


def field_details(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten nested ``{field: [messages]}`` into ``[{"field", "message"}]``, one per problem."""
    if messages is None:
        return []
    if isinstance(messages, Mapping):
        found: list[dict[str, str]] = []
        for key, inner in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            found.extend(field_details(inner, name))
        return found
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return [{"field": prefix or "(body)", "message": m} for m in messages]
        found = []
        for inner in messages:
            found.extend(field_details(inner, prefix))
        return found
    return [{"field": prefix or "(body)", "message": str(messages)}]
