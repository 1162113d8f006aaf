"""Alembic environment: migrates the database Parkflow is configured for."""

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

import webapp.models  # noqa: F401  (registers every table on the metadata)
from webapp.config import Settings
from webapp.db import BEGIN_IMMEDIATE, Base, make_engine, normalize_database_url

# any fixed number: concurrent `db upgrade` runs on PostgreSQL take turns on it
_PG_MIGRATION_LOCK = 7_305_201_934


def _database_url() -> str:
    # webapp.migrate passes the URL; a bare `alembic` command reads the environment
    url = context.config.attributes.get("database_url")
    return url or Settings.from_env().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # our SQLite engine emits its own BEGIN, so its DDL is transactional too
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    """Print the SQL instead of running it."""
    context.configure(
        url=normalize_database_url(_database_url()),
        target_metadata=Base.metadata,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations in one transaction, one migrator at a time."""
    engine = make_engine(_database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{BEGIN_IMMEDIATE: True})
            _configure(connection)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(
                        f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"
                    )
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
