"""Decision tables: the park's DMN files edited in the browser (dmn-js), checked with the
engine's deploy checks and deployed with the procedures calling them."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine import InvalidProcess, Problem
from webapp.admin.access import current_admin, current_park, json_error
from webapp.admin.problems import problem_json
from webapp.extensions import store
from webapp.services import admin_decisions as service
from webapp.services.errors import NotFound

bp = Blueprint("decisions", __name__)
MAX_ID = 255


@bp.route("/decisions")
def index() -> str:
    """List the park's decision tables, the procedures calling them and their versions."""
    with store.database.read() as session:
        found = service.park_decision_list(session, current_park(session))
    return render_template("admin/decisions.html", decisions=found)


@bp.route("/decisions/new")
def new() -> str:
    """Open the decision table editor on a new table."""
    return render_template(
        "admin/decision_edit.html", decision=None, dmn_url=url_for("admin.decisions.blank")
    )


@bp.route("/decisions/blank.dmn")
def blank() -> Response:
    """A new decision table with fresh ids, for the editor to start from."""
    xml = service.blank_decision(secrets.token_hex(4), _("New decision"))
    return Response(xml, mimetype="application/xml")


@bp.route("/decisions/<decision_id>/edit")
def edit(decision_id: str) -> str:
    """Open the editor on the park's current table of a decision."""
    with store.database.read() as session:
        decision = service.get_decision(session, current_park(session), decision_id[:MAX_ID])
    return render_template(
        "admin/decision_edit.html",
        decision=decision,
        dmn_url=url_for("admin.decisions.dmn", decision_id=decision_id),
    )


@bp.route("/decisions/<decision_id>.dmn")
def dmn(decision_id: str) -> Response:
    """The park's current DMN of a decision; ``?version=N`` one of its versions."""
    with store.database.read() as session:
        decision = service.get_decision(session, current_park(session), decision_id[:MAX_ID])
    content = decision.content
    raw = request.args.get("version")
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()):
            abort(400)
        versions = {v.number: v.content for v in decision.versions}
        if int(raw) not in versions:
            raise NotFound(f"version {raw} of decision {decision_id!r}")
        content = versions[int(raw)]
    name = f"{decision.decision_id}-v{raw}.dmn" if raw else f"{decision.decision_id}.dmn"
    plain = name.encode("ascii", "ignore").decode() or "decision.dmn"
    return Response(
        content,
        mimetype="application/xml",
        headers={
            "Content-Disposition": f"inline; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
        },
    )


@bp.route("/decisions/validate", methods=["POST"])
def validate() -> tuple[Response, int]:
    """Check a decision table with the engine's deploy checks; every problem as JSON."""
    xml = _posted_xml()
    if isinstance(xml, tuple):
        return xml
    with store.database.read() as session:
        problems = service.check_decision(session, current_park(session), xml)
    return jsonify({"problems": _problems(problems)}), 200


@bp.route("/decisions/deploy", methods=["POST"])
def deploy() -> tuple[Response, int]:
    """Keep a table as the park's and deploy again every procedure calling it; 422 with
    every problem when it cannot run."""
    xml = _posted_xml()
    if isinstance(xml, tuple):
        return xml
    try:
        with store.database.write() as session:
            done = service.deploy_decision(
                session, current_park(session), xml, actor=current_admin(session)
            )
    except InvalidProcess as exc:
        return jsonify({"problems": _problems(exc.problems)}), 422
    body = {
        "decision_id": done.decision_id,
        "saved": done.saved,
        "processes": [
            {"key": r.key, "version": r.version, "name": r.name, "created": r.created}
            for r in done.deployed
        ],
        "edit_url": url_for("admin.decisions.edit", decision_id=done.decision_id),
        "list_url": url_for("admin.decisions.index"),
    }
    created = done.saved or any(r.created for r in done.deployed)
    return jsonify(body), 201 if created else 200


def _posted_xml() -> str | tuple[Response, int]:
    body: Any = request.get_json(silent=True)
    xml = body.get("dmn_xml") if isinstance(body, dict) else None
    if not isinstance(xml, str) or not xml.strip():
        return json_error(400, "malformed", _('Send the table as JSON: {"dmn_xml": "..."}.'))
    if "\x00" in xml:
        return json_error(422, "invalid_decision", _("The table contains NUL characters."))
    return xml


def _problems(problems: Any) -> list[dict[str, Any]]:
    return [problem_json(p) for p in problems if isinstance(p, Problem)]
