"""Signing in and out: bearer tokens for a username and password."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import bearer_secret
from webapp.api.schemas import ErrorSchema, TokenRequestSchema, TokenSchema
from webapp.extensions import store
from webapp.services import tokens
from webapp.signin import limit_sign_in

blp = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth",
                   description="Sign in: exchange a username and password for a bearer token.")


@blp.route("/token", methods=["POST"])
@limit_sign_in
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
