"""Durable file operations: locked temporary files, fsync'd renames, folder upkeep.

A temporary file is held under an exclusive ``flock`` for as long as its writer lives, so
a store opening in another process can tell an abandoned temporary file (no lock) from
one still being written, and only removes the former.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

# A temporary file younger than this is left alone even if unlocked: its writer may be
# between creating it and taking the lock.
ABANDONED_AFTER_SECONDS = 60.0
_BUFFER_SIZE = 1 << 20


class TempFile:
    """A locked, buffered temporary file that is either published by rename or discarded."""

    def __init__(self, directory: Path, prefix: str) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            os.unlink(name)
            raise
        self.path = Path(name)
        self._file: BinaryIO = open(fd, "wb", buffering=_BUFFER_SIZE)  # noqa: SIM115 - lives past this call
        self._finished = False
        self._published = False

    @property
    def closed(self) -> bool:
        return self._file.closed

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def sync(self) -> os.stat_result:
        """Flush and fsync the bytes; the returned stat is what the index records."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._finished = True
        return os.fstat(self._file.fileno())

    def publish(self, destination: Path) -> None:
        """Rename into place (replacing any file there) and fsync the folder; the lock is kept until close."""
        if not self._finished:
            raise RuntimeError("TempFile.sync() must run before publish()")
        os.replace(self.path, destination)
        self._published = True
        fsync_directory(destination.parent)
        self._file.close()

    def discard(self) -> None:
        """Close and delete the temp file; after ``publish`` it only closes."""
        if not self._file.closed:
            self._file.close()
        if not self._published:
            self.path.unlink(missing_ok=True)


def fsync_directory(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_directories(path: Path, stop_at: Path) -> None:
    """Create ``path`` and missing parents below ``stop_at``, fsyncing each new entry's parent.

    Raises NotADirectoryError or FileExistsError when a component exists as a file.
    """
    missing: list[Path] = []
    current = path
    while current != stop_at and not current.is_dir():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue
        fsync_directory(directory.parent)


def remove_empty_parents(path: Path, stop_at: Path) -> None:
    """Remove ``path``'s parent folders up to (not including) ``stop_at`` while they are empty."""
    current = path.parent
    while current != stop_at and stop_at in current.parents:
        try:
            current.rmdir()
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                return
            raise
        current = current.parent


def remove_abandoned_temp_files(directory: Path, now: float | None = None) -> int:
    """Delete temporary files whose writer is gone; return how many were removed."""
    moment = time.time() if now is None else now
    removed = 0
    for entry in directory.iterdir():
        if entry.is_file() and _is_abandoned(entry, moment):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _is_abandoned(path: Path, now: float) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if now - os.fstat(fd).st_mtime < ABANDONED_AFTER_SECONDS:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    finally:
        os.close(fd)
