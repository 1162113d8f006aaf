"""Signing in and out: bearer tokens for a username and password."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, request

from webapp.api.bodies import ApiBlueprint, loads
from webapp.api.caller import bearer_secret
from webapp.api.schemas import ErrorSchema, TokenRequestSchema, TokenSchema
from webapp.extensions import limiter, store
from webapp.services import tokens

blp = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth",
                   description="Sign in: exchange a username and password for a bearer token.")


def login_limit() -> str:
    """The configured rate of sign-in attempts per address and username."""
    limit: str = current_app.config["PARKFLOW_LOGIN_RATE_LIMIT"]
    return limit


def login_key() -> str:
    """Count sign-in attempts per client address and username."""
    try:
        body = loads(request.get_data(cache=True))
    except ValueError:
        body = None
    username = body.get("username") if isinstance(body, dict) else None
    return f"{request.remote_addr}|{username if isinstance(username, str) else ''}"


@blp.route("/token", methods=["POST"])
@limiter.limit(login_limit, key_func=login_key)
@blp.arguments(TokenRequestSchema())
@blp.response(200, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Wrong username or password")
@blp.alt_response(429, schema=ErrorSchema, description="Too many attempts; wait and retry")
@blp.doc(security=[])
def issue_token(credentials: dict[str, str]) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    lifetime = timedelta(seconds=current_app.config["PARKFLOW_TOKEN_LIFETIME"])
    with store.database.write() as session:
        issued = tokens.issue_token(session, username=credentials["username"],
                                    password=credentials["password"], lifetime=lifetime)
    return {"token": issued.secret, "expires_at": issued.expires_at}


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(401, schema=ErrorSchema, description="No or a bad token")
def revoke_token() -> None:
    """Sign out: the token of this request stops working at once."""
    with store.database.write() as session:
        tokens.revoke_token(session, bearer_secret())
