"""``parkflow serve``: gunicorn with the package's settings, plus one job worker.

The command supervises its children: each runs in its own process group, so Ctrl-C reaches
only this process, which then asks every child to stop (SIGTERM: gunicorn finishes the requests
in hand, the worker the job in hand) and waits for them.

A job worker that dies is started again, after 1 s, then 2, 4... up to a minute while it
keeps dying young, and the reason goes to stderr; the web answers throughout, and the dead
worker's jobs are free again when their leases run out. A web process that dies is restarted
by gunicorn's arbiter, which logs it; should the arbiter itself stop (its port taken, a
broken configuration), there is no web to keep up: the worker is stopped too and the command
fails.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

import click

from webapp import migrate
from webapp.cli.core import NOT_SET_UP, OUT_OF_DATE, CliState, CommandFailed, pass_state

POLL_SECONDS = 0.2
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 60.0
# a worker that ran this long before dying is started again after the first delay
STABLE_SECONDS = 60.0
# longer than gunicorn's graceful_timeout, so that it can finish its requests
STOP_GRACE_SECONDS = 30.0


@dataclass
class Child:
    """One supervised process, and when it is due to be started again."""

    name: str
    argv: list[str]
    restarts: bool
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = FIRST_RESTART_SECONDS
    restart_at: float | None = None

    def start(self) -> None:
        """Start the process, in a process group of its own."""
        # the command lines are fixed by this module; nothing in them comes from outside
        self.process = subprocess.Popen(self.argv, process_group=0)  # noqa: S603
        self.started_at = time.monotonic()
        self.restart_at = None

    def exited(self) -> int | None:
        """The exit status of a process that is no longer running, else None."""
        if self.process is None or self.restart_at is not None:
            return None
        return self.process.poll()

    def restart_later(self, status: int) -> None:
        """Say why it stopped and when it starts again; back off while it keeps dying."""
        now = time.monotonic()
        if now - self.started_at >= STABLE_SECONDS:
            self.delay = FIRST_RESTART_SECONDS
        click.echo(f"the {self.name} process died ({describe_exit(status)}); starting it again "
                   f"in {self.delay:.0f} s", err=True)
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, MAX_RESTART_SECONDS)


@dataclass
class StopFlag:
    """Set by SIGTERM or SIGINT."""

    signal_name: str | None = None
    previous: dict[int, object] = field(default_factory=dict)

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Number of web processes.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Threads per web process (more only help slow clients without a proxy).")
@click.option("--no-worker", is_flag=True, help="Do not start a job worker alongside.")
@pass_state
def serve(state: CliState, host: str, port: int, workers: int, threads: int,
          no_worker: bool) -> None:
    """Run the web server (gunicorn) and, unless --no-worker, one job worker."""
    _check_schema(state)
    children = [Child("web", gunicorn_command(host, port, workers, threads), restarts=False)]
    if not no_worker:
        if _has_worker_command():
            children.append(Child("worker", worker_command(), restarts=True))
        else:
            click.echo("note: this build has no `parkflow worker`; timers will not fire",
                       err=True)
    stop = StopFlag()
    stop.install()
    try:
        for child in children:
            child.start()
        failed = _supervise(children, stop)
        problems = _stop_all(children)
    finally:
        stop.restore()
    if failed is not None and failed.process is not None:
        raise CommandFailed(f"the {failed.name} process stopped unexpectedly "
                            f"(exit status {failed.process.returncode}); everything was stopped")
    if problems:
        raise CommandFailed("; ".join(problems))


def gunicorn_command(host: str, port: int, workers: int, threads: int) -> list[str]:
    """The gunicorn command line for the package's config."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [sys.executable, "-m", "gunicorn", "--config", "python:webapp.gunicorn_conf",
            "--bind", address, "--workers", str(workers), "--threads", str(threads)]


def worker_command() -> list[str]:
    """The command line of one ``parkflow worker``."""
    return [sys.executable, "-c", "from webapp.cli import main; main()", "worker"]


def _has_worker_command() -> bool:
    root = click.get_current_context().find_root().command
    return isinstance(root, click.Group) and "worker" in root.commands


def _check_schema(state: CliState) -> None:
    url = state.settings.database_url
    current = migrate.current_revision(url)
    if current is None:
        raise CommandFailed(NOT_SET_UP)
    if current != migrate.head_revision():
        raise CommandFailed(OUT_OF_DATE)


def describe_exit(status: int) -> str:
    """A process's exit status in words: 'exit status 1', 'killed by SIGKILL'."""
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def _supervise(children: list[Child], stop: StopFlag) -> Child | None:
    """Wait for a stop signal (None) or for a child that is not restarted to exit (it)."""
    while stop.signal_name is None:
        for child in children:
            if child.restart_at is not None and time.monotonic() >= child.restart_at:
                child.start()
            status = child.exited()
            if status is None:
                continue
            if not child.restarts:
                return child
            child.restart_later(status)
        time.sleep(POLL_SECONDS)
    click.echo(f"{stop.signal_name} received: stopping", err=True)
    return None


def _stop_all(children: list[Child]) -> list[str]:
    """Ask every child to stop, wait for them, and say which did not stop cleanly."""
    running = [(child.name, child.process) for child in children
               if child.process is not None and child.restart_at is None]
    for _name, process in running:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    problems = []
    for name, process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            problems.append(f"the {name} process did not stop in time and was killed")
            continue
        if process.returncode not in (0, -signal.SIGTERM):
            problems.append(f"the {name} process exited with status {process.returncode}")
    return problems
