"""Who is calling: the bearer token of each API request, resolved before any view runs."""

from __future__ import annotations

from flask import g, request

from webapp.api.scoping import Viewer, viewer_for_token
from webapp.extensions import store
from webapp.services.tokens import Unauthenticated

PUBLIC_ENDPOINTS = frozenset({"auth.issue_token", "health.healthz"})
SIGN_IN_HINT = ("send the header Authorization: Bearer <token>; "
                "get a token from POST /api/v1/auth/token")


def authenticate_request() -> None:
    """Find the caller from the bearer token; 401 without a valid one."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = bearer_secret()
    with store.database.single_read() as connection:
        g.parkflow_viewer = viewer_for_token(connection, secret)


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
