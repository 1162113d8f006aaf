"""Who is asking and in which park: sign-in sessions, CSRF, the tenant context, error pages.

Every page request passes ``guard_request`` first: uploads get their own size limit, and any
state-changing request outside the REST API must carry the session's CSRF token (a form field
or the ``X-CSRFToken`` header that htmx sends). The API keeps its bearer tokens and no CSRF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from webapp.api.errors import API_PREFIXES
from webapp.api.scoping import ParkRole, Viewer, load_viewer, visible_notifications
from webapp.extensions import store
from webapp.models import Notification, Park, User
from webapp.services.attachments import MAX_FILE_BYTES
from webapp.services.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
)

pages = Blueprint("pages", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
PARK_KEY = "parkflow_park"
# ids in the database are at most this long; anything longer cannot name a row
MAX_ID_LENGTH = 64
F = TypeVar("F", bound=Callable[..., Any])


class NoPark(Forbidden):  # noqa: N818 -- the services' vocabulary, like Forbidden
    """The signed-in user belongs to no park at all."""

    def __init__(self) -> None:
        super().__init__("the user belongs to no park")


@dataclass(frozen=True)
class PageUser(UserMixin):  # type: ignore[misc]  # Flask-Login ships no type hints
    """The signed-in person, as the pages need them (loaded once per request)."""

    id: str
    username: str
    display_name: str
    locale: str | None


@dataclass(frozen=True)
class ParkInfo:
    """A park the user belongs to, for the header and the park switch."""

    id: str
    slug: str
    name: str
    timezone: str


@dataclass(frozen=True)
class Here:
    """The signed-in user's standing in the park they are working in."""

    viewer: Viewer
    role: ParkRole
    park: ParkInfo
    parks: tuple[ParkInfo, ...]

    @property
    def park_viewer(self) -> Viewer:
        """The viewer narrowed to the current park (lists and the inbox show one park)."""
        return Viewer(self.viewer.user_id, self.viewer.username, {self.role.park_id: self.role})

    @property
    def is_enterprise(self) -> bool:
        """Whether the user works for an enterprise (rather than for the park)."""
        return self.role.role == "enterprise"


def init_access(app: Flask) -> None:
    """Bind Flask-Login and CSRF protection to ``app`` and guard every page request."""
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    # Flask-WTF's own hook would check the API too; guard_request checks pages only
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "pages.auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    app.before_request(guard_request)


def load_user(user_id: str) -> PageUser | None:
    """The active user of a session, or None (the session is then signed out)."""
    if len(user_id) > MAX_ID_LENGTH:
        return None
    with store.database.read() as db_session:
        user = db_session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        return PageUser(user.id, user.username, user.display_name, user.locale)


def accepts_uploads(limit: int) -> Callable[[F], F]:
    """Let a view's requests be up to ``limit`` bytes (file uploads), whatever the app default."""

    def mark(view: F) -> F:
        view.upload_limit = limit  # type: ignore[attr-defined]
        return view

    return mark


def guard_request() -> None:
    """Apply the upload limit of the view and check the CSRF token of every page change."""
    if request.path.startswith(API_PREFIXES) or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, "upload_limit", None)
    if limit is not None:
        request.max_content_length = limit
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def here() -> Here:
    """The current user's park context; NoPark when they belong to no park at all."""
    found: Here | None = g.get("parkflow_here")
    if found is not None:
        return found
    with store.database.read() as db_session:
        user = db_session.get_one(User, current_user.id)
        viewer = load_viewer(db_session, user)
        rows = db_session.execute(select(Park.id, Park.slug, Park.name, Park.timezone)
                                  .where(Park.id.in_(list(viewer.parks)))
                                  .order_by(Park.slug)).all()
    parks = tuple(ParkInfo(*row) for row in rows)
    if not parks:
        raise NoPark()
    chosen = next((p for p in parks if p.slug == session.get(PARK_KEY)), parks[0])
    found = Here(viewer, viewer.parks[chosen.id], chosen, parks)
    g.parkflow_here = found
    return found


def unread_count() -> int:
    """How many of the signed-in user's notifications are unread (an indexed count)."""
    with store.database.read() as db_session:
        count = db_session.scalar(select(func.count()).select_from(Notification).where(
            visible_notifications(here().viewer), Notification.read_at.is_(None)))
    return int(count or 0)


@pages.app_context_processor
def navigation() -> dict[str, Any]:
    """What the header of every page needs: the park context and the unread count."""
    if not current_user or not current_user.is_authenticated:
        return {"nav": None}
    try:
        where = here()
    except NoPark:
        return {"nav": None}
    return {"nav": {"here": where, "unread": unread_count(), "user": current_user}}


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after signing in; anything pointing elsewhere becomes ``default``."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    return target


ALL = "all"  # the value of a list filter that shows everything


def list_filter(name: str, allowed: Sequence[str]) -> str | None:
    """The value of a list's filter in the query string; None when the list shows everything.

    Empty and ``all`` both mean every value, as the filter's "All" choice offers; anything
    not among ``allowed`` answers 400 naming the filter and the values it takes.
    """
    value = request.args.get(name, "")
    if value in ("", ALL):
        return None
    if value not in allowed:
        abort(make_response(*error_page(400, _(
            "The filter %(name)s takes one of: %(values)s.", name=name,
            values=", ".join([ALL, *allowed])))))
    return value


def home_url() -> str:
    """Where a signed-in person starts: enterprises at their applications, staff at the inbox."""
    try:
        enterprise = here().is_enterprise
    except NoPark:
        enterprise = False
    return url_for("pages.applications.index" if enterprise else "pages.inbox.index")


# --- error pages -------------------------------------------------------------------------

TITLES = {
    400: lazy_gettext("The request could not be understood"),
    403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Not allowed here"),
    409: lazy_gettext("Changed in the meantime"),
    413: lazy_gettext("Too large"),
    422: lazy_gettext("Please check your input"),
    429: lazy_gettext("Too many attempts"),
}
MESSAGES = {
    400: lazy_gettext("The request could not be understood. Go back and try again."),
    403: lazy_gettext("You may not do this."),
    404: lazy_gettext("This page does not exist, or you may not see it."),
    405: lazy_gettext("This address cannot be used like that."),
    409: lazy_gettext("Someone else changed this in the meantime. Reload the page to see "
                      "where it stands."),
    413: lazy_gettext("The upload is too large."),
    422: lazy_gettext("The input was not accepted."),
    429: lazy_gettext("Too many attempts. Wait a minute and try again."),
}


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """Render the error page with ``status`` and a message a person understands."""
    title = TITLES.get(status, lazy_gettext("Something went wrong"))
    text = message or MESSAGES.get(status) or lazy_gettext("Something went wrong.")
    return render_template("error.html", status=status, title=title, message=text), status


@pages.errorhandler(ServiceError)
def service_error(exc: ServiceError) -> tuple[str, int]:
    """Answer a refusal of a service with the matching status and page."""
    if isinstance(exc, NotFound):
        return error_page(404)
    if isinstance(exc, NoPark):
        return error_page(403, _("Your account does not belong to any park yet. Ask the park "
                                 "administrator to add you."))
    if isinstance(exc, Forbidden):
        return error_page(403)
    if isinstance(exc, Conflict | AlreadyExists):
        return error_page(409)
    if isinstance(exc, Invalid):
        return error_page(422)
    if exc.code == "too_large":
        return _too_large()
    return error_page(400)


@pages.errorhandler(StaleDataError)
def stale_data(_exc: StaleDataError) -> tuple[str, int]:
    """Answer a lost race for an application with 409."""
    return error_page(409)


@pages.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[str, int] | HTTPException | Response:
    """Render werkzeug's errors (and CSRF failures) as pages in the user's language."""
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return error_page(400, _("The form has expired or did not come from this site. Go "
                                 "back, reload the page and try again."))
    if status == 401:
        return redirect(url_for("pages.auth.login", next=request.full_path))
    if status == 413:
        return _too_large()
    if status >= 500:
        return exc
    return error_page(status)


def _too_large() -> tuple[str, int]:
    return error_page(413, _("The upload is too large: each file may be at most %(size)d MB.",
                             size=MAX_FILE_BYTES // (1024 * 1024)))

