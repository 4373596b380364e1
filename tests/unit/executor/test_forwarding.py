"""The forwarding pool against a real asyncio server: reuse, a stale connection, timeouts."""

from __future__ import annotations

import asyncio

import pytest

from opensage.executor.forwarding import ConnectionPool, ForwardingError, _Connection


async def _server(answers_before_close: int | None, delay: float = 0.0) -> tuple[asyncio.Server, list[int]]:
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        served = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            body = await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: x/y\r\ncontent-length: %d\r\n\r\n" % len(body) + body
            )
            await writer.drain()
            served += 1
            if answers_before_close is not None and served >= answers_before_close:
                writer.close()
                return

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, connections


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def test_requests_reuse_one_connection() -> None:
    async def scenario() -> tuple[list[bytes], int]:
        server, connections = await _server(None)
        pool = ConnectionPool(port=server.sockets[0].getsockname()[1])
        bodies = [
            (await pool.request("POST", "/invocations", [(b"a", b"b")], b"x%d" % i, 5)).body for i in range(5)
        ]
        pool.close()
        server.close()
        return bodies, len(connections)

    bodies, connections = run(scenario())  # type: ignore[misc]
    assert bodies == [b"x0", b"x1", b"x2", b"x3", b"x4"] and connections == 1


def test_a_pooled_connection_the_server_closed_is_retried_once() -> None:
    async def scenario() -> tuple[bytes, bytes, int]:
        server, connections = await _server(answers_before_close=1)
        pool = ConnectionPool(port=server.sockets[0].getsockname()[1])
        first = (await pool.request("POST", "/", [], b"one", 5)).body
        await asyncio.sleep(0.05)
        second = (await pool.request("POST", "/", [], b"two", 5)).body
        pool.close()
        server.close()
        return first, second, len(connections)

    first, second, connections = run(scenario())  # type: ignore[misc]
    assert (first, second, connections) == (b"one", b"two", 2)


def test_a_slow_answer_times_out_and_nothing_listening_is_a_forwarding_error() -> None:
    async def slow() -> None:
        server, _ = await _server(None, delay=1.0)
        pool = ConnectionPool(port=server.sockets[0].getsockname()[1])
        try:
            await pool.request("POST", "/", [], b"x", 0.1)
        finally:
            pool.close()
            server.close()

    with pytest.raises(TimeoutError):
        run(slow())

    async def nobody() -> None:
        await ConnectionPool(port=1).request("POST", "/", [], b"x", 1)

    with pytest.raises(ForwardingError, match="cannot connect"):
        run(nobody())


def test_sending_on_a_closed_connection_is_a_forwarding_error() -> None:
    # benchmarks/load.py (200 concurrent callers) found send() returning None here: a TypeError
    # in the pool and an InternalFailure 500 for InvokeEndpoint instead of a retry.
    async def scenario() -> None:
        server, _ = await _server(None)
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection, "127.0.0.1", server.sockets[0].getsockname()[1]
        )
        connection.close()
        try:
            await connection.send(b"POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n")
        finally:
            server.close()

    with pytest.raises(ForwardingError, match="the connection is closed"):
        run(scenario())
