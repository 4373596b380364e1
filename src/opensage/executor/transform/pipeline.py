"""One instance's share of a transform job: its input objects, batched, sent, and written back in order.

Up to MaxConcurrentTransforms requests are in flight at once, across object boundaries, so
small objects keep the model busy as well as one large one. Responses are written in the
order their batches were cut, so records keep their order in each ``.out`` object, which
appears only once complete. A request the model refuses fails the job naming the object
and the record: when a batch of many records is refused, halves of it are sent again
until the one record the model refuses is found.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field

from opensage.errors import AlgorithmClientError, AlgorithmError
from opensage.executor.packing import encrypted_under
from opensage.executor.transform.client import ModelClient, ModelResponse
from opensage.executor.transform.inputs import InputObject, InputReader
from opensage.executor.transform.spec import TransformRun
from opensage.objects.base import ObjectStore, ObjectWriter
from opensage.runtime.transform.assembly import assemble_records, assemble_response
from opensage.runtime.transform.batches import Batch, Encoder, batch_records, line_slices
from opensage.runtime.transform.processing import DataProcessing
from opensage.runtime.transform.records import Record, SplitType, iter_records, position

# How often a wait for a response looks whether the job is being stopped.
_STOP_POLL_SECONDS = 0.2


class TransformStopped(Exception):
    """The job was asked to stop; what is finished stays, what is half done is dropped."""


@dataclass
class OutputObject:
    """The ``.out`` object of one input object, written as its responses arrive."""

    item: InputObject
    writer: ObjectWriter
    started: float = field(default_factory=time.monotonic)
    records: int = 0
    requests: int = 0


@dataclass
class Progress:
    objects: int = 0
    records: int = 0
    requests: int = 0


@dataclass(frozen=True)
class _Sent:
    output: OutputObject
    batch: Batch
    future: Future[ModelResponse]


@dataclass(frozen=True)
class _End:
    output: OutputObject


class InstancePipeline:
    def __init__(
        self,
        run: TransformRun,
        store: ObjectStore,
        client: ModelClient,
        processing: DataProcessing,
        halt: threading.Event,
        say: Callable[[str], None],
    ) -> None:
        self._run = run
        self._store = store
        self._client = client
        self._processing = processing
        # Set when the job stops or another instance fails: stop sending.
        self._halt = halt
        self._say = say
        self._split = SplitType(run.split_type)
        self._by_line = run.assemble_with == "Line"
        self._open: list[OutputObject] = []
        self.progress = Progress()

    def transform(self, items: list[InputObject]) -> Progress:
        window: deque[_Sent | _End] = deque()
        pool = ThreadPoolExecutor(self._run.max_concurrent, thread_name_prefix="transform")
        try:
            for item in items:
                output = self._open_output(item)
                for batch in self._batches(item):
                    if self._halt.is_set():
                        raise TransformStopped
                    window.append(_Sent(output, batch, pool.submit(self._client.invoke, batch.payload)))
                    while sum(isinstance(entry, _Sent) for entry in window) > self._run.max_concurrent:
                        self._complete(window.popleft())
                window.append(_End(output))
            while window:
                self._complete(window.popleft())
        except BaseException:
            for output in self._open:
                output.writer.abort()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return self.progress

    # --- reading ---

    def _batches(self, item: InputObject) -> Iterator[Batch]:
        run, processing = self._run, self._processing
        with InputReader(self._store, item, run.compression) as reader:
            if (
                self._split == SplitType.LINE
                and run.multi_record
                and not processing.filters_input
                and not processing.changes_output
            ):
                yield from line_slices(reader.stream, run.max_payload_bytes, item.uri)
                return
            records = iter_records(reader.stream, self._split, run.max_payload_bytes, item.uri)
            encode = self._input_filter(item) if processing.filters_input else None
            yield from batch_records(
                records, self._split, run.multi_record, run.max_payload_bytes, item.uri, encode
            )

    def _input_filter(self, item: InputObject) -> Encoder:
        def encode(record: Record) -> bytes:
            try:
                return self._processing.filter_input(record.data)
            except AlgorithmClientError as error:
                where = position(self._split, record.number)
                raise AlgorithmClientError(
                    f"{item.uri} {where}: InputFilter {self._processing.input_filter.text}: {error}"
                ) from error

        return encode

    # --- writing ---

    def _open_output(self, item: InputObject) -> OutputObject:
        target = item.output(self._run.output_path)
        options = encrypted_under(
            self._run.output_kms_key_arn, self._run.accept or "application/octet-stream"
        )
        output = OutputObject(item, self._store.open_writer(target.bucket, target.key, options))
        self._open.append(output)
        self._say(f"Transforming {item.uri} to {target}")
        return output

    def _complete(self, entry: _Sent | _End) -> None:
        if isinstance(entry, _End):
            self._finish_output(entry.output)
            return
        output, batch = entry.output, entry.batch
        response = self._result(entry.future, output, batch)
        if not response.ok:
            raise self._refused(output.item, batch, response)
        output.writer.write(self._assembled(output.item, batch, response))
        output.records += batch.count
        output.requests += 1

    def _finish_output(self, output: OutputObject) -> None:
        output.writer.commit()
        self._open.remove(output)
        elapsed = time.monotonic() - output.started
        self.progress.objects += 1
        self.progress.records += output.records
        self.progress.requests += output.requests
        self._say(
            f"{output.item.uri}: {output.records} record(s) in {output.requests} request(s), {elapsed:.2f} s"
        )

    def _assembled(self, item: InputObject, batch: Batch, response: ModelResponse) -> bytes:
        if not self._processing.changes_output:
            return assemble_response(response.body, self._by_line)
        inputs = [record.data for record in batch.records or ()]
        try:
            records = self._processing.finish(inputs, response.body, response.content_type)
        except AlgorithmClientError as error:
            raise AlgorithmClientError(f"{item.uri} {batch.span(self._split)}: {error}") from error
        return assemble_records(records, self._by_line)

    def _result(self, future: Future[ModelResponse], output: OutputObject, batch: Batch) -> ModelResponse:
        while not wait_for([future], timeout=_STOP_POLL_SECONDS).done:
            if self._halt.is_set():
                raise TransformStopped
        try:
            return future.result()
        except AlgorithmError as error:
            where = f"{output.item.uri} {batch.span(self._split)}".strip()
            raise AlgorithmError(f"{error} while transforming {where}") from error

    # --- failures ---

    def _refused(self, item: InputObject, batch: Batch, response: ModelResponse) -> Exception:
        where = batch.span(self._split)
        if batch.count > 1:
            culprit = self._find_refused(batch.numbered_pieces(), response)
            if culprit is not None:
                number, response = culprit
                where = position(self._split, number)
        place = f"{item.uri} {where}".strip()
        message = f"the model answered HTTP {response.status} for {place}: {response.message()}"
        if response.status < 500:
            return AlgorithmClientError(message)
        return AlgorithmError(message)

    def _find_refused(
        self, pieces: list[tuple[int, bytes]], refusal: ModelResponse
    ) -> tuple[int, ModelResponse] | None:
        """The first record the model refuses on its own, by halving; None if none is refused alone."""
        while len(pieces) > 1:
            half = len(pieces) // 2
            for part in (pieces[:half], pieces[half:]):
                answer = self._client.invoke(b"".join(piece for _, piece in part))
                if not answer.ok:
                    pieces, refusal = part, answer
                    break
            else:
                return None
        return pieces[0][0], refusal
