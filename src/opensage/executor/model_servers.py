"""Start and stop model-server processes on this machine.

The platform binds each server's listening socket and passes it to the child, so the
address is known at once and cannot be taken in between. Endpoints use a Unix socket (an
abstract one on Linux: no file, no path limit): on this hop every microsecond is latency,
and a Unix socket round trip costs 52 us where loopback TCP costs 73 (2-core VM). Batch
transform, which sends few large requests, uses TCP. The child dies with the platform
(see runtime.serving.__main__), so nothing serves after the server is gone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from opensage.runtime.serving.__main__ import FAILURE_FILE

LOG_FILE = "server.log"


@dataclass
class ModelServerProcess:
    run_dir: Path
    process: subprocess.Popen[bytes]
    # Exactly one of these is set: a loopback TCP port, or a Unix socket address.
    port: int | None = None
    socket_path: str | None = None

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

    @property
    def tcp_port(self) -> int:
        """The loopback port of a server started with TCP (``unix=False``)."""
        if self.port is None:
            raise RuntimeError("this model server listens on a Unix socket, not a port")
        return self.port

    def connect(self, timeout: float) -> socket.socket:
        if self.socket_path is not None:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: str | tuple[str, int] = self.socket_path
        else:
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = ("127.0.0.1", self.port or 0)
        connection.settimeout(timeout)
        try:
            connection.connect(address)
        except OSError:
            connection.close()
            raise
        return connection

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """A plain GET to the model server (status, body): /ping, or /models of a multi-model server."""
        with self.connect(timeout) as connection:
            connection.sendall(
                f"GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".encode()
            )
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise OSError(f"the model server answered {path} with something that is not HTTP")
        return int(status_line[1]), body

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            return self.get("/ping", timeout)[0] == 200
        except OSError:
            return False

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


def _unix_address() -> str:
    name = f"opensage-{uuid.uuid4().hex}"
    if sys.platform.startswith("linux"):
        return "\0" + name
    return str(Path(tempfile.gettempdir()) / f"{name}.sock")


def _listener(unix: bool) -> tuple[socket.socket, int | None, str | None]:
    if unix:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = _unix_address()
        listener.bind(address)
        listener.listen(1024)
        return listener, None, address
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    return listener, int(listener.getsockname()[1]), None


def start_model_server(
    run_dir: Path, environment: dict[str, str] | None = None, unix: bool = False
) -> ModelServerProcess:
    """Start ``python -m opensage.runtime.serving`` for the spec in ``run_dir``; returns at once."""
    listener, port, socket_path = _listener(unix)
    (run_dir / FAILURE_FILE).unlink(missing_ok=True)
    # Unbuffered, as the inference toolkits run: a user's print() reaches the log as it happens.
    environment = {**(os.environ if environment is None else environment), "PYTHONUNBUFFERED": "1"}
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
    return ModelServerProcess(run_dir, process, port=port, socket_path=socket_path)
