"""退回 from a task's page, and 批量同意 from the inbox."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from webapp.api.scoping import task_for, worker_in
from webapp.extensions import store
from webapp.pages.access import here
from webapp.services import batch, returns
from webapp.services.errors import Invalid
from webapp.services.inbox import MAX_TEXT
from webapp.services.loading import task_with_instance

bp = Blueprint("returns", __name__)
MAX_REASON = 500
# what a batch approval decides: the decision field the approval steps share
APPROVE = {"approved": True}


@bp.route("/tasks/<task_id>/return", methods=["POST"])
@login_required
def return_task(task_id: str) -> Response:
    """Return the application to an earlier step or the applicant, with reasons."""
    where = here()
    with store.database.read() as session:
        task_for(session, where.viewer, task_id)
    reasons = [line.strip()[:MAX_REASON] for line in request.form.get("reasons", "").splitlines()
               if line.strip()]
    comment = request.form.get("comment", "").strip()[:MAX_TEXT] or None
    try:
        returns.return_task(
            store.database, task_id=task_id, to=request.form.get("to", ""), reasons=reasons,
            resume=request.form.get("resume", "flow"), comment=comment,
            actor=where.viewer.username,
            check=lambda session, task: task_for(session, where.viewer, task.id),
            known_as=lambda park: worker_in(where.viewer, park))
    except Invalid as exc:
        flash(_("Not returned: %(why)s", why=exc.message), "error")
        return redirect(url_for("pages.tasks.show", task_id=task_id))
    flash(_("The application was returned."), "success")
    return redirect(url_for("pages.inbox.index"))


@bp.route("/inbox/batch-approve", methods=["POST"])
@login_required
def batch_approve() -> str:
    """Approve the checked tasks (批量同意); show how each went."""
    where = here()
    task_ids = request.form.getlist("task_id")[: batch.MAX_BATCH]
    results = batch.batch_complete(
        store.database, task_ids=task_ids, data=APPROVE, actor=where.viewer.username,
        comment=request.form.get("comment", "").strip()[:MAX_TEXT] or None,
        check=lambda session, task: task_for(session, where.viewer, task.id),
        known_as=lambda park: worker_in(where.viewer, park))
    with store.database.read() as session:
        for result in results:
            found = task_with_instance(session, result["task_id"])
            result["reference"] = found[1].reference if found else None
            result["name"] = found[0].name if found else None
    done = sum(result["status"] == "completed" for result in results)
    return render_template("batch_results.html", results=results, done=done,
                           failed=len(results) - done)
