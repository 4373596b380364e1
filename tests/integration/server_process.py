"""``opensage server`` as a real subprocess, so tests can kill it with SIGKILL and start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, make_client

from opensage.executor.liveness import lock_is_held, recorded_pid


class ServerProcess:
    def __init__(self, home: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "opensage.cli.main",
            "server",
            "--home",
            str(home),
            "--port",
            str(port),
        ]
        environment = {
            **os.environ,
            # The admin key of a new home, so the tests' clients (tests.support) are accepted.
            "OPENSAGE_ADMIN_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
            "OPENSAGE_ADMIN_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
            **(env or {}),
        }
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
        )
        deadline = time.monotonic() + 30
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(
                    f"server did not start: {self.process.stderr.read() if self.process.stderr else ''}"
                )
            time.sleep(0.05)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def client(self, service: str, retries: int = 2) -> Any:
        return make_client(service, self.url, retries)

    def crash(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or the OOM killer."""
        self.process.kill()
        self.process.wait()

    def interrupt(self, signum: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        return self.process.wait(60)


def kill_everything(servers: list[ServerProcess], home: Path) -> None:
    """Teardown: the servers, then any job process a crashed server left running under ``home``."""
    for server in servers:
        if server.process.poll() is None:
            server.crash()
    for job_dir in (home / "jobs").glob("*/*"):
        pid = recorded_pid(job_dir)
        if pid is not None and lock_is_held(job_dir):
            os.killpg(pid, signal.SIGKILL)


def started_servers(home: Path) -> Iterator[list[ServerProcess]]:
    """The body of a fixture: a list the test appends its servers to, all killed afterwards."""
    started: list[ServerProcess] = []
    try:
        yield started
    finally:
        kill_everything(started, home)
