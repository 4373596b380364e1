"""K-Means: opensage's streaming k-means vs scikit-learn's KMeans (k-means++) and MiniBatchKMeans.

Each contender clusters the same float32 matrices: a Gaussian mixture (``--rows`` x ``--columns``,
``--k`` overlapping clusters) and a real set, the numeric columns of UCI Adult (train + test,
standardised, from ../shared/datasets). opensage's run is its training path without a job
around it: the streaming pass over mini-batches of ``--batch`` rows through the state the jobs
use, then the local Lloyd reduction, with SageMaker's defaults. Prints seconds and the sum of
squared distances (SSE, float64) relative to KMeans', and appends the table to
benchmarks/RESULTS.md::

    .venv/bin/python benchmarks/algorithms/kmeans.py --rows 500000 --columns 20 --k 10
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn
from sklearn.cluster import KMeans, MiniBatchKMeans

from opensage.algorithms.kmeans.algorithm import hyperparameter_spec
from opensage.algorithms.kmeans.geometry import nearest
from opensage.algorithms.kmeans.lloyd import AUTO_TRIALS
from opensage.algorithms.kmeans.streaming import StreamingState, merge_states
from opensage.algorithms.kmeans.training import extra_center_factor, reduce_to_k

RESULTS = Path(__file__).parents[1] / "RESULTS.md"
ADULT = Path(__file__).parents[3] / "shared" / "datasets" / "tabular"


def mixture(rows: int, columns: int, k: int) -> np.ndarray:
    random = np.random.default_rng(0)
    # Means close enough, and spreads unequal enough, that the clusters overlap.
    means = random.normal(scale=1.5, size=(k, columns))
    labels = random.integers(0, k, rows)
    spread = random.uniform(0.5, 1.5, size=k)[labels, None]
    return (means[labels] + random.normal(size=(rows, columns)) * spread).astype(np.float32)


def adult() -> np.ndarray:
    import pandas as pd

    frames = [pd.read_csv(ADULT / f"adult-{part}.csv", header=None) for part in ("train", "test")]
    numeric = pd.concat(frames).select_dtypes("number").to_numpy(np.float64)
    return ((numeric - numeric.mean(axis=0)) / numeric.std(axis=0)).astype(np.float32)


def opensage_fit(rows: np.ndarray, k: int, batch: int, **changes: str) -> np.ndarray:
    values = hyperparameter_spec().validate(
        {"feature_dim": str(rows.shape[1]), "k": str(k), "mini_batch_size": str(batch), **changes}
    )
    state = StreamingState(
        k * extra_center_factor(values),
        rows.shape[1],
        init_method=values["init_method"],
        half_life=values["half_life_time_size"],
        host_rank=0,
    )
    for _ in range(values["epochs"]):
        state.start_epoch()
        for start in range(0, rows.shape[0], batch):
            state.add(rows[start : start + batch])
    centers, weights, _ = merge_states([state.to_bytes()])
    return reduce_to_k(centers, weights, values)


def sse(rows: np.ndarray, centers: np.ndarray) -> float:
    total = 0.0
    for start in range(0, rows.shape[0], 65536):
        block = rows[start : start + 65536].astype(np.float64)
        total += float(nearest(block, np.asarray(centers, dtype=np.float64))[1].sum())
    return total


def timed(fit: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    centers = fit()
    return time.perf_counter() - started, centers


def contenders(rows: np.ndarray, k: int, batch: int) -> dict[str, Callable[[], np.ndarray]]:
    return {
        "scikit-learn KMeans(init='k-means++')": lambda: KMeans(k, random_state=0).fit(rows).cluster_centers_,
        "scikit-learn KMeans(init='k-means++', n_init=10)": lambda: (
            KMeans(k, n_init=10, random_state=0).fit(rows).cluster_centers_
        ),
        f"scikit-learn MiniBatchKMeans(batch_size={batch})": lambda: (
            MiniBatchKMeans(k, batch_size=batch, random_state=0).fit(rows).cluster_centers_
        ),
        "opensage K-Means (defaults: init_method=random, 1 epoch)": lambda: opensage_fit(rows, k, batch),
        "opensage K-Means init_method=kmeans++": lambda: opensage_fit(rows, k, batch, init_method="kmeans++"),
        "opensage K-Means epochs=2": lambda: opensage_fit(rows, k, batch, epochs="2"),
    }


def table(name: str, rows: np.ndarray, k: int, batch: int) -> str:
    results = {label: timed(fit) for label, fit in contenders(rows, k, batch).items()}
    reference_seconds, reference_centers = next(iter(results.values()))
    reference = sse(rows, reference_centers)
    lines = [
        f"{name}: {rows.shape[0]} x {rows.shape[1]}, k = {k}",
        "",
        "| | seconds | time vs KMeans | SSE | SSE vs KMeans |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, (seconds, centers) in results.items():
        error = sse(rows, centers)
        lines.append(
            f"| {label} | {seconds:.3f} | {seconds / reference_seconds:.2f}x | {error:.6g} | {error / reference:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--adult-k", type=int, default=8)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    tables = [
        table("Gaussian mixture", mixture(args.rows, args.columns, args.k), args.k, args.batch),
        table("UCI Adult, 6 numeric columns standardised", adult(), args.adult_k, args.batch),
    ]
    text = "\n\n".join(tables) + (
        "\n\nThe reference KMeans runs one k-means++ start (n_init='auto', its default) with Lloyd to convergence over all the data; "
        "opensage makes one streaming pass (SageMaker's design: k x 10 centres, then a weighted local Lloyd "
        f"reduction with {AUTO_TRIALS} greedy k-means++ restarts run until the loss settles), so its data cost is one pass whatever the data. "
        "Times on a machine shared with other agents' jobs while it ran: expect +-20%."
    )
    print(text)
    command = (
        f"`.venv/bin/python benchmarks/algorithms/kmeans.py --rows {args.rows} --columns {args.columns} "
        f"--k {args.k} --adult-k {args.adult_k} --batch {args.batch}`"
    )
    header = (
        f"\n## K-Means: opensage vs scikit-learn ({datetime.date.today().isoformat()})\n\n"
        f"Command: {command}  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python "
        f"{platform.python_version()}; scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
        "shared with other agents' work while it ran\n\n"
    )
    with RESULTS.open("a") as out:
        out.write(header + text + "\n")


if __name__ == "__main__":
    main()
