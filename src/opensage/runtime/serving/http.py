"""The model server's HTTP/1.1 loop: asyncio and the httptools parser, one write per response.

Every InvokeEndpoint crosses this loop, so it carries nothing it does not need. A general
ASGI server writes a response's head and body separately — two system calls and, often,
two wake-ups of the reader — and builds ASGI events around each request; here a request
is parsed by httptools (the C parser uvicorn itself uses), answered by ``ModelServerApp``
and written back in one piece. Keep-alive, pipelined requests and ``Expect: 100-continue``
work as HTTP/1.1 says; bodies are capped at ``max_body`` bytes (413 beyond).
"""

from __future__ import annotations

import asyncio
import http
import logging
import signal
import socket

import httptools

from opensage.runtime.serving.app import Answer, ModelServerApp

logger = logging.getLogger(__name__)

# InvokeEndpointAsync payloads reach 1 GB; nothing the platform sends is larger.
MAX_BODY_BYTES = 1024 * 1024 * 1024
# Connections the listener queues before the loop accepts them. create_server(sock=...) calls
# listen() again, with 100 unless told: past that, a Unix-socket connect from the platform fails
# (EAGAIN) and its request with it — seen under 200 concurrent InvokeEndpoint callers.
LISTEN_BACKLOG = 1024


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"


def render(answer: Answer, keep_alive: bool) -> bytes:
    head = [
        b"HTTP/1.1 %d %s\r\n" % (answer.status, _reason(answer.status)),
        b"content-type: " + answer.content_type + b"\r\n",
        b"content-length: %d\r\n" % len(answer.body),
    ]
    head.extend(name + b": " + value + b"\r\n" for name, value in answer.headers)
    if not keep_alive:
        head.append(b"connection: close\r\n")
    head.append(b"\r\n")
    return b"".join(head) + answer.body


class _Connection(asyncio.Protocol):
    def __init__(self, app: ModelServerApp, max_body: int) -> None:
        self._app = app
        self._max_body = max_body
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._refused = False

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(Answer(400, b"Protocol upgrades are not supported"))
        except httptools.HttpParserError as exc:
            self._refuse(Answer(400, f"Malformed HTTP request: {exc}".encode()))

    # --- httptools callbacks ---

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        declared = self._headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self._max_body:
            self._refuse(Answer(413, b"The request body is larger than this model server accepts"))
            return
        if self._headers.get(b"expect", b"").lower() == b"100-continue" and self._transport is not None:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._max_body:
            self._refuse(Answer(413, b"The request body is larger than this model server accepts"))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._refused or self._transport is None:
            return
        path = self._url.split(b"?", 1)[0]
        answer = self._app.handle(self._parser.get_method(), path, self._headers, b"".join(self._body))
        keep_alive = self._parser.should_keep_alive()
        self._transport.write(render(answer, keep_alive))
        if not keep_alive:
            self._transport.close()

    def _refuse(self, answer: Answer) -> None:
        self._refused = True
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(render(answer, keep_alive=False))
            self._transport.close()


async def start_server(app: ModelServerApp, listener: socket.socket, max_body: int) -> asyncio.Server:
    """Serve ``app`` on ``listener`` from the running loop."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(app, max_body), sock=listener, backlog=LISTEN_BACKLOG)


async def _serve_until_stopped(app: ModelServerApp, listener: socket.socket, max_body: int) -> None:
    loop = asyncio.get_running_loop()
    server = await start_server(app, listener, max_body)
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()
    server.close()


def serve(app: ModelServerApp, listener: socket.socket, max_body: int = MAX_BODY_BYTES) -> None:
    """Answer requests on ``listener`` until SIGTERM or SIGINT."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve_until_stopped(app, listener, max_body))
    else:
        uvloop.run(_serve_until_stopped(app, listener, max_body))
