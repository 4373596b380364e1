"""Script mode and processing overhead: a user's script through the API vs the same script run by hand.

The peer of script mode is what a user does without a platform: ``python train.py`` with
the data on local disk (SageMaker's local mode would need Docker and the framework
images). Both sides run the same scikit-learn script on the same data, with the same
``SM_*`` variables; the job additionally goes through the S3 API, a job process, the
source download and unpacking, the /opt/ml mount namespace, log capture, packing and
uploading model.tar.gz. Processing is measured the same way: a split script run by hand vs
CreateProcessingJob with the script and the data as inputs and two outputs.

    .venv/bin/python benchmarks/script_mode.py [--runs 7]

Data: UCI Adult (../shared/datasets/tabular/adult-train.csv, 32,561 rows) when present,
else scikit-learn's breast-cancer set. Results are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scripts import SKLEARN_IMAGE, script_job, source_tarball  # noqa: E402
from tests.support import ROLE_ARN, make_client, make_settings  # noqa: E402

from benchmarks.training_overhead import load_rows, machine, write_csv  # noqa: E402
from opensage.embedded import EmbeddedServer  # noqa: E402

BUCKET = "bench-script-mode"

TRAIN = """
    import argparse, glob, os
    import joblib, numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--max-iter", type=int, default=100)
        args = parser.parse_args()
        rows = np.vstack([np.loadtxt(f, delimiter=",") for f in glob.glob(os.environ["SM_CHANNEL_TRAIN"] + "/*.csv")])
        model = HistGradientBoostingClassifier(max_iter=args.max_iter).fit(rows[:, 1:], rows[:, 0])
        print(f"train accuracy={model.score(rows[:, 1:], rows[:, 0]):.4f}")
        joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
    """

SPLIT = """
    import glob, os, sys
    import numpy as np

    base = sys.argv[1] if len(sys.argv) > 1 else "/opt/ml/processing"
    rows = np.vstack([np.loadtxt(f, delimiter=",") for f in glob.glob(base + "/input/data/*.csv")])
    order = np.random.default_rng(0).permutation(len(rows))
    cut = int(len(rows) * 0.75)
    np.savetxt(base + "/train/train.csv", rows[order[:cut]], delimiter=",", fmt="%.10g")
    np.savetxt(base + "/test/test.csv", rows[order[cut:]], delimiter=",", fmt="%.10g")
    print("split", cut, len(rows) - cut)
    """


def by_hand_training(script: Path, data: Path, scratch: Path) -> float:
    model = scratch / "model"
    model.mkdir(exist_ok=True)
    environment = {**os.environ, "SM_CHANNEL_TRAIN": str(data), "SM_MODEL_DIR": str(model)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(script), "--max-iter", "100"], env=environment, check=True, capture_output=True
    )
    return time.perf_counter() - started


def by_hand_processing(script: Path, base: Path) -> float:
    for part in ("train", "test"):
        (base / part).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, str(script), str(base)], check=True, capture_output=True)
    return time.perf_counter() - started


def timed(create: Callable[[], Any], describe: Callable[[], dict[str, Any]], status_field: str) -> float:
    started = time.perf_counter()
    create()
    while True:
        described = describe()
        if described[status_field] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if described[status_field] != "Completed":
        raise SystemExit(f"ended {described[status_field]}: {described.get('FailureReason')}")
    return elapsed


def training_job(sagemaker: Any, name: str) -> float:
    request = script_job(
        name,
        SKLEARN_IMAGE,
        "train.py",
        f"s3://{BUCKET}/code/sourcedir.tar.gz",
        {"train": f"s3://{BUCKET}/data/"},
        f"s3://{BUCKET}/output",
        {"max-iter": "100"},
    )
    return timed(
        lambda: sagemaker.create_training_job(**request),
        lambda: sagemaker.describe_training_job(TrainingJobName=name),
        "TrainingJobStatus",
    )


def processing_job(sagemaker: Any, name: str) -> float:
    def s3_input(input_name: str, uri: str, path: str) -> dict[str, Any]:
        source = {"S3Uri": uri, "LocalPath": path, "S3DataType": "S3Prefix", "S3InputMode": "File"}
        return {"InputName": input_name, "S3Input": source}

    def s3_output(part: str) -> dict[str, Any]:
        target = {"S3Uri": f"s3://{BUCKET}/{name}/{part}", "LocalPath": f"/opt/ml/processing/{part}"}
        return {"OutputName": part, "S3Output": {**target, "S3UploadMode": "EndOfJob"}}

    request = {
        "ProcessingJobName": name,
        "RoleArn": ROLE_ARN,
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/split.py"],
        },
        "ProcessingInputs": [
            s3_input("code", f"s3://{BUCKET}/split/split.py", "/opt/ml/processing/input/code"),
            s3_input("data", f"s3://{BUCKET}/data/", "/opt/ml/processing/input/data"),
        ],
        "ProcessingOutputConfig": {"Outputs": [s3_output("train"), s3_output("test")]},
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10}
        },
    }
    return timed(
        lambda: sagemaker.create_processing_job(**request),
        lambda: sagemaker.describe_processing_job(ProcessingJobName=name),
        "ProcessingJobStatus",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    import sklearn

    dataset, rows = load_rows()
    train_script, split_script = textwrap.dedent(TRAIN), textwrap.dedent(SPLIT)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        data = scratch / "data"
        data.mkdir()
        write_csv(rows, data / "train.csv")
        (scratch / "train.py").write_text(train_script)
        (scratch / "split.py").write_text(split_script)
        processing_base = scratch / "processing"
        (processing_base / "input").mkdir(parents=True)
        (processing_base / "input" / "data").symlink_to(data)
        with EmbeddedServer(make_settings(scratch / "home")) as server:
            s3 = make_client("s3", server.endpoint_url)
            sagemaker = make_client("sagemaker", server.endpoint_url)
            s3.create_bucket(Bucket=BUCKET)
            s3.upload_file(str(data / "train.csv"), BUCKET, "data/train.csv")
            s3.put_object(
                Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=source_tarball({"train.py": TRAIN})
            )
            s3.put_object(Bucket=BUCKET, Key="split/split.py", Body=split_script.encode())
            # One warm-up of each side, so all run with the OS file cache and bytecode warm.
            by_hand_training(scratch / "train.py", data, scratch)
            training_job(sagemaker, "warm-up")
            by_hand_processing(scratch / "split.py", processing_base)
            processing_job(sagemaker, "warm-up-split")
            times: dict[str, list[float]] = {key: [] for key in ("hand", "job", "hand-split", "split")}
            for run in range(args.runs):
                times["hand"].append(by_hand_training(scratch / "train.py", data, scratch))
                times["job"].append(training_job(sagemaker, f"script-{run}"))
                times["hand-split"].append(by_hand_processing(scratch / "split.py", processing_base))
                times["split"].append(processing_job(sagemaker, f"split-{run}"))
    report(dataset, args, sklearn.__version__, times)


def _row(label: str, times: list[float]) -> str:
    return f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |"


def report(
    dataset: str, args: argparse.Namespace, sklearn_version: str, times: dict[str, list[float]]
) -> None:
    median = {key: statistics.median(values) for key, values in times.items()}
    lines = [
        f"## Script mode and processing overhead ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Command: `.venv/bin/python benchmarks/script_mode.py --runs {args.runs}`  ",
        f"Machine: {machine()}; scikit-learn {sklearn_version}  ",
        f"Data: {dataset}; HistGradientBoostingClassifier(max_iter=100); a 75/25 shuffle split",
        "",
        "| | median (s) | min (s) | max (s) |",
        "|---|---:|---:|---:|",
        _row("`python train.py` by hand (SM_CHANNEL_TRAIN, SM_MODEL_DIR on local disk)", times["hand"]),
        _row("opensage script-mode CreateTrainingJob → Completed (boto3)", times["job"]),
        f"| **training overhead (difference of medians)** | **{median['job'] - median['hand']:.3f}** | | |",
        f"| ratio job / by hand | {median['job'] / median['hand']:.2f}x | | |",
        _row("`python split.py` by hand", times["hand-split"]),
        _row("opensage CreateProcessingJob → Completed (boto3)", times["split"]),
        f"| **processing overhead (difference of medians)** | **{median['split'] - median['hand-split']:.3f}** | | |",
        f"| ratio job / by hand | {median['split'] / median['hand-split']:.2f}x | | |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    with (ROOT / "benchmarks" / "RESULTS.md").open("a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
