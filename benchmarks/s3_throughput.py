"""S3 API throughput: opensage's object store against moto's S3 server, same boto3 calls, same data.

moto keeps objects in memory and promises nothing on a crash; opensage writes each object to
disk durably (temp file, fsync, rename, fsync of the folder, index commit) before it answers.
Both run in this process on loopback and are driven by the same boto3 client code:

    .venv/bin/pip install -e '.[bench]'            # the peer (moto's server); not needed otherwise
    .venv/bin/python benchmarks/s3_throughput.py [--small 300] [--large-mb 64]

Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import make_client, make_settings  # noqa: E402

from benchmarks.training_overhead import machine  # noqa: E402
from opensage.embedded import EmbeddedServer, free_port  # noqa: E402

BUCKET = "bench-s3"


@contextmanager
def opensage_server(scratch: Path) -> Iterator[str]:
    with EmbeddedServer(make_settings(scratch / "home")) as server:
        yield server.endpoint_url


@contextmanager
def moto_server(scratch: Path) -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    # moto's web server logs every request to stderr; the benchmark's table is the output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_suite(endpoint: str, scratch: Path, small: int, large: Path) -> dict[str, float]:
    s3 = make_client("s3", endpoint)
    s3.create_bucket(Bucket=BUCKET)
    body = os.urandom(4096)
    results: dict[str, float] = {}
    results["small PutObject (4 KiB), per second"] = small / timed(
        lambda: [s3.put_object(Bucket=BUCKET, Key=f"small/{i:05d}", Body=body) for i in range(small)]
    )
    results["small GetObject (4 KiB), per second"] = small / timed(
        lambda: [s3.get_object(Bucket=BUCKET, Key=f"small/{i:05d}")["Body"].read() for i in range(small)]
    )
    listed = timed(lambda: list(s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="small/")))
    results["ListObjectsV2 of all small keys, seconds"] = listed
    size_mb = large.stat().st_size / 2**20
    uploads = [timed(lambda: s3.upload_file(str(large), BUCKET, "large/blob")) for _ in range(3)]
    results["upload_file (multipart), MB/s"] = size_mb / statistics.median(uploads)
    target = scratch / "downloaded"
    downloads = [timed(lambda: s3.download_file(BUCKET, "large/blob", str(target))) for _ in range(3)]
    results["download_file (ranged GETs), MB/s"] = size_mb / statistics.median(downloads)
    if target.read_bytes() != large.read_bytes():
        raise SystemExit(f"{endpoint}: the downloaded object differs from the upload")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=300, help="number of 4 KiB objects")
    parser.add_argument("--large-mb", type=int, default=64, help="size of the large object")
    args = parser.parse_args()
    measured: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        large = scratch / "large.bin"
        large.write_bytes(os.urandom(args.large_mb * 2**20))
        for name, server in (("opensage", opensage_server), ("moto", moto_server)):
            with server(scratch / name) as endpoint:
                (scratch / name).mkdir(exist_ok=True)
                measured[name] = run_suite(endpoint, scratch / name, args.small, large)
    report(args, measured)


def report(args: argparse.Namespace, measured: dict[str, dict[str, float]]) -> None:
    import moto

    lines = [
        f"## S3 API: opensage vs moto server ({datetime.now(UTC):%Y-%m-%d})",
        "",
        "Command: `.venv/bin/python benchmarks/s3_throughput.py "
        f"--small {args.small} --large-mb {args.large_mb}`  ",
        f"Machine: {machine()}; moto {moto.__version__}; both servers in one process on loopback, "
        "driven by the same boto3 client (botocore's default CRC32 checksums on)",
        "",
        "| operation | opensage | moto | opensage / moto |",
        "|---|---:|---:|---:|",
    ]
    for operation, ours in measured["opensage"].items():
        theirs = measured["moto"][operation]
        lines.append(f"| {operation} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |")
    lines += [
        "",
        "For rates (per second, MB/s) higher is better; for seconds, lower. opensage makes every write "
        "durable before answering (fsync of the data, its folder and the index); moto keeps objects in "
        "memory and loses them when it stops.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    with (ROOT / "benchmarks" / "RESULTS.md").open("a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
