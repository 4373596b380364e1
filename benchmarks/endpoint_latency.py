"""Endpoint latency: one XGBoost model served three ways, measured with the same client in one run.

(a) opensage: InvokeEndpoint on an endpoint (``opensage server`` in its own process);
(b) the floor: a bare uvicorn + Starlette app calling the booster (benchmarks/peers/floor_server.py);
(c) MLflow: ``mlflow models serve`` on the same model (MLflow's scoring server, one worker).

Each is its own process; the client (this process) keeps one HTTP/1.1 keep-alive connection per
concurrent caller and sends one-row requests back to back, as an online caller would.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/endpoint_latency.py [--requests 3000] [--concurrency 1 4 16]

Results are appended to benchmarks/RESULTS.md. Goal: opensage's p50 within 1.3x the floor's and
ahead of MLflow's server at every concurrency.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import (  # noqa: E402
    REGION,
    ROLE_ARN,
    TEST_ACCESS_KEY_ID,
    TEST_SECRET_ACCESS_KEY,
    XGBOOST_IMAGE,
    make_client,
)

from benchmarks.training_overhead import load_rows, machine  # noqa: E402
from opensage.embedded import free_port  # noqa: E402

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Target:
    name: str
    port: int
    path: str
    body: bytes
    content_type: str
    #: Signs one request as boto3 would (opensage refuses unsigned calls); None for the peers.
    signed: bool = False

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.content_type}
        if not self.signed:
            return headers
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        url = f"http://127.0.0.1:{self.port}{self.path}"
        request = AWSRequest(method="POST", url=url, data=self.body, headers=headers)
        SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "sagemaker", REGION).add_auth(
            request
        )
        return dict(request.headers.items())


@dataclass(frozen=True)
class Measurement:
    p50_ms: float
    p99_ms: float
    requests_per_second: float
    errors: int


def wait_http(port: int, path: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not start")


@contextmanager
def running(command: list[str], port: int, health: str, env: dict[str, str] | None = None) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_http(port, health, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def train_model(folder: Path) -> tuple[Any, str]:
    import xgboost

    dataset, rows = load_rows()
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 6, "eta": 0.3},
        xgboost.DMatrix(rows[:, 1:], label=rows[:, 0]),
        num_boost_round=100,
    )
    booster.save_model(folder / "model.ubj")
    return rows, f"{dataset}; binary:logistic, depth 6, 100 trees"


@contextmanager
def opensage_target(folder: Path, rows: Any, port: int) -> Iterator[Target]:
    home = folder / "opensage-home"
    raw = (folder / "model.ubj").read_bytes()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    command = [
        str(BIN / "opensage"),
        "server",
        "--home",
        str(home),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    extra = dict(
        item.split("=", 1) for item in os.environ.get("BENCH_OPENSAGE_ENV", "").split() if "=" in item
    )
    # The server's admin key is the one make_client and Target.headers sign with.
    keys = {
        "OPENSAGE_ADMIN_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "OPENSAGE_ADMIN_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
    }
    with running(command, port, "/health", {**os.environ, **keys, **extra}):
        url = f"http://127.0.0.1:{port}"
        s3, sagemaker = make_client("s3", url), make_client("sagemaker", url)
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="model.tar.gz", Body=archive.getvalue())
        sagemaker.create_model(
            ModelName="bench",
            ExecutionRoleArn=ROLE_ARN,
            PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://bench/model.tar.gz"},
        )
        variant = {
            "VariantName": "main",
            "ModelName": "bench",
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
        }
        sagemaker.create_endpoint_config(EndpointConfigName="bench", ProductionVariants=[variant])
        sagemaker.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="bench", WaiterConfig={"Delay": 1})
        yield Target(
            "opensage InvokeEndpoint",
            port,
            "/endpoints/bench/invocations",
            csv_row(rows),
            "text/csv",
            signed=True,
        )


@contextmanager
def floor_target(folder: Path, rows: Any, port: int) -> Iterator[Target]:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "peers" / "floor_server.py"),
        str(folder / "model.ubj"),
        str(port),
    ]
    with running_floor(command, port, {**os.environ, "PYTHONPATH": str(ROOT)}):
        yield Target("bare uvicorn + Starlette (floor)", port, "/invocations", csv_row(rows), "text/csv")


@contextmanager
def running_floor(command: list[str], port: int, env: dict[str, str]) -> Iterator[None]:
    # The floor has no health route: wait until a request goes through.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request(
                    "POST", "/invocations", body=b"1" + b",1" * 13, headers={"Content-Type": "text/csv"}
                )
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def mlflow_target(folder: Path, rows: Any, port: int) -> Iterator[Target]:
    import mlflow.xgboost
    import xgboost

    model_dir = folder / "mlflow-model"
    mlflow.xgboost.save_model(xgboost.Booster(model_file=str(folder / "model.ubj")), str(model_dir))
    command = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model_dir),
        "--env-manager",
        "local",
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-w",
        "1",
    ]
    # MLflow starts its server as `bash -c "exec uvicorn ..."`, so uvicorn must be on PATH.
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": (folder / "mlruns").as_uri(),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with running(command, port, "/ping", env):
        body = json.dumps({"inputs": rows[:1, 1:].astype(float).tolist()}).encode()
        yield Target("mlflow models serve", port, "/invocations", body, "application/json")


def csv_row(rows: Any) -> bytes:
    return (",".join(f"{v:.10g}" for v in np.nan_to_num(rows[0, 1:])) + "\n").encode()


def measure(target: Target, concurrency: int, total: int) -> Measurement:
    per_caller = max(1, total // concurrency)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def caller() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=60)
        mine = []
        for _ in range(per_caller):
            # Signed before the clock starts: the client's signing is not the server's latency.
            headers = target.headers()
            started = time.perf_counter()
            try:
                connection.request("POST", target.path, body=target.body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=60)
                ok = False
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    warm = threading.Thread(target=lambda: [caller() for _ in range(1)])
    warm.start()
    warm.join()
    latencies.clear()
    errors[0] = 0
    threads = [threading.Thread(target=caller) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return Measurement(
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        requests_per_second=len(latencies) / wall,
        errors=errors[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--targets", nargs="+", default=["opensage", "floor", "mlflow"], help="a subset, to iterate"
    )
    parser.add_argument("--no-report", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="endpoint-bench-"))
    try:
        rows, described = train_model(folder)
        results: dict[str, dict[int, Measurement]] = {}
        factories = {"opensage": opensage_target, "floor": floor_target, "mlflow": mlflow_target}
        for label in args.targets:
            with factories[label](folder, rows, free_port()) as target:
                results[label] = {c: measure(target, c, args.requests) for c in args.concurrency}
                for concurrency, m in results[label].items():
                    print(
                        f"{label:9} x{concurrency:<3} p50 {m.p50_ms:.3f} ms  p99 {m.p99_ms:.3f} ms  "
                        f"{m.requests_per_second:.0f}/s  errors {m.errors}"
                    )
        if not args.no_report:
            report(args, described, results)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(args: argparse.Namespace, described: str, results: dict[str, dict[int, Measurement]]) -> None:
    import mlflow

    lines = [
        f"## Endpoint latency: opensage vs a bare server vs MLflow ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Command: `.venv/bin/python benchmarks/endpoint_latency.py --requests {args.requests} "
        f"--concurrency {' '.join(map(str, args.concurrency))}`  ",
        f"Machine: {machine()}; mlflow {mlflow.__version__}  ",
        f"Model: {described}; one-row requests over HTTP/1.1 keep-alive, one connection per caller",
        "",
        "| callers | server | p50 (ms) | p99 (ms) | requests/s | errors | p50 vs floor |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for concurrency in args.concurrency:
        floor = results["floor"][concurrency].p50_ms
        for label in results:
            m = results[label][concurrency]
            lines.append(
                f"| {concurrency} | {label} | {m.p50_ms:.3f} | {m.p99_ms:.3f} | {m.requests_per_second:.0f} | "
                f"{m.errors} | {m.p50_ms / floor:.2f}x |"
            )
    lines.append("")
    text = "\n".join(lines)
    print(text)
    with (ROOT / "benchmarks" / "RESULTS.md").open("a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
