"""The /opt/ml layout of one job host, rooted at a local directory instead of /opt/ml.

Scripts written for SageMaker find every path through the SM_* variables (see environment),
so they run unchanged; only code that hard-codes ``/opt/ml`` needs those variables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class HostLayout:
    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def code_dir(self) -> Path:
        return self.root / "code"

    def channel_dir(self, name: str) -> Path:
        return self.data_dir / name

    @property
    def pipe_source_dir(self) -> Path:
        """Where a Pipe-mode channel's files wait to be fed into its FIFOs (the algorithm never looks here)."""
        return self.root / "pipe-sources"

    def pipe_source(self, name: str) -> Path:
        return self.pipe_source_dir / name

    def create(self) -> None:
        for folder in (
            self.config_dir,
            self.data_dir,
            self.model_dir,
            self.output_data_dir,
            self.checkpoint_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)

    def write_config(
        self,
        hyperparameters: dict[str, str],
        input_data_config: dict[str, dict[str, Any]],
        resource_config: dict[str, Any],
    ) -> None:
        """The three files SageMaker puts in /opt/ml/input/config."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        files = {
            "hyperparameters.json": hyperparameters,
            "inputdataconfig.json": input_data_config,
            "resourceconfig.json": resource_config,
        }
        for name, content in files.items():
            (self.config_dir / name).write_text(json.dumps(content, indent=2))

    def read_config(self, name: str) -> Any:
        return json.loads((self.config_dir / name).read_text())
