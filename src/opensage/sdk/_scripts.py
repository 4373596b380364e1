"""Script mode: a user's code folder packed as ``sourcedir.tar.gz``, as the SageMaker Python SDK packs it.

The archive holds the folder's files at its root (the entry point alone when there is no
folder) and, when requirements are given, a ``requirements.txt`` the server installs
before running the script.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from opensage.sdk._storage import folder_files

#: A requirements file (path) or its lines (``["scikit-learn>=1.2", "joblib"]``).
Requirements: TypeAlias = str | os.PathLike[str] | Sequence[str]

REQUIREMENTS_FILE = "requirements.txt"


@dataclass(frozen=True)
class SourcePackage:
    archive: bytes
    #: The entry point, relative to the archive's root: the ``sagemaker_program`` hyperparameter.
    program: str


def package_source(
    entry_point: str | os.PathLike[str],
    source_dir: str | os.PathLike[str] | None = None,
    requirements: Requirements | None = None,
) -> SourcePackage:
    """Pack the code a script-mode job runs.

    ``entry_point`` is a path to the script, or with ``source_dir`` a path relative to it.
    """
    files, program = _source_files(Path(entry_point), None if source_dir is None else Path(source_dir))
    extra = _requirements_text(requirements)
    if extra is not None and REQUIREMENTS_FILE in files:
        raise ValueError(
            f"{source_dir} has a {REQUIREMENTS_FILE} already; pass requirements or keep the file, not both"
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in sorted(files):
            archive.add(files[name], arcname=name, recursive=False)
        if extra is not None:
            data = extra.encode()
            info = tarfile.TarInfo(REQUIREMENTS_FILE)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return SourcePackage(buffer.getvalue(), program)


def _source_files(entry_point: Path, source_dir: Path | None) -> tuple[dict[str, Path], str]:
    """The archive's members (name → file) and the entry point's name among them."""
    if source_dir is None:
        if not entry_point.is_file():
            raise FileNotFoundError(f"The entry point {str(entry_point)!r} is not a file")
        return {entry_point.name: entry_point}, entry_point.name
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source_dir {str(source_dir)!r} is not a folder")
    script = entry_point if entry_point.is_absolute() else source_dir / entry_point
    try:
        program = script.resolve().relative_to(source_dir.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"The entry point {str(entry_point)!r} is not inside {str(source_dir)!r}") from None
    if not script.is_file():
        raise FileNotFoundError(f"The entry point {program!r} is not a file in {str(source_dir)!r}")
    files = {path.relative_to(source_dir).as_posix(): path for path in folder_files(source_dir)}
    return files, program


def _requirements_text(requirements: Requirements | None) -> str | None:
    if requirements is None:
        return None
    if isinstance(requirements, str | os.PathLike):
        return Path(requirements).read_text()
    lines = [line.strip() for line in requirements]
    return "".join(line + "\n" for line in lines if line)
