"""The task page's hand-offs (转办, 委派, 加签, 减签) and the 我的委托 page.

Plain forms posted to page routes: they work without JavaScript, like the rest of the task
page. A refusal comes back as a message on the task page, the dialog's input kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.api.scoping import park_for, task_for
from webapp.extensions import store
from webapp.models import HumanTask, Park
from webapp.pages import dossier
from webapp.pages.access import Here, here
from webapp.services import colleagues, handoffs, substitutes
from webapp.services.errors import Invalid, ServiceError

bp = Blueprint("handoffs", __name__)
# the people offered in the pickers of one page (the field takes any username besides)
PICKER_SIZE = 500
COMMENT_LENGTH = 2000


def task_page(session: Session, where: Here, task: HumanTask, may_work: bool) -> dict[str, Any]:
    """What the task page shows of hand-offs: their state, and the dialogs when the viewer
    holds the task."""
    status = handoffs.status_of(session, task)
    names = dossier.display_names(session, _people_of(task, status))
    offered = (
        not where.is_enterprise
        and may_work
        and task.parent_id is None
        and not (status and status["held"])
    )
    return {
        "handoffs": status,
        "handoff_names": names,
        "handoff_actions": offered,
        "removable_signers": [
            s for s in (status or {}).get("signers", []) if s["status"] in ("open", "waiting")
        ]
        if offered
        else [],
        "people": colleagues.search(session, session.get_one(Park, task.park_id), limit=PICKER_SIZE)
        if offered
        else [],
    }


def _people_of(task: HumanTask, status: dict[str, Any] | None) -> list[str]:
    found = [task.assignee or "", task.on_behalf_of or ""]
    if status is not None:
        found.append(status["holder"] or "")
        if status["delegation"]:
            found.append(status["delegation"]["to"])
        if status["held"]:
            found.append(status["held"]["by"])
        for signer in status["signers"]:
            found += [signer["username"] or "", signer["on_behalf_of"] or ""]
    return [name for name in found if name]


def _comment() -> str | None:
    return request.form.get("comment", "").strip()[:COMMENT_LENGTH] or None


def _names(field: str) -> list[str]:
    """The usernames a form sent: several fields, or one with names split by commas."""
    found = []
    for value in request.form.getlist(field):
        found += [part.strip() for part in value.replace("，", ",").replace("、", ",").split(",")]
    return [name for name in found if name]


def _act(task_id: str, action: Callable[..., Any], done: str, **arguments: Any) -> Response:
    where = here()
    with store.database.read() as session:
        task_for(session, where.viewer, task_id)
    try:
        action(
            store.database,
            task_id=task_id,
            actor=where.viewer.username,
            comment=_comment(),
            **arguments,
        )
    except ServiceError as exc:
        flash(_("Not done: %(reason)s", reason=_reason(exc)), "error")
        return redirect(url_for("pages.tasks.show", task_id=task_id))
    flash(done, "success")
    return redirect(url_for("pages.tasks.show", task_id=task_id))


def _reason(exc: ServiceError) -> str:
    details = exc.details if isinstance(exc, Invalid) else None
    if isinstance(details, dict):
        listed = [
            str(m)
            for messages in details.values()
            for m in (messages if isinstance(messages, list) else [messages])
        ]
        if listed:
            return "；".join(listed)
    return exc.message


@bp.route("/tasks/<task_id>/transfer", methods=["POST"])
@login_required
def transfer(task_id: str) -> Response:
    """转办 the task to the person chosen."""
    username = request.form.get("username", "").strip()
    return _act(
        task_id,
        handoffs.transfer_task,
        _("Transferred to %(who)s.", who=username),
        username=username,
    )


@bp.route("/tasks/<task_id>/delegate", methods=["POST"])
@login_required
def delegate(task_id: str) -> Response:
    """委派 the task to the person chosen; it comes back here."""
    username = request.form.get("username", "").strip()
    return _act(
        task_id,
        handoffs.delegate_task,
        _("Delegated to %(who)s: it comes back to you once resolved.", who=username),
        username=username,
    )


@bp.route("/tasks/<task_id>/add-signers", methods=["POST"])
@login_required
def add_signers(task_id: str) -> Response:
    """加签: the people chosen sign before, after or beside the holder."""
    return _act(
        task_id,
        handoffs.add_signers,
        _("Signers added."),
        usernames=_names("usernames"),
        position=request.form.get("position", ""),
    )


@bp.route("/tasks/<task_id>/remove-signers", methods=["POST"])
@login_required
def remove_signers(task_id: str) -> Response:
    """减签: the signers ticked no longer sign."""
    return _act(
        task_id, handoffs.remove_signers, _("Signers removed."), usernames=_names("usernames")
    )


# --- 我的委托 ------------------------------------------------------------------------------


@bp.route("/me/substitute")
@login_required
def substitute_page() -> str:
    """我的委托: the user's substitute while away; for admins, the park's substitutions."""
    where = here()
    with store.database.read() as session:
        return _render_substitutes(session, where)


def _render_substitutes(
    session: Session,
    where: Here,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> str:
    mine = [
        s for s in substitutes.mine(session, where.viewer.username) if s.park == where.park.slug
    ]
    park = park_for(session, where.viewer, where.park.slug)
    of_park = substitutes.of_park(session, park) if where.role.role == "admin" else []
    names = dossier.display_names(
        session, [n for s in (*mine, *of_park) for n in (s.username, s.substitute)]
    )
    people = [
        p
        for p in colleagues.search(session, park, limit=PICKER_SIZE)
        if p["username"] != where.viewer.username
    ]
    return render_template(
        "substitute.html",
        here=where,
        mine=mine,
        of_park=of_park,
        names=names,
        people=people,
        form=form or {},
        errors=errors or {},
        zone=ZoneInfo(park.timezone),
    )


@bp.route("/me/substitute", methods=["POST"])
@login_required
def set_substitute() -> Response | tuple[str, int]:
    """Name a substitute from one day to another (whole days in the park's time zone)."""
    where = here()
    form = {key: request.form.get(key, "").strip() for key in ("username", "from", "until")}
    with store.database.read() as session:
        zone = ZoneInfo(park_for(session, where.viewer, where.park.slug).timezone)
    window, errors = _window(form, zone)
    if window is not None:
        try:
            substitutes.set_substitute(
                store.database,
                actor=where.viewer.username,
                username=form["username"],
                starts_at=window[0],
                ends_at=window[1],
                park_slug=where.park.slug,
            )
        except Invalid as exc:
            errors = {
                key: [str(m) for m in value]
                for key, value in (exc.details or {"username": [exc.message]}).items()
            }
    if errors:
        with store.database.read() as session:
            return _render_substitutes(session, where, form=form, errors=errors), 422
    flash(_("Your substitute is set."), "success")
    return redirect(url_for("pages.handoffs.substitute_page"))


def _window(
    form: dict[str, str], zone: ZoneInfo
) -> tuple[tuple[datetime, datetime] | None, dict[str, list[str]]]:
    """From the start of the first day to the end of the last, in the park's time zone."""
    try:
        first = datetime.fromisoformat(form["from"]).date()
    except ValueError:
        return None, {"from": [_("Enter a date.")]}
    try:
        last = datetime.fromisoformat(form["until"]).date()
    except ValueError:
        return None, {"until": [_("Enter a date.")]}
    if last < first:
        return None, {"until": [_("The last day comes before the first.")]}
    starts = datetime.combine(first, time.min, zone)
    ends = datetime.combine(last, time.max, zone)
    return (starts, ends), {}


@bp.route("/me/substitute/end", methods=["POST"])
@login_required
def end_substitute() -> Response:
    """End the user's own substitution, or (admins) one of the park's."""
    where = here()
    chosen = request.form.get("id", "").strip()[:64] or None
    park_id = where.role.park_id if chosen else None
    substitutes.end_substitute(
        store.database,
        actor=where.viewer.username,
        park_slug=None if chosen else where.park.slug,
        substitution_id=chosen,
        park_id=park_id,
    )
    flash(_("The substitution has ended."), "success")
    return redirect(url_for("pages.handoffs.substitute_page"))
