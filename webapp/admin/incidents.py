"""Incidents: jobs that failed their last retry, and putting them back in the queue."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.extensions import store
from webapp.services import admin_park, jobs

bp = Blueprint("incidents", __name__)


@bp.route("/incidents")
def index() -> str:
    """List the park's failed jobs, oldest first, with their last error."""
    with store.database.read() as session:
        found = jobs.incidents(session, park_id=current_park(session).id)
    return render_template("admin/incidents.html", incidents=found)


@bp.route("/incidents/<int:job_id>/retry", methods=["POST"])
def retry(job_id: int) -> Response:
    """Queue a failed job again, due now, with a fresh count of attempts."""
    with store.database.write() as session:
        admin_park.retry_incident(session, current_park(session), actor=actor(), job_id=job_id)
    flash(_("The job is queued again; the worker runs it shortly."), "success")
    return redirect(url_for("admin.incidents.index"))
