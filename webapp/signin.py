"""How often anyone may try to sign in: per account, and per source address.

Both faces (the API's token and the login page) count into the same two limits, kept where
every web process sees them (``webapp.ratelimits``). The account limit stops guessing one
password from many addresses; the address limit stops one address trying many usernames,
each only once, which a limit per address and username never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, request

from webapp.extensions import limiter

MAX_USERNAME = 64
F = TypeVar("F", bound=Callable[..., Any])


def attempted_username() -> str:
    """The username an attempt names (form or JSON), compared without case or spaces."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        named = body.get("username") if isinstance(body, dict) else None
    else:
        named = request.form.get("username")
    return named.strip().casefold()[:MAX_USERNAME] if isinstance(named, str) else ""


def _account_key() -> str:
    return attempted_username()


def _address_key() -> str:
    return request.remote_addr or ""


def _account_limit() -> str:
    limit: str = current_app.config["PARKFLOW_LOGIN_RATE_LIMIT"]
    return limit


def _address_limit() -> str:
    limit: str = current_app.config["PARKFLOW_LOGIN_ADDRESS_RATE_LIMIT"]
    return limit


def limit_sign_in(view: F) -> F:
    """Refuse sign-in attempts (429) beyond either limit."""
    by_account = limiter.shared_limit(
        _account_limit, scope="sign-in-account", key_func=_account_key, methods=["POST"]
    )
    by_address = limiter.shared_limit(
        _address_limit, scope="sign-in-address", key_func=_address_key, methods=["POST"]
    )
    return cast(F, by_address(by_account(view)))


__all__ = ["MAX_USERNAME", "attempted_username", "limit_sign_in"]
