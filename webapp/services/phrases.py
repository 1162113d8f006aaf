"""Common phrases (常用语): comments a person keeps at hand for the comment box of a task.

Everyone starts with the park-wide defaults; each person adds their own and removes them
again. The defaults are the same for everyone and cannot be removed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.db import Database
from webapp.models import Phrase
from webapp.services.errors import Invalid, NotFound

DEFAULTS = ("同意。", "材料齐全，同意。", "请补充材料后重新提交。")
MAX_LENGTH = 500
MAX_PHRASES = 100


def list_phrases(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The defaults, then the person's own phrases in the order added."""
    own = session.scalars(select(Phrase).where(Phrase.user_id == user_id).order_by(Phrase.id))
    return [
        *({"id": None, "text": text, "builtin": True} for text in DEFAULTS),
        *(_item(phrase) for phrase in own),
    ]


def add_phrase(db: Database, *, user_id: str, text: str) -> dict[str, Any]:
    """Keep a phrase for the person; the one already kept when they have it."""
    cleaned = text.strip()
    if not cleaned:
        raise Invalid("a phrase cannot be empty", details={"text": ["is empty"]})
    if len(cleaned) > MAX_LENGTH:
        raise Invalid(
            f"a phrase has at most {MAX_LENGTH} characters",
            details={"text": [f"is longer than {MAX_LENGTH} characters"]},
        )
    with db.write() as session:
        if cleaned in DEFAULTS:
            return {"id": None, "text": cleaned, "builtin": True}
        kept = session.scalars(
            select(Phrase).where(Phrase.user_id == user_id, Phrase.text == cleaned)
        ).first()
        if kept is not None:
            return _item(kept)
        count = (
            session.scalar(
                select(func.count()).select_from(Phrase).where(Phrase.user_id == user_id)
            )
            or 0
        )
        if count >= MAX_PHRASES:
            raise Invalid(
                f"at most {MAX_PHRASES} phrases; remove one first",
                details={"text": [f"would be phrase {count + 1} of {MAX_PHRASES}"]},
            )
        phrase = Phrase(user_id=user_id, text=cleaned, created_at=datetime.now(UTC))
        session.add(phrase)
        session.flush()
        return _item(phrase)


def remove_phrase(db: Database, *, user_id: str, phrase_id: int) -> None:
    """Remove one of the person's own phrases; NotFound for anything else."""
    with db.write() as session:
        phrase = session.get(Phrase, phrase_id) if 0 < phrase_id < 2**63 else None
        if phrase is None or phrase.user_id != user_id:
            raise NotFound(f"phrase {phrase_id}")
        session.delete(phrase)


def _item(phrase: Phrase) -> dict[str, Any]:
    return {"id": phrase.id, "text": phrase.text, "builtin": False}


__all__ = ["DEFAULTS", "add_phrase", "list_phrases", "remove_phrase"]
