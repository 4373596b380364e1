"""Follow job processes through their status files and the executor, for a service's reconciler.

A job process reports in ``<job dir>/status.json``; the executor says whether it still
runs. ``observe`` turns both into what a service acts on: a report it has not copied yet,
and whether the process is running, ended having reported its outcome, never started, or
vanished without a word. It works from files alone, so it serves after a restart too.
Nothing here is specific to transform jobs: any job kind with a status file can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from opensage.executor.base import Executor
from opensage.executor.status import STATUS_FILE, RunStatus, read_status


class ProcessState(StrEnum):
    RUNNING = "running"
    # Gone, having written its outcome (carried by the observation's report).
    ENDED = "ended"
    # Gone before writing any status: it may be started again.
    NEVER_STARTED = "never-started"
    # Gone without writing an outcome: killed, or crashed.
    VANISHED = "vanished"


@dataclass(frozen=True)
class Observation:
    state: ProcessState
    # A report the service has not copied into the store yet; None when nothing changed.
    report: RunStatus | None = None


class StatusWatch:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        # Job -> (mtime_ns, size) of the status file last reported.
        self._seen: dict[str, tuple[int, int]] = {}

    def observe(self, name: str, job_dir: Path) -> Observation:
        report: RunStatus | None = None
        stamp = _stamp(job_dir / STATUS_FILE)
        if stamp is not None and stamp != self._seen.get(name):
            report = read_status(job_dir)
            if report is not None:
                self._seen[name] = stamp
                if report.outcome is not None:
                    self._seen.pop(name, None)
                    return Observation(ProcessState.ENDED, report)
        if self._executor.is_alive(job_dir):
            return Observation(ProcessState.RUNNING, report)
        # The process is gone. It may have written its outcome just now: read once more.
        last = read_status(job_dir)
        self._seen.pop(name, None)
        if last is not None and last.outcome is not None:
            return Observation(ProcessState.ENDED, last)
        if last is None:
            return Observation(ProcessState.NEVER_STARTED)
        return Observation(ProcessState.VANISHED, report)

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size
