"""The executor interface: start, watch and stop job processes described by a job directory.

A job directory holds ``job.json`` (what to do, see jobspec) and receives ``status.json``
(what happened, see status). Backends decide where the job process runs: local OS
processes today, Ray tasks later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class Executor(ABC):
    @abstractmethod
    def launch(self, job_dir: Path, module: str = "opensage.executor.runner") -> None:
        """Start ``python -m <module> <job_dir>`` (the job process of ``job_dir/job.json``); returns once started."""

    @abstractmethod
    def is_alive(self, job_dir: Path) -> bool:
        """Whether the job process still runs, including one started before a server restart."""

    @abstractmethod
    def stop(self, job_dir: Path) -> None:
        """Ask the job to stop: it ends its hosts, saves what it can and reports Stopped."""

    @abstractmethod
    def kill(self, job_dir: Path) -> None:
        """End the job process and everything it started, now."""

    @abstractmethod
    def reserve_port(self) -> int:
        """A free port for a job's rendezvous (distributed training)."""

    def close(self) -> None:  # noqa: B027 - an optional hook: most executors hold nothing to release
        """Release what the executor holds; running jobs are left alone."""
