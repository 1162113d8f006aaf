"""``parkflow park|group|user|calendar``: tenants, people and working calendars."""

from __future__ import annotations

from datetime import datetime

import click

from webapp.cli.core import CliState, pass_state
from webapp.models import DAY_KINDS, DEFAULT_TIMEZONE, ROLES
from webapp.services import accounts

_ROLE_NOUNS = {"admin": "an admin", "reviewer": "a reviewer", "enterprise": "an enterprise user"}


@click.group()
def park() -> None:
    """Manage parks (tenants)."""


@park.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the park.")
@click.option("--timezone", default=DEFAULT_TIMEZONE, show_default=True, help="IANA time zone.")
@pass_state
def create_park(state: CliState, slug: str, name: str, timezone: str) -> None:
    """Add a park."""
    with state.database.write() as session:
        accounts.create_park(session, actor=state.actor, slug=slug, name=name, timezone=timezone)
    click.echo(f"created park {slug!r} ({name}, {timezone})")


@click.group()
def group() -> None:
    """Manage the groups of a park."""


@group.command("create")
@click.argument("park_slug", metavar="SLUG")
@click.argument("name", metavar="GROUP")
@pass_state
def create_group(state: CliState, park_slug: str, name: str) -> None:
    """Add a group to a park."""
    with state.database.write() as session:
        accounts.create_group(session, actor=state.actor, park_slug=park_slug, name=name)
    click.echo(f"created group {name!r} in park {park_slug!r}")


@click.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("username")
@click.option("--password", required=True, help="Password of a new user (kept if the user exists).")
@click.option("--park", "park_slug", required=True, metavar="SLUG", help="Park to join.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role in that park.")
@click.option("--groups", default="", metavar="G1,G2", help="Comma-separated groups to join.")
@click.option("--enterprise", default=None, metavar="NAME", help="Enterprise (created if new).")
@pass_state
def create_user(
    state: CliState,
    username: str,
    password: str,
    park_slug: str,
    role: str,
    groups: str,
    enterprise: str | None,
) -> None:
    """Add a user to a park with a role (and the enterprise, if new)."""
    group_names = [name.strip() for name in groups.split(",") if name.strip()]
    with state.database.write() as session:
        existed = accounts.find_user(session, username) is not None
        accounts.create_user(
            session,
            actor=state.actor,
            username=username,
            password=password,
            park_slug=park_slug,
            role=role,
            groups=group_names,
            enterprise=enterprise,
        )
    of = f" of {enterprise!r}" if enterprise else ""
    joined = f", in groups {', '.join(group_names)}" if group_names else ""
    note = " (existing user: password unchanged)" if existed else ""
    click.echo(
        f"user {username!r} is now {_ROLE_NOUNS[role]}{of} in park {park_slug!r}{joined}{note}"
    )


@click.group()
def calendar() -> None:
    """Manage the working calendars of parks."""


@calendar.command("set")
@click.argument("park_slug", metavar="SLUG")
@click.argument("day", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", metavar="workday|holiday", type=click.Choice(DAY_KINDS))
@pass_state
def set_day(state: CliState, park_slug: str, day: datetime, kind: str) -> None:
    """Make one day (YYYY-MM-DD) of a park a workday or a holiday."""
    with state.database.write() as session:
        accounts.set_calendar_day(
            session, actor=state.actor, park_slug=park_slug, day=day.date(), kind=kind
        )
    click.echo(f"{day.date().isoformat()} is now a {kind} in park {park_slug!r}")
