"""The load benchmark's traffic: signed InvokeEndpoint callers (asyncio) and S3 uploaders (threads).

Used by benchmarks/load.py; every HTTP response is counted, throttling apart from failures.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.support import REGION, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, make_client

BUCKET = "load"
ENDPOINT = "load"
KIB, MIB = 1024, 1024 * 1024
PART = 5 * MIB
# Statuses that ask the client to slow down rather than report a failure (S3's is a 503).
THROTTLES = {"ThrottlingException", "ThrottledException", "TooManyRequestsException", "SlowDown"}


@dataclass
class Tally:
    """What one kind of traffic saw: latencies of the successes, every outcome counted."""

    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    wrong_answers: int = 0
    cpu_seconds: float = 0.0
    # The first error body of each kind of failure, so a report can say what went wrong.
    examples: dict[str, str] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.outcomes.update(other.outcomes)
        self.wrong_answers += other.wrong_answers
        self.cpu_seconds += other.cpu_seconds
        self.examples = {**other.examples, **self.examples}

    def count(self, status: int, code: str = "") -> None:
        self.outcomes[f"{status} {code}".strip()] += 1


def outcome_kind(outcome: str) -> str:
    """'ok', 'throttled', '4xx', '5xx' or 'connection' for a counted outcome."""
    status, _, code = outcome.partition(" ")
    if not status.isdigit():
        return "connection"
    if code in THROTTLES or status == "429":
        return "throttled"
    if status.startswith("2"):
        return "ok"
    return "5xx" if status.startswith("5") else "4xx"


# --- invokers (a child process) -----------------------------------------------------------


def invokers_main(
    url: str, bodies: list[bytes], expected: list[float], clients: int, start_at: float, stop_at: float
) -> Tally:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    tally = asyncio.run(run_invokers(url, bodies, expected, clients, start_at, stop_at))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    tally.cpu_seconds = usage.ru_utime + usage.ru_stime
    return tally


def invokers_worker(connection: Any, *args: Any) -> None:
    connection.send(invokers_main(*args))
    connection.close()


async def run_invokers(
    url: str, bodies: list[bytes], expected: list[float], clients: int, start_at: float, stop_at: float
) -> Tally:
    await asyncio.sleep(max(0.0, start_at - time.time()))
    tallies = [Tally() for _ in range(clients)]
    await asyncio.gather(
        *(invoker(index, url, bodies, expected, stop_at, tally) for index, tally in enumerate(tallies))
    )
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


async def invoker(
    index: int, url: str, bodies: list[bytes], expected: list[float], stop_at: float, tally: Tally
) -> None:
    """One caller: one keep-alive connection, signed one-row requests back to back until ``stop_at``."""
    import aiohttp
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signer = SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "sagemaker", REGION)
    target = f"{url}/endpoints/{ENDPOINT}/invocations"
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=60)
    row = index
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while time.time() < stop_at:
            row = (row + 1) % len(bodies)
            # Signed per request, as boto3 does: the server verifies a fresh signature every time.
            request = AWSRequest(
                "POST", target, data=bodies[row], headers={"Content-Type": "text/csv", "Accept": "text/csv"}
            )
            signer.add_auth(request)
            started = time.perf_counter()
            try:
                async with session.post(target, data=bodies[row], headers=dict(request.headers)) as response:
                    answer = await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                tally.outcomes[f"connection error {type(error).__name__}"] += 1
                continue
            if response.status == 200:
                tally.latencies.append(time.perf_counter() - started)
                tally.count(200)
                if not _answer_matches(answer, expected[row]):
                    tally.wrong_answers += 1
                continue
            code = _error_code(response.headers.get("x-amzn-ErrorType", ""), answer)
            tally.count(response.status, code)
            if code in THROTTLES or response.status == 429:
                await asyncio.sleep(random.uniform(0.01, 0.1))
            else:
                tally.examples.setdefault(f"{response.status} {code}", answer[:300].decode(errors="replace"))


def _error_code(header: str, body: bytes) -> str:
    """The AWS error code from x-amzn-ErrorType, else from the JSON body's __type."""
    if header:
        return header.split(":")[0]
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    kind = document.get("__type", "") if isinstance(document, dict) else ""
    return str(kind).rsplit("#", 1)[-1]


def _answer_matches(answer: bytes, expected: float) -> bool:
    try:
        return abs(float(answer.decode().strip().split(",")[0]) - expected) < 1e-5
    except ValueError:
        return False


# --- uploaders (threads) ------------------------------------------------------------------


@dataclass
class Uploads:
    """Objects the server acknowledged, and those whose upload ended without an answer of success."""

    acknowledged: dict[str, tuple[int, str]] = field(default_factory=dict)
    unacknowledged: dict[str, tuple[int, str]] = field(default_factory=dict)
    multipart: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def uploader(index: int, url: str, pool: bytes, stop_at: float, uploads: Uploads, tally: Tally) -> None:
    """One uploader: its own boto3 client, objects one after another until ``stop_at``."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    s3 = make_client("s3", url, retries=1)  # one attempt per call, so every response is seen

    def counted(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        tally.count(http_response.status_code, parsed.get("Error", {}).get("Code", ""))

    s3.meta.events.register("after-call.s3", counted)
    rng = random.Random(index)
    number = 0
    while time.time() < stop_at:
        key = f"objects/{index:02d}/{number:06d}"
        multipart = rng.random() < 1 / 8
        size = rng.randint(PART + KIB, 8 * MIB) if multipart else int(math.exp(rng.uniform(*LOG_SIZES)))
        offset = rng.randrange(len(pool) - size)
        body = key.encode().ljust(32, b".") + pool[offset : offset + size - 32]
        digest = hashlib.sha256(body).hexdigest()
        started = time.perf_counter()
        try:
            put(s3, key, body, multipart)
        except (ClientError, ConnectionError, HTTPClientError) as error:
            if not isinstance(error, ClientError):
                tally.outcomes[f"connection error {type(error).__name__}"] += 1
            with uploads.lock:
                uploads.unacknowledged[key] = (size, digest)
            if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in THROTTLES:
                time.sleep(rng.uniform(0.05, 0.2))
                continue  # the same key again, as a client backing off would
            number += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        with uploads.lock:
            uploads.unacknowledged.pop(key, None)
            uploads.acknowledged[key] = (size, digest)
            uploads.multipart += multipart
        number += 1


LOG_SIZES = (math.log(KIB), math.log(8 * MIB))


def put(s3: Any, key: str, body: bytes, multipart: bool) -> None:
    if not multipart:
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(body), PART), start=1):
        answer = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=body[start : start + PART]
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
