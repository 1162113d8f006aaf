"""The supervision board: KPI tiles, trend, procedures, groups and the heatmap; exports.

Park administrators see the whole park (``/admin/dashboard`` shows the same board in the
administration), reviewers the board of their own groups (``/dashboard``, the department
view); enterprise users are refused (403). The filters (``from``, ``to``, ``process_key``,
and the heatmap's ``version`` and ``measure``) live in the address, named as the REST API
names them, so the export buttons hand the same query on; a bad filter shows the form again
with the error (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.db import utcnow
from webapp.downloads import export_response, reader_language
from webapp.extensions import store
from webapp.models import Park, ProcessDefinition, User
from webapp.pages.access import Here, here
from webapp.services import board, exports, stats
from webapp.services.calendars import park_calendar
from webapp.services.errors import NotFound

bp = Blueprint("board", __name__)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MEASURES = ("time", "overdue")
MAX_KEY = 255


@dataclass(frozen=True)
class Asked:
    """The board's filters as the address gave them (shown again in the form)."""

    date_from: str
    date_to: str
    process_key: str
    version: str
    measure: str

    def query(self, *, heatmap: bool = False) -> dict[str, str]:
        """The filters for a link: the statistics' ones, the heatmap's too when asked."""
        found = {"from": self.date_from, "to": self.date_to, "process_key": self.process_key}
        if heatmap:
            found |= {"version": self.version, "measure": self.measure}
        return {key: value for key, value in found.items() if value}


def asked() -> Asked:
    """The filters of this request, trimmed (never checked here)."""
    args = request.args
    measure = args.get("measure", "")
    return Asked(
        args.get("from", "").strip()[:10],
        args.get("to", "").strip()[:10],
        args.get("process_key", "").strip()[:MAX_KEY],
        args.get("version", "").strip()[:9],
        measure if measure in MEASURES else "time",
    )


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        if DAY.fullmatch(text) is None:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD, e.g. 2026-03-01.")
        return None


def scope_here(session: Session, where: Here) -> stats.Scope:
    """The figures the signed-in user may see (Forbidden for enterprise users)."""
    park = session.get_one(Park, where.role.park_id)
    return stats.scope_for(park, where.role.role, where.role.groups)


def check(
    session: Session, where: Here, wanted: Asked, known: list[board.Procedure]
) -> tuple[stats.Filters | None, dict[str, str]]:
    """The checked filters, or None and the message of each bad field."""
    errors: dict[str, str] = {}
    date_from = _day(wanted.date_from, "from", errors)
    date_to = _day(wanted.date_to, "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("The last day comes before the first.")
    if wanted.process_key and wanted.process_key not in {p.key for p in known}:
        errors["process_key"] = _("The park has no such procedure.")
    if wanted.version and not wanted.process_key:
        errors["version"] = _("Choose a procedure to choose its version.")
    elif wanted.version and "process_key" not in errors:
        procedure = next(p for p in known if p.key == wanted.process_key)
        if wanted.version not in {str(number) for number, _id in procedure.versions}:
            errors["version"] = _("The procedure has no such version.")
    if errors:
        return None, errors
    park = session.get_one(Park, where.role.park_id)
    return stats.check_filters(
        session, park, date_from=date_from, date_to=date_to, process_key=wanted.process_key or None
    ), errors


def board_page(template: str, endpoint: str) -> tuple[str, int]:
    """Render the board of the signed-in user's scope with ``template`` (200, or 400)."""
    where = here()
    wanted = asked()
    now = utcnow()
    with store.database.read() as session:
        scope = scope_here(session, where)
        known = board.procedures(session, where.role.park_id)
        filters, errors = check(session, where, wanted, known)
        context: dict[str, Any] = {
            "asked": wanted,
            "errors": errors,
            "procedures": known,
            "endpoint": endpoint,
            "department": scope.groups is not None,
            "groups": sorted(scope.groups or ()),
        }
        if filters is not None:
            context |= figures(session, scope, filters, wanted, known, now)
        context["exports"] = export_links(wanted)
        status = 400 if context["errors"] else 200
        return render_template(template, **context), status


def figures(
    session: Session,
    scope: stats.Scope,
    filters: stats.Filters,
    wanted: Asked,
    known: list[board.Procedure],
    now: datetime,
) -> dict[str, Any]:
    """What the board shows for valid filters."""
    found = stats.park_stats(session, scope, filters, now)
    rows = board.by_procedure(session, scope, filters, now, known)
    named = {p.key: p for p in known}
    chosen = named.get(wanted.process_key) or (named[rows[0]["key"]] if rows else None)
    chosen = chosen or (known[0] if known else None)
    heat = (
        board.heatmap(session, scope, filters, now, chosen, wanted.version or None)
        if chosen is not None
        else None
    )
    today = now.astimezone(park_calendar(scope.park, session).timezone).date()
    weeks = board.trend(session, scope, filters, today)
    return {
        "stats": found,
        "rectified_rate": board.rectified_rate(found["ratings"]),
        "rows": rows,
        "heat": heat,
        "weeks": weeks,
        "chart_data": _chart_data(weeks, heat, wanted),
    }


def _chart_data(
    weeks: list[dict[str, Any]], heat: board.Heatmap | None, wanted: Asked
) -> dict[str, Any]:
    return {
        "weeks": weeks,
        "measure": wanted.measure,
        "steps": heat.steps if heat is not None else {},
        "texts": {
            "received": _("Received"),
            "completed": _("Completed"),
            "on_time_rate": _("On-time rate"),
            "working_days": _("%(days)s working days", days="{days}"),
            "overdue_share": _("overdue %(share)s", share="{share}"),
            "no_figures": _("no figures yet"),
        },
    }


@bp.route("/dashboard")
@login_required
def index() -> tuple[str, int]:
    """Show the board of the reviewer's own groups (the whole park to its administrators)."""
    return board_page("dashboard.html", "pages.board.index")


@bp.route("/dashboard/export/<what>.<fmt>")
@login_required
def export(what: str, fmt: str) -> Response:
    """Download the applications, tasks, ratings or audit trail the board counts."""
    if what not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    where = here()
    wanted = asked()
    with store.database.read() as session:
        scope = scope_here(session, where)
        known = board.procedures(session, where.role.park_id)
        filters, errors = check(session, where, wanted, known)
        if filters is None:
            abort(400, "; ".join(errors.values()))
        user = session.get(User, where.viewer.user_id)
        language = reader_language(user.locale if user else None)
        chosen = exports.Export(what, scope, filters, language, utcnow())
        name = exports.filename(chosen, fmt)
    return export_response(chosen, fmt, name, where.role.park_id, scope.groups)


@bp.route("/dashboard/diagram/<process_key>/<int:version>.bpmn")
@login_required
def diagram(process_key: str, version: int) -> Response:
    """Hand out a version of a procedure's diagram, for the heatmap."""
    where = here()
    with store.database.read() as session:
        scope_here(session, where)
        found = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.park_id == where.role.park_id,
                ProcessDefinition.key == process_key[:MAX_KEY],
                ProcessDefinition.version == version,
            )
        ).first()
        if found is None:
            raise NotFound(f"procedure {process_key!r} version {version}")
        xml = found.bpmn_xml
    response = Response(xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    # opened directly, the XML must not run anything it may contain
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def export_links(wanted: Asked, kinds: tuple[str, ...] = exports.KINDS) -> list[dict[str, Any]]:
    """The export buttons of the board: each kind as CSV and XLSX, with the board's filters."""
    query = wanted.query()
    return [
        {
            "kind": kind,
            **{
                fmt: url_for("pages.board.export", what=kind, fmt=fmt, **query)
                for fmt in exports.FORMATS
            },
        }
        for kind in kinds
    ]
