"""``/applications/<id>/print``: the 审批单 of an application as a PDF.

It holds what a park files with a case: the application form, every decision with who,
when and the comment, the files, and the audit trail. Anyone who may see the application
may print it. A finished application's record is kept by the worker as soon as it finishes
(``archive_on_finish``, queued with the finishing step), or else the first time it is
printed, and the same file is handed out from then on (``webapp.services.printout``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, g, render_template
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.api.scoping import instance_for
from webapp.extensions import store
from webapp.models import DEFAULT_TIMEZONE, AuditEvent, Instance
from webapp.pages import dossier
from webapp.pages.access import error_page, here
from webapp.pages.i18n import DEFAULT_LOCALE
from webapp.pages.timeline import ACTIONS
from webapp.services import printout
from webapp.services.attachments import attachments_of
from webapp.services.jobs import ClaimedJob, JobContext, StandaloneRun
from webapp.services.loading import instance_with_relations

bp = Blueprint("printout", __name__)
# the audit trail printed with an application: its whole story, within reason
MOST_EVENTS = 2000


@bp.route("/applications/<instance_id>/print")
@login_required
def show(instance_id: str) -> Response | tuple[str, int]:
    """The application's 审批单 as an A4 PDF, opened in the browser."""
    where = here()
    folder = Path(current_app.instance_path)
    with store.database.read() as session:
        instance = instance_for(session, where.viewer, instance_id)
        pdf = printout.archived(folder, instance)
        if pdf is None:
            try:
                pdf = printout.keep(folder, instance, printout.to_pdf(record_html(session,
                                                                                  instance)))
            except printout.PrintingUnavailable as exc:
                current_app.logger.error("%s", exc.message)
                return error_page(503, _("Printing is not available on this server. "
                                         "Ask the park's administrator."))
        reference = instance.reference
    name = _("Approval record %(reference)s", reference=reference) + ".pdf"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def record_html(session: Session, instance: Instance) -> str:
    """The 审批单 of ``instance`` as HTML, in the language of the request."""
    files = dossier.files_of(session, instance.id)
    past = dossier.history(session, instance, everything=True)
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id)
        .order_by(AuditEvent.at, AuditEvent.id).limit(MOST_EVENTS)))
    names = dossier.display_names(session, [e.actor for e in events if e.actor])
    return render_template(
        "print.html", instance=instance, past=past, events=events, names=names,
        summary=dossier.summary(instance.definition, instance.data_summary, files),
        attachments=attachments_of(session, instance.id),
        labels=_labels(),
        decisions=[step for step in past.steps if step.kind != "StartEvent"])


def archive_on_finish(app: Flask) -> StandaloneRun:
    """The worker's job that keeps the 审批单 of an application that has just finished.

    Queued in the transaction that finishes the application, it draws the record in the
    park's language (Chinese: what the park files) and time zone and keeps it once; from
    then on printing hands out the kept file. A record kept already (printed first, or a job
    run twice) stays as it is. A worker without ``app`` (no pages to draw with) leaves the
    record to be kept on its first print, as before.
    """

    def run(ctx: JobContext, job: ClaimedJob, _now: datetime) -> None:
        folder = Path(app.instance_path)
        with ctx.db.read() as session:
            instance = (instance_with_relations(session, job.instance_id)
                        if job.instance_id else None)
            if (instance is None or instance.status not in printout.ENDED
                    or printout.archive_path(folder, instance).exists()):
                return
            with app.test_request_context("/"), force_locale(DEFAULT_LOCALE):
                g.parkflow_zone = ZoneInfo(instance.park.timezone or DEFAULT_TIMEZONE)
                html = record_html(session, instance)
            # kept as read (the read's end would expire it): the layout runs without a
            # transaction open
            session.expunge_all()
        printout.keep(folder, instance, printout.to_pdf(html))

    return run


def _labels() -> dict[str, str]:
    """What each audit action is called in the record: the timeline's words, and the record's
    own for the everyday ones the timeline shows as steps."""
    labels = {action: str(shown.label) for action, shown in ACTIONS.items()}
    labels.update({
        "application.started": pgettext("approval record", "Submitted"),
        "task.completed": pgettext("approval record", "Step done"),
        "timers.fired": pgettext("approval record", "Time limit reached"),
        "application.cancelled": pgettext("approval record", "Cancelled"),
        "application.rated": pgettext("approval record", "Rated"),
    })
    return labels
