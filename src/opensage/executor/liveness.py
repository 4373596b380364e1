"""A job process holds an exclusive lock on ``<job dir>/runner.lock`` for as long as it lives.

Other processes test the lock instead of trusting a PID, which the system may have reused
for an unrelated process after a crash.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "runner.lock"
PID_FILE = "runner.pid"


def hold_lock(job_dir: Path) -> int:
    """Take the job's lock for the life of this process; returns the descriptor to keep open."""
    fd = os.open(job_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (job_dir / PID_FILE).write_text(str(os.getpid()))
    return fd


def lock_is_held(job_dir: Path) -> bool:
    path = job_dir / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def recorded_pid(job_dir: Path) -> int | None:
    try:
        return int((job_dir / PID_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
