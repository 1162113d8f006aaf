"""``parkflow db``: the database schema."""

from __future__ import annotations

import click

from webapp import migrate
from webapp.cli.core import CliState, pass_state


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@pass_state
def upgrade(state: CliState) -> None:
    """Create or migrate the schema of PARKFLOW_DATABASE_URL."""
    url = state.settings.database_url
    migrate.upgrade(url)
    revision = migrate.current_revision(url)
    click.echo(f"database {state.safe_database_url()} is at revision {revision}")
