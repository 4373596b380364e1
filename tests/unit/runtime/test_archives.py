"""Unpacking users' archives and placing keys on disk: nothing lands outside the target folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.errors import ArchiveError
from opensage.runtime.archives import contained_path, extract_tar


def _archive(tmp_path: Path, *members: tarfile.TarInfo) -> Path:
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            data = b"x" * member.size if member.isfile() else None
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 3
    return info


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def test_a_plain_archive_unpacks_with_its_folders_and_inner_links(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path,
        _file("model.json"),
        _file("code/inference.py"),
        _special("latest", tarfile.SYMTYPE, "model.json"),
    )
    target = tmp_path / "out"
    target.mkdir()
    extract_tar(archive, target)
    assert (target / "code" / "inference.py").read_bytes() == b"xxx"
    assert (target / "latest").read_bytes() == b"xxx"


@pytest.mark.parametrize(
    ("member", "says"),
    [
        (_file("/etc/cron.d/evil"), "absolute path"),
        (_file("../escaped"), "leaves the folder"),
        (_file("code/../../escaped"), "leaves the folder"),
        (_special("dev", tarfile.CHRTYPE), "device file or FIFO"),
        (_special("pipe", tarfile.FIFOTYPE), "device file or FIFO"),
        (_special("passwd", tarfile.SYMTYPE, "/etc/passwd"), "link to the absolute path"),
        (_special("up", tarfile.SYMTYPE, "../../outside"), "outside the folder"),
        (_special("hard", tarfile.LNKTYPE, "../outside"), "outside the folder"),
    ],
)
def test_unsafe_members_are_refused_by_name(tmp_path: Path, member: tarfile.TarInfo, says: str) -> None:
    archive = _archive(tmp_path, member)
    target = tmp_path / "deep" / "out"
    target.mkdir(parents=True)
    with pytest.raises(ArchiveError) as raised:
        extract_tar(archive, target, "The model data s3://b/model.tar.gz")
    assert says in raised.value.message
    assert repr(member.name) in raised.value.message
    assert raised.value.message.startswith("The model data s3://b/model.tar.gz is unsafe to unpack")
    assert str(tmp_path) not in raised.value.message  # server paths stay private
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deep", "model.tar.gz", "out"]


def test_a_file_that_is_not_a_tar_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(ArchiveError, match=r"is not a valid tar\.gz file"):
        extract_tar(archive, tmp_path)


@pytest.mark.parametrize("relative", ["", ".", "/etc/passwd", "../x", "a/../../x", "a/./..", "a\x00b", "//x"])
def test_paths_that_leave_the_folder_are_refused(tmp_path: Path, relative: str) -> None:
    assert contained_path(tmp_path, relative) is None


def test_paths_inside_are_kept_with_empty_segments_dropped(tmp_path: Path) -> None:
    assert contained_path(tmp_path, "a//b/./c.csv") == tmp_path / "a" / "b" / "c.csv"
    assert contained_path(tmp_path, "a\\b") == tmp_path / "a\\b"


@given(st.lists(st.sampled_from(["a", "/", ".", "..", "\\", "\x00", "é"]), max_size=20).map("".join))
def test_no_relative_path_lands_outside(relative: str) -> None:
    folder = Path("/srv/folder")
    target = contained_path(folder, relative)
    if target is not None:
        assert target != folder
        assert target.is_relative_to(folder)
        assert ".." not in target.relative_to(folder).parts


def test_an_archive_that_would_fill_the_disk_is_refused_before_it_is_written(tmp_path: Path) -> None:
    """A gzip bomb: the tar header declares a petabyte; nothing of it is written."""
    import gzip

    bomb = tarfile.TarInfo("weights.bin")
    bomb.size = 10**15
    path = tmp_path / "model.tar.gz"
    path.write_bytes(gzip.compress(bomb.tobuf(format=tarfile.PAX_FORMAT) + b"\0" * 4096))
    destination = tmp_path / "out"
    with pytest.raises(ArchiveError, match=r"more than the free disk space .*weights\.bin"):
        extract_tar(path, destination, "model.tar.gz")
    assert not (destination / "weights.bin").exists()
