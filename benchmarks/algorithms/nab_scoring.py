"""The Numenta Anomaly Benchmark's scoring, written from its published description (Lavin & Ahmad 2015).

Each labelled anomaly has a window of rows. Within a window only the earliest detection counts,
weighted by a scaled sigmoid of its place in the window (about +1 at the window's start, 0 at
its end); a detection outside every window is a false positive, weighted by the same sigmoid of
its distance past the preceding window (-1 before the first window or far past one); a window
with no detection costs the false-negative weight. Rows in a file's probationary period (the
first 15 %, at most 750 rows) are not scored. One threshold serves the whole corpus and is chosen
per profile to maximise the total; the total is normalised to 100 x (raw - null) / (perfect - null),
where the null detector finds nothing (-fn weight per window) and the perfect one finds every
window at its start (the tp weight per window, as NAB's published totals imply).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# NAB's config/profiles.json cost matrices (not in the dataset copy; these are NAB's published weights).
PROFILES = {
    "standard": {"tp": 1.0, "fp": 0.11, "fn": 1.0},
    "reward_low_FP_rate": {"tp": 1.0, "fp": 0.22, "fn": 1.0},
    "reward_low_FN_rate": {"tp": 1.0, "fp": 0.11, "fn": 2.0},
}


@dataclass(frozen=True)
class LabelledSeries:
    name: str
    values: np.ndarray
    window: np.ndarray  # corpus-wide window id per row, -1 outside windows
    weight: np.ndarray  # the unweighted (sigmoid) score a detection on that row earns
    probation: int


def scaled_sigmoid(position: np.ndarray) -> np.ndarray:
    return np.where(position > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0)


def load_corpus(root: Path) -> list[LabelledSeries]:
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    corpus, next_window = [], 0
    for name in sorted(windows):
        frame = pd.read_csv(root / "data" / name)
        times = pd.to_datetime(frame["timestamp"]).to_numpy()
        n = len(frame)
        window = np.full(n, -1)
        weight = np.full(n, -1.0)
        starts = []
        for start, end in windows[name]:
            inside = np.flatnonzero(
                (times >= np.datetime64(pd.Timestamp(start))) & (times <= np.datetime64(pd.Timestamp(end)))
            )
            left, right = int(inside[0]), int(inside[-1])
            starts.append((left, right))
            width = right - left + 1
            window[left : right + 1] = next_window
            next_window += 1
            rows = np.arange(left, right + 1)
            weight[left : right + 1] = scaled_sigmoid(-(right - rows + 1) / width)
        for index, (left, right) in enumerate(starts):
            stop = starts[index + 1][0] if index + 1 < len(starts) else n
            rows = np.arange(right + 1, stop)
            width = right - left + 1
            weight[right + 1 : stop] = scaled_sigmoid(np.abs(right - rows) / max(width - 1, 1))
        probation = int(min(np.floor(0.15 * n), 0.15 * 5000))
        corpus.append(LabelledSeries(name, frame["value"].to_numpy(np.float64), window, weight, probation))
    return corpus


def optimised_scores(
    corpus: list[LabelledSeries], scores: list[np.ndarray]
) -> dict[str, tuple[float, float]]:
    """Per profile: (normalised NAB score, threshold) at the corpus-wide threshold that maximises it."""
    score = np.concatenate([s[c.probation :] for c, s in zip(corpus, scores, strict=True)])
    window = np.concatenate([c.window[c.probation :] for c in corpus])
    weight = np.concatenate([c.weight[c.probation :] for c in corpus])
    windows = int(max(c.window.max() for c in corpus)) + 1
    order = np.argsort(-score, kind="stable")
    score, window, weight = score[order], window[order], weight[order]
    # Thresholds sit at the last row of each run of equal scores (detections are score >= t).
    last_of_tie = np.append(score[1:] != score[:-1], True)
    in_window = window >= 0
    results = {}
    for profile, cost in PROFILES.items():
        delta = np.where(in_window, 0.0, cost["fp"] * weight)
        # A window's value: -fn until detected, then tp x the best (earliest) detection so far.
        rows = np.flatnonzero(in_window)
        frame = pd.DataFrame({"window": window[rows], "value": cost["tp"] * weight[rows]})
        best = frame.groupby("window")["value"].cummax().to_numpy()
        before = frame.assign(best=best).groupby("window")["best"].shift(1).fillna(-cost["fn"]).to_numpy()
        delta[rows] = best - before
        totals = -cost["fn"] * windows + np.cumsum(delta)
        candidates = np.append(totals[last_of_tie], -cost["fn"] * windows)
        thresholds = np.append(score[last_of_tie], np.inf)
        pick = int(np.argmax(candidates))
        null, perfect = -cost["fn"] * windows, cost["tp"] * windows
        results[profile] = (100.0 * (candidates[pick] - null) / (perfect - null), float(thresholds[pick]))
    return results
