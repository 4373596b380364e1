"""Putting an object's file in place under its bucket folder, and explaining why it cannot go there.

A key is a file and its ``/``-separated prefixes are folders, so a key cannot be stored where
another key's file is one of its folders (``a`` then ``a/b``), nor where other keys fill a
folder of its name (``a/b`` then ``a``). The file system itself detects both; this module
turns that into ObjectPathConflict with a message naming the other key.
"""

from __future__ import annotations

import errno

from opensage.errors import KeyTooLong, ObjectPathConflict
from opensage.objects.files import TempFile, make_directories
from opensage.objects.layout import StoreLayout


def place_file(layout: StoreLayout, temp: TempFile, bucket: str, key: str) -> None:
    """Rename a synced temp file to ``key``'s path, creating folders; the caller holds the write lock."""
    path = layout.object_path(bucket, key)
    try:
        make_directories(path.parent, layout.root)
    except (NotADirectoryError, FileExistsError) as exc:
        raise conflict(layout, bucket, key) from exc
    except OSError as exc:
        raise_if_name_too_long(exc, key)
        raise
    try:
        temp.publish(path)
    except IsADirectoryError as exc:
        # An empty folder left by a crash is not a conflict; one holding keys is.
        try:
            path.rmdir()
        except OSError:
            raise conflict(layout, bucket, key) from exc
        temp.publish(path)
    except OSError as exc:
        raise_if_name_too_long(exc, key)
        raise


def check_path_free(layout: StoreLayout, bucket: str, key: str) -> None:
    """Raise ObjectPathConflict now if ``key`` could not be placed, before a body is received."""
    path = layout.object_path(bucket, key)
    bucket_dir = layout.bucket_dir(bucket)
    try:
        blocked = any(
            ancestor.exists() and not ancestor.is_dir()
            for ancestor in path.parents
            if bucket_dir in ancestor.parents
        )
        if blocked or (path.is_dir() and any(path.iterdir())):
            raise conflict(layout, bucket, key)
    except OSError as exc:
        raise_if_name_too_long(exc, key)
        raise


def conflict(layout: StoreLayout, bucket: str, key: str) -> ObjectPathConflict:
    path = layout.object_path(bucket, key)
    bucket_dir = layout.bucket_dir(bucket)
    for ancestor in reversed(path.parents):
        if bucket_dir in ancestor.parents and ancestor.is_file():
            other = layout.key_of(bucket, ancestor)
            return ObjectPathConflict(
                f"Cannot store key {key!r}: the local object store keeps each key as a file, and "
                f"{other!r} is already an object, so it cannot also be the folder {key!r} needs. "
                f"Delete {other!r} or choose a different key."
            )
    return ObjectPathConflict(
        f"Cannot store key {key!r}: the local object store keeps each key as a file, and other keys "
        f"starting with {key + '/'!r} are kept in a folder of that name. Delete them or choose a "
        "different key."
    )


def raise_if_name_too_long(exc: OSError, key: str) -> None:
    if exc.errno == errno.ENAMETOOLONG:
        raise KeyTooLong(f"Key {key!r} is too long for a path on this file system.") from exc
