"""What every job process does around its work: take the job's lock, turn signals into a stop, run.

``job.json`` (what to do) is written here atomically by the control plane and read by the
job process; the lock (see liveness) tells other processes the job process is alive.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from opensage.executor.liveness import hold_lock

JOB_FILE = "job.json"


class JobProcess(Protocol):
    def execute(self) -> None: ...

    def request_stop(self) -> None: ...


def write_job_file(job_dir: Path, content: bytes) -> Path:
    """Write ``<job dir>/job.json`` so the job process never reads half of it."""
    path = job_dir / JOB_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(content)
    partial.replace(path)
    return path


def read_job_file(job_dir: Path) -> Any:
    return json.loads((job_dir / JOB_FILE).read_text())


def run_job_process(argv: list[str], module: str, build: Callable[[Path], JobProcess]) -> int:
    """``python -m <module> <job dir>``: hold the job's lock while ``build(job_dir)`` executes.

    SIGTERM (StopTrainingJob, StopTransformJob, a server shutting down) and SIGINT ask the
    job to stop; it winds down and reports Stopped itself.
    """
    if len(argv) != 2:
        print(f"usage: python -m {module} <job dir>", file=sys.stderr)
        return 64
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    job_dir = Path(argv[1])
    lock = hold_lock(job_dir)
    job = build(job_dir)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        job.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        job.execute()
    finally:
        os.close(lock)
    return 0
