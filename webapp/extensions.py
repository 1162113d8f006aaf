"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api

from webapp.api.schemas import ErrorSchema
from webapp.db import Database

DATABASE_KEY = "parkflow.database"


class DatabaseExtension:
    """Holds the app's ``Database``; services receive it explicitly from the views."""

    def init_app(self, app: Flask) -> None:
        """Open the database named by ``PARKFLOW_DATABASE_URL`` in the app config."""
        app.extensions[DATABASE_KEY] = Database(app.config["PARKFLOW_DATABASE_URL"])

    @property
    def database(self) -> Database:
        """Return the current app's database."""
        found: Database = current_app.extensions[DATABASE_KEY]
        return found


class ParkflowApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """The REST API; errors are rendered by ``webapp.api.errors``, registered by the app."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Leave error handling to ``webapp.api.errors`` (one place for every error shape)."""


store = DatabaseExtension()
api = ParkflowApi()
# the login route names its own key (address and username); nothing else is limited
limiter = Limiter(key_func=get_remote_address)
# the endpoints with limits of their own: every other request skips the limiter's work
LIMITED_ENDPOINTS = frozenset({"auth.issue_token", "pages.auth.login"})


@limiter.request_filter
def _not_limited() -> bool:
    """Exempt everything but sign-in: the limiter's lookups cost each API call otherwise."""
    return request.endpoint not in LIMITED_ENDPOINTS
