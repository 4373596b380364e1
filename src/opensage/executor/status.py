"""The status file a job process keeps, ``<job dir>/status.json``, and how it is read back.

The job process is the only writer and replaces the file atomically at each change; the
control plane polls it and copies what it says into the metadata store. Because the file
outlives both processes, a server that restarts learns what happened while it was away.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter

STATUS_FILE = "status.json"


@dataclass
class Transition:
    status: str
    start_time: float
    message: str
    end_time: float | None = None


@dataclass
class MetricPoint:
    name: str
    value: float
    timestamp: float


@dataclass
class Outcome:
    """How the job ended: Completed, Failed or Stopped, and what it left behind."""

    status: str
    secondary_status: str
    failure_reason: str | None = None
    model_artifacts: str | None = None


@dataclass
class RunStatus:
    secondary_status: str = "Starting"
    transitions: list[Transition] = field(default_factory=list)
    training_start_time: float | None = None
    training_end_time: float | None = None
    # The latest value of each metric; the whole series is in metrics.jsonl.
    final_metrics: list[MetricPoint] = field(default_factory=list)
    outcome: Outcome | None = None

    def enter(self, status: str, message: str, now: float) -> None:
        """Close the current secondary status and open ``status``."""
        if self.transitions and self.transitions[-1].end_time is None:
            self.transitions[-1].end_time = now
        self.transitions.append(Transition(status, now, message))
        self.secondary_status = status


_ADAPTER: TypeAdapter[RunStatus] = TypeAdapter(RunStatus)


def write_status(job_dir: Path, status: RunStatus) -> None:
    """Replace the status file atomically and durably: readers see the old or the new, never half."""
    path = job_dir / STATUS_FILE
    partial = job_dir / (STATUS_FILE + ".partial")
    with partial.open("wb") as handle:
        handle.write(_ADAPTER.dump_json(status))
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def read_status(job_dir: Path) -> RunStatus | None:
    """The last status written, or None if the job process has written none."""
    try:
        raw = (job_dir / STATUS_FILE).read_bytes()
    except FileNotFoundError:
        return None
    return _ADAPTER.validate_python(json.loads(raw))
