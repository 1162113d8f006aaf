"""好差评 rectifications (整改): the list, with the overdue ones flagged, and the page of one,
to record the measures taken and then the follow-up (回访); the park's settings for the loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS
from webapp.db import utcnow
from webapp.extensions import store
from webapp.models import RECTIFICATION_STATUSES, Group
from webapp.pages.access import list_filter
from webapp.pages.ratings import DIMENSION_LABELS, GRADE_LABELS, RECTIFICATION_LABELS
from webapp.services import ratings
from webapp.services.errors import Conflict, Invalid

bp = Blueprint("rectifications", __name__)
OVERDUE = ("yes", "no")
SETTING_FIELDS = (ratings.RECTIFICATION_DAYS, ratings.INVITATION_DAYS)


@bp.route("/rectifications")
def index() -> str:
    """List the park's rectifications: unfinished first by due date, overdue ones flagged."""
    return _list({}, None)


def _list(errors: Mapping[str, list[str]], raw: Mapping[str, str] | None) -> str:
    status = list_filter("status", RECTIFICATION_STATUSES)
    overdue = list_filter("overdue", OVERDUE)
    now = utcnow()
    with store.database.read() as session:
        park = current_park(session)
        found = ratings.rectifications(
            session,
            park,
            now=now,
            status=status,
            overdue=None if overdue is None else overdue == "yes",
        )
        rows = [ratings.view(r, now) for r in found]
        groups = list(
            session.scalars(select(Group.name).where(Group.park_id == park.id).order_by(Group.name))
        )
        settings = ratings.settings_of(park)
    return render_template(
        "admin/rectifications.html",
        rows=rows,
        status=status,
        overdue=overdue,
        statuses=RECTIFICATION_STATUSES,
        labels=RECTIFICATION_LABELS,
        grade_labels=GRADE_LABELS,
        settings=settings,
        raw=raw or {},
        groups=groups,
        errors=errors,
        form_errors=errors.get(FORM_ERRORS, []),
    )


@bp.route("/rectifications/settings", methods=["POST"])
def save_settings() -> Response | tuple[str, int]:
    """Save the park's 好差评 settings: working days to rectify, the group, the invitation."""
    form = request.form
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in SETTING_FIELDS:
        value = form.get(name, "").strip()
        if value.isascii() and value.isdigit() and len(value) <= 3:
            changes[name] = int(value)
        else:
            errors[name] = [
                _("Enter a whole number of days from 1 to %(most)d.", most=ratings.MAX_DAYS)
            ]
    changes[ratings.RECTIFICATION_GROUP] = form.get(ratings.RECTIFICATION_GROUP, "") or None
    if not errors:
        try:
            with store.database.write() as session:
                ratings.update_settings(
                    session, current_park(session), actor=actor(), changes=changes
                )
        except Invalid as exc:
            details = exc.details if isinstance(exc.details, Mapping) else {}
            errors = {
                name: [_("Enter a whole number of days from 1 to %(most)d.", most=ratings.MAX_DAYS)]
                for name in SETTING_FIELDS
                if name in details
            }
            if ratings.RECTIFICATION_GROUP in details:
                errors[ratings.RECTIFICATION_GROUP] = [_("Choose one of the options offered.")]
    if errors:
        return _list(errors, form.to_dict()), 422
    flash(_("The settings are saved."), "success")
    return redirect(url_for("admin.rectifications.index"))


@bp.route("/rectifications/<rectification_id>")
def show(rectification_id: str) -> str:
    """One rectification: the rating, the measures form, then the follow-up form."""
    return _page(rectification_id, {}, None)


def _page(
    rectification_id: str, errors: Mapping[str, list[str]], raw: Mapping[str, str] | None
) -> str:
    now = utcnow()
    with store.database.read() as session:
        park = current_park(session)
        found = ratings.rectification_in(session, park.id, rectification_id)
        rating = ratings.rating_of(session, found.instance_id)
        return render_template(
            "admin/rectification.html",
            item=ratings.view(found, now),
            rating=rating,
            instance=found.instance,
            labels=RECTIFICATION_LABELS,
            grade_labels=GRADE_LABELS,
            dimension_labels=DIMENSION_LABELS,
            raw=raw or {},
            errors=errors,
            form_errors=errors.get(FORM_ERRORS, []),
        )


def _checked(rectification_id: str) -> None:
    if len(rectification_id) > 36:
        abort(404)


@bp.route("/rectifications/<rectification_id>/measures", methods=["POST"])
def record_measures(rectification_id: str) -> Response | tuple[str, int]:
    """Record the measures taken."""
    _checked(rectification_id)
    measures = request.form.get("measures", "")
    errors = _text_errors("measures", measures)
    if not errors:
        try:
            with store.database.read() as session:
                park_id = current_park(session).id
            ratings.record_measures(
                store.database,
                park_id=park_id,
                rectification_id=rectification_id,
                measures=measures,
                actor=actor(),
            )
        except Conflict:
            errors = {FORM_ERRORS: [_("The rectification is closed already.")]}
    if errors:
        return _page(rectification_id, errors, request.form.to_dict()), 422
    flash(_("The measures are recorded; follow up with the enterprise next."), "success")
    return redirect(url_for("admin.rectifications.show", rectification_id=rectification_id))


@bp.route("/rectifications/<rectification_id>/follow-up", methods=["POST"])
def record_follow_up(rectification_id: str) -> Response | tuple[str, int]:
    """Record the follow-up: closes the rectification and tells the enterprise."""
    _checked(rectification_id)
    answer = request.form.get("answer", "")
    accepted = request.form.get("accepted", "")
    errors = _text_errors("answer", answer)
    if accepted not in ("yes", "no"):
        errors["accepted"] = [_("Choose one of the options offered.")]
    if not errors:
        try:
            with store.database.read() as session:
                park_id = current_park(session).id
            ratings.follow_up(
                store.database,
                park_id=park_id,
                rectification_id=rectification_id,
                answer=answer,
                accepted=accepted == "yes",
                actor=actor(),
            )
        except Conflict:
            errors = {
                FORM_ERRORS: [
                    _(
                        "Record the measures taken before the follow-up; a "
                        "closed rectification takes none."
                    )
                ]
            }
    if errors:
        return _page(rectification_id, errors, request.form.to_dict()), 422
    flash(_("The rectification is closed and the enterprise is told the outcome."), "success")
    return redirect(url_for("admin.rectifications.show", rectification_id=rectification_id))


def _text_errors(name: str, value: str) -> dict[str, list[str]]:
    if not value.strip():
        return {name: [_("This field is required.")]}
    if len(value.strip()) > ratings.MAX_TEXT:
        return {name: [_("Enter at most %(count)d characters.", count=ratings.MAX_TEXT)]}
    return {}
