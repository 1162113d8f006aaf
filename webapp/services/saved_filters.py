"""Inbox filters saved per person (常用筛选): the current filter and order under a name.

A saved filter belongs to one person in one park. Saving under a name the person already
uses replaces what that name holds; each save and delete is audited
(``inbox_filter.saved``, ``inbox_filter.deleted``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import SavedFilter
from webapp.services import audit
from webapp.services.errors import Invalid, NotFound
from webapp.services.inbox import MAX_TEXT, SCOPES, SORTS, InboxFilter

MAX_FILTERS = 20  # chips above the inbox: more would not be read
MAX_NAME = 40


def query_of(chosen: InboxFilter) -> dict[str, Any]:
    """What a saved filter keeps of ``chosen``: its parts that narrow or order the inbox."""
    query: dict[str, Any] = {"scope": chosen.scope, "sort": chosen.sort}
    if chosen.process_key:
        query["process_key"] = chosen.process_key
    if chosen.text:
        query["q"] = chosen.text
    if chosen.overdue_only:
        query["overdue"] = True
    return query


def filter_of(saved: SavedFilter) -> InboxFilter:
    """The inbox filter a saved one stands for (parts no longer valid fall back to defaults)."""
    query = saved.query or {}
    scope = query.get("scope") if query.get("scope") in SCOPES else "all"
    sort = query.get("sort") if query.get("sort") in SORTS else "due"
    return InboxFilter(
        scope=str(scope),
        process_key=query.get("process_key") or None,
        text=query.get("q") or None,
        overdue_only=bool(query.get("overdue")),
        sort=str(sort),
    )


def page_args(saved: SavedFilter) -> dict[str, Any]:
    """The inbox page's URL arguments for a saved filter (defaults left out)."""
    chosen = filter_of(saved)
    args: dict[str, Any] = {}
    if chosen.scope != "all":
        args["scope"] = chosen.scope
    if chosen.process_key:
        args["process"] = chosen.process_key
    if chosen.text:
        args["q"] = chosen.text
    if chosen.overdue_only:
        args["overdue"] = 1
    if chosen.sort != "due":
        args["sort"] = chosen.sort
    return args


def filters_of(session: Session, *, user_id: str, park_id: str | None = None) -> list[SavedFilter]:
    """The person's saved filters (in one park, with ``park_id``), by name."""
    stmt = select(SavedFilter).where(SavedFilter.user_id == user_id)
    if park_id is not None:
        stmt = stmt.where(SavedFilter.park_id == park_id)
    return list(session.scalars(stmt.order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(
    session: Session, *, user_id: str, username: str, park_id: str, name: str, chosen: InboxFilter
) -> SavedFilter:
    """Keep ``chosen`` under ``name`` for the person (replacing what the name held)."""
    name = " ".join(name.split())
    if not name:
        raise Invalid("a saved filter needs a name", {"name": ["Give the filter a name."]})
    if len(name) > MAX_NAME:
        raise Invalid(
            f"a filter's name is at most {MAX_NAME} characters",
            {"name": [f"At most {MAX_NAME} characters."]},
        )
    _check(chosen)
    mine = filters_of(session, user_id=user_id, park_id=park_id)
    saved = next((one for one in mine if one.name == name), None)
    before = dict(saved.query) if saved is not None else None
    if saved is None:
        if len(mine) >= MAX_FILTERS:
            raise Invalid(f"at most {MAX_FILTERS} filters can be saved; delete one first")
        saved = SavedFilter(user_id=user_id, park_id=park_id, name=name)
        session.add(saved)
    saved.query = query_of(chosen)
    session.flush()
    audit.record(
        session,
        park_id=park_id,
        actor=username,
        action="inbox_filter.saved",
        details={"filter_id": saved.id, "name": name},
        before=before,
        after=saved.query,
    )
    return saved


def delete_filter(
    session: Session, *, user_id: str, username: str, filter_id: str, park_id: str | None = None
) -> None:
    """Forget one of the person's saved filters; NotFound when it is not theirs."""
    saved = session.get(SavedFilter, filter_id) if len(filter_id) <= 36 else None
    if (
        saved is None
        or saved.user_id != user_id
        or (park_id is not None and saved.park_id != park_id)
    ):
        raise NotFound(f"saved filter {filter_id}")
    audit.record(
        session,
        park_id=saved.park_id,
        actor=username,
        action="inbox_filter.deleted",
        details={"filter_id": saved.id, "name": saved.name},
        before=saved.query,
    )
    session.delete(saved)
    session.flush()


def _check(chosen: InboxFilter) -> None:
    if chosen.scope not in SCOPES:
        raise Invalid(f"scope must be one of {', '.join(SCOPES)}")
    if chosen.sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    if chosen.text is not None and len(chosen.text) > MAX_TEXT:
        raise Invalid(f"the text is at most {MAX_TEXT} characters")
    if chosen.process_key is not None and len(chosen.process_key) > 255:
        raise Invalid("the procedure key is at most 255 characters")
