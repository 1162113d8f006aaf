"""What every command shares: settings, the database, and one-line error reporting."""

from __future__ import annotations

import getpass
import os
from typing import IO, Any

import click
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from webapp.config import ConfigError, Settings
from webapp.db import Database
from webapp.services.errors import ServiceError

NOT_SET_UP = "the database is not set up; run `parkflow db upgrade`"
OUT_OF_DATE = "the database schema is out of date; run `parkflow db upgrade`"


class CliState:
    """Settings and database of one command run, created when first needed."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        """Return the settings read from the environment."""
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def database(self) -> Database:
        """Return the configured database."""
        if self._database is None:
            self._database = Database(self.settings.database_url)
        return self._database

    @property
    def actor(self) -> str:
        """Name the operator in the audit log; ':' keeps it apart from real usernames."""
        try:
            return f"cli:{getpass.getuser()}"
        except (OSError, KeyError):
            return "cli"

    def close(self) -> None:
        """Release the database connections."""
        if self._database is not None:
            self._database.dispose()

    def safe_database_url(self) -> str:
        """Return the database URL with any password masked, for messages."""
        return make_url(self.settings.database_url).render_as_string(hide_password=True)


pass_state = click.make_pass_decorator(CliState)


class CommandFailed(click.ClickException):
    """An error reported as the single line ``error: <message>``."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file, err=file is None)


class ParkflowGroup(click.Group):
    """The root group: turns every failure below it into one readable line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _usage_failure(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, CommandFailed):
            raise
        except click.UsageError as exc:
            raise _usage_failure(exc) from exc
        except click.ClickException:
            raise
        except Exception as exc:
            if os.environ.get("PARKFLOW_DEBUG"):
                raise
            raise CommandFailed(describe_error(exc)) from exc


class UsageFailed(CommandFailed):
    """A command line that does not parse; exits 2 like any click usage error."""

    exit_code = 2


def _usage_failure(exc: click.UsageError) -> UsageFailed:
    hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
    return UsageFailed(f"{exc.format_message()}{hint}")


def describe_error(exc: Exception) -> str:
    """Say in one line what went wrong, without a traceback."""
    if isinstance(exc, ServiceError | ConfigError | CommandError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        return _describe_database_error(exc)
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {_first_line(str(exc))}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return (
        f"unexpected {type(exc).__name__}: {_first_line(str(exc))} "
        "(set PARKFLOW_DEBUG=1 to see the traceback)"
    )


def _describe_database_error(exc: DBAPIError) -> str:
    reason = _first_line(str(exc.orig))
    sqlstate = getattr(exc.orig, "sqlstate", None)
    # SQLite reports by message; PostgreSQL by SQLSTATE (42P01 table, 42703 column)
    if sqlstate == "42P01" or reason.startswith("no such table"):
        return NOT_SET_UP
    if sqlstate == "42703" or reason.startswith("no such column"):
        return OUT_OF_DATE
    if isinstance(exc, IntegrityError):
        return f"the change conflicts with data already stored: {reason}"
    if "unable to open database file" in reason:
        return "cannot open the SQLite database file; check PARKFLOW_DATABASE_URL"
    return f"cannot use the database: {reason}"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no details"
