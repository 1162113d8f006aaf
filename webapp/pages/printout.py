"""``/applications/<id>/print``: the 审批单 of an application as a PDF.

It holds what a park files with a case: the application form, every decision with who,
when and the comment, the files, and the audit trail. Anyone who may see the application
may print it; a finished application's record is kept the first time it is printed and the
same file is handed out from then on (``webapp.services.printout``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from webapp.api.scoping import instance_for
from webapp.extensions import store
from webapp.models import AuditEvent
from webapp.pages import dossier
from webapp.pages.access import error_page, here
from webapp.pages.timeline import ACTIONS
from webapp.services import printout
from webapp.services.attachments import attachments_of

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
            files = dossier.files_of(session, instance.id)
            past = dossier.history(session, instance, everything=True)
            events = list(session.scalars(
                select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                .order_by(AuditEvent.at, AuditEvent.id).limit(MOST_EVENTS)))
            names = dossier.display_names(session, [e.actor for e in events if e.actor])
            html = render_template(
                "print.html", instance=instance, past=past, events=events, names=names,
                summary=dossier.summary(instance.definition, instance.data_summary, files),
                attachments=attachments_of(session, instance.id),
                labels=_labels(),
                decisions=[step for step in past.steps if step.kind != "StartEvent"])
            try:
                pdf = printout.keep(folder, instance, printout.to_pdf(html))
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
