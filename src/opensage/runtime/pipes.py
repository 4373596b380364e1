"""Pipe input mode: feed a channel to the algorithm through the FIFOs ``<channel>_<epoch>``.

SageMaker streams a Pipe-mode channel into ``/opt/ml/input/data/<channel>_0``, and once the
algorithm has read it and closed it, into ``<channel>_1`` for the next epoch, and so on. Here the job host stages the channel's files (its share of them) in a folder the
algorithm does not see, and a ``PipeFeeder`` thread writes them, in order, into each epoch's
FIFO. A reader that closes early ends that epoch; the thread stops with the host process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20


class PipeFeeder:
    """Writes ``files`` into ``<data_dir>/<channel>_<epoch>`` for epoch 0, 1, ... on a daemon thread."""

    def __init__(self, channel: str, files: list[Path], data_dir: Path) -> None:
        self.channel = channel
        self.files = files
        self.data_dir = data_dir
        self.epochs_fed = 0
        self._thread = threading.Thread(target=self._run, name=f"pipe-{channel}", daemon=True)

    def fifo(self, epoch: int) -> Path:
        return self.data_dir / f"{self.channel}_{epoch}"

    def start(self) -> None:
        """Create the first FIFO now (so the algorithm finds it at once), then feed in the background."""
        os.mkfifo(self.fifo(0))
        self._thread.start()

    def _run(self) -> None:
        epoch = 0
        while True:
            # Blocks until the algorithm opens the FIFO for reading. Unbuffered, so that closing
            # it after the reader went away has nothing left to flush into a broken pipe.
            with self.fifo(epoch).open("wb", buffering=0) as pipe:
                # The next epoch's FIFO exists before this one ends, so a reader that finishes
                # this epoch finds it at once; opening it blocks until this epoch is written.
                os.mkfifo(self.fifo(epoch + 1))
                with contextlib.suppress(BrokenPipeError):
                    self._write(pipe)
            self.epochs_fed = epoch + 1
            with contextlib.suppress(FileNotFoundError):
                self.fifo(epoch).unlink()
            epoch += 1

    def _write(self, pipe: BinaryIO) -> None:
        for path in self.files:
            with path.open("rb") as source:
                shutil.copyfileobj(source, pipe, _CHUNK)


def pipe_files(folder: Path) -> list[Path]:
    """The staged files of a channel, in key order, as File mode lists them."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file())


def start_feeders(channels: dict[str, Path], data_dir: Path) -> list[PipeFeeder]:
    """One running feeder per Pipe-mode channel (``name -> staged folder``)."""
    feeders = [PipeFeeder(name, pipe_files(folder), data_dir) for name, folder in channels.items()]
    for feeder in feeders:
        feeder.start()
    return feeders
