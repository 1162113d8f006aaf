"""Drafts of the browser modeler: what an administrator draws, kept on the server as they
draw it (the page saves a few seconds after each change), per park, person and procedure.

A draft is no version: deploying makes versions. Opening the modeler again offers the draft
back; deploying or discarding it removes it. Starting and discarding a draft are audited
(``modeller.draft_started``, ``modeller.draft_discarded``); the saves in between only carry
the drawing forward and are not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db import utcnow
from webapp.models import ModellerDraft, Park, User
from webapp.services import audit
from webapp.services.errors import Invalid

MAX_XML = 5_000_000  # characters: far beyond any diagram, short of filling the database
MAX_TARGET = 300
KINDS = ("process:",)


def check_target(target: object) -> str:
    """A draft's target as sent by the page, or Invalid."""
    if not isinstance(target, str) or not target.startswith(KINDS) or len(target) > MAX_TARGET:
        raise Invalid(
            "target names no procedure (process:<key>, or process: for a new one)",
            details={"target": ["bad_target"]},
        )
    return target


def get_draft(session: Session, park: Park, user: User, target: str) -> ModellerDraft | None:
    """The person's draft for ``target``, if any."""
    return session.scalars(
        select(ModellerDraft).where(
            ModellerDraft.park_id == park.id,
            ModellerDraft.user_id == user.id,
            ModellerDraft.target == target,
        )
    ).one_or_none()


def save_draft(session: Session, park: Park, user: User, target: str, xml: str) -> datetime:
    """Keep ``xml`` as the person's draft for ``target``; when it was saved."""
    if not xml.strip() or len(xml) > MAX_XML or "\x00" in xml:
        raise Invalid(
            "the draft is empty, too large or holds NUL characters", details={"xml": ["bad_xml"]}
        )
    draft = get_draft(session, park, user, target)
    now = utcnow()
    if draft is None:
        draft = ModellerDraft(
            park_id=park.id, user_id=user.id, target=target, xml=xml, created_at=now, updated_at=now
        )
        session.add(draft)
        session.flush()
        audit.record(
            session,
            park_id=park.id,
            actor=user.username,
            action="modeller.draft_started",
            details={"target": target},
        )
    else:
        draft.xml = xml
        draft.updated_at = now
        session.flush()
    return now


def discard_draft(
    session: Session, park: Park, user: User, target: str, *, reason: str = "discarded"
) -> bool:
    """Remove the person's draft for ``target``; False when there was none."""
    draft = get_draft(session, park, user, target)
    if draft is None:
        return False
    session.delete(draft)
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=user.username,
        action="modeller.draft_discarded",
        details={"target": target, "reason": reason},
    )
    return True


__all__ = ["check_target", "discard_draft", "get_draft", "save_draft"]
