"""Unpacking users' archives and placing users' object keys on disk, never outside the target folder.

Archives (model.tar.gz, sourcedir.tar.gz) and object keys come from users. Every place that
unpacks one or turns a key into a local file goes through this module, so the rules are
written once: no absolute paths, no ``..``, no device files or FIFOs, no hard or symbolic
links that point outside the folder (tarfile's ``data`` filter, made stricter and given
messages that name the member instead of server paths), and nothing that would fill the disk.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path, PurePosixPath

from opensage.errors import ArchiveError


def extract_tar(archive: Path, destination: Path, what: str = "The archive") -> None:
    """Unpack the tar (optionally gzip/bz2/xz) ``archive`` into ``destination``.

    Raises ArchiveError naming the offending member; ``what`` names the archive in the message
    (``"sagemaker_submit_directory s3://..."``). Members before the bad one may be extracted
    already: callers unpack into a folder they discard on failure.
    """
    budget = _Budget(what, shutil.disk_usage(_existing(destination)).free - _DISK_MARGIN_BYTES)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(destination, filter=budget.check)
    except tarfile.FilterError as exc:
        raise ArchiveError(f"{what} is unsafe to unpack: {_describe(exc)}") from exc
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"{what} is not a valid tar.gz file ({type(exc).__name__})") from exc
    except OSError as exc:
        raise ArchiveError(f"{what} could not be unpacked: {exc.strerror or type(exc).__name__}") from exc


def contained_path(folder: Path, relative: str) -> Path | None:
    """``folder/relative`` for a key-derived path, or None when it would not be a file inside ``folder``.

    Empty and ``.`` segments are dropped (``a//b`` is ``a/b``); ``..``, a leading ``/``, NUL
    and a path that names the folder itself give None. A backslash is an ordinary character
    in a POSIX file name, and stays one.
    """
    if relative.startswith("/") or "\x00" in relative:
        return None
    parts = [part for part in PurePosixPath(relative).parts if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return folder.joinpath(*parts)


# Room left on the disk after unpacking: an archive that would leave less is refused up front.
_DISK_MARGIN_BYTES = 256 * 1024 * 1024
_MAX_MEMBERS = 1_000_000


class _Budget:
    """Counts what an archive unpacks, member by member, before each is written.

    A small gzip can declare terabytes (a "zip bomb"); tar headers state each member's size
    truthfully (that many bytes are written), so the sum is known before the disk fills.
    """

    def __init__(self, what: str, free_bytes: int) -> None:
        self._what = what
        self._left = free_bytes
        self._members = 0

    def check(self, member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
        self._members += 1
        self._left -= max(member.size, 0)
        if self._left < 0:
            raise ArchiveError(
                f"{self._what} unpacks to more than the free disk space (at member {member.name!r}); "
                "free some space or use a smaller archive"
            )
        if self._members > _MAX_MEMBERS:
            raise ArchiveError(f"{self._what} has more than {_MAX_MEMBERS:,} members")
        return _refuse_unsafe(member, destination)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _refuse_unsafe(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
    # tarfile's data filter strips a leading "/" and unpacks the member anyway, and lets "a/../b"
    # through; an archive with such names was built wrong, and saying so beats guessing.
    if member.name.startswith("/"):
        raise tarfile.AbsolutePathError(member)
    if ".." in PurePosixPath(member.name).parts:
        raise tarfile.OutsideDestinationError(member, member.name)
    return tarfile.data_filter(member, destination)


def _describe(error: tarfile.FilterError) -> str:
    name = error.tarinfo.name
    if isinstance(error, tarfile.AbsolutePathError):
        return f"member {name!r} has an absolute path"
    if isinstance(error, tarfile.OutsideDestinationError):
        return f"member {name!r} has a path that leaves the folder it is unpacked into ('..')"
    if isinstance(error, tarfile.SpecialFileError):
        return f"member {name!r} is a device file or FIFO"
    if isinstance(error, tarfile.AbsoluteLinkError):
        return f"member {name!r} is a link to the absolute path {error.tarinfo.linkname!r}"
    if isinstance(error, tarfile.LinkOutsideDestinationError):
        return (
            f"member {name!r} is a link to {error.tarinfo.linkname!r}, outside the folder it is unpacked into"
        )
    return f"member {name!r} is refused ({type(error).__name__})"
