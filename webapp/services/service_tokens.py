"""Park service tokens: bearer secrets for external workers, one park each.

A service token opens the external-task endpoints of its park and nothing else: it names no
person, so it cannot see applications, tasks or settings. It is stored as its SHA-256 like a
person's token (see ``tokens``), lives until an administrator revokes it, and is shown once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from webapp.db import utcnow
from webapp.models import Park, ServiceToken
from webapp.services import audit
from webapp.services.errors import NotFound
from webapp.services.tokens import MAX_TOKEN_LENGTH, Unauthenticated, token_hash

SERVICE_TOKEN_PREFIX = "pfs_"  # noqa: S105 -- marks service tokens, it is no secret


@dataclass(frozen=True)
class ServiceCaller:
    """Who calls with a service token: the park it belongs to and the token's name."""

    token_id: str
    park_id: str
    name: str

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"service:{self.name}"


@dataclass(frozen=True)
class IssuedServiceToken:
    """A new service token; ``secret`` is shown once and never stored."""

    id: str
    name: str
    secret: str


def is_service_secret(secret: str) -> bool:
    """Whether a bearer secret is shaped like a service token."""
    return secret.startswith(SERVICE_TOKEN_PREFIX) and len(secret) <= MAX_TOKEN_LENGTH


def issue_service_token(
    session: Session, park: Park, *, name: str, actor: str
) -> IssuedServiceToken:
    """Create a service token for ``park``'s external workers."""
    secret = SERVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ServiceToken(
        park_id=park.id,
        name=name,
        token_hash=token_hash(secret),
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="service_token.created",
        details={"token_id": token.id, "name": name},
    )
    return IssuedServiceToken(token.id, name, secret)


def revoke_service_token(session: Session, park: Park, token_id: str, *, actor: str) -> None:
    """Make a park's service token unusable at once."""
    token = session.get(ServiceToken, token_id) if len(token_id) <= 36 else None
    if token is None or token.park_id != park.id or token.revoked_at is not None:
        raise NotFound(f"service token {token_id!r}")
    token.revoked_at = utcnow()
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="service_token.revoked",
        details={"token_id": token.id, "name": token.name},
    )


def service_caller(connection: Connection, secret: str) -> ServiceCaller:
    """The caller a service token names; Unauthenticated for an unknown or revoked one."""
    found = connection.execute(
        select(ServiceToken.id, ServiceToken.park_id, ServiceToken.name).where(
            ServiceToken.token_hash == token_hash(secret), ServiceToken.revoked_at.is_(None)
        )
    ).first()
    if found is None:
        raise Unauthenticated("the service token is not valid")
    return ServiceCaller(found.id, found.park_id, found.name)
