"""The park's settings: scripts, webhooks, the e-mail sender, the default escalation group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS, field_messages
from webapp.extensions import store
from webapp.models import Group
from webapp.services import admin_park, applicant_actions
from webapp.services.admin_park import Webhook
from webapp.services.errors import Invalid
from webapp.services.notifications import WEBHOOK_FORMATS

bp = Blueprint("settings", __name__)
BLANK_ROWS = 2
MAX_ROWS = 50


@bp.route("/settings")
def index() -> str:
    """Show the park's settings."""
    return _page({}, None)


@bp.route("/settings", methods=["POST"])
def save() -> Response | tuple[str, int]:
    """Save the park's settings."""
    form = request.form
    hooks = [Webhook(form.get(f"webhook_url_{n}", ""), form.get(f"webhook_format_{n}", "json"))
             for n in range(MAX_ROWS) if f"webhook_url_{n}" in form]
    try:
        with store.database.write() as session:
            admin_park.update_settings(
                session, current_park(session), actor=actor(),
                scripts_enabled=form.get("scripts_enabled") == "on", webhooks=hooks,
                email_sender=form.get("email_sender", ""),
                default_escalation_group=form.get("default_escalation_group", ""))
    except Invalid as exc:
        return _page(field_messages(exc), {"hooks": hooks, **form.to_dict()}), 422
    flash(_("The settings are saved."), "success")
    return redirect(url_for("admin.settings.index"))


@bp.route("/settings/applicant", methods=["POST"])
def save_applicant_rules() -> Response | tuple[str, int]:
    """Save how long applications may be withdrawn and how often they may be urged."""
    form = request.form
    kind = form.get("withdraw_kind", "before_action")
    rule = f"within_hours:{form.get('withdraw_hours', '').strip()}" if kind == "within_hours" \
        else kind
    hours = form.get("urge_interval_hours", "").strip()
    try:
        with store.database.write() as session:
            applicant_actions.update_rules(
                session, current_park(session), actor=actor(), withdraw=rule,
                urge_hours=int(hours) if hours.isdigit() else -1)
    except Invalid as exc:
        said = {applicant_actions.WITHDRAW_SETTING: _("Enter a whole number of hours from 1 to "
                                                       "8784."),
                applicant_actions.URGE_SETTING: _("Enter a whole number of hours from 1 to "
                                                   "8784.")}
        errors = {field: [said.get(field, exc.message)] for field in (exc.details or {})}
        return _page(errors, None, applicant_raw=form.to_dict()), 422
    flash(_("The settings are saved."), "success")
    return redirect(url_for("admin.settings.index"))


def _applicant_values(settings: Mapping[str, Any], raw: Mapping[str, Any] | None) -> dict[str, Any]:
    if raw:
        return {"withdraw_kind": raw.get("withdraw_kind", ""),
                "withdraw_hours": raw.get("withdraw_hours", ""),
                "urge_interval_hours": raw.get("urge_interval_hours", "")}
    rule = str(settings.get(applicant_actions.WITHDRAW_SETTING)
               or applicant_actions.DEFAULT_WITHDRAW_RULE)
    kind, _sep, hours = rule.partition(":")
    return {"withdraw_kind": kind, "withdraw_hours": hours,
            "urge_interval_hours": settings.get(applicant_actions.URGE_SETTING)
            or applicant_actions.DEFAULT_URGE_HOURS}


def _page(errors: Mapping[str, list[str]], raw: Mapping[str, Any] | None, *,
          applicant_raw: Mapping[str, Any] | None = None) -> str:
    with store.database.read() as session:
        park = current_park(session)
        settings = dict(park.settings)
        groups = list(session.scalars(select(Group.name).where(Group.park_id == park.id)
                                      .order_by(Group.name)))
        hooks = list(raw["hooks"]) if raw else admin_park.webhooks_of(park)
    values = {
        "scripts_enabled": (raw.get("scripts_enabled") == "on") if raw
        else bool(settings.get("scripts_enabled", True)),
        "email_sender": raw.get("email_sender", "") if raw else settings.get("email_sender") or "",
        "default_escalation_group": raw.get("default_escalation_group", "") if raw
        else settings.get("default_escalation_group") or "",
    }
    rows = [*hooks, *[Webhook("", "json")] * BLANK_ROWS][:MAX_ROWS]
    return render_template("admin/settings.html", values=values, rows=rows, groups=groups,
                           formats=WEBHOOK_FORMATS, errors=errors,
                           applicant=_applicant_values(settings, applicant_raw),
                           form_errors=errors.get(FORM_ERRORS, []))
