"""The park's task forms: their JSON Schema edited in the browser with a live preview."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS, field_messages, required
from webapp.extensions import store
from webapp.pages.attachments import upload_name
from webapp.pages.forms_render import build_fields
from webapp.services import admin_park
from webapp.services.admin_processes import ParkForm, form_usage, park_forms
from webapp.services.errors import Invalid, NotFound

bp = Blueprint("forms", __name__)
MAX_KEY = 100
STARTER = {"type": "object", "title": "", "required": [], "properties": {
    "comment": {"type": "string", "title": "", "x-widget": "textarea", "maxLength": 2000}}}


@bp.route("/forms")
def index() -> str:
    """List the park's forms, where each is used, and which procedures run an older copy."""
    with store.database.read() as session:
        park = current_park(session)
        forms = park_forms(session, park)
        usage = form_usage(session, park)
    return render_template("admin/forms.html", forms=forms, usage=usage)


@bp.route("/forms/new")
def new() -> str:
    """Show an empty form to start from."""
    return _editor(None, key="", text=json.dumps(STARTER, ensure_ascii=False, indent=2))


@bp.route("/forms/new", methods=["POST"])
def create() -> Response | tuple[str, int]:
    """Save a new form under the key given."""
    key = request.form.get("key", "").strip()[:MAX_KEY + 1]
    text = request.form.get("schema", "")
    errors = required("key", key)
    with store.database.read() as session:
        if key in park_forms(session, current_park(session)):
            errors = {"key": [_("A form with this key exists already; edit it instead.")]}
    if errors:
        return _editor(None, key=key, text=text, errors=errors), 422
    return _save(key, text, None)


@bp.route("/forms/<key>")
def edit(key: str) -> str:
    """Show a form's JSON Schema in the editor, with its preview."""
    form = _form(key)
    text = json.dumps(form.schema, ensure_ascii=False, indent=2)
    return _editor(form.key, key=form.key, text=text)


@bp.route("/forms/<key>", methods=["POST"])
def save(key: str) -> Response | tuple[str, int]:
    """Save a form; invalid JSON or an unusable schema is refused with the reason."""
    form = _form(key)
    return _save(form.key, request.form.get("schema", ""), form.schema)


@bp.route("/forms/preview", methods=["POST"])
def preview() -> str:
    """Draw the form as reviewers will see it (the editor's live preview)."""
    text = request.form.get("schema", "")
    try:
        schema = admin_park.parse_form(text)
    except Invalid as exc:
        return render_template("admin/_form_preview.html", fields=[], upload_name=upload_name,
                               problems=field_messages(exc).get("schema", [exc.message]))
    return render_template("admin/_form_preview.html", fields=_fields(schema), problems=[],
                           title=schema.get("title"), upload_name=upload_name)


def _save(key: str, text: str, current: Mapping[str, Any] | None) -> Response | tuple[str, int]:
    try:
        schema = admin_park.parse_form(text)
        with store.database.write() as session:
            changed = admin_park.save_form(session, current_park(session), actor=actor(),
                                           key=key, schema=schema, current=current)
    except Invalid as exc:
        return _editor(key if current is not None else None, key=key, text=text,
                       errors=field_messages(exc)), 422
    if changed:
        flash(_("Form “%(key)s” is saved. Procedures use it from their next deployment.",
                key=key), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("admin.forms.edit", key=key))


def _form(key: str) -> ParkForm:
    with store.database.read() as session:
        found = park_forms(session, current_park(session)).get(key[:MAX_KEY + 1])
    if found is None:
        raise NotFound(f"form {key!r}")
    return found


def _editor(existing: str | None, *, key: str, text: str,
            errors: Mapping[str, list[str]] | None = None) -> str:
    errors = dict(errors or {})
    try:
        schema: dict[str, Any] | None = admin_park.parse_form(text)
    except Invalid:
        schema = None
    with store.database.read() as session:
        usage = form_usage(session, current_park(session)).get(existing or "", [])
    return render_template("admin/form_edit.html", existing=existing, key=key, text=text,
                           errors=errors, form_errors=errors.get(FORM_ERRORS, []),
                           fields=_fields(schema) if schema else [], usage=usage,
                           title=schema.get("title") if schema else None,
                           upload_name=upload_name)


def _fields(schema: Mapping[str, Any]) -> list[Any]:
    return build_fields(schema, {}, shown={}, errors={}, files={})
