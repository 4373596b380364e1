"""Load: 200 InvokeEndpoint clients and 20 S3 uploaders against one server, then every object checked.

One ``opensage server`` runs as its own process (a temporary home, a free port) so its memory
can be measured; it hosts a built-in XGBoost endpoint with two instances. For ``--seconds``:

- ``--invokers`` asyncio clients (aiohttp, each with its own keep-alive connection, in a child
  process so they do not share a GIL with the uploaders) send one-row CSV requests signed with
  botocore's SigV4Auth, and check each answer against the booster's own prediction for the row;
- ``--uploaders`` threads, each with its own boto3 client, upload random objects of 1 KiB to
  8 MiB (log-uniform sizes; one in eight is a two-part multipart upload of 5 to 8 MiB), each with a
  known SHA-256.

Afterwards every object is listed and downloaded and its SHA-256 compared; every HTTP status is
counted (throttling — ThrottlingException, 429, S3's 503 SlowDown — apart from other errors); the
server's and its model servers' RSS is sampled every 0.5 s throughout.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/load.py [--seconds 60] [--invokers 200] [--uploaders 20]

Exits non-zero if an object is lost or corrupted, an answer is wrong, a connection fails, or a
5xx other than S3's SlowDown occurs. Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import (  # noqa: E402
    TEST_ACCESS_KEY_ID,
    TEST_SECRET_ACCESS_KEY,
    breast_cancer_split,
    create_model,
    deploy,
    features_csv,
    make_client,
    model_archive,
    train_booster,
    variant,
)

from benchmarks.endpoint_latency import wait_http  # noqa: E402
from benchmarks.load_traffic import (  # noqa: E402
    BUCKET,
    ENDPOINT,
    KIB,
    MIB,
    Tally,
    Uploads,
    invokers_worker,
    outcome_kind,
    uploader,
)
from benchmarks.training_overhead import machine  # noqa: E402
from opensage.embedded import free_port  # noqa: E402

BIN = Path(sys.executable).parent


# --- the server -------------------------------------------------------------------------


@contextmanager
def server_process(folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``opensage server`` in its own process, its admin key pinned to the test credentials."""
    port = free_port()
    env = {
        **os.environ,
        "OPENSAGE_ADMIN_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "OPENSAGE_ADMIN_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
    }
    command = [str(BIN / "opensage"), "server", "--home", str(folder / "home"), "--port", str(port)]
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([*command, "--log-level", "warning"], stdout=log, stderr=log, env=env)
    try:
        wait_http(port, "/health", process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def deploy_endpoint(url: str, instances: int) -> tuple[list[bytes], list[float]]:
    """A small XGBoost model on an endpoint; one-row request bodies and the booster's answers."""
    import xgboost

    train, test = breast_cancer_split()
    booster = train_booster(train, rounds=20)
    s3, sagemaker = make_client("s3", url), make_client("sagemaker", url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=model_archive(booster))
    create_model(sagemaker, ENDPOINT, f"s3://{BUCKET}/model/model.tar.gz")
    deploy(sagemaker, ENDPOINT, [variant("main", ENDPOINT, count=instances)])
    features = test[:, 1:]
    expected = booster.predict(xgboost.DMatrix(features)).tolist()
    return [features_csv(row[None, :]) for row in features], expected


def authentication_enforced(url: str) -> bool:
    """Whether the server refuses an unsigned SageMaker call, as it must with authentication on."""
    request = urllib.request.Request(
        f"{url}/",
        data=b"{}",
        headers={"X-Amz-Target": "SageMaker.ListModels", "Content-Type": "application/x-amz-json-1.1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30):
            return False
    except urllib.error.HTTPError as error:
        return 400 <= error.code < 500


# --- memory -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: float
    server: int
    model_servers: int
    tree: int


class MemorySampler(threading.Thread):
    """RSS of the server process, of its model servers and of its whole tree, every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[Sample] = []
        self._done = threading.Event()

    def sample(self) -> Sample:
        import psutil

        server = psutil.Process(self.pid)
        models = others = 0
        for child in server.children(recursive=True):
            try:
                rss = child.memory_info().rss
                if "opensage.runtime.serving" in " ".join(child.cmdline()):
                    models += rss
                else:
                    others += rss
            except psutil.NoSuchProcess:
                continue
        own = server.memory_info().rss
        return Sample(time.monotonic(), own, models, own + models + others)

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.samples.append(self.sample())

    def stop(self) -> None:
        self._done.set()
        self.join()


def tree_cpu_seconds(pid: int) -> float:
    import psutil

    total = 0.0
    server = psutil.Process(pid)
    for process in [server, *server.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


# --- verification -------------------------------------------------------------------------


@dataclass
class Verdict:
    verified: int = 0
    verified_bytes: int = 0
    lost: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    unacknowledged_present: int = 0


def verify(url: str, uploads: Uploads, threads: int = 4) -> Verdict:
    """List the bucket and download every object: each acknowledged one must be there, intact."""
    s3 = make_client("s3", url)
    listed: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="objects/"):
        listed.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    verdict = Verdict(lost=sorted(set(uploads.acknowledged) - set(listed)))
    clients = threading.local()

    def check(key: str) -> tuple[str, bool]:
        if not hasattr(clients, "s3"):
            clients.s3 = make_client("s3", url)
        size, digest = uploads.acknowledged.get(key) or uploads.unacknowledged[key]
        body = clients.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return key, len(body) == size == listed[key] and hashlib.sha256(body).hexdigest() == digest

    known = [key for key in listed if key in uploads.acknowledged or key in uploads.unacknowledged]
    verdict.unexpected = sorted(set(listed) - set(known))
    with ThreadPoolExecutor(threads) as pool:
        for key, intact in pool.map(check, known):
            if not intact:
                verdict.corrupted.append(key)
            elif key in uploads.acknowledged:
                verdict.verified += 1
                verdict.verified_bytes += listed[key]
            else:
                # An upload that failed may still have landed whole; it must never land torn.
                verdict.unacknowledged_present += 1
    return verdict


# --- the run ------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    invocations: Tally
    uploads_tally: Tally
    uploads: Uploads
    verdict: Verdict
    samples: list[Sample]
    baseline: Sample
    final: Sample
    server_cpu_seconds: float
    generator_cpu_seconds: float
    load_average: tuple[float, float]
    authentication: bool


def run_load(url: str, server: subprocess.Popen[bytes], args: argparse.Namespace) -> Run:
    bodies, expected = deploy_endpoint(url, args.instances)
    pool = os.urandom(8 * MIB + 64 * KIB)
    sampler = MemorySampler(server.pid)
    baseline = sampler.sample()
    load_average = os.getloadavg()[0]
    start_at = time.time() + 3.0  # time for the invokers' process to start and import
    stop_at = start_at + args.seconds
    parent, child = multiprocessing.get_context("spawn").Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=invokers_worker, args=(child, url, bodies, expected, args.invokers, start_at, stop_at)
    )
    process.start()
    uploads, tallies = Uploads(), [Tally() for _ in range(args.uploaders)]
    threads = [
        threading.Thread(target=uploader, args=(index, url, pool, stop_at, uploads, tallies[index]))
        for index in range(args.uploaders)
    ]
    time.sleep(max(0.0, start_at - time.time()))
    own_cpu, server_cpu = _own_cpu_seconds(), tree_cpu_seconds(server.pid)
    sampler.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    invocations: Tally = parent.recv()
    process.join()
    sampler.stop()
    load_at_end = os.getloadavg()[0]
    server_cpu = tree_cpu_seconds(server.pid) - server_cpu
    uploads_tally = Tally()
    for tally in tallies:
        uploads_tally.merge(tally)
    generator_cpu = _own_cpu_seconds() - own_cpu + invocations.cpu_seconds
    final = sampler.sample()
    print(f"load done; verifying {len(uploads.acknowledged)} objects", flush=True)
    verdict = verify(url, uploads)
    return Run(
        seconds=args.seconds,
        invocations=invocations,
        uploads_tally=uploads_tally,
        uploads=uploads,
        verdict=verdict,
        samples=sampler.samples,
        baseline=baseline,
        final=final,
        server_cpu_seconds=server_cpu,
        generator_cpu_seconds=generator_cpu,
        load_average=(load_average, load_at_end),
        authentication=authentication_enforced(url),
    )


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def failures(run: Run) -> list[str]:
    found = []
    for name, tally in (("InvokeEndpoint", run.invocations), ("S3 upload", run.uploads_tally)):
        for outcome, count in sorted(tally.outcomes.items()):
            if outcome_kind(outcome) in ("5xx", "connection"):
                found.append(f"{name}: {count} x {outcome}")
    if run.invocations.wrong_answers:
        found.append(f"InvokeEndpoint: {run.invocations.wrong_answers} wrong answers")
    verdict = run.verdict
    for label, keys in (("lost", verdict.lost), ("corrupted", verdict.corrupted)):
        if keys:
            found.append(f"{len(keys)} objects {label}: {', '.join(keys[:5])}")
    if verdict.unexpected:
        found.append(
            f"{len(verdict.unexpected)} objects nobody uploaded: {', '.join(verdict.unexpected[:5])}"
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--invokers", type=int, default=200, help="concurrent InvokeEndpoint clients")
    parser.add_argument("--uploaders", type=int, default=20, help="concurrent S3 uploaders")
    parser.add_argument("--instances", type=int, default=2, help="the endpoint's instance count")
    parser.add_argument("--note", default="", help="a sentence for RESULTS.md (e.g. what else ran)")
    parser.add_argument("--no-report", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="load-bench-"))
    try:
        with server_process(folder) as (url, server):
            run = run_load(url, server, args)
        for name, example in {**run.uploads_tally.examples, **run.invocations.examples}.items():
            print(f"first {name} answer: {example}")
        if failures(run):
            print(_server_log(folder))
        text = report(args, run)
        print(text)
        if not args.no_report:
            with (ROOT / "benchmarks" / "RESULTS.md").open("a") as handle:
                handle.write(text + "\n")
    except BaseException:
        print(_server_log(folder))
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    problems = failures(run)
    if problems:
        raise SystemExit("FAILED:\n  " + "\n  ".join(problems))


def _server_log(folder: Path) -> str:
    log = folder / "server.log"
    text = log.read_text(errors="replace")[-5000:] if log.exists() else "(none)"
    return f"server log (the end):\n{text}"


# --- the report ---------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


def traffic_row(name: str, tally: Tally, seconds: float) -> str:
    kinds: Counter[str] = Counter()
    for outcome, count in tally.outcomes.items():
        kinds[outcome_kind(outcome)] += count
    ms = [value * 1000 for value in tally.latencies]
    return (
        f"| {name} | {len(ms):,} | {len(ms) / seconds:,.1f} | "
        f"{statistics.median(ms) if ms else float('nan'):.1f} | {percentile(ms, 0.99):.1f} | "
        f"{max(ms, default=float('nan')):.1f} | {sum(tally.outcomes.values()):,} | {kinds['throttled']:,} | "
        f"{kinds['4xx']:,} | {kinds['5xx']:,} | {kinds['connection']:,} |"
    )


def report(args: argparse.Namespace, run: Run) -> str:
    uploaded_bytes = sum(size for size, _ in run.uploads.acknowledged.values())
    verdict, samples = run.verdict, run.samples or [run.final]
    checked = (
        "the server verifying signatures (unsigned calls refused)"
        if run.authentication
        else "the server NOT verifying signatures (it accepted an unsigned call)"
    )
    peak = {
        "server (front end)": max(s.server for s in samples),
        "model servers (all instances)": max(s.model_servers for s in samples),
        "whole tree": max(s.tree for s in samples),
    }
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3)] + [samples[-1]]
    command = (
        f"`.venv/bin/python benchmarks/load.py --seconds {args.seconds:g} --invokers {args.invokers} "
        f"--uploaders {args.uploaders} --instances {args.instances}`"
    )
    lines = [
        f"## Load: {args.invokers} InvokeEndpoint clients + {args.uploaders} S3 uploaders, one server "
        f"({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Command: {command}  ",
        f"Machine: {machine()}; 1-minute load average {run.load_average[0]:.2f} before the run, "
        f"{run.load_average[1]:.2f} at its end (this generator and server included)  ",
        f"Setup: `opensage server` in its own process; every request SigV4-signed, {checked}; "
        f"built-in XGBoost (breast cancer, 20 trees) on an endpoint with {args.instances} instances; "
        "one-row CSV requests, each answer checked against the booster's prediction; uploads 1 KiB to 8 MiB "
        "log-uniform, one in eight a two-part multipart upload of 5 to 8 MiB",
        "",
        "| traffic | succeeded | per second | p50 (ms) | p99 (ms) | max (ms) | HTTP responses | throttled "
        "| other 4xx | 5xx | connection errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        traffic_row("InvokeEndpoint", run.invocations, run.seconds),
        traffic_row("S3 uploads (objects)", run.uploads_tally, run.seconds),
        "",
        "Succeeded: answers (200, each checked) and objects acknowledged; latencies are theirs (an "
        "upload's from its first request to its last). HTTP responses: every one, a multipart upload's "
        "four included. Throttled: ThrottlingException, 429 or S3's 503 SlowDown (the client backs off "
        "and retries); 5xx: every other 5xx.",
        "",
        f"Uploaded {len(run.uploads.acknowledged):,} objects ({uploaded_bytes / MIB:,.0f} MiB, "
        f"{uploaded_bytes / MIB / run.seconds:.1f} MiB/s; {run.uploads.multipart} multipart). Afterwards "
        f"every object was listed and downloaded: **{verdict.verified:,} intact, {len(verdict.lost)} lost, "
        f"{len(verdict.corrupted)} corrupted**, {len(verdict.unexpected)} unexpected; "
        f"{verdict.unacknowledged_present} of {len(run.uploads.unacknowledged)} failed uploads present "
        f"(whole). Wrong InvokeEndpoint answers: {run.invocations.wrong_answers}.",
        "",
        "| RSS (MiB) | before load | peak | at 25% | 50% | 75% | end of load |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, attribute in (
        ("server (front end)", "server"),
        ("model servers (all instances)", "model_servers"),
        ("whole tree", "tree"),
    ):
        figures = [getattr(run.baseline, attribute), peak[label], *(getattr(s, attribute) for s in quarters)]
        lines.append(f"| {label} | " + " | ".join(f"{value / MIB:.0f}" for value in figures) + " |")
    lines += [
        "",
        f"CPU during the load (cores busy, of {os.cpu_count()}): server tree "
        f"{run.server_cpu_seconds / run.seconds:.2f}, load generator {run.generator_cpu_seconds / run.seconds:.2f} "
        "(invokers' process and uploader threads); the generator competes with the server for the same cores, "
        "so these rates are a floor for the server alone.",
    ]
    outcomes = {
        "InvokeEndpoint": run.invocations.outcomes,
        "S3 upload": run.uploads_tally.outcomes,
    }
    detail = "; ".join(
        f"{name}: " + ", ".join(f"{outcome} x{count:,}" for outcome, count in sorted(counted.items()))
        for name, counted in outcomes.items()
    )
    lines += ["", f"Every response by status: {detail}."]
    problems = failures(run)
    lines += ["", "Result: " + ("**passed**" if not problems else "**FAILED** — " + "; ".join(problems))]
    if args.note:
        lines += ["", args.note]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
