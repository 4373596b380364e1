"""Training-job overhead: CreateTrainingJob → Completed through the API vs the same xgboost.train in-process.

Both sides do the same work on the same data: read the CSV, build the DMatrix, train,
save the model. The job additionally goes through the S3 API, a job process, a host
process, log capture, packing and uploading model.tar.gz. The difference of the medians is
the platform's overhead (SageMaker itself spends minutes provisioning instances).

    .venv/bin/python benchmarks/training_overhead.py [--runs 7] [--rounds 50]

Data: UCI Adult (../shared/datasets/tabular/adult-train.csv, 32,561 rows) when present,
else scikit-learn's breast-cancer set. Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import make_client, make_settings, wait_terminal, xgboost_job  # noqa: E402

from opensage.embedded import EmbeddedServer  # noqa: E402

ADULT = ROOT.parent / "shared" / "datasets" / "tabular" / "adult-train.csv"
BUCKET = "bench-overhead"


def load_rows() -> tuple[str, np.ndarray]:
    """Label-first numeric rows: Adult with categories as ordinal codes, or breast cancer."""
    if ADULT.exists():
        import pandas as pd

        frame = pd.read_csv(ADULT, header=None, skipinitialspace=True, na_values="?")
        label = (frame[14].astype(str).str.startswith(">50K")).astype(float)
        features = frame.drop(columns=[14])
        for column in features.columns:
            if not pd.api.types.is_numeric_dtype(features[column]):
                features[column] = features[column].astype("category").cat.codes.replace(-1, np.nan)
        return "UCI Adult (32,561 rows, 14 features)", np.column_stack([label, features.to_numpy(float)])
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return "breast cancer (569 rows, 30 features)", np.column_stack([data.target, data.data])


def write_csv(rows: np.ndarray, path: Path) -> None:
    np.savetxt(path, rows, delimiter=",", fmt="%.10g")


def in_process(csv: Path, params: dict[str, Any], rounds: int, scratch: Path) -> float:
    import xgboost

    started = time.perf_counter()
    rows = np.loadtxt(csv, delimiter=",")
    train = xgboost.DMatrix(rows[:, 1:], label=rows[:, 0])
    booster = xgboost.train(
        params, train, num_boost_round=rounds, evals=[(train, "train")], verbose_eval=True
    )
    booster.save_model(scratch / "xgboost-model")
    return time.perf_counter() - started


def through_api(sagemaker: Any, name: str, rounds: int) -> tuple[float, dict[str, Any]]:
    hyperparameters = {
        "objective": "binary:logistic",
        "num_round": str(rounds),
        "max_depth": "6",
        "eta": "0.3",
    }
    request = xgboost_job(name, BUCKET, {"train": f"s3://{BUCKET}/train/"}, hyperparameters)
    started = time.perf_counter()
    sagemaker.create_training_job(**request)
    while True:
        described = sagemaker.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if described["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name} ended {described['TrainingJobStatus']}: {described.get('FailureReason')}")
    return elapsed, described


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    import xgboost

    dataset, rows = load_rows()
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.3}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        csv = scratch / "train.csv"
        write_csv(rows, csv)
        with EmbeddedServer(make_settings(scratch / "home")) as server:
            s3 = make_client("s3", server.endpoint_url)
            sagemaker = make_client("sagemaker", server.endpoint_url)
            s3.create_bucket(Bucket=BUCKET)
            s3.upload_file(str(csv), BUCKET, "train/train.csv")
            # One warm-up of each, so both sides run with the OS file cache and compiled bytecode warm.
            in_process(csv, params, args.rounds, scratch)
            through_api(sagemaker, "warm-up", args.rounds)
            local_times, job_times = [], []
            for run in range(args.runs):
                local_times.append(in_process(csv, params, args.rounds, scratch))
                elapsed, described = through_api(sagemaker, f"overhead-{run}", args.rounds)
                job_times.append(elapsed)
            wait_terminal(sagemaker, f"overhead-{args.runs - 1}")
    local, job = statistics.median(local_times), statistics.median(job_times)
    report(dataset, args, xgboost.__version__, local, job, local_times, job_times, described)


def _row(label: str, times: list[float]) -> str:
    return f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |"


def report(
    dataset: str,
    args: argparse.Namespace,
    xgb_version: str,
    local: float,
    job: float,
    local_times: list[float],
    job_times: list[float],
    described: dict[str, Any],
) -> None:
    phases = {
        t["Status"]: (t["EndTime"] - t["StartTime"]).total_seconds()
        for t in described["SecondaryStatusTransitions"]
        if "EndTime" in t
    }
    lines = [
        f"## Training-job overhead ({datetime.now(UTC):%Y-%m-%d})",
        "",
        "Command: `.venv/bin/python benchmarks/training_overhead.py "
        f"--runs {args.runs} --rounds {args.rounds}`  ",
        f"Machine: {machine()}; xgboost {xgb_version}  ",
        f"Data: {dataset}; binary:logistic, max_depth 6, eta 0.3, {args.rounds} rounds",
        "",
        "| | median (s) | min (s) | max (s) |",
        "|---|---:|---:|---:|",
        _row("xgboost in-process (read CSV, DMatrix, train, save)", local_times),
        _row("opensage CreateTrainingJob → Completed (boto3)", job_times),
        f"| **overhead (difference of medians)** | **{job - local:.3f}** | | |",
        f"| ratio job / in-process | {job / local:.2f}x | | |",
        "",
        "Secondary-status phases of the last job (s): "
        + ", ".join(f"{status} {seconds:.3f}" for status, seconds in phases.items()),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    results = ROOT / "benchmarks" / "RESULTS.md"
    if not results.exists():
        results.write_text("# Benchmark results\n\nEach section is appended by the benchmark it names.\n\n")
    with results.open("a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
