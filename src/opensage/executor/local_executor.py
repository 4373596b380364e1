"""Run each job as a local OS process: ``python -m <job module> <job dir>``.

The job process leads its own session, so Ctrl-C at the server's terminal does not reach
it, a server crash does not end it, and a kill reaches its whole process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from opensage.executor.base import Executor
from opensage.executor.liveness import lock_is_held, recorded_pid

RUNNER_LOG = "runner.log"


class LocalExecutor(Executor):
    def __init__(self) -> None:
        self._processes: dict[Path, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def launch(self, job_dir: Path, module: str = "opensage.executor.runner") -> None:
        job_dir = job_dir.resolve()
        with (job_dir / RUNNER_LOG).open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", module, str(job_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=job_dir,
            )
        with self._lock:
            self._processes[job_dir] = process

    def is_alive(self, job_dir: Path) -> bool:
        job_dir = job_dir.resolve()
        with self._lock:
            process = self._processes.get(job_dir)
        if process is not None:
            # Our own child: poll() also reaps it once it has exited.
            if process.poll() is None:
                return True
            with self._lock:
                self._processes.pop(job_dir, None)
            return False
        return lock_is_held(job_dir)

    def stop(self, job_dir: Path) -> None:
        self._signal(job_dir, signal.SIGTERM, group=False)

    def kill(self, job_dir: Path) -> None:
        self._signal(job_dir, signal.SIGKILL, group=True)

    def reserve_port(self) -> int:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    def _signal(self, job_dir: Path, signum: signal.Signals, group: bool) -> None:
        job_dir = job_dir.resolve()
        if not self.is_alive(job_dir):
            return
        pid = recorded_pid(job_dir)
        with self._lock:
            process = self._processes.get(job_dir)
        if pid is None and process is not None:
            pid = process.pid
        if pid is None:
            return
        try:
            if group:
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            pass
