"""Schema migrations, run from Python: the Alembic scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from webapp.db import make_engine

_HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration bound to ``database_url``."""
    config = Config(str(_HERE / "alembic.ini"))
    # absolute, so it works whatever the current directory is
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or migrate the schema of ``database_url`` up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """Return the newest revision the package ships."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    return scripts.get_current_head()


def current_revision(database_url: str) -> str | None:
    """Return the revision the database is at, or None when it was never migrated."""
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
