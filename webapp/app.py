"""The Flask application factory."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import api as rest
from webapp import browser_policy, jsontext, ratelimits
from webapp.admin import register_admin
from webapp.api import caller
from webapp.api.errors import register_error_handlers
from webapp.config import ConfigError, Settings
from webapp.extensions import DATABASE_KEY, api, limiter, store
from webapp.pages import register_pages

API_VERSION = "1"
UPLOAD_LIMIT = 5 * 1024 * 1024
DEFAULT_TOKEN_HOURS = 12
# below gunicorn's limit_request_line (8190 with the method and protocol), so that the app,
# not gunicorn, answers an over-long URL: in JSON on the API
MAX_URL_BYTES = 8000
DEFAULT_LOGIN_RATE_LIMIT = "10 per minute"
# several people of one office may share an address; one address trying 30 usernames may not
DEFAULT_LOGIN_ADDRESS_RATE_LIMIT = "20 per minute"


def create_app(settings: Settings | None = None,
               test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the Parkflow web application."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(base_config(settings))
    app.config.from_mapping(config_from_env(os.environ))
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json = FieldOrderJSONProvider(app)
    app.session_interface = PagesOnlySessionInterface()
    trust_proxies(app)
    app.before_request(refuse_long_urls)
    browser_policy.init_app(app)
    store.init_app(app)
    caller.init_app(app)
    share_rate_limits(app)
    limiter.init_app(app)
    api.init_app(app)
    register_error_handlers(app)
    rest.register(api)
    register_pages(app)
    register_admin(app)
    return app


API_PREFIX = "/api/"


class _NoSession(SecureCookieSession):
    """What an API call sees as its session: empty, and never written back."""


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """The pages' signed session cookie; API calls, signed in by bearer token, neither read
    nor write it. The cookie's signer is built once per secret key, not on every request."""

    def __init__(self) -> None:
        self._signers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return _NoSession()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, _NoSession):
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        return browser_policy.cookie_is_secure(app)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._signers.get(key)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is None:
                return None
            self._signers = {key: found}  # a changed key replaces the old signer
        return found


_COMPACT = {"separators": (",", ":")}


class FieldOrderJSONProvider(DefaultJSONProvider):
    """JSON answers keep their fields in the order the API documents them, written by orjson
    (UTF-8, not ASCII escapes); what it does not know (a date, a Decimal) is written as Flask
    writes it. In debug mode Flask's own pretty-printing is kept."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Flask's responses ask for compact separators, which is how orjson writes anyway
        if (kwargs and kwargs != _COMPACT) or self._app.debug:
            return super().dumps(obj, **kwargs)
        # what orjson will not write (an integer beyond 64 bits) Flask writes, just as compact
        return jsontext.dumps(obj, default=self.default,
                              fallback=functools.partial(super().dumps, **kwargs))


def base_config(settings: Settings) -> dict[str, Any]:
    """The configuration every deployment starts from."""
    return {
        "SECRET_KEY": settings.secret_key,
        "PARKFLOW_SETTINGS": settings,
        "PARKFLOW_DATABASE_URL": settings.database_url,
        # the largest body anywhere (BPMN uploads); JSON routes lower it to 1 MB per request
        "MAX_CONTENT_LENGTH": UPLOAD_LIMIT,
        "MAX_FORM_MEMORY_SIZE": UPLOAD_LIMIT,
        "API_TITLE": "Parkflow",
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "components": {"securitySchemes": {"bearerAuth": {"type": "http",
                                                              "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": ratelimits.STORAGE_URI,
        "RATELIMIT_HEADERS_ENABLED": True,
        "PARKFLOW_LOGIN_RATE_LIMIT": DEFAULT_LOGIN_RATE_LIMIT,
        "PARKFLOW_LOGIN_ADDRESS_RATE_LIMIT": DEFAULT_LOGIN_ADDRESS_RATE_LIMIT,
        "PARKFLOW_TOKEN_LIFETIME": DEFAULT_TOKEN_HOURS * 3600,
        "PARKFLOW_TRUSTED_PROXIES": 0,
        "PARKFLOW_SECURE_COOKIES": "auto",
        # a form posted from another site carries no session: no sign-in, no CSRF token
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
    }


def config_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The web settings given in the environment (PARKFLOW_*), checked."""
    found: dict[str, Any] = {}
    if environ.get("PARKFLOW_RATELIMIT_STORAGE_URI"):
        found["RATELIMIT_STORAGE_URI"] = environ["PARKFLOW_RATELIMIT_STORAGE_URI"]
    for name in ("PARKFLOW_LOGIN_RATE_LIMIT", "PARKFLOW_LOGIN_ADDRESS_RATE_LIMIT"):
        if environ.get(name):
            found[name] = environ[name]
    if environ.get("PARKFLOW_TOKEN_HOURS"):
        found["PARKFLOW_TOKEN_LIFETIME"] = _positive("PARKFLOW_TOKEN_HOURS",
                                                     environ["PARKFLOW_TOKEN_HOURS"]) * 3600
    if environ.get("PARKFLOW_SECURE_COOKIES"):
        found["PARKFLOW_SECURE_COOKIES"] = browser_policy.secure_cookies(
            environ["PARKFLOW_SECURE_COOKIES"])
    if environ.get("PARKFLOW_TRUSTED_PROXIES"):
        found["PARKFLOW_TRUSTED_PROXIES"] = _positive("PARKFLOW_TRUSTED_PROXIES",
                                                      environ["PARKFLOW_TRUSTED_PROXIES"])
    return found


def _positive(name: str, raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def refuse_long_urls() -> None:
    """Answer 414 for a URL longer than MAX_URL_BYTES, as the API's and pages' errors do."""
    if len(request.environ.get("RAW_URI") or request.full_path) > MAX_URL_BYTES:
        raise RequestURITooLarge


def share_rate_limits(app: Flask) -> None:
    """Count in the app's database unless another storage (Redis) is configured."""
    if app.config["RATELIMIT_STORAGE_URI"] == ratelimits.STORAGE_URI:
        options = app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {})
        options["database"] = app.extensions[DATABASE_KEY]


def trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, take the client address from X-Forwarded-For."""
    count = app.config["PARKFLOW_TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                x_host=count)
