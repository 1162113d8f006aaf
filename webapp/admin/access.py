"""Who may use the park administration, and how its refusals are answered.

Every request under ``/admin`` passes ``only_admins`` first: a visitor who is not signed in is
sent to the sign-in page, anyone who is not an administrator of the park they are working in
gets 403. Objects are always looked up inside that park, so another park's are 404. The JSON
endpoints of the modeler answer their errors as JSON; the pages reuse the error pages of
``webapp.pages``. CSRF is checked for every change by ``webapp.pages.access.guard_request``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from webapp.models import Park, User
from webapp.pages.access import here, http_error, service_error, stale_data
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError

admin = Blueprint("admin", __name__, url_prefix="/admin")
JSON_STATUS = {NotFound: 404, Forbidden: 403, Invalid: 422, Conflict: 409}
CATALOG_KEY = "parkflow.admin_catalog"


def use_admin_catalog() -> None:
    """Translate this request with the administration's catalog as well as the pages' one."""
    current_app.extensions[CATALOG_KEY].as_default()


def only_admins() -> Response | None:
    """Send visitors to sign in; refuse everyone but the park's administrators."""
    if not current_user.is_authenticated:
        return redirect(url_for("pages.auth.login", next=request.full_path))
    if here().role.role != "admin":
        raise Forbidden("park administrators only")
    return None


def refuse_nul() -> None:
    """Refuse fields and query arguments holding NUL characters: no database takes them."""
    if any("\x00" in value for value in (*request.form.values(), *request.args.values())):
        abort(400)


def current_park(session: Session) -> Park:
    """The park being administered, loaded in ``session``."""
    return session.get_one(Park, here().role.park_id)


def current_admin(session: Session) -> User:
    """The administrator, loaded in ``session``."""
    return session.get_one(User, here().viewer.user_id)


def actor() -> str:
    """The administrator's username, as the audit log names them."""
    return here().viewer.username


def wants_json() -> bool:
    """Whether the request came from the modeler's scripts (answered in JSON)."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def json_error(status: int, code: str, message: str,
               details: Any = None) -> tuple[Response, int]:
    """The JSON answer of a refused modeler request."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify({"error": body}), status


def on_service_error(exc: ServiceError) -> Any:
    """Answer a service's refusal as JSON for the modeler, as an error page otherwise."""
    if wants_json():
        status = next((s for kind, s in JSON_STATUS.items() if isinstance(exc, kind)), 400)
        # a refusal names nothing the caller may not see
        text = {404: _("Not found."), 403: _("Only park administrators may do this.")}.get(
            status, exc.message)
        return json_error(status, exc.code, text)
    return service_error(exc)


def on_http_error(exc: HTTPException) -> Any:
    """Answer werkzeug's errors (and CSRF failures) as JSON or as an error page."""
    if wants_json() and (exc.code or 500) < 500:
        if isinstance(exc, CSRFError):
            return json_error(400, "csrf", _("The page has expired. Reload it and try again."))
        return json_error(exc.code or 400, "http", exc.description or exc.name)
    return http_error(exc)


def install(blueprint: Blueprint) -> None:
    """Guard ``blueprint`` and give it its catalog and the error answers above."""
    blueprint.before_request(use_admin_catalog)
    blueprint.before_request(only_admins)
    blueprint.before_request(refuse_nul)
    blueprint.register_error_handler(ServiceError, on_service_error)
    blueprint.register_error_handler(HTTPException, on_http_error)
    blueprint.register_error_handler(StaleDataError, stale_data)
