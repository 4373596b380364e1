"""Data capture: sampled requests and responses as JSON Lines under the capture prefix, SageMaker's layout.

Files land at ``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl``,
one record per line with ``captureData.endpointInput/endpointOutput`` (observedContentType,
mode, data, encoding), ``eventMetadata`` (eventId, inferenceTime, and inferenceId when the
caller sent one) and ``eventVersion`` — what Model Monitor reads. Records are buffered and
written as one object per variant and hour every ``flush_seconds``, so capturing adds no
storage round trip to an invocation.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from opensage.naming import parse_s3_uri
from opensage.objects.base import ObjectStore, WriteOptions
from opensage.services.hosting.models import CaptureSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureEvent:
    endpoint: str
    variant: str
    spec: CaptureSpec
    request_body: bytes
    request_type: str
    response_body: bytes
    response_type: str
    time: datetime
    inference_id: str | None = None


def _encoding(content_type: str, spec: CaptureSpec) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    if base in (t.lower() for t in spec.csv_content_types):
        return "CSV"
    if base in (t.lower() for t in spec.json_content_types):
        return "JSON"
    return "BASE64"


def _captured(body: bytes, content_type: str, mode: str, spec: CaptureSpec) -> dict[str, str]:
    encoding = _encoding(content_type, spec)
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def record_line(event: CaptureEvent) -> str:
    capture: dict[str, dict[str, str]] = {}
    if event.spec.capture_input:
        capture["endpointInput"] = _captured(event.request_body, event.request_type, "INPUT", event.spec)
    if event.spec.capture_output:
        capture["endpointOutput"] = _captured(event.response_body, event.response_type, "OUTPUT", event.spec)
    metadata = {
        "eventId": str(uuid.uuid4()),
        "inferenceTime": event.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.time.microsecond // 1000:03d}Z",
    }
    if event.inference_id:
        metadata["inferenceId"] = event.inference_id
    return json.dumps({"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"})


class CaptureWriter:
    def __init__(self, objects: ObjectStore, flush_seconds: float = 1.0) -> None:
        self._objects = objects
        self._flush_seconds = flush_seconds
        self._pending: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sampled(self, spec: CaptureSpec | None) -> bool:
        return spec is not None and spec.enabled and random.uniform(0, 100) < spec.sampling_percentage

    def add(self, event: CaptureEvent) -> None:
        hour = event.time.astimezone(UTC).strftime("%Y/%m/%d/%H")
        key = (event.spec.destination, event.endpoint, event.variant, hour)
        with self._lock:
            self._pending[key].append(record_line(event))
        if self._thread is None:
            self._start()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, defaultdict(list)
        for (destination, endpoint, variant, hour), lines in pending.items():
            location = parse_s3_uri(destination).join(endpoint, variant, hour)
            now = datetime.now(UTC)
            name = f"{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            body = ("\n".join(lines) + "\n").encode()
            try:
                self._objects.put_bytes(
                    location.bucket,
                    location.join(name).key,
                    body,
                    WriteOptions(content_type="application/jsonlines"),
                )
            except Exception:
                logger.exception(
                    "data capture for %s/%s could not be written to %s", endpoint, variant, destination
                )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="data-capture", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()
