"""暂存: an application form saved unfinished from its page, listed under 我的申请, resumed there.

The application form's "save" button sends the form to the same address as "submit", with
``save_draft`` set: ``keep`` stores it as typed (uploads included) instead of checking it.
Opening the form with ``?draft=<id>`` fills it in again; sending it as an application deletes
the draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.extensions import store
from webapp.models import User
from webapp.pages.access import Here, here
from webapp.services import drafts
from webapp.services.attachments import pending_of

bp = Blueprint("drafts", __name__)
SAVE_BUTTON = "save_draft"
DRAFT_FIELD = "draft_id"


@dataclass(frozen=True)
class Listed:
    """A draft as 我的申请 lists it."""

    id: str
    process_key: str
    updated_at: datetime


def keep(where: Here, process_key: str, raw: Mapping[str, Any], draft_id: str | None) -> Response:
    """Store the application form as typed and go back to the list."""
    with store.database.write() as session:
        drafts.save_draft(
            session,
            park_id=where.role.park_id,
            user_id=where.viewer.user_id,
            process_key=process_key,
            values=raw,
            draft_id=draft_id or None,
        )
    flash(_("Saved unfinished. Continue from “My applications” whenever you like."), "success")
    return redirect(url_for("pages.applications.index") + "#drafts-title")


def resumed(
    session: Session, where: Here, process_key: str, draft_id: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form values and pending files of the person's draft (nothing without one)."""
    if not draft_id:
        return {}, {}
    draft = drafts.get_draft(
        session, park_id=where.role.park_id, user_id=where.viewer.user_id, draft_id=draft_id
    )
    if draft.process_key != process_key:
        return {}, {}
    raw = dict(draft.values)
    user = session.get_one(User, where.viewer.user_id)
    files = [item for value in raw.values() if isinstance(value, list) for item in value]
    pending = {row.id: row.filename for row in pending_of(session, user, where.role.park_id, files)}
    return raw, pending


def sent(where: Here, draft_id: str | None) -> None:
    """The draft became an application: it is no longer kept."""
    if not draft_id:
        return
    with store.database.write() as session:
        if drafts.find_draft(
            session, park_id=where.role.park_id, user_id=where.viewer.user_id, draft_id=draft_id
        ):
            drafts.delete_draft(
                session, park_id=where.role.park_id, user_id=where.viewer.user_id, draft_id=draft_id
            )


def listed(session: Session, where: Here) -> list[Listed]:
    """The person's drafts, the latest changed first (none for park staff)."""
    if not where.is_enterprise:
        return []
    return [
        Listed(d.id, d.process_key, d.updated_at)
        for d in drafts.drafts_of(session, park_id=where.role.park_id, user_id=where.viewer.user_id)
    ]


@bp.route("/drafts/<draft_id>/delete", methods=["POST"])
@login_required
def delete(draft_id: str) -> Response:
    """Delete one of the person's drafts."""
    where = here()
    with store.database.write() as session:
        drafts.delete_draft(
            session, park_id=where.role.park_id, user_id=where.viewer.user_id, draft_id=draft_id
        )
    flash(_("The unfinished application is deleted."), "success")
    return redirect(url_for("pages.applications.index"))
