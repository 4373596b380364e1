"""Copying a model server's log file into a log stream as it grows.

Model servers write their output to a file in their run folder (so that nothing blocks
on a full pipe); a pump thread follows that file and writes each complete line to the
log store, which is how an endpoint's or a transform job's container output reaches
CloudWatch Logs' API.
"""

from __future__ import annotations

import threading
from pathlib import Path

from opensage.logstore.base import LogWriter

_POLL_SECONDS = 0.2


class LogPump:
    """Copies a model server's log file into a log stream, line by line, as it grows."""

    def __init__(self, path: Path, writer: LogWriter) -> None:
        self._path = path
        self._writer = writer
        self._offset = 0
        self._partial = b""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"log-{path.parent.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Copy what is left (a last line without its newline too) and close the stream."""
        self._done.set()
        self._thread.join(5.0)
        self._drain(final=True)
        self._writer.close()

    def _run(self) -> None:
        while not self._done.wait(_POLL_SECONDS):
            self._drain(final=False)

    def _drain(self, final: bool) -> None:
        try:
            with self._path.open("rb") as log:
                log.seek(self._offset)
                data = log.read()
        except FileNotFoundError:
            return
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = b"" if final else lines.pop()
        for line in lines:
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            if text.strip():
                self._writer.write(text)
