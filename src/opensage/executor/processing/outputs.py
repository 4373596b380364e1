"""Upload what a processing job writes under its outputs' LocalPaths: at the end, or as it goes.

EndOfJob outputs go up once, after every instance's code has succeeded. Continuous outputs
are looked at every few seconds while the code runs: a file goes up once it has stopped
changing (the same size and modification time at two looks in a row — written and, in
practice, closed), again whenever it changes later, and what is left goes up when the job
ends, however it ends. Every instance uploads to the output's S3Uri with relative paths
kept, as SageMaker does, so when two instances write the same relative path the later
instance's file (algo-2 over algo-1) is the one left in S3. Symbolic links are skipped, as
SageMaker skips them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from opensage.executor.packing import encrypted_under
from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.spec import OutputRun
from opensage.naming import S3Uri, parse_s3_uri
from opensage.objects.base import ObjectStore

logger = logging.getLogger(__name__)

END_OF_JOB = "EndOfJob"
CONTINUOUS = "Continuous"

# (modification time in ns, size): how a file is told to have changed.
Stamp = tuple[int, int]


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _files(root: Path) -> Iterator[tuple[Path, bool]]:
    """Every file under ``root`` in a stable order, each with whether it is a symbolic link."""
    for folder, subfolders, names in os.walk(root, followlinks=False):
        subfolders.sort()
        # A link to a folder is listed among the folders (and not walked into): report it too.
        links = [name for name in subfolders if (Path(folder) / name).is_symlink()]
        for name in sorted([*names, *links]):
            path = Path(folder) / name
            yield path, path.is_symlink()


class OutputUploader:
    """Uploads outputs' files, remembering what it sent so that each version of a file goes up once."""

    def __init__(
        self,
        store: ObjectStore,
        outputs: list[OutputRun],
        folders: list[InstanceFolder],
        say: Callable[[str, str], None],
        kms_key_arn: str | None = None,
    ) -> None:
        self._store = store
        # ProcessingOutputConfig.KmsKeyId; None: the bucket's default encryption, if any.
        self._write_options = encrypted_under(kms_key_arn)
        self._outputs = [output for output in outputs if output.uploaded]
        self._folders = folders
        # say(host, message): a line in that instance's log.
        self._say = say
        self._sent: dict[Path, Stamp] = {}
        self._seen: dict[Path, Stamp] = {}
        self._skipped_links: set[Path] = set()
        self._lock = threading.Lock()

    def has(self, mode: str) -> bool:
        return any(output.upload_mode == mode for output in self._outputs)

    def upload(self, modes: set[str], settled_only: bool = False) -> int:
        """Upload the new and changed files of the outputs in ``modes``; how many went up.

        With ``settled_only``, a file goes up only if it has not changed since the last look.
        """
        count = 0
        with self._lock:
            for output in self._outputs:
                if output.upload_mode not in modes or output.local_path is None:
                    continue
                target = parse_s3_uri(output.s3_uri)
                for folder in self._folders:
                    root = folder.local(output.local_path)
                    count += self._upload_folder(output, folder, root, target, settled_only)
        return count

    def _upload_folder(
        self, output: OutputRun, folder: InstanceFolder, root: Path, target: S3Uri, settled_only: bool
    ) -> int:
        count = 0
        for path, is_link in _files(root):
            if is_link:
                self._skip_link(output, folder, path, root)
                continue
            stamp = _stamp(path)
            if stamp is None or self._sent.get(path) == stamp:
                continue
            previous, self._seen[path] = self._seen.get(path), stamp
            if settled_only and previous != stamp:
                continue
            relative = path.relative_to(root).as_posix()
            try:
                self._store.put_file(target.bucket, target.join(relative).key, path, self._write_options)
            except FileNotFoundError:
                # Deleted by the code since it was listed: nothing to upload.
                continue
            # The stamp from before the upload: a change made during it is uploaded next time.
            self._sent[path] = stamp
            count += 1
        return count

    def _skip_link(self, output: OutputRun, folder: InstanceFolder, path: Path, root: Path) -> None:
        if path in self._skipped_links:
            return
        self._skipped_links.add(path)
        self._say(
            folder.host,
            f"output '{output.name}': {path.relative_to(root).as_posix()} is a symbolic link; "
            "links are not uploaded",
        )


class ContinuousUploads:
    """A thread uploading Continuous outputs while the job's code runs."""

    def __init__(self, uploader: OutputUploader, interval: float) -> None:
        self._uploader = uploader
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._uploader.has(CONTINUOUS):
            return
        self._thread = threading.Thread(target=self._run, name="continuous-outputs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._uploader.upload({CONTINUOUS}, settled_only=True)
            except Exception:
                # The final upload at the end of the job reports a problem that lasts.
                logger.exception("uploading Continuous outputs failed; trying again")
