"""Start and stop model-server processes on this machine.

The platform binds each server's listening socket (127.0.0.1, a free port) and passes it
to the child, so the port is known at once and cannot be taken in between. The child dies
with the platform (see runtime.serving.__main__), so nothing serves after the server is gone.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from opensage.runtime.serving.__main__ import FAILURE_FILE

LOG_FILE = "server.log"


@dataclass
class ModelServerProcess:
    run_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self.process.poll() is None

    def failure(self) -> str | None:
        """Why the server exited, from its failure file or its log's last line."""
        failure = self.run_dir / FAILURE_FILE
        if failure.exists():
            return failure.read_text(errors="replace").strip() or None
        try:
            lines = (self.run_dir / LOG_FILE).read_text(errors="replace").strip().splitlines()
        except FileNotFoundError:
            lines = []
        code = self.process.poll()
        return f"The model server exited with code {code}" + (f": {lines[-1]}" if lines else "")

    def ping(self, timeout: float = 2.0) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", "/ping")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def wait_ready(self, timeout: float) -> str | None:
        """None once /ping answers 200; otherwise why it never will (exited, or timed out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return self.failure()
            if self.ping():
                return None
            time.sleep(0.05)
        self.stop(grace=1.0)
        return f"The model server did not answer /ping within {timeout:.0f} s"

    def stop(self, grace: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_model_server(run_dir: Path, environment: dict[str, str] | None = None) -> ModelServerProcess:
    """Start ``python -m opensage.runtime.serving`` for the spec in ``run_dir``; returns at once."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = int(listener.getsockname()[1])
    (run_dir / FAILURE_FILE).unlink(missing_ok=True)
    try:
        with (run_dir / LOG_FILE).open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "opensage.runtime.serving", str(run_dir), str(listener.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()],
                cwd=run_dir,
                env=environment,
            )
    finally:
        # The child holds its own copy of the socket; the platform never accepts on it.
        listener.close()
    return ModelServerProcess(run_dir, port, process)
