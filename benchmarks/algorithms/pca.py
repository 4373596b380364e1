"""PCA: opensage's streaming PCA (regular and randomized) vs scikit-learn's PCA (full and randomized).

Each contender fits the same float32 matrix; opensage's run is its training pass (mini-batches
of ``--batch`` rows through the same state the jobs use) plus the final decomposition, with no
job around it. Prints a table of seconds and the largest relative difference of the explained
variance from scikit-learn's full SVD, and appends it to benchmarks/RESULTS.md::

    .venv/bin/python benchmarks/algorithms/pca.py --rows 200000 --columns 100 --components 10
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.decomposition import PCA

from opensage.algorithms.aialgs.channels import Batch
from opensage.algorithms.pca.training import new_state

RESULTS = Path(__file__).parents[1] / "RESULTS.md"


def data(rows: int, columns: int) -> np.ndarray:
    random = np.random.default_rng(0)
    # A decaying spectrum, off the origin: what PCA is for, and what hurts naive Σxᵀx sums.
    scales = 1.0 / np.arange(1, columns + 1)
    return (
        random.normal(size=(rows, columns)) * scales @ random.normal(size=(columns, columns)) + 10
    ).astype(np.float32)


def opensage_fit(rows: np.ndarray, components: int, mode: str, batch: int) -> np.ndarray:
    values = {
        "algorithm_mode": mode,
        "feature_dim": rows.shape[1],
        "num_components": components,
        "extra_components": -1,
    }
    state = new_state(values, 0)
    for start in range(0, rows.shape[0], batch):
        state.add(Batch(rows[start : start + batch], None, "bench"))
    return state.finish(components, True).explained_variance


def timed(fit: object) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    result = fit()  # type: ignore[operator]
    return time.perf_counter() - started, np.asarray(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    rows = data(args.rows, args.columns)
    k = args.components
    runs = {
        "scikit-learn PCA(svd_solver='full')": lambda: (
            PCA(k, svd_solver="full").fit(rows).explained_variance_
        ),
        "scikit-learn PCA(svd_solver='randomized')": lambda: (
            PCA(k, svd_solver="randomized", random_state=0).fit(rows).explained_variance_
        ),
        "opensage PCA algorithm_mode=regular": lambda: opensage_fit(rows, k, "regular", args.batch),
        "opensage PCA algorithm_mode=randomized": lambda: opensage_fit(rows, k, "randomized", args.batch),
    }
    results = {name: timed(run) for name, run in runs.items()}
    reference = PCA(k, svd_solver="full").fit(rows.astype(np.float64)).explained_variance_
    lines = [
        "| | seconds | max relative diff. of explained variance vs float64 full SVD |",
        "|---|---:|---:|",
    ]
    for name, (seconds, variance) in results.items():
        difference = float(np.max(np.abs(variance - reference) / reference))
        lines.append(f"| {name} | {seconds:.3f} | {difference:.2e} |")
    table = "\n".join(lines) + (
        "\n\nregular: exact float64 statistics (n, mean, M2) merged batch by batch, then an eigendecomposition "
        "of the d x d scatter; randomized: SageMaker's one-pass random-sign sketch with its default "
        "l = k + max(10, k) rows, a coarse estimate by design (raise extra_components for a closer one)."
    )
    print(table)
    command = (
        f"`.venv/bin/python benchmarks/algorithms/pca.py --rows {args.rows} --columns {args.columns} "
        f"--components {k} --batch {args.batch}`"
    )
    header = (
        f"\n## PCA: opensage vs scikit-learn ({datetime.date.today().isoformat()})\n\n"
        f"Command: {command}  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python "
        f"{platform.python_version()}; scikit-learn {sklearn.__version__}, numpy {np.__version__}  \n"
        f"Data: {args.rows} x {args.columns} float32, decaying spectrum, mean 10; {k} components\n\n"
    )
    with RESULTS.open("a") as out:
        out.write(header + table + "\n")


if __name__ == "__main__":
    main()
