"""The model server's HTTP/1.1 loop: one response per request, in order, with HTTP's rules."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensage.runtime.serving.app import Answer, ModelServerApp
from opensage.runtime.serving.http import LISTEN_BACKLOG, _Connection, render, start_server


class EchoApp(ModelServerApp):
    def __init__(self) -> None:
        super().__init__(None, None)
        self.seen: list[tuple[bytes, bytes, bytes]] = []

    def handle(self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes) -> Answer:
        self.seen.append((method, path, body))
        return Answer(200, body.upper(), b"text/plain", [(b"x-path", path)])


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def connection(max_body: int = 1024) -> tuple[_Connection, EchoApp, Transport]:
    app, transport = EchoApp(), Transport()
    protocol = _Connection(app, max_body)
    protocol.connection_made(transport)
    return protocol, app, transport


def test_one_write_per_response_and_keep_alive() -> None:
    protocol, app, transport = connection()
    protocol.data_received(b"POST /invocations?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
    assert app.seen == [(b"POST", b"/invocations", b"abc")]
    assert len(transport.written) == 1
    assert transport.written[0] == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nx-path: /invocations\r\n\r\nABC"
    )
    assert not transport.closed


def test_pipelined_and_split_requests_are_answered_in_order() -> None:
    protocol, app, transport = connection()
    stream = b"POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nxPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nyz"
    for index in range(0, len(stream), 7):
        protocol.data_received(stream[index : index + 7])
    assert [path for _, path, _ in app.seen] == [b"/a", b"/b"]
    assert [w.rsplit(b"\r\n\r\n", 1)[1] for w in transport.written] == [b"X", b"YZ"]


def test_chunked_bodies_and_connection_close() -> None:
    protocol, app, transport = connection()
    protocol.data_received(
        b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert app.seen == [(b"POST", b"/c", b"abcde")]
    assert b"connection: close" in transport.written[0] and transport.closed


def test_expect_continue_then_the_answer() -> None:
    protocol, _, transport = connection()
    protocol.data_received(b"POST /d HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    assert transport.written == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    protocol.data_received(b"ok")
    assert transport.written[1].startswith(b"HTTP/1.1 200 OK")


def test_oversized_bodies_are_refused() -> None:
    protocol, app, transport = connection(max_body=4)
    protocol.data_received(b"POST /e HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345")
    assert transport.written[0].startswith(b"HTTP/1.1 413 Request Entity Too Large") and transport.closed
    assert app.seen == []
    chunked, _, chunked_transport = connection(max_body=4)
    chunked.data_received(b"POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n0\r\n\r\n")
    assert chunked_transport.written[0].startswith(b"HTTP/1.1 413")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_gets_a_400_or_waits_never_an_exception(data: bytes) -> None:
    protocol, _, transport = connection()
    protocol.data_received(data)
    for written in transport.written:
        assert written.startswith((b"HTTP/1.1 200", b"HTTP/1.1 400", b"HTTP/1.1 413", b"HTTP/1.1 100"))


@pytest.mark.parametrize(("status", "phrase"), [(200, b"OK"), (424, b"Failed Dependency"), (599, b"Unknown")])
def test_status_lines(status: int, phrase: bytes) -> None:
    assert render(Answer(status, b""), keep_alive=True).startswith(b"HTTP/1.1 %d " % status + phrase)


def test_the_listener_queues_a_burst_of_connections_before_the_loop_accepts() -> None:
    # benchmarks/load.py: with asyncio's default backlog of 100, the platform's Unix-socket
    # connects past 100 pending failed and InvokeEndpoint answered errors under 200 callers.
    async def scenario() -> int:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(f"\0opensage-test-{uuid.uuid4().hex}")
        server = await start_server(EchoApp(), listener, 1024)
        clients, refused = [], 0
        try:
            # No await in this loop: the server cannot accept, every connect waits in the backlog.
            for _ in range(LISTEN_BACKLOG // 2):
                client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                client.setblocking(False)
                clients.append(client)
                try:
                    client.connect(listener.getsockname())
                except BlockingIOError:
                    refused += 1
        finally:
            for client in clients:
                client.close()
            server.close()
        return refused

    assert asyncio.run(scenario()) == 0
