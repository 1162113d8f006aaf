"""``parkflow worker`` and ``parkflow incidents``: running jobs, and the ones that failed."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from zoneinfo import ZoneInfo

import click

from webapp.app import create_app
from webapp.cli.core import CliState, pass_state
from webapp.pages.printout import archive_on_finish
from webapp.services import jobs
from webapp.services.printout import ARCHIVE_JOB
from webapp.worker import HANDLERS, IDLE_SECONDS, Worker


@click.command()
@click.option("--idle", "idle_seconds", default=IDLE_SECONDS, show_default=True, type=float,
              help="Seconds to wait between looks for due jobs when there is nothing to do.")
@click.option("-v", "--verbose", is_flag=True, help="Log every job, not only failures.")
@pass_state
def worker(state: CliState, idle_seconds: float, verbose: bool) -> None:
    """Run due jobs (timers, reminders, notifications) until SIGTERM."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # the pages, to draw the 审批单 of each application that finishes (kept in the same
    # instance folder the web processes hand it out from)
    app = create_app(state.settings)
    handlers = {**HANDLERS, ARCHIVE_JOB: jobs.standalone(archive_on_finish(app))}
    runner = Worker(state.database, smtp=state.settings.smtp, idle_seconds=idle_seconds,
                    lease=state.settings.job_lease, handlers=handlers)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.run_forever()


@click.command()
@click.option("--retry", "retry_id", type=int, metavar="ID", help="Run this failed job again now.")
@pass_state
def incidents(state: CliState, retry_id: int | None) -> None:
    """List jobs that failed their last retry, one per line; or retry one."""
    if retry_id is not None:
        with state.database.write() as session:
            job = jobs.retry_incident(session, retry_id)
            click.echo(f"job {job.id} ({job.kind}) is queued again")
        return
    with state.database.read() as session:
        found = jobs.incidents(session)
    if not found:
        click.echo("no incidents")
        return
    for incident in found:
        when = incident.due_at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"{incident.id}\t{incident.kind}\t{incident.reference or '-'}\t{when}\t"
                   f"{incident.attempts} attempts\t{incident.reason}")
