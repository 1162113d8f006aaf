"""Process definitions of a park: deploy (admins), list the latest, fetch a version's BPMN."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import ValidationError

from webapp.api import paging
from webapp.api.bodies import ApiBlueprint, json_body, loads
from webapp.api.caller import current_viewer
from webapp.api.errors import ApiError, problem_item
from webapp.api.schemas import (
    DeployRequestSchema,
    DeployResultSchema,
    ErrorSchema,
    PageArgsSchema,
    ProcessSchema,
)
from webapp.api.scoping import definition_for, park_for
from webapp.extensions import store
from webapp.services import processes, queries

blp = ApiBlueprint("processes", __name__, url_prefix="/api/v1/parks/<park>/processes",
                   description="Deploy BPMN procedures and read what is deployed.")

FORM_FIELD_PREFIX = "form:"
_DEPLOY_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": DeployRequestSchema},
        "multipart/form-data": {"schema": {
            "type": "object",
            "properties": {
                "bpmn": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "dmn": {"type": "array", "items": {"type": "string", "format": "binary"}},
            },
            "required": ["bpmn"],
            "description": "plus one file field form:<formKey> per form (JSON Schema)",
        }},
    },
}

Sources = tuple[dict[str, bytes], dict[str, bytes], dict[str, Any]]


@blp.route("", methods=["POST"])
@blp.doc(requestBody=_DEPLOY_BODY)
@blp.response(201, DeployResultSchema, description="At least one process is a new version")
@blp.alt_response(200, schema=DeployResultSchema, description="Nothing changed")
@blp.alt_response(413, schema=ErrorSchema, description="Larger than 5 MB")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid; details lists every problem")
def deploy(park: str) -> tuple[dict[str, Any], int]:
    """Validate and deploy BPMN (with DMN and forms); all problems come back at once."""
    viewer = current_viewer()
    with store.database.read() as session:
        park_for(session, viewer, park, roles=("admin",))
    multipart = request.mimetype == "multipart/form-data"
    bpmn, dmn, forms = _multipart_sources() if multipart else _json_sources()
    _check_text(bpmn | dmn)
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        results = processes.deploy(session, park=found, actor=viewer.username,
                                   actor_id=viewer.user_id, bpmn=bpmn, dmn=dmn, forms=forms)
    body = {"processes": [{"key": r.key, "version": r.version, "name": r.name,
                           "created": r.created} for r in results],
            "warnings": [problem_item(w) for w in processes.deploy_warnings(results)]}
    return body, 201 if any(r.created for r in results) else 200


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema(), location="query")
@blp.response(200, ProcessSchema(many=True))
def list_processes(args: dict[str, Any], park: str) -> tuple[list[dict[str, Any]], int,
                                                              dict[str, str]]:
    """List the newest version of each procedure, most recently deployed first."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park)
        page = queries.latest_processes(
            session, found, limit=args["limit"],
            after=paging.decode_cursor(args.get("cursor"), queries.PROCESS_KEY))
    return page.items, 200, paging.link_headers(page)


@blp.route("/<key>/versions/<int:version>/bpmn", methods=["GET"])
@blp.response(200, {"type": "string"}, content_type="application/xml")
def get_bpmn(park: str, key: str, version: int) -> Response:
    """Return the BPMN XML of one deployed version."""
    with store.database.read() as session:
        definition = definition_for(session, current_viewer(), park, key, version)
        xml = definition.bpmn_xml
    return Response(xml, mimetype="application/xml")


def _json_sources() -> Sources:
    loaded = DeployRequestSchema().load(json_body())
    dmn = {f"decision-{n}.dmn": text.encode("utf-8") for n, text in enumerate(loaded["dmn_xml"])}
    return {"process.bpmn": loaded["bpmn_xml"].encode("utf-8")}, dmn, loaded["forms"]


def _multipart_sources() -> Sources:
    bpmn = {_name(f.filename, "bpmn", n): f.read() for n, f in
            enumerate(request.files.getlist("bpmn"))}
    dmn = {_name(f.filename, "dmn", n): f.read() for n, f in
           enumerate(request.files.getlist("dmn"))}
    for name, text in request.form.items(multi=True):
        if name == "bpmn":
            bpmn[f"bpmn-field-{len(bpmn)}.bpmn"] = text.encode("utf-8")
        elif name == "dmn":
            dmn[f"dmn-field-{len(dmn)}.dmn"] = text.encode("utf-8")
    if not bpmn:
        raise ValidationError({"bpmn": ["a BPMN file is required"]})
    forms = {name[len(FORM_FIELD_PREFIX):]: _form(name, f.read())
             for name, f in request.files.items(multi=True)
             if name.startswith(FORM_FIELD_PREFIX)}
    return bpmn, dmn, forms


def _check_text(files: dict[str, bytes]) -> None:
    """Refuse what the database cannot store as text: non-UTF-8 bytes and NUL characters."""
    problems = []
    for name, content in files.items():
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            problems.append({"element_id": "", "line": None, "message": f"{name}: not UTF-8"})
            continue
        if "\x00" in text:
            problems.append({"element_id": "", "line": None,
                             "message": f"{name}: contains NUL characters"})
    if problems:
        raise ApiError(422, "the files cannot be read as XML text", code="invalid_process",
                       details=problems)


def _name(filename: str | None, kind: str, index: int) -> str:
    # the name only labels problems; keep it short and printable
    clean = "".join(c for c in (filename or "") if c.isprintable() and c not in "\x00/\\")[:100]
    return clean or f"{kind}-{index}.{kind}"


def _form(field: str, content: bytes) -> Any:
    key = field[len(FORM_FIELD_PREFIX):]
    if not key or len(key) > 255 or "\x00" in key:
        raise ValidationError({field: ["name the form: form:<formKey>"]})
    try:
        return loads(content)
    except ValueError as exc:
        raise ApiError(422, f"form {key!r} is not valid JSON",
                       details=[{"field": field, "message": str(exc)}]) from None
