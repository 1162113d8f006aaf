"""Applications saved unfinished (暂存): kept for the person who typed them, resumed, deleted.

A draft holds the application form as it was sent, uploads included (their pending rows stay
with the person until the application is sent). It is no application:
no reference, no clock, no history, nothing the park sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Draft
from webapp.services.errors import Invalid, NotFound

MAX_DRAFTS = 50  # a person's unfinished applications: more is forgotten clutter
MAX_VALUE_LENGTH = 20_000


def save_draft(
    session: Session,
    *,
    park_id: str,
    user_id: str,
    process_key: str,
    values: Mapping[str, Any],
    draft_id: str | None = None,
) -> Draft:
    """Keep the form as typed: a new draft, or the same one again when ``draft_id`` is given."""
    kept = {str(name): value for name, value in values.items() if _fits(value)}
    draft = _own(session, park_id, user_id, draft_id) if draft_id else None
    if draft is None:
        if len(drafts_of(session, park_id=park_id, user_id=user_id)) >= MAX_DRAFTS:
            raise Invalid(f"at most {MAX_DRAFTS} unfinished applications can be kept")
        draft = Draft(park_id=park_id, user_id=user_id, process_key=process_key)
        session.add(draft)
    elif draft.process_key != process_key:
        raise NotFound(f"draft {draft_id}")
    draft.values = kept
    draft.updated_at = datetime.now(UTC)
    session.flush()
    return draft


def drafts_of(session: Session, *, park_id: str, user_id: str) -> list[Draft]:
    """The person's drafts in the park, the latest changed first."""
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.park_id == park_id, Draft.user_id == user_id)
            .order_by(Draft.updated_at.desc())
        )
    )


def find_draft(session: Session, *, park_id: str, user_id: str, draft_id: str) -> Draft | None:
    """The person's own draft, or None."""
    return _own(session, park_id, user_id, draft_id)


def get_draft(session: Session, *, park_id: str, user_id: str, draft_id: str) -> Draft:
    """The person's own draft; NotFound for anyone else's."""
    draft = _own(session, park_id, user_id, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id}")
    return draft


def delete_draft(session: Session, *, park_id: str, user_id: str, draft_id: str) -> None:
    """Delete the person's draft (its uploads stay pending, as those of any form left unsent)."""
    draft = get_draft(session, park_id=park_id, user_id=user_id, draft_id=draft_id)
    session.delete(draft)
    session.flush()


def _own(session: Session, park_id: str, user_id: str, draft_id: str | None) -> Draft | None:
    draft = session.get(Draft, draft_id) if draft_id and len(draft_id) <= 36 else None
    if draft is None or draft.park_id != park_id or draft.user_id != user_id:
        return None
    return draft


def _fits(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_VALUE_LENGTH
    if isinstance(value, list):
        return len(value) <= 100 and all(
            isinstance(v, str) and len(v) <= MAX_VALUE_LENGTH for v in value
        )
    return False


__all__ = ["MAX_DRAFTS", "delete_draft", "drafts_of", "find_draft", "get_draft", "save_draft"]
