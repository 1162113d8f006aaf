"""免申即享 for the enterprise: the policies that found it, each with its application filled in
from the enterprise's profile, confirmed in one click; and the profile itself (企业画像)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from forms.fields import fields_of
from webapp.extensions import store
from webapp.models import Park
from webapp.pages import dossier
from webapp.pages.access import Here, here
from webapp.pages.forms_render import raw_from_data
from webapp.services import drafts, policies
from webapp.services.errors import Forbidden, Invalid, NotFound
from webapp.services.processes import latest_definition

bp = Blueprint("policies", __name__)
# the certifications a park's policies usually ask about, offered as check boxes
CERTIFICATIONS = ("高新技术企业", "专精特新中小企业", "科技型中小企业", "创新型中小企业",
                  "专精特新“小巨人”企业")
NUMBERS = ("employees", "revenue", "rd_spend", "founded_year")


def _enterprise() -> Here:
    where = here()
    if not where.is_enterprise or where.role.enterprise_id is None:
        raise Forbidden("policies are offered to enterprises")
    return where


@bp.route("/policies")
@login_required
def index() -> str:
    """The policies offered to the enterprise, those waiting first."""
    where = _enterprise()
    with store.database.read() as session:
        park = session.get_one(Park, where.role.park_id)
        found = policies.offers_for(session, park, where.role.enterprise_id or "")
        waiting = [(o, p, _labelled(session, park, p.process_key, o.prefilled))
                   for o, p in found if o.status == "offered"]
        answered = [(o, p) for o, p in found if o.status != "offered"]
        has_profile = policies.profile_of(session, where.role.enterprise_id or "") is not None
        return render_template("policies.html", waiting=waiting, answered=answered,
                               has_profile=has_profile)


def _labelled(session: Any, park: Park, process_key: str,
              values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The prefilled values under their fields' titles, in the form's order."""
    definition = latest_definition(session, park, process_key)
    schema = dossier.start_schema(definition) if definition is not None else None
    known = fields_of(schema or {})
    return [(str(known.get(name, {}).get("title") or name), values[name])
            for name in (list(known) or list(values)) if name in values]


@bp.route("/policies/offers/<int:offer_id>/confirm", methods=["POST"])
@login_required
def confirm(offer_id: int) -> Response:
    """Apply with the prefilled application; when the form needs more, open it prefilled."""
    where = _enterprise()
    try:
        instance_id = policies.confirm_offer(store.database, offer_id=offer_id,
                                             actor=where.viewer.username)
    except Invalid:
        flash(_("The application needs more than your profile holds: complete the form below "
                "and send it."), "warning")
        return _to_form(where, offer_id)
    flash(_("Applied. You can follow the application here."), "success")
    return redirect(url_for("pages.applications.show", instance_id=instance_id))


@bp.route("/policies/offers/<int:offer_id>/form", methods=["POST"])
@login_required
def form(offer_id: int) -> Response:
    """Open the procedure's application form filled in with what the offer holds."""
    return _to_form(_enterprise(), offer_id)


def _to_form(where: Here, offer_id: int) -> Response:
    with store.database.write() as session:
        park = session.get_one(Park, where.role.park_id)
        waiting = policies.offers_for(session, park, where.role.enterprise_id or "",
                                      open_only=True)
        found = next(((o, p) for o, p in waiting if o.id == offer_id), None)
        if found is None:
            raise NotFound(f"offer {offer_id}")
        offer, policy = found
        definition = latest_definition(session, park, policy.process_key)
        if definition is None:
            raise NotFound(f"procedure {policy.process_key!r}")
        schema = dossier.start_schema(definition) or {"type": "object", "properties": {}}
        draft = drafts.save_draft(session, park_id=park.id, user_id=where.viewer.user_id,
                                  process_key=policy.process_key,
                                  values=raw_from_data(schema, offer.prefilled))
        process_key, draft_id = policy.process_key, draft.id
    return redirect(url_for("pages.applications.new", process_key=process_key, draft=draft_id))


@bp.route("/policies/offers/<int:offer_id>/decline", methods=["POST"])
@login_required
def decline(offer_id: int) -> Response:
    """Decline an offered policy."""
    where = _enterprise()
    policies.decline_offer(store.database, offer_id=offer_id, actor=where.viewer.username)
    flash(_("Declined: this policy will not be offered again."), "success")
    return redirect(url_for("pages.policies.index"))


@bp.route("/profile")
@login_required
def profile() -> str:
    """The enterprise's profile, which the park's policies read."""
    where = _enterprise()
    with store.database.read() as session:
        found = policies.profile_of(session, where.role.enterprise_id or "")
        raw = _raw(found.tags, found.facts) if found is not None else {}
        return render_template("profile.html", raw=raw, errors={}, sizes=policies.SIZES,
                               certifications=CERTIFICATIONS, updated=found)


@bp.route("/profile", methods=["POST"])
@login_required
def save_profile() -> Response | tuple[str, int]:
    """Save the profile; the policies that now find the enterprise are offered to it."""
    where = _enterprise()
    form = request.form
    facts: dict[str, Any] = {"industry": form.get("industry", "").strip(),
                             "size": form.get("size", "").strip(),
                             "certifications": form.getlist("certifications")}
    errors: dict[str, list[str]] = {}
    for name in NUMBERS:
        text = form.get(name, "").strip()
        if text:
            try:
                number = float(text)
                facts[name] = int(number) if number.is_integer() else number
            except ValueError:
                errors[name] = [_("Enter a number.")]
    tags = [t.strip() for t in form.get("tags", "").replace("，", ",").split(",") if t.strip()]
    if not errors:
        try:
            _profile, changed = policies.set_profile(
                store.database, park_slug=where.park.slug,
                enterprise_id=where.role.enterprise_id or "", tags=tags, facts=facts,
                actor=where.viewer.username)
        except Invalid as exc:
            errors = {str(k).removeprefix("facts."): [str(m) for m in v]
                      for k, v in (exc.details or {}).items()}
        else:
            if changed.offered:
                flash(_("Saved. %(count)d policies match your enterprise now: see them under "
                        "“Policies for you”.", count=changed.offered), "success")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("pages.policies.profile"))
    raw = {**form, "certifications": form.getlist("certifications")}
    return render_template("profile.html", raw=raw, errors=errors, sizes=policies.SIZES,
                           certifications=CERTIFICATIONS, updated=None), 422


def _raw(tags: list[str], facts: Mapping[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {name: "" if value is None else str(value)
                           for name, value in facts.items() if not isinstance(value, list)}
    for name in ("employees", "founded_year"):
        if isinstance(facts.get(name), float) and float(facts[name]).is_integer():
            raw[name] = str(int(facts[name]))
    raw["certifications"] = list(facts.get("certifications", []))
    raw["tags"] = "，".join(tags)
    return raw
