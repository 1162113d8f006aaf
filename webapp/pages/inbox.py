"""The inbox: open tasks of the user and of their groups, overdue first, fifty at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from webapp.api import paging
from webapp.api.errors import ApiError
from webapp.api.scoping import inbox_condition
from webapp.extensions import store
from webapp.pages import live
from webapp.pages.access import here
from webapp.pages.applicant import unread_copies_of
from webapp.services import batch, inbox, inbox_tabs, saved_filters
from webapp.services.errors import Invalid
from webapp.services.inbox import DEFAULT_SORT, MAX_TEXT, SCOPES, SORTS, InboxFilter

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 50


def _chosen(args: MultiDict[str, str]) -> InboxFilter:
    """The filter and order the page's arguments name; 400 for a scope or order it has not."""
    chosen = InboxFilter(
        scope=args.get("scope", "all"),
        process_key=args.get("process", "")[:255] or None,
        text=args.get("q", "").strip()[:MAX_TEXT] or None,
        overdue_only=args.get("overdue") == "1",
        sort=args.get("sort", DEFAULT_SORT) or DEFAULT_SORT,
    )
    if chosen.scope not in SCOPES or chosen.sort not in SORTS:
        abort(400)
    return chosen


def page_args(chosen: InboxFilter, **more: Any) -> dict[str, Any]:
    """The page's URL arguments for ``chosen`` (defaults left out), and ``more``."""
    args: dict[str, Any] = {
        "q": chosen.text,
        "process": chosen.process_key,
        "scope": None if chosen.scope == "all" else chosen.scope,
        "overdue": 1 if chosen.overdue_only else None,
        "sort": None if chosen.sort == DEFAULT_SORT else chosen.sort,
    }
    args.update(more)
    return {name: value for name, value in args.items() if value is not None}


@bp.route("/inbox")
@login_required
def index() -> Response:
    """List the open tasks of the user and their groups, overdue and soonest due first (or in
    the order a column header chose).

    The page looks for changes every second (``webapp.pages.live``): an empty 304 while
    nothing changed in the park."""
    kept = live.inbox_unchanged()
    if kept is not None:
        return live.not_modified(kept)
    where = here()
    # taken before the tasks are read: a change made meanwhile moves the tag past this page
    tag = live.inbox_tag(where.role.park_id)
    chosen = _chosen(request.args)
    after = _decode(request.args.get("after"), chosen.sort)
    now = datetime.now(UTC)
    with store.database.read() as session:
        visible = inbox_condition(session, where.park_viewer, chosen.scope)
        condition = inbox.matching(session, visible, chosen, now, park_id=where.role.park_id)
        counts = inbox.counts(session, condition, username=current_user.username, now=now)
        rows, next_key = inbox.page(
            session, condition, limit=PAGE_SIZE, after=after, now=now, sort=chosen.sort
        )
        procedures = inbox.procedures(session, where.role.park_id)
        urges = inbox_tabs.urge_marks(session, [row["task_id"] for row in rows])
        unread_copies = unread_copies_of(session, where)
        batchable = batch.batchable_ids(session, [row["task_id"] for row in rows])
        saved = [
            (one.id, one.name, saved_filters.page_args(one))
            for one in saved_filters.filters_of(
                session, user_id=where.viewer.user_id, park_id=where.role.park_id
            )
        ]
    page = render_template(
        "inbox.html",
        live_tag=tag,
        live_every=live.EVERY_MS,
        rows=rows,
        counts=counts,
        now=now,
        filter=chosen,
        urges=urges,
        unread_copies=unread_copies,
        tab="open",
        procedures=procedures,
        paged=after is not None,
        next_after=_encode(next_key) if next_key else None,
        username=current_user.username,
        batchable=batchable,
        applicant_lanes=set(where.role.applicant_lanes),
        saved_filters=saved,
        page_args=page_args,
        current_args=page_args(chosen),
    )
    return live.tagged(make_response(page), tag)


@bp.route("/inbox/filters", methods=["POST"])
@login_required
def save_filter() -> Response:
    """Keep the inbox's current filter and order under a name (常用筛选)."""
    where = here()
    chosen = _chosen(request.form)
    name = request.form.get("name", "")
    try:
        with store.database.write() as session:
            saved_filters.save_filter(
                session,
                user_id=where.viewer.user_id,
                username=where.viewer.username,
                park_id=where.role.park_id,
                name=name,
                chosen=chosen,
            )
    except Invalid as problem:
        flash(_filter_problem(problem, name), "error")
    else:
        flash(_("The filter is saved as “%(name)s”.", name=" ".join(name.split())), "success")
    return redirect(url_for("pages.inbox.index", **page_args(chosen)))


@bp.route("/inbox/filters/<filter_id>/delete", methods=["POST"])
@login_required
def delete_filter(filter_id: str) -> Response:
    """Forget one of the person's saved filters."""
    where = here()
    with store.database.write() as session:
        saved_filters.delete_filter(
            session,
            user_id=where.viewer.user_id,
            username=where.viewer.username,
            filter_id=filter_id,
            park_id=where.role.park_id,
        )
    flash(_("The saved filter is deleted."), "success")
    return redirect(url_for("pages.inbox.index"))


def _filter_problem(problem: Invalid, name: str) -> str:
    if not name.strip():
        return _("Give the filter a name.")
    if len(" ".join(name.split())) > saved_filters.MAX_NAME:
        return _("A filter's name is at most %(count)d characters.", count=saved_filters.MAX_NAME)
    if "at most" in str(problem) and "filters" in str(problem):
        return _(
            "At most %(count)d filters can be saved; delete one first.",
            count=saved_filters.MAX_FILTERS,
        )
    return _("This filter cannot be saved.")


def _encode(key: tuple[Any, ...]) -> str:
    if isinstance(key[0], str):
        return paging.encode_cursor(key)
    return "~".join((key[0].isoformat(), key[1].isoformat(), key[2]))


def _decode(raw: str | None, sort: str = DEFAULT_SORT) -> tuple[Any, ...] | None:
    """The sort key a "next page" link carries; 400 when it was tampered with or belongs to
    another order."""
    if not raw:
        return None
    if sort != DEFAULT_SORT:
        try:
            key = paging.decode_cursor(raw, inbox.SORT_KEYS[sort])
        except ApiError:
            abort(400)
        if not inbox.key_fits(sort, key):
            abort(400)
        return key
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
