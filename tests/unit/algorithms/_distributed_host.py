"""One host of a distributed XGBoost test job, run in its own process (spawned by the tests)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path


def run_host(
    root: str, hosts: list[str], host: str, port: int, hyperparameters: dict[str, str], timeout_s: float
) -> None:
    # As the platform's job runner does: xgboost would import scikit-learn for nothing.
    sys.modules.setdefault("sklearn", None)  # type: ignore[arg-type]
    from opensage.algorithms.base import ChannelInput, TrainingEnvironment
    from opensage.algorithms.xgboost import XGBoostAlgorithm

    base = Path(root) / host
    channels = {
        name: ChannelInput(name, base / "data" / name, "text/csv")
        for name in ("train", "validation")
        if (base / "data" / name).exists()
    }
    env = TrainingEnvironment(
        job_name="distributed",
        hyperparameters=hyperparameters,
        channels=channels,
        model_dir=base / "model",
        output_data_dir=base / "output",
        checkpoint_dir=base / "checkpoints",
        hosts=hosts,
        current_host=host,
        num_cpus=1,
        master_address="127.0.0.1",
        master_port=port,
    )
    result: dict[str, str] = {"outcome": "ok"}
    with (base / "stdout.txt").open("w") as stdout, contextlib.redirect_stdout(stdout):
        try:
            XGBoostAlgorithm(cluster_timeout_s=timeout_s).train(env)
        except Exception as exc:  # the test reads the outcome from the result file
            result = {"outcome": type(exc).__name__, "message": str(exc)}
    (base / "result.json").write_text(json.dumps(result))
