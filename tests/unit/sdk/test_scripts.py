"""Script mode's code package: the folder's files at the archive's root, the program, requirements."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from opensage.sdk._scripts import package_source


def members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {
            member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "pkg").mkdir(parents=True)
    (folder / "train.py").write_text("print('hi')\n")
    (folder / "pkg" / "util.py").write_text("X = 1\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    return folder


def test_a_source_dir_is_packed_at_the_root_without_caches(code: Path) -> None:
    package = package_source("train.py", code)
    assert package.program == "train.py"
    assert members(package.archive) == {"train.py": b"print('hi')\n", "pkg/util.py": b"X = 1\n"}


def test_an_entry_point_may_live_in_a_subfolder_or_be_given_by_full_path(code: Path) -> None:
    assert package_source("pkg/util.py", code).program == "pkg/util.py"
    assert package_source(code / "pkg" / "util.py", code).program == "pkg/util.py"


def test_without_a_source_dir_only_the_script_goes(code: Path) -> None:
    package = package_source(code / "train.py")
    assert package.program == "train.py"
    assert list(members(package.archive)) == ["train.py"]


def test_requirements_as_lines_or_a_file_become_requirements_txt(code: Path, tmp_path: Path) -> None:
    listed = package_source("train.py", code, requirements=["joblib>=1", " ", "tqdm"])
    assert members(listed.archive)["requirements.txt"] == b"joblib>=1\ntqdm\n"
    file = tmp_path / "reqs.txt"
    file.write_text("rich\n")
    assert (
        members(package_source("train.py", code, requirements=file).archive)["requirements.txt"] == b"rich\n"
    )


def test_a_requirements_txt_in_the_folder_is_not_silently_replaced(code: Path) -> None:
    (code / "requirements.txt").write_text("numpy\n")
    assert members(package_source("train.py", code).archive)["requirements.txt"] == b"numpy\n"
    with pytest.raises(ValueError, match=r"has a requirements\.txt already"):
        package_source("train.py", code, requirements=["tqdm"])


def test_missing_or_outside_entry_points_are_refused(code: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"'nope\.py' is not a file"):
        package_source("nope.py", code)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        package_source("train.py", tmp_path / "missing")
    outside = tmp_path / "other.py"
    outside.write_text("")
    with pytest.raises(ValueError, match="is not inside"):
        package_source(outside, code)
    with pytest.raises(FileNotFoundError, match="is not a file"):
        package_source(tmp_path / "absent.py")
