"""Batch transform throughput: a transform job vs a plain chunked predict loop, same CSV, same model.

The loop is what a user would write without opensage: read the CSV in 10,000-row chunks
with pandas, ``Booster.inplace_predict`` each chunk, write the predictions one per line.
The job does the same through the API: CreateTransformJob on the CSV in the object store
(SplitType Line, MultiRecord, MaxPayloadInMB 6, Accept text/csv), a job process, a model
server, HTTP requests of up to 6 MB, and the ``.out`` object written back. Two job figures
are reported: end to end (CreateTransformJob → Completed, including starting the job
process and the model server) and the transform itself (the job's own time from opening
the input object to committing its output, from its data-log).

    .venv/bin/python benchmarks/batch_transform.py [--repeat 1 20] [--concurrency 1]

Data: UCI Adult features (../shared/datasets/tabular/adult-train.csv, numeric-encoded as
benchmarks/training_overhead.py does), the file repeated ``--repeat`` times (one table row
per value). Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import ROLE_ARN, XGBOOST_IMAGE, make_client, make_settings, model_archive  # noqa: E402

from benchmarks.training_overhead import load_rows, machine  # noqa: E402
from opensage.embedded import EmbeddedServer  # noqa: E402

BUCKET = "bench-transform"
CHUNK_ROWS = 10_000
LOG_GROUP = "/aws/sagemaker/TransformJobs"
_OBJECT_LINE = re.compile(r": (\d+) record\(s\) in (\d+) request\(s\), ([0-9.]+) s$")


def train(rows: np.ndarray, rounds: int) -> Any:
    import xgboost

    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.3, "seed": 1}
    return xgboost.train(params, xgboost.DMatrix(rows[:, 1:], label=rows[:, 0]), num_boost_round=rounds)


def predict_loop(booster: Any, csv: Path, out: Path) -> tuple[float, int]:
    """The plain loop: seconds taken and rows predicted."""
    import pandas as pd

    started = time.perf_counter()
    count = 0
    with out.open("w") as sink:
        for chunk in pd.read_csv(csv, header=None, chunksize=CHUNK_ROWS, dtype=np.float32):
            predictions = booster.inplace_predict(chunk.to_numpy())
            sink.write("\n".join(map(str, predictions.tolist())) + "\n")
            count += len(predictions)
    return time.perf_counter() - started, count


def transform_job(
    sagemaker: Any, logs: Any, name: str, repeat: int, concurrency: int
) -> tuple[float, float, int, int]:
    """End-to-end seconds, the job's own transform seconds, records and requests."""
    started = time.perf_counter()
    sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName="bench-model",
        MaxConcurrentTransforms=concurrency,
        MaxPayloadInMB=6,
        BatchStrategy="MultiRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/input-{repeat}/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": f"s3://{BUCKET}/{name}",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )
    while True:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if described["TransformJobStatus"] != "Completed":
        raise SystemExit(f"{name} ended {described['TransformJobStatus']}: {described.get('FailureReason')}")
    records, requests, seconds = _from_data_log(logs, name)
    return elapsed, seconds, records, requests


def _from_data_log(logs: Any, name: str) -> tuple[int, int, float]:
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")["logStreams"]
    data_log = next(s["logStreamName"] for s in streams if s["logStreamName"].endswith("/data-log"))
    for event in logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=data_log)["events"]:
        match = _OBJECT_LINE.search(event["message"])
        if match:
            return int(match[1]), int(match[2]), float(match[3])
    raise SystemExit(f"{name}: no per-object line in its data-log")


@dataclass(frozen=True)
class Measured:
    repeat: int
    size_mb: float
    loop_seconds: float
    loop_rows: int
    job_seconds: float = 0.0
    in_job_seconds: float = 0.0
    records: int = 0
    requests: int = 0

    @property
    def loop_rate(self) -> float:
        return self.loop_rows / self.loop_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, nargs="+", default=[1], help="copies of the dataset in the input file, per size"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="MaxConcurrentTransforms")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--print-only", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    import xgboost

    dataset, rows = load_rows()
    booster = train(rows, args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        # Every loop runs before the server starts, so no server thread shares the process with it.
        loops = {repeat: run_loop(booster, rows, repeat, scratch) for repeat in args.repeat}
        with EmbeddedServer(make_settings(scratch / "home")) as server:
            clients = {name: make_client(name, server.endpoint_url) for name in ("s3", "sagemaker", "logs")}
            _prepare(clients, booster)
            measured = [run_job(clients, loops[repeat], scratch, args.concurrency) for repeat in args.repeat]
    report(dataset, args, xgboost.__version__, measured)


def _prepare(clients: dict[str, Any], booster: Any) -> None:
    clients["s3"].create_bucket(Bucket=BUCKET)
    clients["s3"].put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=model_archive(booster))
    clients["sagemaker"].create_model(
        ModelName="bench-model",
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz"},
    )


def run_loop(booster: Any, rows: np.ndarray, repeat: int, scratch: Path) -> Measured:
    """The input file for ``repeat`` copies of the dataset, and one warm-up and one measured loop over it."""
    csv = scratch / f"features-{repeat}.csv"
    np.savetxt(csv, np.tile(rows[:, 1:], (repeat, 1)), delimiter=",", fmt="%.10g")
    predict_loop(booster, csv, scratch / "warm.out")  # warm the file cache and xgboost
    seconds, count = predict_loop(booster, csv, scratch / f"loop-{repeat}.out")
    return Measured(repeat, csv.stat().st_size / 1e6, seconds, count)


def run_job(clients: dict[str, Any], loop: Measured, scratch: Path, concurrency: int) -> Measured:
    """One warm-up and one measured transform job over the loop's file; their outputs must agree."""
    repeat = loop.repeat
    s3, sagemaker, logs = clients["s3"], clients["sagemaker"], clients["logs"]
    s3.upload_file(str(scratch / f"features-{repeat}.csv"), BUCKET, f"input-{repeat}/features.csv")
    transform_job(sagemaker, logs, f"warm-up-{repeat}", repeat, concurrency)
    job_seconds, in_job, records, requests = transform_job(
        sagemaker, logs, f"measured-{repeat}", repeat, concurrency
    )
    output = s3.get_object(Bucket=BUCKET, Key=f"measured-{repeat}/features.csv.out")["Body"].read()
    _check_same(output, scratch / f"loop-{repeat}.out")
    return replace(loop, job_seconds=job_seconds, in_job_seconds=in_job, records=records, requests=requests)


def _check_same(output: bytes, loop_file: Path) -> None:
    job_values = np.array(output.split(), dtype=np.float64)
    loop_values = np.array(loop_file.read_bytes().split(), dtype=np.float64)
    if job_values.shape != loop_values.shape or not np.allclose(job_values, loop_values, rtol=1e-6):
        raise SystemExit("the transform job's predictions differ from the loop's")


def report(dataset: str, args: argparse.Namespace, xgb_version: str, measured: list[Measured]) -> None:
    lines = [
        f"## Batch transform throughput ({datetime.now(UTC):%Y-%m-%d})",
        "",
        "Command: `.venv/bin/python benchmarks/batch_transform.py "
        f"--repeat {' '.join(map(str, args.repeat))} --concurrency {args.concurrency} --rounds {args.rounds}`  ",
        f"Machine: {machine()}; xgboost {xgb_version}  ",
        f"Data: {dataset} features, the file repeated x times; binary:logistic, max_depth 6, "
        f"{args.rounds} rounds; one measured run of each, after one warm-up run  ",
        f"Job: SplitType Line, MultiRecord, MaxPayloadInMB 6, MaxConcurrentTransforms {args.concurrency}, "
        "Accept text/csv, one instance; outputs checked equal to the loop's",
        "",
        "| input | loop s | loop rows/s | transform s | rows/s | vs loop | job s | rows/s | vs loop |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measured:
        in_job_rate, job_rate = m.records / m.in_job_seconds, m.records / m.job_seconds
        lines.append(
            f"| x{m.repeat}: {m.records:,} rows, {m.size_mb:.1f} MB, {m.requests} request(s) "
            f"| {m.loop_seconds:.3f} | {m.loop_rate:,.0f} "
            f"| {m.in_job_seconds:.3f} | {in_job_rate:,.0f} | {in_job_rate / m.loop_rate:.2f}x "
            f"| {m.job_seconds:.3f} | {job_rate:,.0f} | {job_rate / m.loop_rate:.2f}x |"
        )
    lines += [
        "",
        "loop: pandas reads the CSV in 10,000-row chunks, Booster.inplace_predict, predictions written one "
        "per line. transform: the job's own time for the object, from opening it to committing its .out "
        "(its data-log). job: CreateTransformJob → Completed through boto3, which adds starting the job "
        "process and the model server.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.print_only:
        return
    with (ROOT / "benchmarks" / "RESULTS.md").open("a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
