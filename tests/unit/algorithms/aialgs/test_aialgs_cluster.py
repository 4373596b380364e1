"""Gathering each host's state on the master, and exchanging merged states, over loopback TCP."""

from __future__ import annotations

import threading
from pathlib import Path

from opensage.algorithms.aialgs.cluster import exchange, gather
from opensage.algorithms.base import TrainingEnvironment
from opensage.embedded import free_port


def env(tmp_path: Path, host: str, port: int) -> TrainingEnvironment:
    return TrainingEnvironment(
        job_name="j",
        hyperparameters={},
        channels={},
        model_dir=tmp_path,
        output_data_dir=tmp_path,
        checkpoint_dir=tmp_path,
        hosts=["algo-1", "algo-2", "algo-3"],
        current_host=host,
        master_port=port,
    )


def test_the_master_gets_every_state_in_host_order(tmp_path: Path) -> None:
    port = free_port()
    results: dict[str, list[bytes] | None] = {}

    def host(name: str, state: bytes) -> None:
        results[name] = gather(env(tmp_path, name, port), state, timeout_s=30)

    # The workers start first: they retry until the master listens.
    threads = [
        threading.Thread(target=host, args=(f"algo-{i}", bytes([i]) * (i * 100_000))) for i in (3, 2, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["algo-2"] is None and results["algo-3"] is None
    assert results["algo-1"] == [b"\x01" * 100_000, b"\x02" * 200_000, b"\x03" * 300_000]


def test_every_host_gets_the_merged_state_round_after_round(tmp_path: Path) -> None:
    port = free_port()
    results: dict[str, list[bytes]] = {}

    def merge(states: list[bytes]) -> bytes:
        return b"".join(state[:1] for state in states) + str(sum(map(len, states))).encode()

    def host(name: str, rank: int) -> None:
        # Rounds in a row, as epochs: a host back early for the next round waits for the master.
        results[name] = [
            exchange(env(tmp_path, name, port), bytes([rank]) * 1000 * size, merge, timeout_s=30)
            for size in (1, 2, 3)
        ]

    threads = [threading.Thread(target=host, args=(f"algo-{i}", i)) for i in (3, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    expected = [b"\x01\x02\x033000", b"\x01\x02\x036000", b"\x01\x02\x039000"]
    assert results["algo-1"] == results["algo-2"] == results["algo-3"] == expected


def test_one_host_needs_no_network(tmp_path: Path) -> None:
    single = TrainingEnvironment("j", {}, {}, tmp_path, tmp_path, tmp_path)
    assert gather(single, b"state") == [b"state"]
    assert exchange(single, b"state", lambda states: states[0] * 2) == b"statestate"
