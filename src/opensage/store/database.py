"""Open the metadata database named by a URL and bring its schema up to date.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``, so a committed
write survives a crash or power loss and readers never block the writer. PostgreSQL is
reached through psycopg 3 (``postgresql://`` means ``postgresql+psycopg://``); its own
defaults (``fsync``, ``synchronous_commit``) already make a commit durable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from opensage.errors import ConflictError, ValidationError

_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x6F70656E73616765  # "opensage": the advisory lock migrations hold on PostgreSQL

# SQLAlchemy's bare "postgresql" driver is psycopg2; opensage depends on psycopg 3 instead.
# "postgres://" is the spelling Heroku and libpq's own tools use; SQLAlchemy no longer reads it.
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}

_BACKENDS = ("sqlite", "postgresql")
# Held by the server for its lifetime on a PostgreSQL metadata database (see claim()).
_SERVER_LOCK = _MIGRATION_LOCK + 1

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "FULL",
    "foreign_keys": "ON",
    "busy_timeout": "30000",
}


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for name, value in SQLITE_PRAGMAS.items():
        cursor.execute(f"PRAGMA {name}={value}")
    cursor.close()


def database_url(url: str) -> URL:
    """``url`` parsed, with a plain PostgreSQL scheme pointed at the psycopg 3 driver."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed if driver is None else parsed.set(drivername=driver)


def open_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, the file's folder is created and durability pragmas set."""
    parsed = database_url(url)
    backend = parsed.get_backend_name()
    if backend not in _BACKENDS:
        raise ValidationError(
            f"The metadata database must be SQLite or PostgreSQL (sqlite:///path, postgresql://...), not {backend}"
        )
    if backend == "postgresql":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ValidationError(
                "A postgresql:// metadata database needs psycopg 3: pip install 'opensage[postgres]'"
            ) from exc
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def claim(engine: Engine) -> Connection | None:
    """Make this process the only server using a PostgreSQL metadata database; hold the result open.

    Two servers on one database would each reconcile the other's jobs and endpoints (whose
    processes and files live in the other's home) and record them as failed. The home lock
    already covers a SQLite database, which lives in the home. The lock is PostgreSQL's: it
    goes when the holding connection does, so a killed server never leaves it behind.
    """
    if engine.dialect.name != "postgresql":
        return None
    connection = engine.connect()
    held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _SERVER_LOCK}).scalar()
    connection.commit()
    if not held:
        connection.close()
        raise ConflictError(
            f"Another opensage server is using the metadata database {engine.url}; "
            "stop it or give this server its own OPENSAGE_DATABASE_URL"
        )
    return connection


def upgrade(engine: Engine) -> None:
    """Apply every migration the database does not have yet (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Servers sharing one PostgreSQL database may start together: one migrates, the
            # others wait and then find nothing left to do. (SQLite's writer lock does this.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
