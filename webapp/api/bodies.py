"""What a request must look like before a view sees it: size, content type and clean JSON.

JSON bodies are parsed strictly: no NaN or Infinity, integers within 64 bits, no NUL
characters or unpaired surrogates (PostgreSQL refuses both in text and jsonb) and at most
``MAX_DEPTH`` levels of nesting. Anything else is a malformed request (400), never a 500 later.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson
from flask import request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from webapp.api.caller import authenticate_request
from webapp.api.errors import ApiError
from webapp.jsontext import LONG_NUMBER

JSON_LIMIT = 1024 * 1024
UPLOAD_LIMIT = 5 * 1024 * 1024
MAX_DEPTH = 32
# endpoints that take BPMN uploads (JSON or multipart) up to UPLOAD_LIMIT
UPLOAD_ENDPOINTS = frozenset({"processes.deploy"})
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class StrictJSONError(json.JSONDecodeError):
    """A body that is JSON but not JSON Parkflow can store."""

    def __init__(self, message: str) -> None:
        # a non-empty document: webargs reads an empty one as "no body at all"
        super().__init__(message, "<body>", 0)


def loads(raw: bytes | str) -> Any:
    """Parse JSON strictly; raises json.JSONDecodeError (a ValueError) when it is not usable.

    orjson parses (it refuses NaN and Infinity, text that is not UTF-8 and unpaired
    surrogates); the walk after it checks what it allows and Parkflow does not. orjson reads
    an integer too long for 64 bits as a float, so a body with such a long run of digits
    anywhere (in a text too, harmlessly) is parsed by the standard library instead, which
    tells integers from floats.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise StrictJSONError("the body is not UTF-8 text") from None
    if LONG_NUMBER.search(text):
        return _slow_loads(text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise StrictJSONError(_reason(exc)) from None
    _check(value, 0)
    return value


def _slow_loads(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_int=_bounded_int,
                           parse_float=_finite_float)
    except RecursionError:
        raise StrictJSONError("the JSON is nested too deeply") from None
    _check(value, 0)
    return value


def _no_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    if len(text) > 20 or not -(2**63) <= (number := int(text)) < 2**63:
        raise StrictJSONError("integers must fit in 64 bits")
    return number


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise StrictJSONError("numbers must be finite")
    return number


def _reason(exc: orjson.JSONDecodeError) -> str:
    if "recursion" in exc.msg:
        return "the JSON is nested too deeply"
    if "surrogate" in exc.msg:
        return "text must not contain NUL characters or unpaired surrogates"
    return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"


def _check(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise StrictJSONError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is str:
        _check_text(value)
    elif kind is dict:
        for key, inner in value.items():
            _check_text(key)
            _check(inner, depth + 1)
    elif kind is list:
        for inner in value:
            _check(inner, depth + 1)
    elif kind is int:
        if not -(2**63) <= value < 2**63:
            raise StrictJSONError("integers must fit in 64 bits")
    elif kind is float and not math.isfinite(value):
        raise StrictJSONError("numbers must be finite")


def _check_text(text: str) -> None:
    if _BAD_TEXT.search(text):
        raise StrictJSONError("text must not contain NUL characters or unpaired surrogates")


class StrictParser(FlaskParser):
    """Webargs parser reading JSON bodies with ``loads``."""

    def _raw_load_json(self, req: Any) -> Any:
        if not req.mimetype or not self.is_json_request(req):
            return super()._raw_load_json(req)
        data = req.get_data(cache=True)
        return loads(data) if data else super()._raw_load_json(req)

    def _handle_invalid_json_error(self, error: Exception, req: Any, *args: Any,
                                   **kwargs: Any) -> Any:
        reason = getattr(error, "msg", None) or str(error)
        raise ApiError(400, f"the body is not valid JSON: {reason}")

    @staticmethod
    def is_json_request(req: Any) -> bool:
        """Tell whether the body is declared JSON."""
        return is_json(req.mimetype)


class ApiBlueprint(Blueprint):  # type: ignore[misc]  # flask-smorest ships no type hints
    """A resource blueprint: callers authenticated, bodies checked, arguments parsed strictly."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate_request)
        self.before_request(check_request)


def is_json(mimetype: str | None) -> bool:
    """Tell whether a media type is JSON (application/json or application/*+json)."""
    if not mimetype:
        return False
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def check_request() -> None:
    """Refuse oversized bodies (413), non-JSON bodies (415) and NUL in the URL (400)."""
    if "\x00" in request.path or any("\x00" in k or "\x00" in v
                                     for k, v in request.args.items(multi=True)):
        raise ApiError(400, "the URL must not contain NUL characters")
    limit = UPLOAD_LIMIT if request.endpoint in UPLOAD_ENDPOINTS else JSON_LIMIT
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the body is larger than {limit // 1024 // 1024} MB")
    if request.method not in _BODY_METHODS or not _has_body():
        return
    if request.endpoint in UPLOAD_ENDPOINTS and request.mimetype == "multipart/form-data":
        return
    if not is_json(request.mimetype):
        raise ApiError(415, "send the body as application/json")


def _has_body() -> bool:
    if request.content_length:
        return True
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def json_body() -> Any:
    """The request body parsed by ``loads``; 400 when it is not usable JSON."""
    try:
        return loads(request.get_data(cache=True))
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc.msg}") from None
