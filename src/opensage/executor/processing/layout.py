"""One processing instance's folder: what its code sees at /opt/ml, kept under ``<job dir>/algo-<n>``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from opensage.runtime.usercode import optml

MOUNT_POINT = PurePosixPath(optml.MOUNT_POINT)


@dataclass(frozen=True)
class InstanceFolder:
    host: str
    root: Path

    def local(self, container_path: str) -> Path:
        """Where ``/opt/ml/...`` (as the instance's code sees it) is on this machine."""
        relative = PurePosixPath(container_path).relative_to(MOUNT_POINT)
        if ".." in relative.parts:
            raise ValueError(f"{container_path} leaves {MOUNT_POINT}")
        return self.root.joinpath(*relative.parts)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def message_file(self) -> Path:
        """``/opt/ml/output/message``: what the container says about how it ended (ExitMessage)."""
        return self.root / "output" / "message"

    def create(self, folders: list[str]) -> None:
        """Make the instance's folder, its config and output folders and ``folders`` (container paths)."""
        for path in (self.config_dir, self.message_file.parent, *(self.local(f) for f in folders)):
            path.mkdir(parents=True, exist_ok=True)
