"""Procedures: the list of versions, the browser modeler, checking, deploying, comparing."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine import InvalidProcess, Problem, diff_versions
from engine.services import SERVICES
from webapp.admin.access import current_admin, current_park, json_error
from webapp.admin.problems import problem_json, text_of
from webapp.extensions import store
from webapp.services import admin_processes as service
from webapp.services import holidays
from webapp.services.processes import deploy_warnings, get_latest

bp = Blueprint("processes", __name__)
MAX_KEY = 255
BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" \
xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:camunda="http://camunda.org/schema/1.0/bpmn" \
xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_{suffix}" \
targetNamespace="http://bpmn.io/schema/bpmn" modeler:executionPlatform="Camunda Platform" \
modeler:executionPlatformVersion="7.21.0">
  <bpmn:process id="Process_{suffix}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_{suffix}">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@bp.route("/")
def home() -> Response:
    """Start the administration at the procedures."""
    return redirect(url_for("admin.processes.index"))


@bp.route("/processes")
def index() -> str:
    """List the park's procedures with their versions, deployers and running applications."""
    with store.database.read() as session:
        park = current_park(session)
        found = service.procedures(session, park)
        today = datetime.now(ZoneInfo(park.timezone)).date()
        unknown_year = holidays.coming_year_unknown(session, park, today)
    return render_template("admin/processes.html", procedures=found, unknown_year=unknown_year)


@bp.route("/processes/new")
def new() -> str:
    """Open the modeler on a new, nearly empty diagram."""
    return render_template("admin/modeler.html", key=None, version=None,
                           bpmn_url=url_for("admin.processes.blank"), services=sorted(SERVICES))


@bp.route("/processes/blank.bpmn")
def blank() -> Response:
    """A new diagram with a fresh process id, for the modeler to start from."""
    xml = BLANK.format(suffix=secrets.token_hex(4), name=_("New procedure"))
    return Response(xml, mimetype="application/xml")


@bp.route("/processes/<key>/edit")
def edit(key: str) -> str:
    """Open the modeler on the newest version of a procedure."""
    with store.database.read() as session:
        definition = get_latest(session, current_park(session), key[:MAX_KEY])
        version, name = definition.version, definition.name
    return render_template("admin/modeler.html", key=key, version=version, name=name,
                           bpmn_url=url_for("admin.processes.bpmn", key=key, version=version),
                           services=sorted(SERVICES))


@bp.route("/processes/<key>/versions/<int:version>.bpmn")
def bpmn(key: str, version: int) -> Response:
    """Download the BPMN XML of one version."""
    with store.database.read() as session:
        definition = service.get_version(session, current_park(session), key[:MAX_KEY], version)
        xml = definition.bpmn_xml
    name = f"{key}-v{version}.bpmn"
    plain = name.encode("ascii", "ignore").decode() or f"v{version}.bpmn"
    return Response(xml, mimetype="application/xml", headers={
        "Content-Disposition": f"attachment; filename=\"{plain}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


@bp.route("/processes/validate", methods=["POST"])
def validate() -> tuple[Response, int]:
    """Check a diagram with the park's forms and decisions; every problem and warning as JSON."""
    xml = _posted_xml()
    if isinstance(xml, tuple):
        return xml
    with store.database.read() as session:
        problems, warnings = service.check_diagram(session, current_park(session), xml)
    return jsonify({"problems": _problems(problems), "warnings": _problems(warnings)}), 200


@bp.route("/processes/deploy", methods=["POST"])
def deploy() -> tuple[Response, int]:
    """Deploy a diagram as a new version; 422 with every problem when it cannot run."""
    xml = _posted_xml()
    if isinstance(xml, tuple):
        return xml
    try:
        with store.database.write() as session:
            results = service.deploy_diagram(session, current_park(session), xml,
                                             actor=current_admin(session))
    except InvalidProcess as exc:
        return jsonify({"problems": _problems(exc.problems)}), 422
    body = {"processes": [{"key": r.key, "version": r.version, "name": r.name,
                           "created": r.created,
                           "edit_url": url_for("admin.processes.edit", key=r.key)}
                          for r in results],
            "warnings": _problems(deploy_warnings(results)),
            "list_url": url_for("admin.processes.index")}
    return jsonify(body), 201 if any(r.created for r in results) else 200


@bp.route("/processes/<key>/compare")
def compare(key: str) -> str:
    """Compare two versions of a procedure element by element."""
    with store.database.read() as session:
        park = current_park(session)
        latest = get_latest(session, park, key[:MAX_KEY])
        after = _version_arg("to", latest.version)
        before = _version_arg("from", max(after - 1, 1))
        old = service.get_version(session, park, key, before)
        new = service.get_version(session, park, key, after)
        diff = diff_versions(old.bpmn_xml, new.bpmn_xml, old.forms or {}, new.forms or {})
        versions = list(range(latest.version, 0, -1))
        return render_template("admin/compare.html", key=key, name=latest.name, diff=diff,
                               before=old, after=new, versions=versions)


@bp.route("/processes/<key>/redeploy", methods=["POST"])
def redeploy(key: str) -> Response:
    """Deploy the newest diagram of a procedure again, with the park's current forms."""
    target = request.form.get("back") == "forms"
    back = url_for("admin.forms.index") if target else url_for("admin.processes.index")
    try:
        with store.database.write() as session:
            deployed = service.redeploy(session, current_park(session), key[:MAX_KEY],
                                        actor=current_admin(session))
    except InvalidProcess as exc:
        # a form edited since makes the diagram undeployable: say why, in the user's words
        flash(_("Nothing was deployed: the procedure has problems."), "error")
        for problem in exc.problems:
            flash(f"{problem.element_id or '-'}: {text_of(problem)}", "error")
        return redirect(back)
    if deployed.created:
        flash(_("Version %(version)d of “%(name)s” is deployed.", version=deployed.version,
                name=deployed.name), "success")
    else:
        flash(_("Nothing changed: “%(name)s” already runs on these forms.",
                name=deployed.name), "info")
    return redirect(back)


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        abort(400)
    return int(raw)


def _posted_xml() -> str | tuple[Response, int]:
    body: Any = request.get_json(silent=True)
    xml = body.get("bpmn_xml") if isinstance(body, dict) else None
    if not isinstance(xml, str) or not xml.strip():
        return json_error(400, "malformed", _("Send the diagram as JSON: {\"bpmn_xml\": \"...\"}."))
    if "\x00" in xml:
        return json_error(422, "invalid_process", _("The diagram contains NUL characters."))
    return xml


def _problems(problems: Any) -> list[dict[str, Any]]:
    return [problem_json(p) for p in problems if isinstance(p, Problem)]
