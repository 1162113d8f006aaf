"""The park's people: user accounts with their roles and groups, groups, enterprises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.admin.access import actor, current_park
from webapp.admin.feedback import FORM_ERRORS, field_messages
from webapp.extensions import store
from webapp.models import ROLES, Group, Park
from webapp.services import admin_people as service
from webapp.services.errors import Invalid

bp = Blueprint("people", __name__)
Errors = Mapping[str, list[str]]


# --- users -------------------------------------------------------------------------------


@bp.route("/users")
def users() -> str:
    """List the park's members and offer to add one."""
    return _users_page({}, {}, [])


@bp.route("/users", methods=["POST"])
def create_user() -> Response | tuple[str, int]:
    """Create an account with its role, groups and enterprise."""
    form = request.form
    try:
        with store.database.write() as session:
            user = service.add_user(
                session, current_park(session), actor=actor(),
                username=form.get("username", ""), password=form.get("password", ""),
                display_name=form.get("display_name", ""), email=form.get("email", "").strip(),
                role=form.get("role", ""), group_ids=form.getlist("groups"),
                enterprise_id=form.get("enterprise") or None)
            username = user.username
    except Invalid as exc:
        return _users_page(field_messages(exc), form, form.getlist("groups")), 422
    flash(_("%(username)s can now sign in.", username=username), "success")
    return redirect(url_for("admin.people.users"))


@bp.route("/users/<user_id>")
def user(user_id: str) -> str:
    """Show one member: role, groups and a new password."""
    return _user_page(user_id, {})


@bp.route("/users/<user_id>/role", methods=["POST"])
def change_role(user_id: str) -> Response | tuple[str, int]:
    """Change a member's role (and enterprise)."""
    return _change(user_id, lambda session, park: service.change_role(
        session, park, actor=actor(), user_id=user_id, role=request.form.get("role", ""),
        enterprise_id=request.form.get("enterprise") or None), _("The role is changed."))


@bp.route("/users/<user_id>/groups", methods=["POST"])
def set_groups(user_id: str) -> Response | tuple[str, int]:
    """Put a member in exactly the groups ticked."""
    return _change(user_id, lambda session, park: service.set_groups(
        session, park, actor=actor(), user_id=user_id, group_ids=request.form.getlist("groups")),
        _("The groups are saved."))


@bp.route("/users/<user_id>/password", methods=["POST"])
def reset_password(user_id: str) -> Response | tuple[str, int]:
    """Give a member a new password."""
    return _change(user_id, lambda session, park: service.reset_password(
        session, park, actor=actor(), user_id=user_id,
        password=request.form.get("password", "")),
        _("The new password is set. Tell it to its owner in person."))


def _change(user_id: str, act: Any, done: str) -> Response | tuple[str, int]:
    try:
        with store.database.write() as session:
            act(session, current_park(session))
    except Invalid as exc:
        return _user_page(user_id, field_messages(exc)), 422
    flash(done, "success")
    return redirect(url_for("admin.people.user", user_id=user_id))


def _users_page(errors: Errors, raw: Mapping[str, Any], chosen_groups: list[str]) -> str:
    with store.database.read() as session:
        park = current_park(session)
        return render_template(
            "admin/users.html", people=service.people(session, park), roles=ROLES,
            groups=_groups(session, park), enterprises=service.enterprises(session, park),
            errors=errors, form_errors=errors.get(FORM_ERRORS, []), raw=raw,
            chosen_groups=chosen_groups)


def _user_page(user_id: str, errors: Errors) -> str:
    with store.database.read() as session:
        park = current_park(session)
        found, _membership = service.member(session, park, user_id)
        person = next(p for p in service.people(session, park) if p.id == found.id)
        return render_template(
            "admin/user.html", person=person, roles=ROLES, groups=_groups(session, park),
            enterprises=service.enterprises(session, park), errors=errors,
            form_errors=errors.get(FORM_ERRORS, []))


def _groups(session: Session, park: Park) -> list[Group]:
    return list(session.scalars(select(Group).where(Group.park_id == park.id)
                                .order_by(Group.name)))


# --- groups ------------------------------------------------------------------------------


@bp.route("/groups")
def groups() -> str:
    """List the park's groups with their members."""
    return _groups_page({}, "")


@bp.route("/groups", methods=["POST"])
def create_group() -> Response | tuple[str, int]:
    """Create a group; lanes and candidate groups of that name route to it."""
    name = request.form.get("name", "")
    try:
        with store.database.write() as session:
            service.add_group(session, current_park(session), actor=actor(), name=name)
    except Invalid as exc:
        return _groups_page(field_messages(exc), name), 422
    flash(_("Group “%(name)s” is created.", name=name.strip()), "success")
    return redirect(url_for("admin.people.groups"))


@bp.route("/groups/<group_id>")
def group(group_id: str) -> str:
    """List the members of one group."""
    with store.database.read() as session:
        park = current_park(session)
        found = service.get_group(session, park, group_id)
        ids = {member.id for member in found.members}
        members = [p for p in service.people(session, park) if p.id in ids]
        return render_template("admin/group.html", group=found, members=members)


def _groups_page(errors: Errors, name: str) -> str:
    with store.database.read() as session:
        park = current_park(session)
        found = _groups(session, park)
        people = service.people(session, park)
        members = {g.name: [p for p in people if g.name in p.groups] for g in found}
        return render_template("admin/groups.html", groups=found, members=members,
                               errors=errors, form_errors=errors.get(FORM_ERRORS, []),
                               name=name)


# --- enterprises -------------------------------------------------------------------------


@bp.route("/enterprises")
def enterprises() -> str:
    """List the park's enterprises and offer to register one."""
    return _enterprises_page({}, {})


@bp.route("/enterprises", methods=["POST"])
def create_enterprise() -> Response | tuple[str, int]:
    """Register an enterprise."""
    form = request.form
    try:
        with store.database.write() as session:
            company = service.add_enterprise(session, current_park(session), actor=actor(),
                                             name=form.get("name", ""),
                                             credit_code=form.get("credit_code"))
            name = company.name
    except Invalid as exc:
        return _enterprises_page(field_messages(exc), form), 422
    flash(_("“%(name)s” is registered.", name=name), "success")
    return redirect(url_for("admin.people.enterprises"))


@bp.route("/enterprises/<enterprise_id>", methods=["POST"])
def rename_enterprise(enterprise_id: str) -> Response | tuple[str, int]:
    """Change an enterprise's name or credit code."""
    form = request.form
    try:
        with store.database.write() as session:
            service.rename_enterprise(session, current_park(session), actor=actor(),
                                      enterprise_id=enterprise_id, name=form.get("name", ""),
                                      credit_code=form.get("credit_code"))
    except Invalid as exc:
        return _enterprises_page({}, {}, editing=enterprise_id,
                                 edit_errors=field_messages(exc), edit_raw=form), 422
    flash(_("The enterprise is saved."), "success")
    return redirect(url_for("admin.people.enterprises"))


def _enterprises_page(errors: Errors, raw: Mapping[str, Any], *, editing: str | None = None,
                      edit_errors: Errors | None = None,
                      edit_raw: Mapping[str, Any] | None = None) -> str:
    with store.database.read() as session:
        park = current_park(session)
        if editing is not None:
            service.get_enterprise(session, park, editing)
        return render_template("admin/enterprises.html",
                               enterprises=service.enterprises(session, park), errors=errors,
                               form_errors=errors.get(FORM_ERRORS, []), raw=raw,
                               editing=editing, edit_errors=edit_errors or {},
                               edit_raw=edit_raw or {})
