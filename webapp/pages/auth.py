"""Signing in and out of the pages (a session cookie), and choosing the park to work in."""

from __future__ import annotations

import secrets
from functools import cache

from flask import Blueprint, abort, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.extensions import store
from webapp.models import User
from webapp.pages.access import PARK_KEY, PageUser, here, home_url, safe_next
from webapp.pages.i18n import LOCALE_KEY
from webapp.security import hash_password, needs_rehash, verify_password
from webapp.services.accounts import find_user
from webapp.signin import MAX_USERNAME, limit_sign_in

bp = Blueprint("auth", __name__)
MAX_PASSWORD = 1024


@bp.route("/")
def home() -> Response:
    """Send people to where their work is."""
    if not current_user.is_authenticated:
        return redirect("/login")
    return redirect(home_url())


@bp.route("/login", methods=["GET", "POST"])
@limit_sign_in
def login() -> Response | tuple[str, int]:
    """Sign in with a username and password."""
    target = safe_next(request.values.get("next"), "")
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target or home_url())
        return render_template("login.html", username="", error=None, next=target), 200
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        error = _("Enter your username and password.")
        return render_template("login.html", username=username, error=error, next=target), 422
    user = _check_password(username[:MAX_USERNAME], password[:MAX_PASSWORD])
    if user is None:
        error = _("Wrong username or password.")
        return render_template("login.html", username=username, error=error, next=target), 401
    locale = session.get(LOCALE_KEY)
    session.clear()  # nothing from before signing in carries over
    if locale:
        session[LOCALE_KEY] = locale
    login_user(user)
    return redirect(target or home_url())


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """Sign out (GET asks first; signing out is a POST like every other change)."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect("/login")
        return render_template("logout.html")
    locale = session.get(LOCALE_KEY)
    logout_user()
    session.clear()
    if locale:
        session[LOCALE_KEY] = locale
    flash(_("You have signed out."), "info")
    return redirect("/login")


@bp.route("/park", methods=["POST"])
@login_required
def switch_park() -> Response:
    """Work in another of the user's parks."""
    slug = request.form.get("park", "")
    if slug not in {park.slug for park in here().parks}:
        abort(404)
    session[PARK_KEY] = slug
    return redirect(home_url())


def _check_password(username: str, password: str) -> PageUser | None:
    with store.database.write() as db_session:
        user: User | None = find_user(db_session, username)
        if user is None or not user.is_active:
            # spend the time of a real check, so the answer does not tell who exists
            verify_password(_decoy_hash(), password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return PageUser(user.id, user.username, user.display_name, user.locale)


@cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_hex(16))
