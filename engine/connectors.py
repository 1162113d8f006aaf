"""The HTTP connector: a service task with ``service=http`` calls a REST endpoint.

The engine only describes the call; it never makes it. A service task whose
``camunda:properties`` name the service ``http`` waits, started, like an external task of the
reserved topic :data:`HTTP_TOPIC`; the store's job worker builds the request from the task's
variables (:func:`build_request`), makes the call outside any transaction and completes the
task with the variables the response maps to (:func:`map_response`).

Properties of the task (``camunda:properties``):

``method``
    GET, POST, PUT, PATCH or DELETE (required).
``url``
    An http(s) address (required); ``${expression}`` parts are filled from the variables and
    ``${secret.NAME}`` from the park's secrets. The park's allow-list decides where it may go.
``header.NAME``
    A request header, with the same placeholders (a secret belongs here: ``Bearer ${secret.x}``).
``body``
    An expression whose value is sent as the JSON body (``{"amount": amount}``).
``output.VAR``
    An expression over the response (``status``, ``body``, ``headers``) whose value becomes
    the variable ``VAR``: ``output.payment_id`` = ``body["id"]``.
``errorCode``
    A BPMN error code thrown at the task when the other side refuses the call (an answer of
    4xx that a retry would not change): an error boundary event with that code takes over,
    with the variable ``http_status``.
``timeout``, ``retries``, ``retryBackoff``
    Seconds per attempt (1–60, default 10), how many times a failed call is tried again
    (0–10, default 3) and the first wait before a retry in seconds (1–3600, default 10,
    doubling each time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import EngineError, ExpressionError
from .expressions import compile_expression

HTTP_SERVICE = "http"
HTTP_TOPIC = "parkflow:http"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT, MAX_TIMEOUT = 10, 60
DEFAULT_RETRIES, MAX_RETRIES = 3, 10
DEFAULT_BACKOFF, MAX_BACKOFF = 10, 3600
HEADER_PREFIX, OUTPUT_PREFIX = "header.", "output."
KNOWN = frozenset(
    {"service", "method", "url", "body", "timeout", "retries", "retryBackoff", "errorCode"}
)
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_SECRET = re.compile(r"\s*secret\.([A-Za-z_][A-Za-z0-9_]*)\s*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")


class ConnectorFailed(EngineError):
    """The call cannot be built from the task's variables and the park's secrets."""


@dataclass(frozen=True)
class HttpConfig:
    """What a ``service=http`` task's properties ask for."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    timeout: int = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: int = DEFAULT_BACKOFF
    # thrown as a BPMN error when the other side refuses the call (a final 4xx answer)
    error_code: str | None = None


@dataclass(frozen=True)
class HttpRequest:
    """A call ready to make: the filled-in URL, headers and JSON body (None: no body)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


def is_http(properties: Mapping[str, Any]) -> bool:
    """Whether a task's properties name the HTTP connector."""
    return str(properties.get("service") or "").strip() == HTTP_SERVICE


def config_problems(properties: Mapping[str, str]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(code, English message, facts) for each thing wrong with an HTTP connector's properties."""
    method = (properties.get("method") or "").strip()
    if not method:
        yield (
            "http_without_method",
            f"the HTTP connector needs a 'method' ({', '.join(METHODS)})",
            {"methods": ", ".join(METHODS)},
        )
    elif method.upper() not in METHODS:
        yield (
            "http_bad_method",
            f"method '{method}' is none of {', '.join(METHODS)}",
            {"method": method, "methods": ", ".join(METHODS)},
        )
    url = (properties.get("url") or "").strip()
    if not url:
        yield "http_without_url", "the HTTP connector needs a 'url'", {}
    elif not _URL.fullmatch(url):
        yield "http_bad_url", f"'{url}' is not an http(s) address", {"url": url}
    for name, value in properties.items():
        text = value or ""
        if name in ("url",) or name.startswith(HEADER_PREFIX):
            if name.startswith(HEADER_PREFIX) and not _HEADER_NAME.fullmatch(
                name[len(HEADER_PREFIX) :]
            ):
                header = name[len(HEADER_PREFIX) :]
                yield "http_bad_header", f"'{header}' is not a header name", {"name": header}
            for reason in _template_problems(text):
                yield (
                    "http_bad_expression",
                    f"property '{name}': {reason}",
                    {"property": name, "reason": reason},
                )
        elif name == "body" or name.startswith(OUTPUT_PREFIX):
            if name.startswith(OUTPUT_PREFIX) and not _VARIABLE.fullmatch(
                name[len(OUTPUT_PREFIX) :]
            ):
                output = name[len(OUTPUT_PREFIX) :]
                yield "http_bad_output", f"'{output}' is not a variable name", {"name": output}
            try:
                compile_expression(text)
            except ExpressionError as exc:
                yield (
                    "http_bad_expression",
                    f"property '{name}': {exc.reason}",
                    {"property": name, "reason": exc.reason},
                )
        elif name in ("timeout", "retries", "retryBackoff"):
            bounds = {
                "timeout": (1, MAX_TIMEOUT),
                "retries": (0, MAX_RETRIES),
                "retryBackoff": (1, MAX_BACKOFF),
            }[name]
            if not text.strip().isdigit() or not bounds[0] <= int(text) <= bounds[1]:
                yield (
                    "http_bad_number",
                    f"'{name}' must be a whole number from {bounds[0]} to {bounds[1]}",
                    {"property": name, "low": str(bounds[0]), "high": str(bounds[1])},
                )
        elif name not in KNOWN:
            yield (
                "http_unknown_property",
                f"the HTTP connector has no property '{name}'",
                {"property": name},
            )


def parse_config(properties: Mapping[str, str]) -> HttpConfig:
    """The connector's settings; ConnectorFailed when they are wrong (deploy refuses those)."""
    problems = list(config_problems(properties))
    if problems:
        raise ConnectorFailed("; ".join(message for _code, message, _facts in problems))

    def number(name: str, default: int) -> int:
        return int(properties[name]) if (properties.get(name) or "").strip() else default

    return HttpConfig(
        method=properties["method"].strip().upper(),
        url=properties["url"].strip(),
        headers={
            name[len(HEADER_PREFIX) :]: value or ""
            for name, value in properties.items()
            if name.startswith(HEADER_PREFIX)
        },
        body=properties.get("body") or None,
        outputs={
            name[len(OUTPUT_PREFIX) :]: value or ""
            for name, value in properties.items()
            if name.startswith(OUTPUT_PREFIX)
        },
        timeout=number("timeout", DEFAULT_TIMEOUT),
        retries=number("retries", DEFAULT_RETRIES),
        backoff=number("retryBackoff", DEFAULT_BACKOFF),
        error_code=(properties.get("errorCode") or "").strip() or None,
    )


def build_request(
    config: HttpConfig, variables: Mapping[str, Any], secrets: Mapping[str, str]
) -> HttpRequest:
    """The call the task makes with ``variables``; ConnectorFailed naming what is missing."""
    url = _fill(config.url, variables, secrets, "url", quote=True)
    headers = {
        name: _fill(value, variables, secrets, f"header.{name}")
        for name, value in config.headers.items()
    }
    body = None
    if config.body is not None:
        try:
            value = compile_expression(config.body).evaluate(variables)
            body = json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
        except ExpressionError as exc:
            raise ConnectorFailed(f"the body: {exc}") from exc
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
    headers.setdefault("Accept", "application/json")
    return HttpRequest(config.method, url, headers, body)


def map_response(
    config: HttpConfig, status: int, headers: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    """The variables the response sets: each ``output.VAR`` evaluated over the response."""
    try:
        parsed: Any = json.loads(body) if body.strip() else None
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    scope = {
        "status": status,
        "body": parsed,
        "headers": {name.lower(): value for name, value in headers.items()},
    }
    found: dict[str, Any] = {}
    for variable, source in config.outputs.items():
        try:
            found[variable] = compile_expression(source).evaluate(scope)
        except ExpressionError as exc:
            raise ConnectorFailed(f"output '{variable}': {exc}") from exc
    return found


def secret_names(properties: Mapping[str, str]) -> set[str]:
    """The park secrets a task's URL and headers name."""
    names = set()
    for name, value in properties.items():
        if name == "url" or name.startswith(HEADER_PREFIX):
            for inner in _PLACEHOLDER.findall(value or ""):
                found = _SECRET.fullmatch(inner)
                if found:
                    names.add(found.group(1))
    return names


def _template_problems(text: str) -> Iterator[str]:
    if text.count("${") != len(_PLACEHOLDER.findall(text)):
        yield "a '${' is not closed"
    for inner in _PLACEHOLDER.findall(text):
        if _SECRET.fullmatch(inner):
            continue
        try:
            compile_expression(inner)
        except ExpressionError as exc:
            yield exc.reason


def _fill(
    template: str,
    variables: Mapping[str, Any],
    secrets: Mapping[str, str],
    where: str,
    *,
    quote: bool = False,
) -> str:
    from urllib.parse import quote as url_quote

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        secret = _SECRET.fullmatch(inner)
        if secret:
            name = secret.group(1)
            if name not in secrets:
                raise ConnectorFailed(f"{where}: the park has no secret named '{name}'")
            return str(secrets[name])
        try:
            value = compile_expression(inner).evaluate(variables)
        except ExpressionError as exc:
            raise ConnectorFailed(f"{where}: {exc}") from exc
        text = "" if value is None else str(value)
        return url_quote(text, safe="") if quote else text

    filled = _PLACEHOLDER.sub(one, template)
    if any(char in filled for char in "\r\n"):
        raise ConnectorFailed(f"{where}: a line break is not allowed")
    return filled


__all__ = [
    "HTTP_SERVICE",
    "HTTP_TOPIC",
    "METHODS",
    "ConnectorFailed",
    "HttpConfig",
    "HttpRequest",
    "build_request",
    "config_problems",
    "is_http",
    "map_response",
    "parse_config",
    "secret_names",
]
