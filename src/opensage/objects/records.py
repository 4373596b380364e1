"""Rows of the object-store index and the queries that read and write them."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensage.objects.base import (
    BucketEncryption,
    BucketInfo,
    ObjectInfo,
    PartInfo,
    UploadInfo,
    WriteOptions,
)
from opensage.objects.encryption import SealedBody, stored_size

_OBJECT_COLUMNS = (
    "bucket, key, size, etag, last_modified_ns, content_type, metadata, headers, checksums, file_mtime_ns, "
    "encryption"
)


def datetime_from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


@dataclass(frozen=True)
class ObjectRecord:
    """One object as the index knows it, including the file stat it was committed with."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified_ns: int
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    file_mtime_ns: int = 0
    # SealedBody.to_row() of an encrypted object; its file then holds frames, not the plaintext.
    encryption: dict[str, str] | None = None

    @property
    def sealed(self) -> SealedBody | None:
        return None if self.encryption is None else SealedBody.from_row(self.encryption)

    @property
    def file_size(self) -> int:
        return self.size if self.encryption is None else stored_size(self.size)

    def matches(self, stat: os.stat_result) -> bool:
        """Whether the file on disk is still the one this row was committed for."""
        return stat.st_size == self.file_size and stat.st_mtime_ns == self.file_mtime_ns

    def to_info(self) -> ObjectInfo:
        return ObjectInfo(
            bucket=self.bucket,
            key=self.key,
            size=self.size,
            etag=self.etag,
            last_modified=datetime_from_ns(self.last_modified_ns),
            content_type=self.content_type,
            metadata=dict(self.metadata),
            headers=dict(self.headers),
            checksums=dict(self.checksums),
            sse=None if self.encryption is None else self.encryption["algorithm"],
            sse_kms_key_id=(self.encryption or {}).get("key_arn") or None,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ObjectRecord:
        return cls(**json.loads(text))


def _object_from_row(row: tuple[Any, ...]) -> ObjectRecord:
    return ObjectRecord(
        bucket=row[0],
        key=row[1],
        size=row[2],
        etag=row[3],
        last_modified_ns=row[4],
        content_type=row[5],
        metadata=json.loads(row[6]),
        headers=json.loads(row[7]),
        checksums=json.loads(row[8]),
        file_mtime_ns=row[9],
        encryption=None if row[10] is None else json.loads(row[10]),
    )


# --- buckets ---


def get_bucket(connection: sqlite3.Connection, name: str) -> BucketInfo | None:
    row = connection.execute(
        "SELECT name, created_ns, region FROM buckets WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else BucketInfo(row[0], datetime_from_ns(row[1]), row[2])


def list_buckets(connection: sqlite3.Connection) -> list[BucketInfo]:
    rows = connection.execute("SELECT name, created_ns, region FROM buckets ORDER BY name").fetchall()
    return [BucketInfo(name, datetime_from_ns(created), region) for name, created, region in rows]


def insert_bucket(connection: sqlite3.Connection, name: str, region: str, created_ns: int) -> None:
    connection.execute(
        "INSERT INTO buckets (name, region, created_ns) VALUES (?, ?, ?)", (name, region, created_ns)
    )


def delete_bucket(connection: sqlite3.Connection, name: str) -> None:
    connection.execute("DELETE FROM bucket_encryption WHERE bucket = ?", (name,))
    connection.execute("DELETE FROM buckets WHERE name = ?", (name,))


def get_bucket_encryption(connection: sqlite3.Connection, name: str) -> BucketEncryption | None:
    row = connection.execute(
        "SELECT algorithm, kms_key_id FROM bucket_encryption WHERE bucket = ?", (name,)
    ).fetchone()
    return None if row is None else BucketEncryption(row[0], row[1])


def put_bucket_encryption(
    connection: sqlite3.Connection, name: str, encryption: BucketEncryption | None
) -> None:
    connection.execute("DELETE FROM bucket_encryption WHERE bucket = ?", (name,))
    if encryption is not None:
        connection.execute(
            "INSERT INTO bucket_encryption (bucket, algorithm, kms_key_id) VALUES (?, ?, ?)",
            (name, encryption.algorithm, encryption.kms_key_id),
        )


def bucket_has_contents(connection: sqlite3.Connection, name: str) -> bool:
    query = (
        "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?) "
        "OR EXISTS (SELECT 1 FROM uploads WHERE bucket = ?)"
    )
    return bool(connection.execute(query, (name, name)).fetchone()[0])


# --- objects ---


def get_object(connection: sqlite3.Connection, bucket: str, key: str) -> ObjectRecord | None:
    row = connection.execute(
        f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
    ).fetchone()
    return None if row is None else _object_from_row(row)


def put_object(connection: sqlite3.Connection, record: ObjectRecord) -> None:
    connection.execute(
        f"INSERT OR REPLACE INTO objects ({_OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.bucket,
            record.key,
            record.size,
            record.etag,
            record.last_modified_ns,
            record.content_type,
            json.dumps(record.metadata),
            json.dumps(record.headers),
            json.dumps(record.checksums),
            record.file_mtime_ns,
            None if record.encryption is None else json.dumps(record.encryption),
        ),
    )


def delete_object(connection: sqlite3.Connection, bucket: str, key: str) -> None:
    connection.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))


def fetch_objects(
    connection: sqlite3.Connection, bucket: str, lower: str, inclusive: bool, upper: str | None, limit: int
) -> list[ObjectRecord]:
    """Up to ``limit`` rows with ``lower <(=) key < upper`` in key order.

    SQLite compares TEXT with memcmp on UTF-8, which is S3's UTF-8 binary key order.
    """
    query = f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key {'>=' if inclusive else '>'} ?"
    parameters: list[Any] = [bucket, lower]
    if upper is not None:
        query += " AND key < ?"
        parameters.append(upper)
    query += " ORDER BY key LIMIT ?"
    parameters.append(limit)
    return [_object_from_row(row) for row in connection.execute(query, parameters)]


# --- intents ---


@dataclass(frozen=True)
class Intent:
    id: int
    bucket: str
    key: str
    kind: str
    record: ObjectRecord | None


def add_intent(
    connection: sqlite3.Connection, bucket: str, key: str, kind: str, record: ObjectRecord | None, now_ns: int
) -> int:
    cursor = connection.execute(
        "INSERT INTO intents (bucket, key, kind, record, created_ns) VALUES (?, ?, ?, ?, ?)",
        (bucket, key, kind, None if record is None else record.to_json(), now_ns),
    )
    return int(cursor.lastrowid or 0)


def remove_intents(connection: sqlite3.Connection, bucket: str, key: str) -> None:
    """Forget every pending change to a key: the change being committed supersedes them."""
    connection.execute("DELETE FROM intents WHERE bucket = ? AND key = ?", (bucket, key))


def remove_intent(connection: sqlite3.Connection, intent_id: int) -> None:
    connection.execute("DELETE FROM intents WHERE id = ?", (intent_id,))


def list_intents(connection: sqlite3.Connection) -> list[Intent]:
    rows = connection.execute("SELECT id, bucket, key, kind, record FROM intents ORDER BY id").fetchall()
    return [
        Intent(row[0], row[1], row[2], row[3], None if row[4] is None else ObjectRecord.from_json(row[4]))
        for row in rows
    ]


# --- multipart uploads ---


@dataclass(frozen=True)
class UploadRecord:
    upload_id: str
    bucket: str
    key: str
    options: WriteOptions
    initiated_ns: int

    def to_info(self) -> UploadInfo:
        return UploadInfo(self.bucket, self.key, self.upload_id, datetime_from_ns(self.initiated_ns))


@dataclass(frozen=True)
class PartRecord:
    part_number: int
    etag: str
    size: int
    last_modified_ns: int
    checksums: dict[str, str]
    # Size and mtime_ns of the part file at commit, to notice a part file replaced by a crashed retry.
    file_mtime_ns: int

    def matches(self, stat: os.stat_result) -> bool:
        return stat.st_size == self.size and stat.st_mtime_ns == self.file_mtime_ns

    def to_info(self) -> PartInfo:
        return PartInfo(
            self.part_number,
            self.etag,
            self.size,
            datetime_from_ns(self.last_modified_ns),
            dict(self.checksums),
        )


def _options_to_json(options: WriteOptions) -> str:
    data = asdict(options)
    data["checksum_algorithms"] = list(options.checksum_algorithms)
    return json.dumps(data)


def _options_from_json(text: str) -> WriteOptions:
    data = json.loads(text)
    data["checksum_algorithms"] = tuple(data["checksum_algorithms"])
    return WriteOptions(**data)


def insert_upload(connection: sqlite3.Connection, upload: UploadRecord) -> None:
    connection.execute(
        "INSERT INTO uploads (upload_id, bucket, key, options, initiated_ns) VALUES (?, ?, ?, ?, ?)",
        (upload.upload_id, upload.bucket, upload.key, _options_to_json(upload.options), upload.initiated_ns),
    )


def get_upload(connection: sqlite3.Connection, upload_id: str) -> UploadRecord | None:
    row = connection.execute(
        "SELECT upload_id, bucket, key, options, initiated_ns FROM uploads WHERE upload_id = ?", (upload_id,)
    ).fetchone()
    return None if row is None else UploadRecord(row[0], row[1], row[2], _options_from_json(row[3]), row[4])


def list_uploads(connection: sqlite3.Connection, bucket: str) -> list[UploadRecord]:
    rows = connection.execute(
        "SELECT upload_id, bucket, key, options, initiated_ns FROM uploads WHERE bucket = ? "
        "ORDER BY key, initiated_ns, upload_id",
        (bucket,),
    ).fetchall()
    return [UploadRecord(row[0], row[1], row[2], _options_from_json(row[3]), row[4]) for row in rows]


def all_upload_ids(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT upload_id FROM uploads")}


def delete_upload(connection: sqlite3.Connection, upload_id: str) -> None:
    connection.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
    connection.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))


def put_part(connection: sqlite3.Connection, upload_id: str, part: PartRecord) -> None:
    connection.execute(
        "INSERT OR REPLACE INTO parts "
        "(upload_id, part_number, etag, size, last_modified_ns, checksums, file_mtime_ns) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            upload_id,
            part.part_number,
            part.etag,
            part.size,
            part.last_modified_ns,
            json.dumps(part.checksums),
            part.file_mtime_ns,
        ),
    )


def list_parts(connection: sqlite3.Connection, upload_id: str) -> list[PartRecord]:
    rows = connection.execute(
        "SELECT part_number, etag, size, last_modified_ns, checksums, file_mtime_ns FROM parts "
        "WHERE upload_id = ? ORDER BY part_number",
        (upload_id,),
    ).fetchall()
    return [PartRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5]) for row in rows]
