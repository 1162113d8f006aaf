"""The ``parkflow`` command line: one module per command group, registered below."""

from __future__ import annotations

import click

from webapp.cli import accounts, database, demo, migrations, processes, serve, worker
from webapp.cli.core import CliState, ParkflowGroup


@click.group(name="parkflow", cls=ParkflowGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run Parkflow, the process platform for industrial parks."""
    state = CliState()
    ctx.obj = state
    ctx.call_on_close(state.close)


main.add_command(database.db)
main.add_command(accounts.park)
main.add_command(accounts.group)
main.add_command(accounts.user)
main.add_command(accounts.calendar)
main.add_command(processes.deploy)
main.add_command(demo.demo)
main.add_command(serve.serve)
main.add_command(worker.worker)
main.add_command(worker.incidents)
main.add_command(migrations.migrate)
accounts.calendar.add_command(migrations.import_schedule)

__all__ = ["main"]
