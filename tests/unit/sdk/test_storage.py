"""S3 locations, content types by suffix, and which files of a folder are uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from opensage.sdk._storage import (
    S3Location,
    content_type_of,
    folder_content_type,
    folder_files,
    is_s3_uri,
    parse_uri,
)


def test_uris_parse_and_join() -> None:
    location = parse_uri("s3://bucket/a/b.csv")
    assert location == S3Location("bucket", "a/b.csv")
    assert (
        S3Location("bucket", "job/input").join("train", "/data.csv").uri
        == "s3://bucket/job/input/train/data.csv"
    )
    assert S3Location("bucket", "").join("x").key == "x"
    assert parse_uri("s3://bucket").key == ""
    assert is_s3_uri("s3://b/k") and not is_s3_uri("data.csv") and not is_s3_uri(b"s3://b")
    with pytest.raises(ValueError, match="not an S3 URI"):
        parse_uri("/tmp/x")
    with pytest.raises(ValueError, match="names no bucket"):
        parse_uri("s3:///key")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("train.csv", "text/csv"),
        ("TRAIN.CSV", "text/csv"),
        ("a.libsvm", "text/libsvm"),
        ("part-0.parquet", "application/x-parquet"),
        ("rows.jsonl", "application/jsonlines"),
        ("data.recordio", "application/x-recordio-protobuf"),
        ("notes.txt", None),
        ("s3://b/prefix/", None),
    ],
)
def test_content_types_follow_the_suffix(name: str, content_type: str | None) -> None:
    assert content_type_of(name) == content_type


def test_folders_upload_their_files_but_not_caches(tmp_path: Path) -> None:
    (tmp_path / "part").mkdir()
    (tmp_path / "a.csv").write_text("1\n")
    (tmp_path / "part" / "b.csv").write_text("2\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    assert [path.relative_to(tmp_path).as_posix() for path in folder_files(tmp_path)] == [
        "a.csv",
        "part/b.csv",
    ]
    assert folder_content_type(tmp_path) == "text/csv"
    (tmp_path / "c.parquet").write_bytes(b"")
    assert folder_content_type(tmp_path) is None
