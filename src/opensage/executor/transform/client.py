"""Send request bodies to a model server's ``POST /invocations``, as SageMaker's batch agent does.

Each worker thread keeps its own keep-alive connection (``http.client`` is not thread-safe
and a connection per thread needs no locking). ModelClientConfig applies: each request
may take InvocationsTimeoutInSeconds, and a request that gets no answer or a 5xx is tried
again up to InvocationsMaxRetries times. A 4xx is the model refusing the data: retrying
cannot help, so it is returned at once.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass

from opensage.errors import AlgorithmError


@dataclass(frozen=True)
class ModelResponse:
    status: int
    body: bytes
    content_type: str | None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def message(self) -> str:
        text = self.body.decode("utf-8", errors="replace").strip()
        return text or f"HTTP {self.status} without a message"


class ModelUnavailable(AlgorithmError):
    """No answer from the model server: it timed out, refused the connection or stopped."""


class ModelClient:
    def __init__(
        self,
        port: int,
        content_type: str | None,
        accept: str | None,
        timeout: float,
        retries: int,
        server_failure: Callable[[], str | None],
    ) -> None:
        self._port = port
        # Sent only when the job names them, as boto3 sends no ContentType it was not given.
        self._headers: dict[str, str] = {}
        if content_type:
            self._headers["Content-Type"] = content_type
        if accept:
            self._headers["Accept"] = accept
        self._timeout = timeout
        self._retries = retries
        # None while the server runs; why it stopped once it has.
        self._server_failure = server_failure
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def invoke(self, body: bytes) -> ModelResponse:
        problem = "no attempt was made"
        for attempt in range(self._retries + 1):
            try:
                response = self._send(body)
            except TimeoutError:
                self._drop()
                problem = f"the model did not answer within {self._timeout:g} s (InvocationsTimeoutInSeconds)"
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                failure = self._server_failure()
                if failure is not None:
                    raise ModelUnavailable(f"the model server stopped: {failure}") from exc
                problem = f"the model server could not be reached: {exc}"
            else:
                if response.status < 500 or attempt == self._retries:
                    return response
                problem = f"HTTP {response.status}: {response.message()}"
        raise ModelUnavailable(f"{problem} (after {self._retries + 1} attempt(s))")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def _send(self, body: bytes) -> ModelResponse:
        connection, reused = self._connection()
        try:
            return self._exchange(connection, body)
        except (ConnectionError, http.client.RemoteDisconnected):
            if not reused:
                raise
            # A kept-alive connection the server had closed while idle: nothing was processed.
            self._drop()
            connection, _ = self._connection()
            return self._exchange(connection, body)

    def _exchange(self, connection: http.client.HTTPConnection, body: bytes) -> ModelResponse:
        connection.request("POST", "/invocations", body=body, headers=self._headers)
        response = connection.getresponse()
        data = response.read()
        return ModelResponse(response.status, data, response.getheader("Content-Type"))

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection, False

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()
            with self._lock:
                if connection in self._connections:
                    self._connections.remove(connection)
