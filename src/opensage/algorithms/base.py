"""The contract every built-in algorithm follows.

An algorithm is pure ML: it reads the channels of a ``TrainingEnvironment`` (the SageMaker
container contract, already laid out on disk), writes the model directory and prints its
metric lines to stdout. It knows nothing of HTTP, the metadata store or the object store.
Bad input raises ``AlgorithmClientError`` with a message that names the problem; the job
then fails with ``ClientError: <message>``.

For hosting, ``load_predictor`` turns an extracted model directory into a ``Predictor``: the
body of a SageMaker ``POST /invocations`` in, the response body out, in the algorithm's
documented formats. A request the predictor cannot serve raises ``InferenceError`` with the
HTTP status the container would answer (400 bad data, 406 Accept, 415 Content-Type).

Modules defining algorithms must not import heavy libraries (xgboost, numpy, ...) at import
time: the control plane imports them to read metric definitions and hyperparameter specs.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MetricDefinition:
    """A metric scraped from the job log: capture group 1 of ``regex`` is the value."""

    name: str
    regex: str


@dataclass(frozen=True)
class ChannelInput:
    """One input channel as the algorithm sees it (inputdataconfig.json, plus where it is)."""

    name: str
    path: Path
    content_type: str | None = None
    input_mode: str = "File"
    compression: str = "None"
    record_wrapper: str = "None"
    distribution: str = "FullyReplicated"

    def files(self) -> list[Path]:
        """Every regular file of the channel, sorted, hidden files (``.xxx``) left out."""
        if not self.path.exists():
            return []
        found = [
            p
            for p in self.path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.path).parts)
        ]
        return sorted(found)


@dataclass(frozen=True)
class TrainingEnvironment:
    """What one host of a training job gets: the /opt/ml layout and the cluster it belongs to."""

    job_name: str
    # As sent in CreateTrainingJob: every value a string. Algorithms validate and coerce them.
    hyperparameters: dict[str, str]
    channels: dict[str, ChannelInput]
    model_dir: Path
    output_data_dir: Path
    checkpoint_dir: Path
    hosts: list[str] = field(default_factory=lambda: ["algo-1"])
    current_host: str = "algo-1"
    num_cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Where host algo-1 can be reached by the others (distributed training rendezvous).
    master_address: str = "127.0.0.1"
    master_port: int = 0

    @property
    def is_master(self) -> bool:
        return self.current_host == self.hosts[0]

    @property
    def host_rank(self) -> int:
        return self.hosts.index(self.current_host)


class BuiltinAlgorithm(ABC):
    """One SageMaker built-in algorithm."""

    #: The name opensage uses for it (``xgboost``, ``linear-learner``, ...).
    name: str
    #: ECR repository names that select it in a TrainingImage URI (``sagemaker-xgboost``, ``xgboost``).
    repositories: tuple[str, ...]
    #: Whether InstanceCount > 1 really trains across hosts.
    supports_distributed: bool = False
    #: Whether its channels may use Pipe input mode (read through ``<channel>_<epoch>`` FIFOs).
    supports_pipe: bool = False

    @abstractmethod
    def metric_definitions(self) -> list[MetricDefinition]:
        """The metrics this algorithm logs, as SageMaker names them (``validation:auc``)."""

    @abstractmethod
    def validate_hyperparameters(self, raw: dict[str, str]) -> dict[str, Any]:
        """Coerce string hyperparameters; raise AlgorithmClientError naming any bad one."""

    @abstractmethod
    def train(self, env: TrainingEnvironment) -> None:
        """Train on ``env``'s channels, write ``env.model_dir``, print metric lines to stdout."""


@dataclass(frozen=True)
class Prediction:
    """What a predictor answers: the response body and its content type."""

    body: bytes
    content_type: str


class Predictor(ABC):
    """A loaded model serving SageMaker's ``/invocations`` contract."""

    @abstractmethod
    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> Prediction:
        """Answer one request. ``content_type``/``accept`` may be None (not sent) or carry parameters."""


class ServingAlgorithm(ABC):
    """A built-in algorithm that can be hosted (endpoints, batch transform)."""

    @abstractmethod
    def load_predictor(self, model_dir: Path, environment: Mapping[str, str]) -> Predictor:
        """Load the model in ``model_dir`` (model.tar.gz extracted); ``environment`` is the
        container's Environment (e.g. SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, SAGEMAKER_BATCH)."""
