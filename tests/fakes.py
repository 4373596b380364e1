"""Stand-ins for the platform's outer interfaces in unit tests of the services."""

from __future__ import annotations

from pathlib import Path

from opensage.executor.base import Executor


class FakeExecutor(Executor):
    """Records launches and stops; a launched job stays alive until ``kill``."""

    def __init__(self) -> None:
        self.launched: list[tuple[Path, str]] = []
        self.stopped: list[Path] = []
        self.alive: set[Path] = set()

    def launch(self, job_dir: Path, module: str = "opensage.executor.runner") -> None:
        self.launched.append((job_dir, module))
        self.alive.add(job_dir)

    def is_alive(self, job_dir: Path) -> bool:
        return job_dir in self.alive

    def stop(self, job_dir: Path) -> None:
        self.stopped.append(job_dir)

    def kill(self, job_dir: Path) -> None:
        self.alive.discard(job_dir)

    def reserve_port(self) -> int:
        return 0
