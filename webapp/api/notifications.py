"""The caller's in-app notifications: list them and mark them read."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from webapp.api import paging
from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.schemas import NotificationArgsSchema, NotificationSchema
from webapp.api.scoping import notification_for, visible_notifications
from webapp.db import utcnow
from webapp.extensions import store
from webapp.services import queries

blp = ApiBlueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                   description="In-app notifications of the caller.")


@blp.route("", methods=["GET"])
@blp.arguments(NotificationArgsSchema(), location="query")
@blp.response(200, NotificationSchema(many=True))
def list_notifications(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    """List the caller's notifications, newest first (``unread=1``: only unread ones)."""
    with store.database.read() as session:
        page = queries.list_notifications(
            session, visible_notifications(current_viewer()), unread=args["unread"],
            limit=args["limit"],
            after=paging.decode_cursor(args.get("cursor"), queries.NOTIFICATION_KEY))
    return page.items, 200, paging.link_headers(page)


@blp.route("/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int) -> dict[str, Any]:
    """Mark one of the caller's notifications read (again is fine)."""
    with store.database.write() as session:
        notification = notification_for(session, current_viewer(), notification_id)
        if notification.read_at is None:
            notification.read_at = utcnow()
        session.flush()
        return queries.notification_item(notification)
