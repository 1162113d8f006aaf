"""Applications as the administrator sees them: all of the park's, to inspect and to fix.

Cancel an application, run its failed step again, give an open task to someone else, and
look at the data: the instance's summary and what the engine holds for an open task.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from engine import EngineError
from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS, field_messages
from webapp.extensions import store
from webapp.models import (
    INSTANCE_STATUSES,
    Enterprise,
    HumanTask,
    Instance,
    Membership,
    Park,
    ProcessDefinition,
    User,
)
from webapp.pages.access import list_filter
from webapp.services import applications as application_service
from webapp.services import tasks as task_service
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Invalid, NotFound
from webapp.services.people import is_applicant_task

bp = Blueprint("applications", __name__)
PAGE_SIZE = 50
MAX_QUERY = 64
MAX_ID_LENGTH = 64
MAX_PAGE = 10_000


@bp.route("/applications")
def index() -> str:
    """List the park's applications, filtered by status and reference or enterprise."""
    status = list_filter("status", INSTANCE_STATUSES)
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    page = request.args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or not 0 < int(page) <= MAX_PAGE:
        abort(400)
    number = int(page)
    with store.database.read() as session:
        park = current_park(session)
        rows = session.execute(_listing(park, status, query)
                               .limit(PAGE_SIZE + 1).offset((number - 1) * PAGE_SIZE)).all()
        return render_template("admin/applications.html", rows=rows[:PAGE_SIZE],
                               statuses=INSTANCE_STATUSES, status=status, query=query,
                               page=number, more=len(rows) > PAGE_SIZE)


def _listing(park: Park, status: str | None,
             query: str) -> Select[Instance, str, str, int, str]:
    stmt = (select(Instance, ProcessDefinition.key, ProcessDefinition.name,
                   ProcessDefinition.version, Enterprise.name)
            .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
            .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id)
            .where(Instance.park_id == park.id)
            .order_by(Instance.started_at.desc(), Instance.id.desc()))
    if status is not None:
        stmt = stmt.where(Instance.status == status)
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Instance.reference.ilike(pattern, escape="\\"),
                              Enterprise.name.ilike(pattern, escape="\\")))
    return stmt


@bp.route("/applications/<instance_id>")
def show(instance_id: str) -> str:
    """Show an application's data, open tasks, engine data and what can be done to it."""
    return _page(instance_id, {}, None)


@bp.route("/applications/<instance_id>/cancel", methods=["POST"])
def cancel(instance_id: str) -> Response:
    """Withdraw an application: its open tasks and timers go away."""
    _instance_ref(instance_id)
    reason = request.form.get("reason", "").strip()[:500]
    application_service.cancel_application(store.database, instance_id=instance_id,
                                           actor=actor(), reason=reason)
    flash(_("The application is withdrawn."), "success")
    return redirect(url_for("admin.applications.show", instance_id=instance_id))


@bp.route("/applications/<instance_id>/retry", methods=["POST"])
def retry(instance_id: str) -> Response:
    """Run an application's failed step again."""
    _instance_ref(instance_id)
    application_service.retry_application(store.database, instance_id=instance_id,
                                          actor=actor())
    flash(_("The failed step was run again."), "success")
    return redirect(url_for("admin.applications.show", instance_id=instance_id))


@bp.route("/applications/<instance_id>/tasks/<task_id>/assign", methods=["POST"])
def assign(instance_id: str, task_id: str) -> Response | tuple[str, int]:
    """Give an open task to another person of the park."""
    _task(instance_id, task_id)
    username = request.form.get("username", "").strip()[:MAX_QUERY]
    try:
        task_service.assign_task(store.database, task_id=task_id, username=username,
                                 actor=actor())
    except Invalid as exc:
        return _page(instance_id, field_messages(exc), task_id), 422
    flash(_("The task now lies with %(username)s.", username=username), "success")
    return redirect(url_for("admin.applications.show", instance_id=instance_id))


def _instance(session: Session, instance_id: str) -> Instance:
    found = session.get(Instance, instance_id) if len(instance_id) <= MAX_ID_LENGTH else None
    if found is None or found.park_id != current_park(session).id:
        raise NotFound(f"application {instance_id!r}")
    return found


def _instance_ref(instance_id: str) -> None:
    with store.database.read() as session:
        _instance(session, instance_id)


def _task(instance_id: str, task_id: str) -> None:
    with store.database.read() as session:
        _instance(session, instance_id)
        task = session.get(HumanTask, task_id) if len(task_id) <= MAX_ID_LENGTH else None
        if task is None or task.instance_id != instance_id:
            raise NotFound(f"task {task_id!r}")


def _page(instance_id: str, errors: dict[str, list[str]], failed_task: str | None) -> str:
    with store.database.read() as session:
        instance = _instance(session, instance_id)
        tasks = list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")
            .order_by(HumanTask.created_at)))
        engine_data = _engine_data(instance, tasks)
        return render_template(
            "admin/application.html", instance=instance, tasks=tasks, engine_data=engine_data,
            candidates={task.id: _candidates(session, instance, task) for task in tasks},
            summary=json.dumps(instance.data_summary, ensure_ascii=False, indent=2,
                               sort_keys=True),
            errors=errors, form_errors=errors.get(FORM_ERRORS, []), failed_task=failed_task)


def _engine_data(instance: Instance, tasks: list[HumanTask]) -> dict[str, str]:
    """task id -> the data the engine holds for that open task, as indented JSON."""
    if not tasks:
        return {}
    engine = engine_for(instance.park)
    version = version_of(instance.definition)
    found = {}
    for task in tasks:
        try:
            data = engine.task_data(version, instance.state, task.id)
        except EngineError as exc:  # a broken state is shown on the admin's page, not raised
            data = {"error": f"{type(exc).__name__}: {exc}"}
        found[task.id] = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True,
                                    default=str)
    return found


def _candidates(session: Session, instance: Instance, task: HumanTask) -> list[User]:
    """Who may be given the task: the applicant's people for applicant steps, else staff."""
    stmt = (select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.park_id == instance.park_id, User.is_active.is_(True))
            .order_by(User.username))
    if is_applicant_task(instance.park, task):
        stmt = stmt.where(Membership.enterprise_id == instance.enterprise_id)
    else:
        stmt = stmt.where(Membership.role != "enterprise")
    return list(session.scalars(stmt))
