"""Random Cut Forest on the Numenta Anomaly Benchmark: opensage's RCF vs the published AWS RCF and rrcf.

RCF runs as NAB ran AWS's (100 trees, 256 samples per tree, shingle size 1, streaming scores:
each point scored by a forest of the points before it, score / log2(256)) over all 58 NAB series,
scored with NAB's rules (nab_scoring.py: windows, scaled sigmoid, the three profiles, one
corpus-wide threshold per profile, normalised against the null and perfect detectors) and set
beside the published final scores. Throughput is compared with the ``rrcf`` package streaming
the same way (insert, CoDisp, forget, per tree) on the first ``--rrcf-points`` points of one
series. Prints a table and appends it to benchmarks/RESULTS.md::

    .venv/bin/python benchmarks/algorithms/rcf_nab.py --rrcf-points 400
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import time
import types
from pathlib import Path

import numpy as np

# Run as a script, this folder is on sys.path: the NAB scorer sits beside it.
from nab_scoring import load_corpus, optimised_scores

from opensage.algorithms.rcf.streaming import stream_scores

RESULTS = Path(__file__).parents[1] / "RESULTS.md"
NAB = Path(__file__).parents[3] / "shared" / "datasets" / "nab"
PUBLISHED = ("randomCutForest", "windowedGaussian")


def rrcf_points_per_second(values: np.ndarray, trees: int, size: int) -> float:
    # rrcf 0.4.4 reads its version through pkg_resources, which current setuptools no longer ships.
    sys.modules.setdefault(
        "pkg_resources",
        types.SimpleNamespace(
            get_distribution=lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))
        ),
    )
    import rrcf

    forest = [rrcf.RCTree() for _ in range(trees)]
    started = time.perf_counter()
    for index, value in enumerate(values):
        for tree in forest:
            if len(tree.leaves) > size:
                tree.forget_point(index - size - 1)
            tree.insert_point(np.array([value]), index=index)
            tree.codisp(index)
    return len(values) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab", type=Path, default=NAB)
    parser.add_argument("--rrcf-points", type=int, default=400)
    args = parser.parse_args()
    corpus = load_corpus(args.nab)
    points = sum(series.values.shape[0] for series in corpus)
    started = time.perf_counter()
    scores = [
        stream_scores(series.values[:, None], num_trees=100, num_samples_per_tree=256, seed=index)
        / np.log2(256)
        for index, series in enumerate(corpus)
    ]
    seconds = time.perf_counter() - started
    ours = optimised_scores(corpus, scores)
    published = json.loads((args.nab / "results" / "final_results.json").read_text())
    rrcf_rate = rrcf_points_per_second(corpus[0].values[: args.rrcf_points], 100, 256)
    profiles = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
    lines = [
        "| detector | standard | reward_low_FP_rate | reward_low_FN_rate |",
        "|---|---:|---:|---:|",
        "| opensage RCF (streaming, this run) | " + " | ".join(f"{ours[p][0]:.1f}" for p in profiles) + " |",
    ]
    for name in PUBLISHED:
        lines.append(
            f"| {name} (published) | " + " | ".join(f"{published[name][p]:.1f}" for p in profiles) + " |"
        )
    lines += [
        "",
        "| | points | seconds | points/s |",
        "|---|---:|---:|---:|",
        f"| opensage RCF, whole corpus | {points} | {seconds:.1f} | {points / seconds:.0f} |",
        f"| rrcf 0.4.4 (insert + codisp + forget) | {args.rrcf_points} | {args.rrcf_points / rrcf_rate:.1f} | "
        f"{rrcf_rate:.0f} |",
        f"| ratio | | | {points / seconds / rrcf_rate:.0f}x |",
    ]
    thresholds = ", ".join(f"{p} {ours[p][1]:.3f}" for p in profiles)
    table = "\n".join(lines) + (
        f"\n\nThresholds (score / log2(256), one per profile over the corpus): {thresholds}. The threshold "
        "is the exact optimum of a sweep over every distinct score; NAB's own optimiser is a local search, "
        "so its thresholds can only score the same or lower. opensage rebuilds the forest after every "
        "step of max(32, min(512, seen/32)) points rather than after every point."
    )
    print(table)
    header = (
        f"\n## Random Cut Forest on NAB: opensage vs published AWS RCF, rrcf ({datetime.date.today().isoformat()})\n\n"
        f"Command: `.venv/bin/python benchmarks/algorithms/rcf_nab.py --rrcf-points {args.rrcf_points}`  \n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, Python "
        f"{platform.python_version()}; numpy {np.__version__}; shared with other agents' jobs while it ran, "
        "so the seconds are an upper bound  \n"
        f"Data: NAB, {len(corpus)} series, {points} points, labels/combined_windows.json\n\n"
    )
    with RESULTS.open("a") as out:
        out.write(header + table + "\n")


if __name__ == "__main__":
    main()
