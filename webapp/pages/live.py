"""Pages that follow changes as they happen: the application tracker and the inbox.

The browser asks for the page it shows again every second (``app.js``), sending the tag it
was given (``If-None-Match``); while nothing changed, the answer is an empty 304 decided by
one indexed query, before the page is built. Polling rather than server-sent events: a web
process runs one request at a time (``webapp/gunicorn_worker.py``), so a connection held open
per watching browser would take a whole process each, and an ordinary request passes any
proxy in front (nginx buffering, time-outs) unchanged.

What counts as a change is the audit log: every state change writes an event in its own
transaction (``webapp.services.audit``). An application's tag follows the number of its
events and its row's version; the inbox's follows the park's newest event and the events of
the last seconds (a transaction that wrote its event earlier but committed later still moves
the tag). A tag also names the reader, the language, the page's address and the minute (due
times and "in 3 hours" read differently as time passes), and it is signed with the app's
secret key: a 304 is only ever the answer to a tag that this server gave out for a page the
reader was allowed to see. Tags are weak (``W/``): nginx weakens strong ones when it
compresses, and either form is accepted back.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import exists, func, select
from werkzeug.wrappers import Response

from webapp.extensions import store
from webapp.models import AuditEvent, Instance, Membership
from webapp.pages.access import MAX_ID_LENGTH, PARK_KEY

# the header the page's script sends with each look (pages may leave out what only a first
# visit needs, such as the flash messages, which a look must not use up)
LIVE_HEADER = "X-Parkflow-Live"
# how often the browser looks, in milliseconds
EVERY_MS = 1000
# a park's events of the last seconds count in the inbox's tag (see the module)
RECENT = timedelta(seconds=30)


def polling() -> bool:
    """Whether this request is the page's own look for changes."""
    return request.headers.get(LIVE_HEADER) == "1"


def tracker_tag(instance_id: str) -> str | None:
    """The tag of an application's page as it stands; None when there is nothing to follow
    (no such application, or not in a park of the reader: the page itself says so)."""
    if len(instance_id) > MAX_ID_LENGTH:
        return None
    # an application's events are only ever added: their number moves with each one
    events = (
        select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == instance_id)
    )
    member = exists().where(
        Membership.user_id == current_user.id, Membership.park_id == Instance.park_id
    )
    with store.database.read() as db_session:
        row = db_session.execute(
            select(Instance.version, events.scalar_subquery()).where(
                Instance.id == instance_id, member
            )
        ).one_or_none()
    if row is None:
        return None
    return _tag("tracker", instance_id, *row)


def inbox_tag(park_id: str) -> str:
    """The tag of the reader's inbox in ``park_id`` (the park it was drawn for)."""
    recent = datetime.now(UTC) - RECENT
    newest = select(func.max(AuditEvent.at)).where(AuditEvent.park_id == park_id)
    lately = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.park_id == park_id, AuditEvent.at > recent)
    )
    member = exists().where(Membership.user_id == current_user.id, Membership.park_id == park_id)
    with store.database.read() as db_session:
        row = db_session.execute(
            select(newest.scalar_subquery(), lately.scalar_subquery(), member)
        ).one()
    if not row[2]:
        return ""
    return f'W/"{park_id}.{_signature("inbox", park_id, row[0], row[1])}"'


def inbox_unchanged() -> str | None:
    """The tag the inbox was given, when it still holds; else None (draw the page)."""
    for sent in _sent_tags():
        park_id, dot, _signed = sent.removeprefix("W/").strip('"').partition(".")
        if dot and len(park_id) <= MAX_ID_LENGTH:
            tag = inbox_tag(park_id)
            if tag and _same(tag, sent):
                return tag
    return None


def unchanged(tag: str | None) -> bool:
    """Whether the browser holds ``tag`` already."""
    return tag is not None and any(_same(tag, sent) for sent in _sent_tags())


def not_modified(tag: str) -> Response:
    """The empty answer to a look that found nothing new."""
    response = Response(status=304)
    return tagged(response, tag)


def tagged(response: Response, tag: str | None) -> Response:
    """``response`` carrying its tag; a browser must ask again before using a kept copy."""
    if tag:
        response.headers["ETag"] = tag
        response.headers["Cache-Control"] = "private, no-cache"
        response.headers["Vary"] = "Cookie, Accept-Language"
    return response


def _tag(kind: str, *facts: object) -> str:
    return f'W/"{_signature(kind, *facts)}"'


def _signature(kind: str, *facts: object) -> str:
    minute = datetime.now(UTC).strftime("%Y%m%d%H%M")
    parts = (
        kind,
        str(current_user.id),
        str(get_locale() or ""),
        str(session.get(PARK_KEY)),
        request.full_path,
        minute,
        *(str(fact) for fact in facts),
    )
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def _sent_tags() -> list[str]:
    header = request.headers.get("If-None-Match", "")
    return [t.strip() for t in header.split(",") if t.strip()][:4]


def _same(ours: str, sent: str) -> bool:
    # weak comparison (RFC 9110): W/"x" and "x" are the same tag
    return hmac.compare_digest(ours.removeprefix("W/"), sent.removeprefix("W/"))
