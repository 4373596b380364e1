"""The SQLite index of the local object store: schema, per-thread connections, transactions.

Several processes (the server, job processes) share one index, so it runs in WAL mode with
``synchronous=FULL`` and a generous busy timeout. Every change to a bucket's files happens
inside a write transaction (``BEGIN IMMEDIATE``), which is the store's cross-process lock:
a rename and the row describing it are never interleaved with another writer's.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ns INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    headers TEXT NOT NULL,
    checksums TEXT NOT NULL,
    file_mtime_ns INTEGER NOT NULL,
    encryption TEXT,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bucket_encryption (
    bucket TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    kms_key_id TEXT
);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    options TEXT NOT NULL,
    initiated_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_bucket ON uploads (bucket, key, initiated_ns);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_modified_ns INTEGER NOT NULL,
    checksums TEXT NOT NULL,
    file_mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
-- A change about to touch a file, committed before the file is touched, so that a store
-- opened after a crash knows which rows and files to compare.
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    record TEXT,
    created_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS intents_by_key ON intents (bucket, key);
"""


class IndexDatabase:
    """One SQLite file, a small pool of connections, explicit transactions.

    A pool rather than one connection per thread: server worker threads come and go, and a
    connection left behind by each would hold its file descriptors until the store closes.
    """

    def __init__(self, path: Path, pool_size: int = 16) -> None:
        self.path = path
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        # Every statement is idempotent, so processes opening the store at once may all run them.
        with self._borrowed() as connection:
            connection.executescript(_SCHEMA)
            _add_missing_columns(connection)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun and ended explicitly below.
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    @contextmanager
    def _borrowed(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the object store has been closed")
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._connect()
        try:
            yield connection
        finally:
            with self._lock:
                keep = (
                    not self._closed and len(self._idle) < self._pool_size and not connection.in_transaction
                )
                if keep:
                    self._idle.append(connection)
            if not keep:
                connection.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the store-wide write lock until it ends."""
        with self._transaction("BEGIN IMMEDIATE") as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query in it sees one consistent snapshot."""
        with self._transaction("BEGIN DEFERRED") as connection:
            yield connection

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        # Never nest these on one thread: a second connection would wait for the first.
        with self._borrowed() as connection:
            connection.execute(begin)
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Bring an index written by an older opensage up to this schema (columns only ever get added)."""
    # Under the write lock, so that two processes opening an old store add the column once.
    connection.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(objects)")}
        if "encryption" not in columns:
            connection.execute("ALTER TABLE objects ADD COLUMN encryption TEXT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
