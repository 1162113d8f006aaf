"""The inbox: open tasks of the user and of their groups, overdue first, fifty at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, make_response, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from webapp.api.scoping import inbox_condition
from webapp.extensions import store
from webapp.pages import live
from webapp.pages.access import here
from webapp.pages.applicant import unread_copies_of
from webapp.services import batch, inbox, inbox_tabs
from webapp.services.inbox import MAX_TEXT, SCOPES, InboxFilter

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50


@bp.route("/inbox")
@login_required
def index() -> Response:
    """List the open tasks of the user and their groups, overdue and soonest due first.

    The page looks for changes every second (``webapp.pages.live``): an empty 304 while
    nothing changed in the park."""
    kept = live.inbox_unchanged()
    if kept is not None:
        return live.not_modified(kept)
    where = here()
    # taken before the tasks are read: a change made meanwhile moves the tag past this page
    tag = live.inbox_tag(where.role.park_id)
    chosen = InboxFilter(scope=request.args.get("scope", "all"),
                         process_key=request.args.get("process", "")[:255] or None,
                         text=request.args.get("q", "").strip()[:MAX_TEXT] or None,
                         overdue_only=request.args.get("overdue") == "1")
    if chosen.scope not in SCOPES:
        abort(400)
    after = _decode(request.args.get("after"))
    now = datetime.now(UTC)
    with store.database.read() as session:
        visible = inbox_condition(session, where.park_viewer, chosen.scope)
        condition = inbox.matching(session, visible, chosen, now, park_id=where.role.park_id)
        counts = inbox.counts(session, condition, username=current_user.username, now=now)
        rows, next_key = inbox.page(session, condition, limit=PAGE_SIZE, after=after, now=now)
        procedures = inbox.procedures(session, where.role.park_id)
        urges = inbox_tabs.urge_marks(session, [row["task_id"] for row in rows])
        unread_copies = unread_copies_of(session, where)
        batchable = batch.batchable_ids(session, [row["task_id"] for row in rows])
    page = render_template("inbox.html", live_tag=tag, live_every=live.EVERY_MS, rows=rows,
                           counts=counts, now=now, filter=chosen, urges=urges,
                           unread_copies=unread_copies, tab="open",
                           procedures=procedures, paged=after is not None,
                           next_after=_encode(next_key) if next_key else None,
                           username=current_user.username, batchable=batchable,
                           applicant_lanes=set(where.role.applicant_lanes))
    return live.tagged(make_response(page), tag)


def _encode(key: tuple[datetime, datetime, str]) -> str:
    return "~".join((key[0].isoformat(), key[1].isoformat(), key[2]))


def _decode(raw: str | None) -> tuple[datetime, datetime, str] | None:
    """The sort key a "next page" link carries; 400 when it was tampered with."""
    if not raw:
        return None
    parts = raw.split("~")
    try:
        if len(parts) != 3 or len(parts[2]) > 64:
            raise ValueError(raw)
        due, created = (datetime.fromisoformat(p) for p in parts[:2])
    except ValueError:
        abort(400)
    if due.tzinfo is None or created.tzinfo is None:
        abort(400)
    return due, created, parts[2]
