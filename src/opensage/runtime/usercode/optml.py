"""Run a command with a job host's folder mounted at /opt/ml, in a private mount namespace.

``python -m opensage.runtime.usercode.optml <host root> <command> [args...]`` enters a new
mount namespace (as root directly, otherwise inside a user namespace mapping the caller to
itself), bind-mounts the host root at /opt/ml and executes the command there. Code written
for SageMaker — its SDK's driver scripts, scripts that open ``/opt/ml/model`` or
``/opt/ml/processing/input`` — then runs unchanged, and concurrent jobs each see their own
/opt/ml. Nothing outside the namespace sees the mount.

Where namespaces are unavailable (not Linux, user namespaces disabled, /opt/ml missing for
a non-root user), ``available()`` says so and jobs fall back to the SM_* paths.
"""

from __future__ import annotations

import ctypes
import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MOUNT_POINT = "/opt/ml"
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def enter(root: str) -> None:
    """Give this (single-threaded) process its own mount namespace with ``root`` at /opt/ml."""
    libc = _libc()
    if os.geteuid() == 0:
        _check(libc.unshare(_CLONE_NEWNS), "unshare")
        os.makedirs(MOUNT_POINT, exist_ok=True)
    else:
        uid, gid = os.getuid(), os.getgid()
        _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare")
        # Map the caller to itself: files it writes belong to it outside, as they should.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        if not os.path.isdir(MOUNT_POINT):
            raise OSError(f"{MOUNT_POINT} does not exist and only root can create it")
    # Keep our mounts out of the parent namespace.
    _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
    _check(libc.mount(root.encode(), MOUNT_POINT.encode(), None, _MS_BIND | _MS_REC, None), "mount --bind")


def command(root: Path, argv: list[str]) -> list[str]:
    """``argv`` wrapped to run with ``root`` at /opt/ml."""
    return [sys.executable, "-m", "opensage.runtime.usercode.optml", str(root), *argv]


@functools.cache
def available() -> bool:
    """Whether this machine lets opensage mount a job's folder at /opt/ml (checked once)."""
    if not sys.platform.startswith("linux"):
        return False
    with tempfile.TemporaryDirectory() as probe:
        (Path(probe) / "probe").write_text("ok")
        check = command(Path(probe), ["/bin/sh", "-c", f"test -f {MOUNT_POINT}/probe"])
        try:
            return subprocess.run(check, capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(
            "usage: python -m opensage.runtime.usercode.optml <host root> <command> [args...]",
            file=sys.stderr,
        )
        return 64
    try:
        enter(argv[1])
    except OSError as exc:
        print(f"opensage: cannot mount the job's folder at {MOUNT_POINT}: {exc}", file=sys.stderr)
        return 70
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
