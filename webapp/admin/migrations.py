"""Moving waiting applications of a procedure to another of its versions (the versions page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS
from webapp.extensions import store
from webapp.services import migrations
from webapp.services.errors import Invalid, NotFound
from webapp.services.processes import get_latest

bp = Blueprint("migrations", __name__)
MAX_KEY = 255
Errors = dict[str, list[str]]

# what stops a move, in the user's language (the engine's English message stays as detail)
REASONS = {
    "missing_target": lazy_gettext(
        "The open step %(element)s has no counterpart in the target version: map it to "
        "one of its elements."
    ),
    "other_kind": lazy_gettext("%(element)s would move to an element of another kind."),
    "unknown_element": lazy_gettext(
        "The mapping names %(element)s, which one of the versions does not have."
    ),
    "no_counterpart": lazy_gettext(
        "The waiting timer or message %(element)s has no counterpart in the target version."
    ),
    "in_subprocess": lazy_gettext(
        "The application is running inside the subprocess or call activity %(element)s."
    ),
    "parallel": lazy_gettext("Several steps are open at once (parallel branches)."),
    "multi_instance": lazy_gettext("%(element)s is a 会签 or 或签 step under way."),
    "external_task": lazy_gettext("%(element)s is held by an outside system (an external task)."),
    "event_gateway": lazy_gettext("The application waits at the event-based gateway %(element)s."),
    "in_error": lazy_gettext("%(element)s failed: retry or cancel the application first."),
    "event_subprocess": lazy_gettext(
        "The procedure has event subprocesses, which a move does not carry."
    ),
    "nothing_waiting": lazy_gettext("The application waits at no step, timer or message."),
    "not_waiting": lazy_gettext("The application is not waiting (it failed or has ended)."),
    "same_version": lazy_gettext("The application runs this version already."),
    "other_procedure": lazy_gettext("The target belongs to another procedure."),
    "unknown": lazy_gettext("No such application."),
}


def reason_text(problem: dict[str, str]) -> str:
    """One reason a move is refused, in the user's language."""
    text = REASONS.get(problem["code"])
    return str(text % {"element": problem["element_id"]}) if text else problem["message"]


@bp.route("/processes/<key>/migrate")
def index(key: str) -> str:
    """The waiting applications of other versions, whether each can move, and the mapping."""
    return _page(key[:MAX_KEY], {})


@bp.route("/processes/<key>/migrate", methods=["POST"])
def move(key: str) -> Response | tuple[str, int]:
    """Move the chosen applications (or all that can move) to the target version."""
    key = key[:MAX_KEY]
    text = request.form.get("mapping", "")
    try:
        version = int(request.form.get("to", ""))
        mapping = migrations.parse_mapping(text)
    except ValueError:
        return _page(key, {"to": [_("Choose the version to move to.")]}), 422
    except Invalid as exc:
        return _page(
            key, {"mapping": [_("Write one element a line: old id = new id.")]}, detail=exc.message
        ), 422
    everything = request.form.get("scope") == "all"
    chosen = None if everything else request.form.getlist("instance_id")
    if chosen is not None and not chosen:
        return _page(
            key, {FORM_ERRORS: [_("Select the applications to move, or move all that can move.")]}
        ), 422
    with store.database.read() as session:
        park_id = current_park(session).id
    try:
        result = migrations.migrate_many(
            store.database,
            park_id=park_id,
            key=key,
            version=version,
            instance_ids=chosen,
            mapping=mapping,
            actor=actor(),
        )
    except NotFound:
        return _page(key, {"to": [_("There is no such version.")]}), 422
    moved, refused = result["moved"], result["refused"]
    if moved:
        flash(
            _(
                "%(count)d application(s) moved to version %(version)d.",
                count=len(moved),
                version=version,
            ),
            "success",
        )
    for item in refused:
        reasons = "；".join(reason_text(p) for p in item["problems"])
        flash(
            _(
                "%(reference)s did not move: %(reasons)s",
                reference=item["reference"] or item["instance_id"],
                reasons=reasons,
            ),
            "error",
        )
    if not moved and not refused:
        flash(_("No application could move."), "info")
    return redirect(url_for("admin.migrations.index", key=key, to=version, mapping=text))


def _page(key: str, errors: Errors, detail: str | None = None) -> str:
    with store.database.read() as session:
        park = current_park(session)
        latest = get_latest(session, park, key)
        raw_to = request.values.get("to", "")
        to = int(raw_to) if raw_to.isdigit() else latest.version
        text = request.values.get("mapping", "")
        try:
            mapping = migrations.parse_mapping(text)
        except Invalid:
            mapping = {}
        rows: list[dict[str, Any]] = []
        target_missing = False
        try:
            target = migrations.target_definition(session, park.id, key, to)
        except NotFound:
            target_missing = True
        else:
            for candidate in migrations.candidates(session, park.id, key, target, mapping):
                rows.append(
                    {
                        "candidate": candidate,
                        "reasons": [reason_text(p) for p in candidate.problems],
                        "details": [p["message"] for p in candidate.problems],
                    }
                )
        if target_missing and "to" not in errors:
            errors = {**errors, "to": [_("There is no such version.")]}
        return render_template(
            "admin/migrate.html",
            key=key,
            name=latest.name,
            to=to,
            versions=list(range(latest.version, 0, -1)),
            mapping=text,
            rows=rows,
            movable=sum(1 for row in rows if row["candidate"].can_move),
            errors=errors,
            form_errors=errors.get(FORM_ERRORS, []),
            detail=detail,
        )
