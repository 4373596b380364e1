"""Object and part writers: stream a body to a locked temp file, verify digests, hand it over to publish."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from opensage.objects.base import ObjectInfo, ObjectWriter, PartInfo, PartWriter, WriteOptions
from opensage.objects.checksums import Digests, expected_algorithms, verify_digests
from opensage.objects.encryption import FrameEncryptor, SealedBody
from opensage.objects.files import TempFile


class BodySink:
    """A body being received: its bytes go to a temp file, its digests are computed on the way.

    With ``cipher`` (the sealed data key, its plaintext and the object's identity) the file
    gets the encrypted frames; digests are always those of the plaintext.
    """

    def __init__(
        self,
        temp_dir: Path,
        options: WriteOptions,
        prefix: str,
        cipher: tuple[SealedBody, bytes, str] | None = None,
    ) -> None:
        self.options = options
        keep = expected_algorithms(options.checksum_algorithms, options.expected_checksums)
        self.digests = Digests(keep)
        self.temp = TempFile(temp_dir, prefix)
        self.sealed = None if cipher is None else cipher[0]
        self._encryptor = None if cipher is None else FrameEncryptor(cipher[1], cipher[2], self.temp.write)

    def write(self, data: bytes) -> None:
        if self.temp.closed:
            raise RuntimeError("write() after commit() or abort()")
        self.digests.update(data)
        if self._encryptor is None:
            self.temp.write(data)
        else:
            self._encryptor.write(data)

    def finish(self) -> os.stat_result:
        """Verify what the client promised (BadDigest) and make the bytes durable."""
        verify_digests(self.digests, self.options.content_md5, self.options.expected_checksums)
        if self._encryptor is not None:
            self._encryptor.finish()
        return self.temp.sync()

    def abort(self) -> None:
        self.temp.discard()


class _SinkWriter:
    """The commit-once, abort-on-failure state machine both writers share."""

    def __init__(self, sink: BodySink) -> None:
        self.sink = sink
        self._done = False

    def write(self, data: bytes) -> None:
        if self._done:
            raise RuntimeError("write() after commit() or abort()")
        self.sink.write(data)

    def start_commit(self) -> None:
        if self._done:
            raise RuntimeError("commit() after commit() or abort()")
        self._done = True

    def abort(self) -> None:
        self._done = True
        self.sink.abort()


class LocalObjectWriter(ObjectWriter):
    def __init__(self, sink: BodySink, publish: Callable[[BodySink], ObjectInfo]) -> None:
        self._state = _SinkWriter(sink)
        self._publish = publish

    def write(self, data: bytes) -> None:
        self._state.write(data)

    def commit(self) -> ObjectInfo:
        self._state.start_commit()
        try:
            return self._publish(self._state.sink)
        finally:
            # After a successful publish this only closes an already-renamed file.
            self._state.sink.abort()

    def abort(self) -> None:
        self._state.abort()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # Leaving the block without committing must not leave a temp file behind either.
        self._state.abort()


class LocalPartWriter(PartWriter):
    def __init__(self, sink: BodySink, publish: Callable[[BodySink], PartInfo]) -> None:
        self._state = _SinkWriter(sink)
        self._publish = publish

    def write(self, data: bytes) -> None:
        self._state.write(data)

    def commit(self) -> PartInfo:
        self._state.start_commit()
        try:
            return self._publish(self._state.sink)
        finally:
            self._state.sink.abort()

    def abort(self) -> None:
        self._state.abort()
