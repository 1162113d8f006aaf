"""The applicant's and the reader's pages: 撤回 and 催办 from 我的申请, 抄送 from a task, the
inbox's 已办 and 抄送我 tabs, and one's common phrases (常用语)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.api.scoping import instance_for
from webapp.extensions import store
from webapp.models import Instance, Park
from webapp.pages.access import Here, here, safe_next
from webapp.pages.dossier import display_names
from webapp.pages.i18n import when
from webapp.services import applicant_actions, copies, inbox_tabs, phrases
from webapp.services.applicant_actions import Refusal
from webapp.services.errors import Conflict, Forbidden, Invalid, TooSoon
from webapp.services.people import Worker, find_worker

bp = Blueprint("applicant", __name__)
PAGE_SIZE = 50
MAX_REASON = 2000


# --- what the applicant may do, said in the reader's language ------------------------------


def offers_for(session: Session, where: Here, instance_ids: Iterable[str]) -> dict[str, Any]:
    """What `offers` says of each of the listed applications, by id."""
    now = datetime.now(UTC)
    worker = find_worker(session, where.viewer.username, session.get_one(Park, where.role.park_id))
    found = {}
    for instance_id in instance_ids:
        instance = session.get(Instance, instance_id)
        if instance is not None:
            found[instance_id] = offers(session, worker, instance, now)
    return found


def offers(
    session: Session, worker: Worker | None, instance: Instance, now: datetime
) -> dict[str, Any]:
    """Whether 撤回 and 催办 are offered on an application, and why not when they are not
    (to someone who is not its applicant, or once it ended, nothing is offered)."""
    if (
        not applicant_actions.is_applicant(worker, instance)
        or instance.status in applicant_actions.ENDED
    ):
        return {"applicant": False}
    withdraw = applicant_actions.withdraw_refusal(session, instance, now)
    urge = applicant_actions.urge_refusal(session, instance, now)
    return {
        "applicant": True,
        "withdraw": None if withdraw is None else said(withdraw),
        "urge": None if urge is None else said(urge),
    }


def said(refusal: Refusal) -> str:
    """A refusal in the reader's language."""
    return str(_wording(refusal))


def _wording(refusal: Refusal) -> Any:
    params = refusal.params
    if refusal.code == "ended":
        return _("The application has ended.")
    if refusal.code == "never":
        return _("This park does not allow withdrawing applications.")
    if refusal.code == "too_late":
        return _(
            "Applications can be withdrawn within %(hours)d hours of submission.",
            hours=params["hours"],
        )
    if refusal.code == "acted":
        return _(
            "“%(step)s” has already been handled: an application can be withdrawn only "
            "before any reviewer acted.",
            step=params["step"],
        )
    if refusal.code == "nothing_waits":
        return _("No step waits for the park's reviewers: there is nobody to urge.")
    if refusal.code == "too_soon":
        return _("Already urged; it can be urged again %(when)s.", when=_moment(params["retry_at"]))
    return refusal.message


def _moment(value: datetime) -> str:
    return when(value)


# --- 撤回 and 催办 ---------------------------------------------------------------------------


@bp.route("/applications/<instance_id>/withdraw", methods=["POST"])
@login_required
def withdraw(instance_id: str) -> Response:
    """Withdraw the application (撤回) as its applicant."""
    where = here()
    reason = request.form.get("reason", "").strip()[:MAX_REASON]
    with store.database.read() as session:
        instance_for(session, where.viewer, instance_id)
    try:
        applicant_actions.withdraw_application(
            store.database, instance_id=instance_id, actor=where.viewer.username, reason=reason
        )
    except (Conflict, Forbidden) as exc:
        flash(_refused(instance_id, exc), "error")
    else:
        flash(_("You have withdrawn the application."), "success")
    return _back(instance_id)


@bp.route("/applications/<instance_id>/urge", methods=["POST"])
@login_required
def urge(instance_id: str) -> Response:
    """Urge (催办) the people holding the application's open steps."""
    where = here()
    comment = request.form.get("comment", "").strip()[:MAX_REASON] or None
    with store.database.read() as session:
        instance_for(session, where.viewer, instance_id)
    try:
        told = applicant_actions.urge_application(
            store.database, instance_id=instance_id, actor=where.viewer.username, comment=comment
        )
    except (Conflict, Forbidden, TooSoon) as exc:
        flash(_refused(instance_id, exc), "error")
    else:
        flash(_("Urged: %(count)d people were reminded.", count=len(told)), "success")
    return _back(instance_id)


def _refused(instance_id: str, exc: Exception) -> str:
    if isinstance(exc, Forbidden):
        return str(_("Only the applicant can do this."))
    with store.database.read() as session:
        instance = session.get(Instance, instance_id)
        now = datetime.now(UTC)
        refusal = None
        if instance is not None:
            refusal = (
                applicant_actions.urge_refusal(session, instance, now)
                if request.path.endswith("/urge")
                else applicant_actions.withdraw_refusal(session, instance, now)
            )
        return said(refusal) if refusal is not None else _("That is not possible any more.")


def _back(instance_id: str) -> Response:
    default = url_for("pages.applications.show", instance_id=instance_id)
    return redirect(safe_next(request.form.get("next"), default))


# --- 抄送 --------------------------------------------------------------------------------------


@bp.route("/applications/<instance_id>/cc", methods=["POST"])
@login_required
def copy(instance_id: str) -> Response:
    """Copy (抄送) the application to colleagues, who may then read it."""
    where = here()
    names = [
        n for n in request.form.get("usernames", "").replace("，", ",").split(",") if n.strip()
    ]
    with store.database.read() as session:
        instance_for(session, where.viewer, instance_id)
    try:
        added = copies.copy_application(
            store.database, instance_id=instance_id, actor=where.viewer.username, usernames=names
        )
    except Forbidden:
        flash(_("Only a reviewer of the application or an administrator can copy it."), "error")
    except Invalid as exc:
        flash(_("Not copied: %(problems)s", problems=exc.message), "error")
    else:
        flash(
            _("Copied to %(people)s.", people="、".join(added))
            if added
            else _("They had a copy already."),
            "success",
        )
    return _back(instance_id)


# --- the inbox's other tabs ------------------------------------------------------------------


@bp.route("/inbox/done")
@login_required
def done() -> str:
    """List the tasks the user completed (已办), the latest first."""
    where = here()
    after = _decode(request.args.get("after"), int_id=False)
    with store.database.read() as session:
        page = inbox_tabs.done_page(
            session,
            inbox_tabs.completed_by(where.viewer.username, [where.role.park_id]),
            limit=PAGE_SIZE,
            after=after,
            now=datetime.now(UTC),
        )
        return render_template(
            "inbox_done.html",
            rows=page.items,
            tab="done",
            unread_copies=unread_copies_of(session, where),
            next_after=_encode(page.next_key),
            paged=after is not None,
        )


@bp.route("/inbox/cc")
@login_required
def copied() -> str:
    """List the applications copied to the user (抄送我), the latest first, unread marked."""
    where = here()
    after = _decode(request.args.get("after"), int_id=True)
    with store.database.read() as session:
        page = inbox_tabs.copies_page(
            session,
            inbox_tabs.copied_to(where.viewer.user_id, [where.role.park_id]),
            limit=PAGE_SIZE,
            after=after,
        )
        names = display_names(session, {row["copied_by"] for row in page.items if row["copied_by"]})
        return render_template(
            "inbox_cc.html",
            rows=page.items,
            names=names,
            tab="cc",
            unread_copies=unread_copies_of(session, where),
            next_after=_encode(page.next_key),
            paged=after is not None,
        )


def unread_copies_of(session: Session, where: Here) -> int:
    """How many applications copied to the user in this park are unread (the tab's badge)."""
    return inbox_tabs.unread_copies(
        session, inbox_tabs.copied_to(where.viewer.user_id, [where.role.park_id])
    )


def _encode(key: tuple[Any, ...] | None) -> str | None:
    return f"{key[0].isoformat()}~{key[1]}" if key is not None else None


def _decode(raw: str | None, *, int_id: bool) -> tuple[datetime, Any] | None:
    """The sort key a "next page" link carries; 400 when it was tampered with."""
    if not raw:
        return None
    at, _sep, last = raw.partition("~")
    try:
        moment = datetime.fromisoformat(at)
        key: Any = int(last) if int_id else last
    except ValueError:
        abort(400)
    if moment.tzinfo is None or not last or len(last) > 64:
        abort(400)
    return moment, key


# --- 常用语 ------------------------------------------------------------------------------------


@bp.route("/phrases", methods=["POST"])
@login_required
def add_phrase() -> Response:
    """Keep a common phrase for the comment box."""
    where = here()
    try:
        phrases.add_phrase(
            store.database, user_id=where.viewer.user_id, text=request.form.get("text", "")
        )
    except Invalid:
        flash(
            _(
                "A phrase needs 1 to %(count)d characters (at most 100 phrases).",
                count=phrases.MAX_LENGTH,
            ),
            "error",
        )
    else:
        flash(_("The phrase is kept."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("pages.inbox.index")))


@bp.route("/phrases/<int:phrase_id>/delete", methods=["POST"])
@login_required
def remove_phrase(phrase_id: int) -> Response:
    """Remove one of one's own common phrases."""
    where = here()
    phrases.remove_phrase(store.database, user_id=where.viewer.user_id, phrase_id=phrase_id)
    flash(_("The phrase is removed."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("pages.inbox.index")))
