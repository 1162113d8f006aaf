"""The modeler's drafts as JSON: read, save (the page's autosave) and discard."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from webapp.admin.access import current_admin, current_park, json_error
from webapp.extensions import store
from webapp.services import modeller_drafts as service
from webapp.services.errors import Invalid

bp = Blueprint("drafts", __name__)


@bp.route("/modeler/draft")
def show() -> tuple[Response, int]:
    """The administrator's draft of a procedure: ``{"draft": {"xml", "saved_at"}}`` or null."""
    target = _target(request.args.get("target"))
    if isinstance(target, tuple):
        return target
    with store.database.read() as session:
        draft = service.get_draft(session, current_park(session), current_admin(session), target)
        found = (
            None if draft is None else {"xml": draft.xml, "saved_at": draft.updated_at.isoformat()}
        )
    return jsonify({"draft": found}), 200


@bp.route("/modeler/draft", methods=["PUT"])
def save() -> tuple[Response, int]:
    """Keep the diagram as the administrator's draft (``{"target", "xml"}``)."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        return json_error(
            400, "malformed", _('Send the draft as JSON: {"target": "process:…", "xml": "..."}.')
        )
    target = _target(body.get("target"))
    if isinstance(target, tuple):
        return target
    try:
        with store.database.write() as session:
            saved_at = service.save_draft(
                session, current_park(session), current_admin(session), target, body["xml"]
            )
    except Invalid:
        return json_error(
            422, "invalid_draft", _("The draft is empty, too large or holds NUL characters.")
        )
    return jsonify({"saved_at": saved_at.isoformat()}), 200


@bp.route("/modeler/draft", methods=["DELETE"])
def discard() -> tuple[Response, int]:
    """Throw the administrator's draft of a procedure away."""
    target = _target(request.args.get("target"))
    if isinstance(target, tuple):
        return target
    reason = "deployed" if request.args.get("reason") == "deployed" else "discarded"
    with store.database.write() as session:
        found = service.discard_draft(
            session, current_park(session), current_admin(session), target, reason=reason
        )
    return jsonify({"discarded": found}), 200


def _target(raw: object) -> str | tuple[Response, int]:
    try:
        return service.check_target(raw)
    except Invalid:
        return json_error(
            400,
            "bad_target",
            _("Name the procedure of the draft: process:<key>, or process: for a new one."),
        )
