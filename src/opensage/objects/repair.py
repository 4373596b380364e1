"""Crash repair: make an index row agree with the file it describes.

A write renames its file into place and commits the row in one write transaction, after
committing an *intent* naming the key. A crash in between leaves a file that its row does
not describe (or no row at all); the intent says which keys to look at when the store is
next opened, and any access that finds a row and a file disagreeing repairs the row too.
Every function here runs inside the caller's write transaction, so no live writer is
mid-way through the same key.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat as stat_module
from dataclasses import replace
from pathlib import Path

from opensage.objects import records
from opensage.objects.checksums import Digests
from opensage.objects.files import fsync_directory, remove_empty_parents
from opensage.objects.records import ObjectRecord

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_CHUNK = 1 << 20


def regular_file_stat(path: Path) -> os.stat_result | None:
    """The stat of ``path`` if it is a regular file (a folder of other keys is not an object)."""
    try:
        result = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # no file can have such a name
            return None
        raise
    return result if stat_module.S_ISREG(result.st_mode) else None


def reconcile_key(
    connection: sqlite3.Connection,
    path: Path,
    bucket_dir: Path,
    bucket: str,
    key: str,
    kind: str = "put",
    hint: ObjectRecord | None = None,
) -> ObjectRecord | None:
    """Fix the row of ``key`` to describe its file; return the row, or None if there is no object.

    ``kind`` is the interrupted change ("put" or "delete"); ``hint`` the row a put meant to
    commit, adopted without re-reading the file when the file is the one it describes.
    """
    row = records.get_object(connection, bucket, key)
    found = regular_file_stat(path)
    if found is None:
        if row is not None:
            records.delete_object(connection, bucket, key)
        return None
    if row is not None and row.matches(found):
        return row
    if hint is not None and hint.matches(found):
        records.put_object(connection, hint)
        return hint
    if row is None and kind == "delete":
        path.unlink()
        fsync_directory(path.parent)
        remove_empty_parents(path, bucket_dir)
        return None
    fixed = describe_file(path, bucket, key, hint or row)
    records.put_object(connection, fixed)
    return fixed


def describe_file(path: Path, bucket: str, key: str, previous: ObjectRecord | None) -> ObjectRecord:
    """A row for the bytes in ``path``: MD5 and checksums recomputed, metadata kept from ``previous``."""
    digests = Digests(previous.checksums if previous else ())
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digests.update(chunk)
        final = os.fstat(source.fileno())
    template = previous or ObjectRecord(bucket, key, 0, "", 0, DEFAULT_CONTENT_TYPE)
    return replace(
        template,
        bucket=bucket,
        key=key,
        size=digests.size,
        etag=digests.md5_hex(),
        last_modified_ns=final.st_mtime_ns,
        checksums=digests.checksums(),
        file_mtime_ns=final.st_mtime_ns,
        # A file adopted from the disk is what it looks like: plaintext.
        encryption=None,
    )
