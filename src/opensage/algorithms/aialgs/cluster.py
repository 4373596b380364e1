"""Gather every host's training state on the master host: the merge step of multi-instance training.

The streaming algorithms (PCA, K-Means, Linear Learner) keep a fixed-size state that sums
(or otherwise merges) across hosts. Each host serialises its state to bytes; ``gather``
sends the other hosts' bytes to the master (``env.hosts[0]``) over TCP at
``master_address:master_port``, where the master gets all of them, its own first, in host
order. The others get None and are done. One host (or ``master_port`` 0) needs no network.
"""

from __future__ import annotations

import socket
import struct
import time

from opensage.algorithms.base import TrainingEnvironment
from opensage.errors import AlgorithmError

_HEADER = struct.Struct("<IQ")  # host rank, payload length
DEFAULT_TIMEOUT_S = 600.0


def gather(
    env: TrainingEnvironment, state: bytes, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[bytes] | None:
    """Every host's ``state`` on the master (in host order), None on the other hosts."""
    if len(env.hosts) == 1:
        return [state]
    if env.is_master:
        return _receive(env, state, timeout_s)
    _send(env, state, timeout_s)
    return None


def _receive(env: TrainingEnvironment, state: bytes, timeout_s: float) -> list[bytes]:
    states: dict[int, bytes] = {0: state}
    with socket.create_server(("", env.master_port), reuse_port=False) as server:
        server.settimeout(timeout_s)
        while len(states) < len(env.hosts):
            try:
                connection, _ = server.accept()
            except TimeoutError as exc:
                missing = [host for rank, host in enumerate(env.hosts) if rank not in states]
                raise AlgorithmError(
                    f"hosts {', '.join(missing)} did not send their state within {timeout_s:.0f} s"
                ) from exc
            with connection:
                connection.settimeout(timeout_s)
                rank, size = _HEADER.unpack(_read(connection, _HEADER.size))
                states[rank] = _read(connection, size)
                connection.sendall(b"k")
    return [states[rank] for rank in range(len(env.hosts))]


def _send(env: TrainingEnvironment, state: bytes, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(
                (env.master_address, env.master_port), timeout=timeout_s
            ) as connection:
                connection.sendall(_HEADER.pack(env.host_rank, len(state)) + state)
                _read(connection, 1)  # the master has it all
                return
        except (ConnectionRefusedError, ConnectionResetError) as exc:
            # The master may not listen yet: it gets there after its own pass over its shard.
            if time.monotonic() > deadline:
                raise AlgorithmError(
                    f"could not reach the master host {env.hosts[0]} to merge states"
                ) from exc
            time.sleep(0.1)


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
