"""``parkflow serve``: gunicorn with the package's settings, plus one job worker.

The command supervises its children: each runs in its own process group, so Ctrl-C reaches
only this process, which then asks every child to stop (SIGTERM: gunicorn finishes the requests
in hand, the worker the job in hand) and waits for them. When one child dies on its own,
the other is stopped too and the command fails.
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
# longer than gunicorn's graceful_timeout, so that it can finish its requests
STOP_GRACE_SECONDS = 30.0


@dataclass
class Child:
    """One supervised process."""

    name: str
    process: subprocess.Popen[bytes]


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
    commands = [("web", gunicorn_command(host, port, workers, threads))]
    if not no_worker:
        if _has_worker_command():
            commands.append(("worker", worker_command()))
        else:
            click.echo("note: this build has no `parkflow worker`; timers will not fire",
                       err=True)
    stop = StopFlag()
    stop.install()
    try:
        # the command lines are fixed above; nothing in them comes from outside
        children = [Child(name, subprocess.Popen(argv, process_group=0))  # noqa: S603
                    for name, argv in commands]
        failed = _supervise(children, stop)
        problems = _stop_all(children)
    finally:
        stop.restore()
    if failed is not None:
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


def _supervise(children: list[Child], stop: StopFlag) -> Child | None:
    """Wait for a stop signal (None) or for a child to exit by itself (that child)."""
    while stop.signal_name is None:
        for child in children:
            if child.process.poll() is not None:
                return child
        time.sleep(POLL_SECONDS)
    click.echo(f"{stop.signal_name} received: stopping", err=True)
    return None


def _stop_all(children: list[Child]) -> list[str]:
    """Ask every child to stop, wait for them, and say which did not stop cleanly."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    problems = []
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
            problems.append(f"the {child.name} process did not stop in time and was killed")
            continue
        if child.process.returncode not in (0, -signal.SIGTERM):
            problems.append(f"the {child.name} process exited with status "
                            f"{child.process.returncode}")
    return problems
