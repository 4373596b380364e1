"""Run an opensage server inside this process, on a thread: for the demo, notebooks and tests."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from opensage.api.app import create_app
from opensage.platform import Platform
from opensage.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    """A real server on a loopback port, started and stopped from Python."""

    def __init__(self, settings: Settings, log_level: str = "warning") -> None:
        self.settings = settings
        self.platform = Platform(settings)
        self._ready = threading.Event()
        config = uvicorn.Config(
            create_app(self.platform, on_ready=self._ready.set),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="opensage-server", daemon=True)

    @property
    def endpoint_url(self) -> str:
        return self.settings.endpoint_url

    def start(self, timeout: float = 30.0) -> EmbeddedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not (self._ready.is_set() and self._server.started):
            if not self._thread.is_alive():
                raise RuntimeError(f"the opensage server could not start on {self.endpoint_url}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the opensage server did not start within {timeout} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut down: running jobs are stopped and recorded as Stopped."""
        self._server.should_exit = True
        self._thread.join()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
