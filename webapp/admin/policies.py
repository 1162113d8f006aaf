"""免申即享: the park's policies, their eligibility tables, and whom each one found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS, field_messages
from webapp.extensions import store
from webapp.models import Policy, ProcessDefinition
from webapp.services import policies
from webapp.services.errors import Invalid

bp = Blueprint("policies", __name__)
Errors = Mapping[str, list[str]]
MAX_UPLOAD = policies.MAX_DMN_BYTES


@bp.route("/policies")
def index() -> str:
    """The park's policies with how many enterprises each found, and a form for a new one."""
    return _page(None, {}, {})


@bp.route("/policies/<key>")
def show(key: str) -> str:
    """One policy: its form, and every enterprise it found with what became of the offer."""
    return _page(key, {}, {})


@bp.route("/policies", methods=["POST"])
def save() -> Response | tuple[str, int]:
    """Create or change a policy; the enterprises its table now finds get an offer."""
    form = request.form
    key = form.get("key", "").strip()
    table = form.get("eligibility", "")
    upload = request.files.get("eligibility_file")
    if upload is not None and upload.filename:
        table = upload.read(MAX_UPLOAD + 1).decode("utf-8", "replace")
    try:
        policy, changed = policies.save_policy(
            store.database, park_slug=_park_slug(), key=key, name=form.get("name", ""),
            process_key=form.get("process_key", ""), eligibility=table, actor=actor(),
            description=form.get("description", ""),
            decision_id=form.get("decision_id", "").strip() or None,
            prefill=_prefill(form.get("prefill", "")), active=form.get("active") == "on")
    except Invalid as exc:
        return _page(key or None, field_messages(exc), {**form, "eligibility": table},
                     editing=True), 422
    flash(_("The policy is saved: %(offered)d enterprises were offered it, %(withdrawn)d offers "
            "were withdrawn.", offered=changed.offered, withdrawn=changed.withdrawn), "success")
    return redirect(url_for("admin.policies.show", key=policy.key))


def _prefill(text: str) -> dict[str, str]:
    """``field = fact`` lines; a line that is not one is kept whole so that the check names it."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            field, _sep, fact = line.partition("=")
            found[field.strip()] = fact.strip() if _sep else ""
    return found


def _park_slug() -> str:
    with store.database.read() as session:
        return current_park(session).slug


def _page(key: str | None, errors: Errors, raw: Mapping[str, Any], *,
          editing: bool = False) -> str:
    with store.database.read() as session:
        park = current_park(session)
        listed = policies.policies_of(session, park)
        chosen: Policy | None = next((p for p in listed if p.key == key), None)
        matches: list[Any] = []
        if key is not None and not editing:
            chosen = policies.get_policy(session, park, key)  # NotFound for an unknown key
            matches = policies.offers_of_policy(session, chosen)
        return render_template(
            "admin/policies.html", policies=listed, counts=policies.offer_counts(session, park),
            chosen=chosen, matches=matches, errors=errors,
            form_errors=errors.get(FORM_ERRORS, []), raw=raw,
            procedures=sorted(_procedures(session, park.id).items()))


def _procedures(session: Session, park_id: str) -> dict[str, str]:
    """Each procedure's key and its newest version's name."""
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name)
                           .where(ProcessDefinition.park_id == park_id)
                           .order_by(ProcessDefinition.version))
    return {key: name for key, name in rows}
