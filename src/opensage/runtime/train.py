"""Entry point of one built-in-algorithm training host: ``python -m opensage.runtime.train <host root>``.

It reads the host's /opt/ml-style configuration, runs the algorithm, and on failure writes
``output/failure`` — the job's FailureReason — as SageMaker's containers do:
``ClientError: ...`` for bad input, ``AlgorithmError: ...`` for anything else. A traceback
goes to the log, never into the reason.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType

from opensage.algorithms.base import ChannelInput, TrainingEnvironment
from opensage.errors import AlgorithmClientError, AlgorithmError
from opensage.runtime.layout import HostLayout

ALGORITHM_VARIABLE = "OPENSAGE_ALGORITHM"
# SageMaker's FailureReason holds at most 1024 characters.
FAILURE_REASON_LIMIT = 1024


class TrainingInterrupted(BaseException):
    """SIGTERM reached the host: unwind so the algorithm's cleanup runs, then exit."""


def training_environment(layout: HostLayout) -> TrainingEnvironment:
    resource = layout.read_config("resourceconfig.json")
    channels = {
        name: ChannelInput(
            name=name,
            path=layout.channel_dir(name),
            content_type=config.get("ContentType"),
            input_mode=config.get("TrainingInputMode", "File"),
            compression=config.get("CompressionType", "None"),
            record_wrapper=config.get("RecordWrapperType", "None"),
            distribution=config.get("S3DistributionType", "FullyReplicated"),
        )
        for name, config in layout.read_config("inputdataconfig.json").items()
    }
    return TrainingEnvironment(
        job_name=os.environ.get("TRAINING_JOB_NAME", layout.root.parent.name),
        hyperparameters=layout.read_config("hyperparameters.json"),
        channels=channels,
        model_dir=layout.model_dir,
        output_data_dir=layout.output_data_dir,
        checkpoint_dir=layout.checkpoint_dir,
        hosts=list(resource["hosts"]),
        current_host=resource["current_host"],
        num_cpus=int(os.environ.get("SM_NUM_CPUS", os.cpu_count() or 1)),
        master_address=os.environ.get("SM_MASTER_ADDR", "127.0.0.1"),
        master_port=int(os.environ.get("SM_MASTER_PORT", "0")),
    )


def write_failure(layout: HostLayout, reason: str) -> None:
    layout.output_dir.mkdir(parents=True, exist_ok=True)
    layout.failure_file.write_text(reason[:FAILURE_REASON_LIMIT])


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise TrainingInterrupted


def _keep_scikit_learn_out() -> None:
    # xgboost imports scikit-learn, when installed, only for its optional sklearn wrapper;
    # that costs about a second per job. Built-in algorithms never use it.
    sys.modules.setdefault("sklearn", None)  # type: ignore[arg-type]


def _feed_pipes(layout: HostLayout, env: TrainingEnvironment) -> None:
    """Start streaming each Pipe-mode channel into its FIFOs before the algorithm opens them."""
    from opensage.runtime.pipes import start_feeders

    piped = {
        name: layout.pipe_source(name)
        for name, channel in env.channels.items()
        if channel.input_mode == "Pipe"
    }
    if piped:
        start_feeders(piped, layout.data_dir)


def run(layout: HostLayout, algorithm_name: str) -> int:
    from opensage.algorithms.registry import load_algorithm

    try:
        env = training_environment(layout)
        algorithm = load_algorithm(algorithm_name)
        _feed_pipes(layout, env)
        algorithm.train(env)
    except AlgorithmClientError as error:
        print(f"ClientError: {error}", file=sys.stderr, flush=True)
        write_failure(layout, f"ClientError: {error}")
        return 2
    except AlgorithmError as error:
        print(f"AlgorithmError: {error}", file=sys.stderr, flush=True)
        write_failure(layout, f"AlgorithmError: {error}")
        return 1
    except TrainingInterrupted:
        print("Training stopped: the job received SIGTERM", file=sys.stderr, flush=True)
        return 143
    except Exception as error:
        traceback.print_exc()
        sys.stderr.flush()
        write_failure(layout, f"AlgorithmError: {type(error).__name__}: {error}")
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m opensage.runtime.train <host root>", file=sys.stderr)
        return 64
    signal.signal(signal.SIGTERM, _interrupt)
    _keep_scikit_learn_out()
    return run(HostLayout(Path(argv[1])), os.environ[ALGORITHM_VARIABLE])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
