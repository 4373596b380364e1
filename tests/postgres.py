"""A throwaway PostgreSQL server from Debian's packages, for the store's tests and for trying opensage on it.

``throwaway_postgres()`` installs PostgreSQL with apt when it is missing, creates a cluster
in a temporary folder (as the ``postgres`` user when run as root: PostgreSQL refuses to run
as root), starts it on a free loopback port with a password-protected role, and stops and
removes it on exit. ``python -m tests.postgres`` starts one and prints its URL until Ctrl-C:

    OPENSAGE_DATABASE_URL="$(...printed URL...)" opensage server
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

USER = "opensage"
PASSWORD = "opensage-test"
_START_SECONDS = 60


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be installed or started; the message says what to do."""


@dataclass(frozen=True)
class PostgresServer:
    port: int
    admin_url: str  # the "postgres" maintenance database, for CREATE/DROP DATABASE

    def url(self, database: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"


def _free_port() -> int:
    # Not opensage.embedded's: this module is imported by the root conftest, before any server code.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bin_dir() -> Path | None:
    # Debian keeps the server programs out of PATH, one folder per major version.
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:
        raise PostgresUnavailable(f"{what} failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")


def install() -> Path:
    """The folder of initdb/pg_ctl, installing Debian's postgresql package first if needed."""
    found = _bin_dir()
    if found is not None:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise PostgresUnavailable(
            "PostgreSQL is not installed and cannot be installed here (needs root and apt-get): "
            "run `apt-get install -y postgresql` and try again"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update"], "apt-get update", env)
    _run(["apt-get", "install", "-y", "--no-install-recommends", "postgresql"], "installing PostgreSQL", env)
    found = _bin_dir()
    if found is None:
        raise PostgresUnavailable(
            "apt-get installed postgresql but no initdb was found under /usr/lib/postgresql"
        )
    return found


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster on a free port for the ``with`` block, then gone."""
    bin_dir = install()
    # Not under pytest's tmp folders: those are 0700 root's, which the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="opensage-postgres-"))
    data, password_file, sockets = root / "data", root / "password", root / "sockets"
    sockets.mkdir()
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(password_file, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    try:
        _run(
            _as_owner(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "--pwfile",
                    str(password_file),
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            "initdb",
        )
        # fsync off: the cluster lives for one test session, and durability is PostgreSQL's own job.
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            _as_owner(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    options,
                    "-t",
                    str(_START_SECONDS),
                    "-w",
                    "start",
                ]
            ),
            "starting PostgreSQL",
        )
        try:
            yield PostgresServer(port, f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres")
        finally:
            subprocess.run(
                _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: PostgresServer, name: str) -> str:
    """A new empty database on ``server``; its URL.

    It collates as most installations do (ICU en-US, not the byte order of the C locale), so
    the tests see what an ordering that leans on the database's collation would get wrong.
    """
    import psycopg

    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    return server.url(name)


def drop_database(server: PostgresServer, name: str) -> None:
    """Remove a database, closing whatever connections a test left open to it."""
    import psycopg

    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    with throwaway_postgres() as running:
        print(create_database(running, "opensage"), flush=True)
        print("PostgreSQL is running; Ctrl-C stops and removes it.", file=sys.stderr, flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()
