"""A task: the application it belongs to, and its form to claim, fill in and complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.api.scoping import task_for
from webapp.extensions import store
from webapp.models import HumanTask, User
from webapp.pages import dossier
from webapp.pages import handoffs as handoff_pages
from webapp.pages.access import Here, accepts_uploads, here
from webapp.pages.attachments import REQUEST_LIMIT, sent_strangers, take_uploads, upload_name
from webapp.pages.decisions import change_lines, decision_lines
from webapp.pages.forms_render import (
    FORM_ERRORS,
    build_fields,
    check,
    details_of,
    display,
    merge_errors,
    parse,
    properties,
    raw_from_data,
    raw_from_request,
)
from webapp.services import applications, inbox_tabs, phrases, resubmission, returns, taskforms
from webapp.services import tasks as task_service
from webapp.services.attachments import attachments_of
from webapp.services.errors import Conflict, Forbidden, Invalid
from webapp.services.people import is_applicant_task, may_work_on

bp = Blueprint("tasks", __name__)


@bp.route("/tasks/<task_id>")
@login_required
def show(task_id: str) -> str:
    """Show a task with its application, diagram, history, files and form."""
    with store.database.read() as session:
        return _render(session, here(), task_id)


@bp.route("/tasks/<task_id>", methods=["POST"])
@accepts_uploads(REQUEST_LIMIT)
@login_required
def complete(task_id: str) -> Response | tuple[str, int]:
    """Complete a task with its form: checked on the server, every problem shown at once."""
    where = here()
    with store.database.read() as session:
        task = task_for(session, where.viewer, task_id)
        _check_may_work(session, where, task)
        schema = taskforms.task_form(task)
        instance_id, park_id, task_name = task.instance_id, task.park_id, task.name
        allowed = set(dossier.files_of(session, instance_id))
    uploaded, upload_errors = take_uploads(schema, park_id=park_id, instance_id=instance_id,
                                           actor=where.viewer.username)
    raw = _with_uploads(raw_from_request(schema, request.form), uploaded)
    data, conversion_errors = parse(schema, raw, uploaded=uploaded, allowed_files=allowed)
    errors = check(schema, data, {**conversion_errors, **upload_errors, **sent_strangers(schema)})
    if not errors:
        try:
            applications.complete_task(store.database, task_id=task_id, data=data,
                                       actor=where.viewer.username)
        except Invalid as exc:
            errors = merge_errors(schema, details_of(exc.details, exc.message))
    if errors:
        with store.database.read() as session:
            return _render(session, where, task_id, raw=raw, errors=errors), 422
    flash(_("“%(task)s” is done.", task=task_name), "success")
    if where.is_enterprise:
        return redirect(url_for("pages.applications.show", instance_id=instance_id))
    return redirect(url_for("pages.inbox.index"))


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: str) -> Response:
    """Take the task, so that it leaves the others' group inbox."""
    where = here()
    with store.database.read() as session:
        task_for(session, where.viewer, task_id)
    task_service.claim_task(store.database, task_id=task_id, actor=where.viewer.username)
    flash(_("You have claimed this task."), "success")
    return redirect(url_for("pages.tasks.show", task_id=task_id))


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: str) -> Response:
    """Give the task back to its groups."""
    where = here()
    with store.database.read() as session:
        task_for(session, where.viewer, task_id)
    task_service.unclaim_task(store.database, task_id=task_id, actor=where.viewer.username)
    flash(_("The task is back in the group inbox."), "success")
    return redirect(url_for("pages.tasks.show", task_id=task_id))


def _with_uploads(raw: dict[str, Any], uploaded: Mapping[str, list[str]]) -> dict[str, Any]:
    """Just-uploaded files count as chosen, so a form shown again keeps them."""
    for name, ids in uploaded.items():
        raw[name] = [*raw.get(name, []), *ids]
    return raw


def _check_may_work(session: Session, where: Here, task: HumanTask) -> None:
    if task.status != "open":
        raise Conflict(f"task {task.id} is no longer open")
    user = session.get_one(User, where.viewer.user_id)
    if not may_work_on(session, user, task.instance.park, task.instance, task):
        raise Forbidden("not among the people this task waits for")


def _render(session: Session, where: Here, task_id: str, *, raw: Mapping[str, Any] | None = None,
            errors: Mapping[str, list[str]] | None = None) -> str:
    task = task_for(session, where.viewer, task_id)
    instance = task.instance
    schema = taskforms.task_form(task)
    variables = taskforms.variables_of(task)
    user = session.get_one(User, where.viewer.user_id)
    may_work = task.status == "open" and may_work_on(session, user, instance.park, instance, task)
    files = dossier.files_of(session, instance.id)
    if raw is None:
        raw = raw_from_data(schema, taskforms.form_data(session, task, variables))
    past = dossier.history(session, instance, everything=request.args.get("history") == "all")
    tasks = dossier.open_tasks(session, instance.id)
    timers = dossier.waiting_timers(session, instance.id)
    source = variables if task.status == "open" else instance.data_summary
    applicant_task = is_applicant_task(instance.park, task)
    sent = None if applicant_task else resubmission.latest(session, instance)
    return render_template(
        "task.html", task=task, instance=instance, here=where, may_work=may_work,
        fields=build_fields(schema, raw, shown=taskforms.shown(task, variables),
                            errors=errors or {}, files=files),
        form_errors=(errors or {}).get(FORM_ERRORS, []), errors=errors or {},
        form_title=schema.get("title"),
        submitted=_submitted(schema, taskforms.submitted(session, task), task, files),
        decisions=decision_lines(session, taskforms.decisions(session, instance, before=task),
                                 files),
        summary=dossier.summary(instance.definition, source, files), files=files,
        attachments=attachments_of(session, instance.id), past=past,
        whole_history=url_for("pages.tasks.show", task_id=task.id, history="all"),
        upload_name=upload_name,
        current=dossier.current_steps(session, instance, tasks, timers,
                                      where.role.applicant_lanes),
        marks=dossier.marks(session, instance.id, tasks, timers),
        applicant_task=applicant_task, resubmission=sent,
        urged=inbox_tabs.urge_marks(session, [task.id]).get(task.id),
        phrases=phrases.list_phrases(session, user.id) if may_work and not applicant_task else [],
        may_copy=not where.is_enterprise,
        changes=change_lines(sent, dossier.start_schema(instance.definition) or {}, files)
        if sent is not None else [],
        return_targets=returns.return_targets(session, task)
        if may_work and not applicant_task else [],
        returned=returns.why_returned(session, task) if task.status == "open" else None,
        assignee_name=dossier.display_names(session, [task.assignee]).get(
            task.assignee, task.assignee) if task.assignee else None,
        **handoff_pages.task_page(session, where, task, may_work))


def _submitted(schema: Mapping[str, Any], data: Mapping[str, Any], task: HumanTask,
               files: Mapping[str, str]) -> list[tuple[str, str]]:
    """What was filled in on a finished task, as (label, value) pairs."""
    if task.status == "open":
        return []
    rows = []
    for name, prop in properties(schema).items():
        shown = display(prop, data.get(name), files)
        if shown and not prop.get("readOnly"):
            rows.append((str(prop.get("title") or name), shown))
    return rows
