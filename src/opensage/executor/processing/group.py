"""The processes a processing job's code started, found through the job process's process group.

Code often starts children of its own: the SageMaker SDK's FrameworkProcessor runs a bash
script that runs ``python``. Signalling only the instance's first process would leave
those running after a stop, holding the log pipe open. The local executor makes each job
process lead its own process group, which everything the code starts joins (unless it
leaves on purpose), so the group's members are exactly what the job must end. Where the
job process leads no group of its own (run in-process by a test), there is nothing to find.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

# A member that forks while it is being killed may leave a child behind: look again this often.
_KILL_PASSES = 3


def _process_group(stat: str) -> int | None:
    # /proc/<pid>/stat is "pid (comm) state ppid pgrp ...", and comm may hold spaces or ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[2])
    except (IndexError, ValueError):
        return None


def members() -> list[int]:
    """The other processes of the group this process leads; empty when it leads none."""
    own = os.getpid()
    if os.getpgrp() != own:
        return []
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if _process_group(stat) == own:
            found.append(int(entry.name))
    return found


def signal_members(signum: signal.Signals) -> int:
    """Send ``signum`` to every other member of this process's group; how many were signalled."""
    count = 0
    for pid in members():
        try:
            os.kill(pid, signum)
            count += 1
        except ProcessLookupError:
            continue
    return count


def kill_members() -> None:
    """SIGKILL every other member of this process's group, including children started meanwhile."""
    for _ in range(_KILL_PASSES):
        if signal_members(signal.SIGKILL) == 0:
            return
