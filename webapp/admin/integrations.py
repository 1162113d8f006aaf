"""Integrations: the park's webhook subscriptions with their delivery log, and the HTTP
connector's allow-list and secrets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS
from webapp.extensions import store
from webapp.models import WEBHOOK_EVENTS
from webapp.services import http_connector, webhooks
from webapp.services.errors import Invalid, NotFound

bp = Blueprint("integrations", __name__)

EVENT_LABELS = {
    "application.started": lazy_gettext("Application submitted"),
    "step.completed": lazy_gettext("Step completed"),
    "application.returned": lazy_gettext("Application returned"),
    "application.finished": lazy_gettext("Application finished"),
    "task.overdue": lazy_gettext("Task overdue"),
}
STATUS_LABELS = {
    "pending": lazy_gettext("Pending"),
    "delivered": lazy_gettext("Delivered"),
    "failed": lazy_gettext("Failed"),
    "skipped": lazy_gettext("Skipped"),
}
FIELD_MESSAGES = {
    "url": lazy_gettext("Enter a web address starting with http:// or https://."),
    "events": lazy_gettext("Choose one or more events."),
    "description": lazy_gettext("The description is at most 255 characters."),
    "name": lazy_gettext("Use letters, digits and _, not starting with a digit (at most 64)."),
    "value": lazy_gettext("A secret is 1 to 4000 characters on one line."),
    "allowlist": lazy_gettext(
        "Each line is an address starting with http:// or https://, without ? or #."
    ),
}


def _errors(exc: Invalid) -> dict[str, list[str]]:
    details = exc.details if isinstance(exc.details, Mapping) else {}
    found: dict[str, list[str]] = {}
    for field in details:
        key = "allowlist" if str(field).startswith("allowlist") else str(field)
        found[key] = [str(FIELD_MESSAGES.get(key, exc.message))]
    return found or {FORM_ERRORS: [exc.message]}


def _chosen_events() -> list[str]:
    return [event for event in request.form.getlist("events") if event in WEBHOOK_EVENTS]


@bp.route("/integrations")
def index() -> str:
    """The park's webhook subscriptions and the HTTP connector's settings."""
    return _index({})


def _index(errors: Mapping[str, list[str]], raw: Mapping[str, Any] | None = None) -> str:
    with store.database.read() as session:
        park = current_park(session)
        subscriptions = webhooks.subscriptions(session, park)
        connector = http_connector.connector_settings(park)
        for sub in subscriptions:
            session.expunge(sub)
    return render_template(
        "admin/integrations.html",
        subscriptions=subscriptions,
        connector=connector,
        events=WEBHOOK_EVENTS,
        event_labels=EVENT_LABELS,
        errors=errors,
        raw=raw or {},
        form_errors=errors.get(FORM_ERRORS, []),
    )


@bp.route("/integrations/webhooks", methods=["POST"])
def create() -> Response | tuple[str, int]:
    """Subscribe an address to events."""
    form = request.form
    try:
        with store.database.write() as session:
            made = webhooks.subscribe(
                session,
                current_park(session),
                actor=actor(),
                url=form.get("url", ""),
                events=_chosen_events(),
                description=form.get("description", ""),
                now=datetime.now(UTC),
            )
            made_id = made.id
    except Invalid as exc:
        raw = {
            "url": form.get("url", ""),
            "description": form.get("description", ""),
            "events": _chosen_events(),
        }
        return _index(_errors(exc), raw), 422
    flash(_("The subscription is saved. Give the receiver its signing secret."), "success")
    return redirect(url_for("admin.integrations.subscription", subscription_id=made_id))


@bp.route("/integrations/webhooks/<subscription_id>")
def subscription(subscription_id: str) -> str:
    """One subscription: edit it, see its deliveries, send one again."""
    return _subscription_page(subscription_id, {})


def _subscription_page(
    subscription_id: str, errors: Mapping[str, list[str]], raw: Mapping[str, Any] | None = None
) -> str:
    with store.database.read() as session:
        park = current_park(session)
        sub = webhooks.subscription(session, park, subscription_id)
        deliveries = webhooks.deliveries(session, park, subscription_id=sub.id)
        session.expunge_all()
    return render_template(
        "admin/webhook.html",
        sub=sub,
        deliveries=deliveries,
        events=WEBHOOK_EVENTS,
        event_labels=EVENT_LABELS,
        status_labels=STATUS_LABELS,
        errors=errors,
        raw=raw,
        form_errors=errors.get(FORM_ERRORS, []),
    )


@bp.route("/integrations/webhooks/<subscription_id>", methods=["POST"])
def save(subscription_id: str) -> Response | tuple[str, int]:
    """Change a subscription's address, events, description or whether it is on."""
    form = request.form
    try:
        with store.database.write() as session:
            webhooks.change(
                session,
                current_park(session),
                subscription_id,
                actor=actor(),
                url=form.get("url", ""),
                events=_chosen_events(),
                description=form.get("description", ""),
                enabled=form.get("enabled") == "on",
                now=datetime.now(UTC),
            )
    except Invalid as exc:
        raw = {
            "url": form.get("url", ""),
            "description": form.get("description", ""),
            "events": _chosen_events(),
            "enabled": form.get("enabled") == "on",
        }
        return _subscription_page(subscription_id, _errors(exc), raw), 422
    flash(_("The subscription is saved."), "success")
    return redirect(url_for("admin.integrations.subscription", subscription_id=subscription_id))


@bp.route("/integrations/webhooks/<subscription_id>/secret", methods=["POST"])
def new_secret(subscription_id: str) -> Response:
    """Replace the subscription's signing secret."""
    with store.database.write() as session:
        webhooks.change(
            session,
            current_park(session),
            subscription_id,
            actor=actor(),
            new_secret_wanted=True,
            now=datetime.now(UTC),
        )
    flash(_("A new signing secret is made; the old one no longer verifies."), "success")
    return redirect(url_for("admin.integrations.subscription", subscription_id=subscription_id))


@bp.route("/integrations/deliveries/<delivery_id>/redeliver", methods=["POST"])
def redeliver(delivery_id: str) -> Response:
    """Send a delivery again now."""
    with store.database.write() as session:
        found = webhooks.redeliver(
            session, current_park(session), delivery_id, actor=actor(), now=datetime.now(UTC)
        )
        subscription_id = found.subscription_id
    flash(_("The delivery is queued again; the worker sends it shortly."), "success")
    return redirect(url_for("admin.integrations.subscription", subscription_id=subscription_id))


@bp.route("/integrations/allowlist", methods=["POST"])
def save_allowlist() -> Response | tuple[str, int]:
    """Replace the addresses the HTTP connector may call (one per line)."""
    text = request.form.get("allowlist", "")
    try:
        with store.database.write() as session:
            http_connector.set_allowlist(
                session, current_park(session), actor=actor(), entries=text.splitlines()
            )
    except Invalid as exc:
        return _index(_errors(exc), {"allowlist": text}), 422
    flash(_("The allow-list is saved."), "success")
    return redirect(url_for("admin.integrations.index"))


@bp.route("/integrations/secrets", methods=["POST"])
def save_secret() -> Response | tuple[str, int]:
    """Store a secret for the HTTP connector (its value is never shown again)."""
    name = request.form.get("name", "").strip()
    try:
        with store.database.write() as session:
            http_connector.set_secret(
                session,
                current_park(session),
                actor=actor(),
                name=name,
                value=request.form.get("value", ""),
            )
    except Invalid as exc:
        return _index(_errors(exc), {"secret_name": name}), 422
    flash(_("The secret “%(name)s” is saved.", name=name), "success")
    return redirect(url_for("admin.integrations.index"))


@bp.route("/integrations/secrets/<name>/remove", methods=["POST"])
def remove_secret(name: str) -> Response:
    """Forget a secret."""
    with store.database.write() as session:
        if not http_connector.remove_secret(
            session, current_park(session), actor=actor(), name=name
        ):
            raise NotFound(f"secret {name!r}")
    flash(_("The secret “%(name)s” is removed.", name=name), "success")
    return redirect(url_for("admin.integrations.index"))
