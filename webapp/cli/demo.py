"""``parkflow demo``: the demo park, ready to try."""

from __future__ import annotations

import click

from webapp import demo as demo_park
from webapp.cli.core import CliState, pass_state


@click.command()
@pass_state
def demo(state: CliState) -> None:
    """Create the demo park idempotently and print its logins."""
    with state.database.write() as session:
        deployed = demo_park.create_demo(session, actor=state.actor)
    for result in deployed:
        note = "deployed" if result.created else "unchanged"
        click.echo(f"procedure {result.key} v{result.version} ({result.name}): {note}")
    click.echo(f"\nDemo park '{demo_park.PARK_SLUG}' ({demo_park.PARK_NAME}) — logins, "
               f"password for all: {demo_park.PASSWORD}")
    for user in demo_park.USERS:
        who = user.enterprise or ", ".join(user.groups) or "park administrator"
        click.echo(f"  {user.username:<12} {user.role:<10} {who}")
