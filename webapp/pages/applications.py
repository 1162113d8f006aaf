"""Applications: the park's service catalogue, applying, and following one application."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forms.fields import opening_values
from webapp.api.scoping import instance_for, visible_instances
from webapp.extensions import store
from webapp.models import INSTANCE_RESULTS, Enterprise, Park, ProcessDefinition, User
from webapp.pages import applicant, dossier, drafts, live
from webapp.pages.access import Here, accepts_uploads, here, list_filter
from webapp.pages.attachments import REQUEST_LIMIT, sent_strangers, take_uploads, upload_name
from webapp.pages.forms_render import (
    FORM_ERRORS,
    build_fields,
    check,
    details_of,
    merge_errors,
    parse,
    raw_from_data,
    raw_from_request,
)
from webapp.pages.guide import guide_of, overview
from webapp.pages.ratings import DIMENSION_LABELS, GRADE_LABELS, rating_context
from webapp.services import copies, prediction, queries, taskforms
from webapp.services.applications import start_application
from webapp.services.attachments import attachments_of, link_pending, pending_of
from webapp.services.errors import Forbidden, Invalid, NotFound
from webapp.services.processes import latest_definition
from webapp.services.ratings import MAX_COMMENT, rate_application

bp = Blueprint("applications", __name__)
PAGE_SIZE = 50
STATUSES = ("active", "completed", "cancelled", "error")
DESCRIPTION_LENGTH = 160


@bp.route("/applications")
@login_required
def index() -> str:
    """Show the park's service catalogue and the applications the user may follow."""
    where = here()
    status = list_filter("status", STATUSES)
    result = list_filter("result", INSTANCE_RESULTS)
    after = _decode(request.args.get("after"))
    with store.database.read() as session:
        park = session.get_one(Park, where.role.park_id)
        page = queries.list_instances(session, visible_instances(session, where.viewer, park),
                                      status=status, result=result, process_key=None,
                                      limit=PAGE_SIZE, after=after)
        holders = dossier.display_names(session, [
            step["assignee"] for item in page.items for step in item["current_steps"]
            if step["assignee"]])
        offers = (applicant.offers_for(session, where, [item["id"] for item in page.items])
                  if where.is_enterprise else {})
        return render_template("applications.html", catalogue=_catalogue(session, where),
                               offers=offers,
                               drafts=drafts.listed(session, where),
                               items=page.items, holders=holders, status=status,
                               result=result,
                               next_after=_encode(page.next_key) if page.next_key else None,
                               paged=after is not None, here=where)


@bp.route("/applications/new/<process_key>")
@login_required
def new(process_key: str) -> str:
    """Show a procedure's application form."""
    where = _applicant()
    with store.database.read() as session:
        definition = _definition(session, where, process_key)
        draft_id = request.args.get("draft") or None
        raw, pending = drafts.resumed(session, where, process_key, draft_id)
        resumed = bool(raw)
        if not resumed:
            # the form opens with the defaults its model declares, as a task's form does
            schema = dossier.start_schema(definition) or {}
            raw = raw_from_data(schema, opening_values(schema, {}))
        return _render_new(session, definition, raw=raw, errors={}, pending=pending,
                           draft_id=draft_id if resumed else None)


@bp.route("/applications/new/<process_key>", methods=["POST"])
@accepts_uploads(REQUEST_LIMIT)
@login_required
def apply(process_key: str) -> Response | tuple[str, int]:
    """Apply: check the form on the server and start the application with its files."""
    where = _applicant()
    with store.database.read() as session:
        definition = _definition(session, where, process_key)
        full = dossier.start_schema(definition) or {"type": "object", "properties": {}}
        identity = _identity(session, where, full)
    # the enterprise's own name and code come from its record: shown, not typed
    schema = taskforms.locked(full, identity)
    actor = where.viewer.username
    uploaded, upload_errors = take_uploads(schema, park_id=where.role.park_id, instance_id=None,
                                           actor=actor)
    raw = raw_from_request(schema, request.form)
    for name, ids in uploaded.items():
        raw[name] = [*raw.get(name, []), *ids]
    draft_id = request.form.get(drafts.DRAFT_FIELD) or None
    saving = bool(request.form.get(drafts.SAVE_BUTTON))
    if saving and not upload_errors:
        return drafts.keep(where, process_key, raw, draft_id)
    with store.database.read() as session:
        user = session.get_one(User, where.viewer.user_id)
        pending = {row.id: row.filename for row in pending_of(
            session, user, where.role.park_id, [i for v in raw.values()
                                                if isinstance(v, list) for i in v])}
        if saving:  # a refused file is told beside its field; the rest is kept as typed
            definition = _definition(session, where, process_key)
            return _render_new(session, definition, raw=raw, errors=upload_errors,
                               pending=pending, draft_id=draft_id), 422
    data, conversion_errors = parse(schema, raw, uploaded=uploaded, allowed_files=pending)
    errors = check(full, {**data, **identity},
                   {**conversion_errors, **upload_errors,
                    **sent_strangers(schema, (drafts.DRAFT_FIELD,))})
    instance_id = None
    if not errors:
        try:
            instance_id = start_application(store.database, park_slug=where.park.slug,
                                            process_key=process_key, data=data, actor=actor)
        except Invalid as exc:
            errors = merge_errors(schema, details_of(exc.details, exc.message))
    if instance_id is None:
        with store.database.read() as session:
            definition = _definition(session, where, process_key)
            return _render_new(session, definition, raw=raw, errors=errors,
                               pending=pending, draft_id=draft_id), 422
    link_pending(store.database, instance_path=Path(current_app.instance_path),
                 attachment_ids=[i for v in data.values() if isinstance(v, list) for i in v
                                 if i in pending], instance_id=instance_id, actor=actor)
    drafts.sent(where, draft_id)
    flash(_("Your application has been submitted."), "success")
    return redirect(url_for("pages.applications.show", instance_id=instance_id))


@bp.route("/applications/<instance_id>")
@login_required
def show(instance_id: str) -> Response:
    """Show where an application stands: diagram, timeline, returns, promised date, rating.

    The page looks for changes every second (``webapp.pages.live``): an empty 304 while
    nothing changed."""
    tag = live.tracker_tag(instance_id)
    if live.unchanged(tag):
        assert tag is not None
        return live.not_modified(tag)
    where = here()
    with store.database.read() as session:
        page = render_application(session, where, instance_id, live_tag=tag)
        # a copy (抄送) counts as read once its reader opened the application
        unread = (not where.is_enterprise
                  and copies.has_unread_copy(session, instance_id, where.viewer.user_id))
    if unread:
        copies.mark_read(store.database, instance_id=instance_id, user_id=where.viewer.user_id)
    return live.tagged(make_response(page), tag)


@bp.route("/applications/<instance_id>/rating", methods=["POST"])
@login_required
def rate(instance_id: str) -> Response | tuple[str, int]:
    """Rate a completed application in one of the five grades, with a comment."""
    where = here()
    with store.database.read() as session:
        instance_for(session, where.viewer, instance_id)
    raw = {"grade": request.form.get("grade", ""), "comment": request.form.get("comment", "")}
    errors: dict[str, list[str]] = {}
    grade = int(raw["grade"]) if raw["grade"].isdigit() else 0
    if grade not in GRADE_LABELS:
        errors["grade"] = [_("Choose one of the five grades.")]
    # the online dimensions: each may be graded (and is then one of the five grades)
    dimensions: dict[str, int] = {}
    for name in DIMENSION_LABELS:
        given = raw[f"dimension-{name}"] = request.form.get(f"dimension-{name}", "")
        if not given:
            continue
        if given.isdigit() and int(given) in GRADE_LABELS:
            dimensions[name] = int(given)
        else:
            errors[f"dimension-{name}"] = [_("Choose one of the five grades.")]
    if len(raw["comment"]) > MAX_COMMENT:
        errors["comment"] = [_("Enter at most %(count)d characters.", count=MAX_COMMENT)]
    if not errors:
        try:
            rate_application(store.database, instance_id=instance_id, grade=grade,
                             comment=raw["comment"], actor=where.viewer.username,
                             dimensions=dimensions)
        except Invalid:
            errors = {"grade": [_("The rating was not accepted.")]}
    if errors:
        with store.database.read() as session:
            return render_application(session, where, instance_id, rating_errors=errors,
                                      rating_raw=raw), 422
    flash(_("Thank you for your rating."), "success")
    return redirect(url_for("pages.applications.show", instance_id=instance_id))


@bp.route("/applications/<instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id: str) -> Response:
    """Hand out the BPMN diagram the application runs on."""
    with store.database.read() as session:
        instance = instance_for(session, here().viewer, instance_id)
        xml = instance.definition.bpmn_xml
    response = Response(xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    # opened directly, the XML must not run anything it may contain
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def render_application(session: Session, where: Here, instance_id: str, *,
                       rating_errors: Mapping[str, list[str]] | None = None,
                       rating_raw: Mapping[str, str] | None = None,
                       live_tag: str | None = None) -> str:
    """The application page (also shown again with the rating form's errors); with
    ``live_tag``, the page looks for changes and takes them in as they come."""
    instance = instance_for(session, where.viewer, instance_id)
    files = dossier.files_of(session, instance.id)
    past = dossier.history(session, instance, everything=request.args.get("history") == "all")
    tasks = dossier.open_tasks(session, instance.id)
    timers = dossier.waiting_timers(session, instance.id)
    current = dossier.current_steps(session, instance, tasks, timers, where.role.applicant_lanes)
    return render_template(
        "application.html", instance=instance, here=where, past=past,
        whole_history=url_for("pages.applications.show", instance_id=instance.id,
                              history="all"),
        current=current, files=files,
        attachments=attachments_of(session, instance.id),
        summary=dossier.summary(instance.definition, instance.data_summary, files),
        marks=dossier.marks(session, instance.id, tasks, timers),
        answer=next((step for step in current if step.applicant and step.task_id), None),
        detail=dossier.status_detail(instance, current),
        expected=prediction.predict(session, instance,
                                    [(task.element_id, task.created_at) for task in tasks]),
        offer=applicant.offers_for(session, where, [instance.id]).get(instance.id, {}),
        grant=dossier.granted(instance), live_tag=live_tag, live_every=live.EVERY_MS,
        **rating_context(session, where, instance, errors=rating_errors or {},
                         raw=rating_raw or {}))


def _applicant() -> Here:
    where = here()
    if not where.is_enterprise:
        raise Forbidden("only enterprise users apply")
    return where


def _definition(session: Session, where: Here, process_key: str) -> ProcessDefinition:
    """The newest version of a procedure that enterprises of the park apply for."""
    park = session.get_one(Park, where.role.park_id)
    definition = latest_definition(session, park, process_key[:255])
    if definition is None:
        raise NotFound(f"procedure {process_key!r}")
    if not dossier.applicants_start(definition, where.role.applicant_lanes):
        raise Forbidden("the park starts this procedure itself")
    return definition


def _identity(session: Session, where: Here, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The application form's enterprise fields, as the applicant's enterprise record has them."""
    enterprise = session.get(Enterprise, where.role.enterprise_id)
    return taskforms.identity(schema, enterprise) if enterprise is not None else {}


def _render_new(session: Session, definition: ProcessDefinition, *, raw: Mapping[str, Any],
                errors: Mapping[str, list[str]], pending: Mapping[str, str],
                draft_id: str | None = None) -> str:
    full = dossier.start_schema(definition) or {"type": "object", "properties": {}}
    identity = _identity(session, here(), full)
    schema = taskforms.locked(full, identity)
    facts = dossier.process_facts(definition)
    guide = guide_of(definition, session.get_one(Park, definition.park_id), full,
                     str(get_locale() or ""))
    return render_template(
        "apply.html", definition=definition, description=facts.description, guide=guide,
        draft_id=draft_id, save_button=drafts.SAVE_BUTTON, draft_field=drafts.DRAFT_FIELD,
        form_title=schema.get("title"), form_description=None,
        fields=build_fields(schema, raw, shown=identity, errors=errors, files=pending),
        errors=errors, form_errors=errors.get(FORM_ERRORS, []), upload_name=upload_name)


def _catalogue(session: Session, where: Here) -> list[dict[str, Any]]:
    """The newest version of each of the park's procedures, by name."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
              .where(ProcessDefinition.park_id == where.role.park_id)
              .group_by(ProcessDefinition.key).subquery())
    definitions = session.scalars(select(ProcessDefinition).join(newest, and_(
        ProcessDefinition.key == newest.c.key, ProcessDefinition.version == newest.c.v))
        .where(ProcessDefinition.park_id == where.role.park_id)
        .order_by(ProcessDefinition.name))
    found = []
    for definition in definitions:
        description = overview(definition, str(get_locale() or ""))
        if len(description) > DESCRIPTION_LENGTH:
            description = description[:DESCRIPTION_LENGTH].rsplit(" ", 1)[0] + " …"
        found.append({"key": definition.key, "name": definition.name,
                      "description": description,
                      "promised": definition.promised_duration,
                      "can_apply": dossier.applicants_start(definition,
                                                            where.role.applicant_lanes)})
    return found


def _encode(key: tuple[Any, ...]) -> str:
    return f"{key[0].isoformat()}~{key[1]}"


def _decode(raw: str | None) -> tuple[datetime, str] | None:
    """The sort key a "next page" link carries; 400 when it was tampered with."""
    if not raw:
        return None
    started, _sep, instance_id = raw.partition("~")
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        abort(400)
    if moment.tzinfo is None or not instance_id or len(instance_id) > 64:
        abort(400)
    return moment, instance_id
