"""API tokens: random bearer secrets, stored only as their SHA-256, valid until they expire.

A token carries 256 random bits, so a plain SHA-256 (no salt, no stretching) is enough to
keep a stolen database from yielding usable tokens, and it lets a request find its token by
an indexed equality lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete
from sqlalchemy.orm import Session

from webapp.db import utcnow
from webapp.models import ApiToken
from webapp.security import hash_password, needs_rehash, verify_password
from webapp.services.accounts import find_user
from webapp.services.errors import ServiceError

TOKEN_PREFIX = "pf_"  # noqa: S105 -- marks our tokens, it is no secret
DEFAULT_LIFETIME = timedelta(hours=12)
# longer input is not a token of ours; refuse it before hashing anything
MAX_TOKEN_LENGTH = 128


class Unauthenticated(ServiceError):  # noqa: N818 -- the API's vocabulary, like NotFound
    """The caller is not signed in: no, a wrong, or an expired credential."""

    code = "unauthorized"


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token; ``secret`` is shown once and never stored."""

    secret: str
    expires_at: datetime


def issue_token(
    session: Session, *, username: str, password: str, lifetime: timedelta = DEFAULT_LIFETIME
) -> IssuedToken:
    """Check the password and hand out a new token; raises Unauthenticated otherwise."""
    user = find_user(session, username)
    if user is None or not user.is_active:
        # spend the same time as a real check, so the answer does not reveal who exists
        verify_password(_decoy_hash(), password)
        raise Unauthenticated("wrong username or password")
    if not verify_password(user.password_hash, password):
        raise Unauthenticated("wrong username or password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = utcnow()
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=token_hash(secret), created_at=now,
                     expires_at=now + lifetime)
    session.add(token)
    session.flush()
    return IssuedToken(secret=secret, expires_at=token.expires_at)


def check_format(secret: str) -> None:
    """Refuse what cannot be one of our tokens, before any hashing or lookup."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("the token is not valid")


def check_standing(*, expires_at: datetime, is_active: bool) -> None:
    """Refuse a found token that has expired or whose account is disabled."""
    if expires_at <= utcnow():
        raise Unauthenticated("the token has expired; request a new one")
    if not is_active:
        raise Unauthenticated("the account of this token is disabled")


def revoke_token(session: Session, secret: str) -> None:
    """Make a token unusable at once (signing out)."""
    session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash(secret)))


def token_hash(secret: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_hex(16))
