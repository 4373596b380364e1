"""Merging the hosts' training states on the master host: the step that makes multi-instance training one job.

The streaming algorithms (PCA, K-Means, Linear Learner, ...) keep a fixed-size state that sums
(or otherwise merges) across hosts. Each host serialises its state to bytes and sends it to
the master (``env.hosts[0]``) over TCP at ``master_address:master_port``, where the master
gets all of them, its own first, in host order:

- ``gather``: once, at the end; the master gets the list, the others get None and are done.
- ``exchange``: as often as training needs (Linear Learner: every epoch); the master merges
  the list with a callback and sends the merged state back, so every host gets it.

One host (or ``master_port`` 0) needs no network.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

from opensage.algorithms.base import TrainingEnvironment
from opensage.errors import AlgorithmError

_HEADER = struct.Struct("<IQ")  # host rank, payload length
_LENGTH = struct.Struct("<Q")  # the merged state's length
DEFAULT_TIMEOUT_S = 600.0


def gather(
    env: TrainingEnvironment, state: bytes, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[bytes] | None:
    """Every host's ``state`` on the master (in host order), None on the other hosts."""
    if len(env.hosts) == 1:
        return [state]
    if env.is_master:
        states, connections = _receive(env, state, timeout_s)
        _answer(connections, b"k")
        return states
    with _send(env, state, timeout_s) as connection:
        _read(connection, 1)  # the master has it all
    return None


def exchange(
    env: TrainingEnvironment,
    state: bytes,
    merge: Callable[[list[bytes]], bytes],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> bytes:
    """``merge`` of every host's ``state`` (in host order), run on the master, returned on every host.

    Every host must call it the same number of times: each call is one round in which the
    master waits for all the others.
    """
    if len(env.hosts) == 1:
        return merge([state])
    if env.is_master:
        states, connections = _receive(env, state, timeout_s)
        try:
            merged = merge(states)
        except BaseException:
            for connection in connections:
                connection.close()  # the others fail at once instead of waiting out their timeout
            raise
        _answer(connections, _LENGTH.pack(len(merged)) + merged)
        return merged
    with _send(env, state, timeout_s) as connection:
        (size,) = _LENGTH.unpack(_read(connection, _LENGTH.size))
        return _read(connection, size)


def _receive(
    env: TrainingEnvironment, state: bytes, timeout_s: float
) -> tuple[list[bytes], list[socket.socket]]:
    """Every host's state, and the open connections of the others to answer on."""
    states: dict[int, bytes] = {0: state}
    connections: list[socket.socket] = []
    # The listening socket closes before any answer goes out: a host that has its answer and
    # comes back for the next round finds nobody listening and retries, never a stale round.
    with socket.create_server(("", env.master_port), reuse_port=False) as server:
        server.settimeout(timeout_s)
        try:
            while len(states) < len(env.hosts):
                try:
                    connection, _ = server.accept()
                except TimeoutError as exc:
                    missing = [host for rank, host in enumerate(env.hosts) if rank not in states]
                    raise AlgorithmError(
                        f"hosts {', '.join(missing)} did not send their state within {timeout_s:.0f} s"
                    ) from exc
                connections.append(connection)
                connection.settimeout(timeout_s)
                rank, size = _HEADER.unpack(_read(connection, _HEADER.size))
                states[rank] = _read(connection, size)
        except BaseException:
            for connection in connections:
                connection.close()
            raise
    return [states[rank] for rank in range(len(env.hosts))], connections


def _answer(connections: list[socket.socket], answer: bytes) -> None:
    for connection in connections:
        with connection:
            connection.sendall(answer)


def _send(env: TrainingEnvironment, state: bytes, timeout_s: float) -> socket.socket:
    """A connection to the master that has delivered ``state``; the caller reads the answer and closes it."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            connection = socket.create_connection((env.master_address, env.master_port), timeout=timeout_s)
        except (ConnectionRefusedError, ConnectionResetError) as exc:
            # The master may not listen yet: it gets there after its own pass over its shard.
            if time.monotonic() > deadline:
                raise AlgorithmError(
                    f"could not reach the master host {env.hosts[0]} to merge states"
                ) from exc
            time.sleep(0.1)
            continue
        try:
            connection.sendall(_HEADER.pack(env.host_rank, len(state)) + state)
        except BaseException:
            connection.close()
            raise
        return connection


def _read(connection: socket.socket, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = connection.recv(min(remaining, 1 << 20))
        if not chunk:
            raise AlgorithmError("a host closed its connection before sending its whole state")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
