"""Put whatever a user passes as data (S3 URI, local file or folder, bytes, in-memory table) into S3."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from opensage.sdk._storage import (
    S3Location,
    content_type_of,
    folder_content_type,
    is_s3_uri,
    upload_path,
)
from opensage.sdk._tables import is_table, plain_csv, training_csv

#: What the SDK accepts as data: an ``s3://`` URI (used as it is), a local file or folder
#: (a ``str`` or ``os.PathLike``), ``bytes``, a pandas DataFrame, a NumPy array, a list of
#: rows, or an ``(X, y)`` pair of features and labels.
Data: TypeAlias = Any

# Tables become CSV files; this is their name inside the channel's prefix.
_TABLE_FILE = "data.csv"


@dataclass(frozen=True)
class Staged:
    uri: str
    # What the data is, as far as the SDK can tell; None leaves it to the algorithm or script.
    content_type: str | None


def stage(
    s3: Any, data: Data, target: S3Location, *, label: Any = None, builtin_layout: bool, exact: bool = False
) -> Staged:
    """Upload ``data`` under the prefix ``target`` unless it is in S3 already; say where it is.

    With ``exact``, ``target`` is the key a file, bytes or a table is written to (a folder's
    files still go under it). With ``builtin_layout`` tables are written label first without
    a header (``label`` says which column), else as they are.
    """
    if is_s3_uri(data):
        return Staged(str(data), content_type_of(str(data)))
    if isinstance(data, str | os.PathLike):
        path = Path(data).expanduser()
        if path.is_dir():
            return Staged(upload_path(s3, path, target), folder_content_type(path))
        location = target if exact else target.join(path.name)
        return Staged(upload_path(s3, path, location), content_type_of(path.name))
    if isinstance(data, bytes | bytearray | memoryview):
        location = target if exact else target.join("data")
        s3.put_object(Bucket=location.bucket, Key=location.key, Body=bytes(data))
        return Staged(location.uri, content_type_of(location.key))
    if is_table(data):
        body = training_csv(data, label) if builtin_layout else plain_csv(data)
        location = target if exact else target.join(_TABLE_FILE)
        s3.put_object(Bucket=location.bucket, Key=location.key, Body=body)
        return Staged(location.uri, "text/csv")
    raise TypeError(
        f"Cannot use a {type(data).__name__} as data; pass an s3:// URI, a local path, bytes, "
        "a pandas DataFrame, a NumPy array, a list of rows or an (X, y) pair"
    )
