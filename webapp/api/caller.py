"""Who is calling: the bearer token of each API request, resolved before any view runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, current_app, g, request

from webapp.api.scoping import TOKEN_OWNER_TABLES, TokenOwner, Viewer, token_owner
from webapp.extensions import DATABASE_KEY, store
from webapp.services import service_tokens, tokens
from webapp.services.tokens import Unauthenticated

PUBLIC_ENDPOINTS = frozenset({"auth.issue_token", "health.healthz"})
# the only blueprint a park's service token opens (external workers)
SERVICE_BLUEPRINTS = frozenset({"external_tasks"})
SIGN_IN_HINT = ("send the header Authorization: Bearer <token>; "
                "get a token from POST /api/v1/auth/token")
RECENT_OWNERS_KEY = "parkflow.recent_token_owners"
# how long a web process goes by what it last read of a token's owner
OWNER_SECONDS = 1.0


class RecentOwners:
    """The owners of the tokens this process read in the last OWNER_SECONDS, by token hash.

    Every API request names its caller by token, and reading the owner (user, parks, roles,
    groups) was a query of its own on every call: a busy reviewer's client sends the same
    token many times a second. A change made in this process to what an owner is read from
    (signing out, an account switched off, a role or group changed) empties the cache at
    once (`Database.forget_on_writes`); one made by another process is seen here within
    OWNER_SECONDS. Expiry is checked on every request.
    """

    def __init__(self, seconds: float = OWNER_SECONDS, most: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.most, self.clock = seconds, most, clock
        self._owners: dict[str, tuple[float, TokenOwner]] = {}

    def get(self, token_hash: str) -> TokenOwner | None:
        found = self._owners.get(token_hash)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, token_hash: str, owner: TokenOwner) -> None:
        if len(self._owners) >= self.most:
            self._owners = {}
        self._owners[token_hash] = (self.clock() + self.seconds, owner)

    def clear(self) -> None:
        self._owners = {}


def init_app(app: Flask) -> None:
    """Give the app its cache of token owners (after its database)."""
    recent = app.extensions[RECENT_OWNERS_KEY] = RecentOwners()
    app.extensions[DATABASE_KEY].forget_on_writes(TOKEN_OWNER_TABLES, recent)


def authenticate_request() -> None:
    """Find the caller from the bearer token; 401 without a valid one."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = bearer_secret()
    if request.blueprint in SERVICE_BLUEPRINTS and service_tokens.is_service_secret(secret):
        with store.database.single_read() as connection:
            g.parkflow_service = service_tokens.service_caller(connection, secret)
        return
    tokens.check_format(secret)
    token_hash = tokens.token_hash(secret)
    recent: RecentOwners = current_app.extensions[RECENT_OWNERS_KEY]
    owner = recent.get(token_hash)
    if owner is None:
        with store.database.single_read() as connection:
            owner = token_owner(connection, token_hash)
        if owner is None:
            raise Unauthenticated("the token is not valid")
        recent.put(token_hash, owner)
    g.parkflow_viewer = owner.check_standing()


def current_service() -> service_tokens.ServiceCaller | None:
    """The park service token this request came with, if it came with one."""
    found: service_tokens.ServiceCaller | None = g.get("parkflow_service")
    return found


def current_viewer() -> Viewer:
    """The authenticated caller of this request."""
    viewer: Viewer = g.parkflow_viewer
    return viewer


def bearer_secret() -> str:
    """The token in the ``Authorization: Bearer`` header; 401 when there is none."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated(SIGN_IN_HINT)
    return secret.strip()
