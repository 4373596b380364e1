"""Build training environments over temporary directories for the algorithm tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from opensage.algorithms.base import ChannelInput, TrainingEnvironment

EnvFactory = Callable[..., TrainingEnvironment]


@pytest.fixture
def make_env(tmp_path: Path) -> EnvFactory:
    """``make_env(hyperparameters, train="text/csv", validation=None)``: channel dirs under tmp_path/data."""

    def build(
        hyperparameters: dict[str, str],
        channels: dict[str, str | None] | None = None,
        **overrides: object,
    ) -> TrainingEnvironment:
        channel_inputs = {
            name: ChannelInput(name=name, path=tmp_path / "data" / name, content_type=content_type)
            for name, content_type in (channels or {"train": "text/csv"}).items()
        }
        for channel in channel_inputs.values():
            channel.path.mkdir(parents=True, exist_ok=True)
        settings: dict[str, object] = {
            "job_name": "test-job",
            "hyperparameters": hyperparameters,
            "channels": channel_inputs,
            "model_dir": tmp_path / "model",
            "output_data_dir": tmp_path / "output" / "data",
            "checkpoint_dir": tmp_path / "checkpoints",
            "num_cpus": 2,
        }
        settings.update(overrides)
        return TrainingEnvironment(**settings)  # type: ignore[arg-type]

    return build
