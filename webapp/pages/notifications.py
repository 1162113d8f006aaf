"""The user's in-app notifications: newest first, marked read one by one or all at once."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import and_, or_, select, update
from werkzeug.wrappers import Response

from webapp.api.scoping import notification_for, visible_notifications
from webapp.db import utcnow
from webapp.extensions import store
from webapp.models import Notification
from webapp.pages.access import here

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 50
MAX_NOTIFICATION_ID = 2**63 - 1


@bp.route("/notifications")
@login_required
def index() -> str:
    """List the user's notifications, newest first."""
    viewer = here().viewer
    unread = request.args.get("unread") == "1"
    after = _decode(request.args.get("after"))
    stmt = select(Notification).where(visible_notifications(viewer))
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    if after is not None:
        stmt = stmt.where(or_(Notification.at < after[0],
                              and_(Notification.at == after[0], Notification.id < after[1])))
    with store.database.read() as session:
        rows = list(session.scalars(stmt.order_by(Notification.at.desc(), Notification.id.desc())
                                    .limit(PAGE_SIZE + 1)))
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        next_after = f"{rows[-1].at.isoformat()}~{rows[-1].id}" if more else None
        return render_template("notifications.html", rows=rows, unread=unread,
                               next_after=next_after, paged=after is not None)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int) -> Response | str:
    """Mark one notification read."""
    viewer = here().viewer
    if notification_id > MAX_NOTIFICATION_ID:
        abort(404)
    with store.database.write() as session:
        notification = notification_for(session, viewer, notification_id)
        if notification.read_at is None:
            notification.read_at = utcnow()
        if request.headers.get("HX-Request"):
            return render_template("partials/notification.html", row=notification)
    return redirect(url_for("pages.notifications.index"))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_all_read() -> Response:
    """Mark every notification of the user read."""
    viewer = here().viewer
    with store.database.write() as session:
        session.execute(update(Notification).where(
            visible_notifications(viewer), Notification.read_at.is_(None))
            .values(read_at=utcnow()))
    return redirect(url_for("pages.notifications.index"))


def _decode(raw: str | None) -> tuple[datetime, int] | None:
    """The sort key a "next page" link carries; 400 when it was tampered with."""
    if not raw:
        return None
    at, _sep, number = raw.partition("~")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        abort(400)
    if moment.tzinfo is None or not number.isdigit() or int(number) > MAX_NOTIFICATION_ID:
        abort(400)
    return moment, int(number)
