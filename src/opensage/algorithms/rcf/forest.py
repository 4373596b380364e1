"""Robust random cut trees as flat arrays: every tree of a forest built and traversed at once.

A forest is one set of node arrays (``left``, ``right``, ``dim``, ``cut``, bounding boxes,
``mass``, ``depth``) holding all its trees; ``roots[t]`` is tree t's root. Building works level
by level on all trees together: each node's points are one contiguous segment of a permutation,
a cut picks a dimension with probability proportional to the box's extent along it and a
uniform position inside it (Guha et al. 2016), and the segment is partitioned stably in O(n).

Scoring walks every (row, tree) pair down together, one level per step, and adds up, for a
point inserted by a random cut, the chance of being cut off at each node: the expected
collusive displacement (CoDisp) and SageMaker's scale, the expected inverse depth at which
the point would be isolated times log2(sample size), so that ordinary points score about 1
and points isolated near the root score several times that (up to log2 of the sample size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Bounds the (pairs x feature_dim) temporaries of one traversal step.
_PAIR_VALUES_PER_CHUNK = 1 << 22


@dataclass(frozen=True)
class Forest:
    """Trees over ``sample_size`` points each; node arrays indexed by node id (leaves: ``left == -1``)."""

    roots: np.ndarray  # (num_trees,) int64
    left: np.ndarray  # (nodes,) int64, -1 at a leaf
    right: np.ndarray  # (nodes,) int64
    dim: np.ndarray  # (nodes,) int64
    cut: np.ndarray  # (nodes,) float64: a point goes left when x[dim] <= cut
    box_min: np.ndarray  # (nodes, d) float64
    box_max: np.ndarray  # (nodes, d) float64
    mass: np.ndarray  # (nodes,) int64: points under the node
    depth: np.ndarray  # (nodes,) int64: 0 at a root
    sample_size: int

    @property
    def num_trees(self) -> int:
        return int(self.roots.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.box_min.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "roots": self.roots,
            "left": self.left,
            "right": self.right,
            "dim": self.dim,
            "cut": self.cut,
            "box_min": self.box_min,
            "box_max": self.box_max,
            "mass": self.mass,
            "depth": self.depth,
            "sample_size": np.array(self.sample_size),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Forest:
        fields = {
            name: np.asarray(arrays[name]) for name in cls.__dataclass_fields__ if name != "sample_size"
        }
        return cls(**fields, sample_size=int(arrays["sample_size"]))


def _segment_positions(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments (start, length): every position they cover and the segment each belongs to."""
    segment = np.repeat(np.arange(starts.shape[0]), lengths)
    offsets = np.cumsum(lengths) - lengths
    return starts[segment] + (np.arange(segment.shape[0]) - offsets[segment]), segment


def build_forest(samples: np.ndarray, rng: np.random.Generator) -> Forest:
    """One tree per ``samples[t]`` (shape (num_trees, points, d)); identical points share a leaf."""
    num_trees, points, d = samples.shape
    if points < 1:
        raise ValueError("a tree needs at least one point")
    x = np.ascontiguousarray(samples, dtype=np.float64).reshape(num_trees * points, d)
    capacity = num_trees * (2 * points - 1)
    left = np.full(capacity, -1, dtype=np.int64)
    right = np.full(capacity, -1, dtype=np.int64)
    dim = np.zeros(capacity, dtype=np.int64)
    cut = np.zeros(capacity)
    box_min = np.zeros((capacity, d))
    box_max = np.zeros((capacity, d))
    mass = np.zeros(capacity, dtype=np.int64)
    depth = np.zeros(capacity, dtype=np.int64)

    order = np.arange(num_trees * points)
    starts = np.arange(num_trees, dtype=np.int64) * points
    lengths = np.full(num_trees, points, dtype=np.int64)
    nodes = np.arange(num_trees, dtype=np.int64)
    next_id = num_trees
    level = 0
    while nodes.shape[0]:
        positions, segment = _segment_positions(starts, lengths)
        members = x[order[positions]]
        offsets = np.cumsum(lengths) - lengths
        low = np.minimum.reduceat(members, offsets, axis=0)
        high = np.maximum.reduceat(members, offsets, axis=0)
        box_min[nodes], box_max[nodes] = low, high
        mass[nodes], depth[nodes] = lengths, level
        extent = high - low
        total = extent.sum(axis=1)
        split = (lengths > 1) & (total > 0)
        if not split.any():
            break
        # Cut position r uniform in [0, total extent): the dimension it falls in is chosen with
        # probability proportional to its extent, and the cut sits at r's offset inside it.
        extent, low, high = extent[split], low[split], high[split]
        r = rng.random(extent.shape[0]) * total[split]
        cumulative = np.cumsum(extent, axis=1)
        chosen = np.minimum((cumulative <= r[:, None]).sum(axis=1), d - 1)
        rows = np.arange(chosen.shape[0])
        value = low[rows, chosen] + (r - (cumulative[rows, chosen] - extent[rows, chosen]))
        # Rounding must not put the cut at the box's top: the right side would be empty.
        value = np.clip(value, low[rows, chosen], np.nextafter(high[rows, chosen], -np.inf))
        split_nodes = nodes[split]
        dim[split_nodes], cut[split_nodes] = chosen, value

        # Partition each split segment stably: its left points first, then its right points.
        which = np.cumsum(split) - 1  # a segment's index among the split ones
        in_split = split[segment]
        positions, segment = positions[in_split], which[segment[in_split]]
        members = members[in_split]
        goes_right = members[np.arange(members.shape[0]), chosen[segment]] > value[segment]
        goes_left = ~goes_right
        split_lengths = lengths[split]
        split_offsets = np.cumsum(split_lengths) - split_lengths
        left_before = np.cumsum(goes_left) - goes_left
        left_rank = left_before - left_before[split_offsets][segment]
        n_left = np.add.reduceat(goes_left.astype(np.int64), split_offsets)
        right_rank = (np.arange(positions.shape[0]) - split_offsets[segment]) - left_rank
        split_starts = starts[split]
        target = split_starts[segment] + np.where(goes_left, left_rank, n_left[segment] + right_rank)
        order[target] = order[positions].copy()

        children = next_id + 2 * np.arange(split_nodes.shape[0])
        left[split_nodes], right[split_nodes] = children, children + 1
        next_id += 2 * split_nodes.shape[0]
        starts = np.stack([split_starts, split_starts + n_left], axis=1).ravel()
        lengths = np.stack([n_left, split_lengths - n_left], axis=1).ravel()
        nodes = np.stack([children, children + 1], axis=1).ravel()
        level += 1
    used = slice(0, next_id)
    return Forest(
        roots=np.arange(num_trees, dtype=np.int64),
        left=left[used],
        right=right[used],
        dim=dim[used],
        cut=cut[used],
        box_min=box_min[used],
        box_max=box_max[used],
        mass=mass[used],
        depth=depth[used],
        sample_size=points,
    )


@dataclass(frozen=True)
class Scores:
    """Per row, averaged over trees: SageMaker's ``score`` and the expected CoDisp."""

    score: np.ndarray
    codisp: np.ndarray


def normaliser(sample_size: int) -> float:
    """log2 of the sample size: isolating a point at the root scores this much."""
    return float(np.log2(max(sample_size, 2)))


def score_rows(forest: Forest, rows: np.ndarray) -> Scores:
    """Scores of ``rows`` (n, d), none of them inserted: all (row, tree) pairs walk down together."""
    rows = np.asarray(rows, dtype=np.float64)
    n = rows.shape[0]
    per_chunk = max(1, _PAIR_VALUES_PER_CHUNK // max(1, forest.num_trees * forest.feature_dim))
    score = np.empty(n)
    codisp = np.empty(n)
    for start in range(0, n, per_chunk):
        chunk = rows[start : start + per_chunk]
        tree_score, tree_codisp = _walk(forest, chunk)
        score[start : start + chunk.shape[0]] = tree_score.reshape(chunk.shape[0], -1).mean(axis=1)
        codisp[start : start + chunk.shape[0]] = tree_codisp.reshape(chunk.shape[0], -1).mean(axis=1)
    return Scores(score * normaliser(forest.sample_size), codisp)


def _walk(forest: Forest, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (row, tree) pair: E[1 / (isolation depth + 1)] and E[CoDisp] over the insertion's random cut.

    At each node on the path the point is cut off with probability p = (how far it stretches the
    node's box) / (the stretched box's extent); with the remaining probability it follows the
    node's cut. Cut off at node v (depth k, mass m) it lands at depth k + 1 beside m points: its
    displacement is m, and CoDisp also weighs every ancestor's sibling against the ancestor's
    mass plus the point. Arriving at a leaf holding the same point (a "seen" point), the leaf's
    mass damps the score as in the reference implementation.
    """
    num_trees = forest.num_trees
    pairs = rows.shape[0] * num_trees
    row_of = np.repeat(np.arange(rows.shape[0]), num_trees)
    node = np.tile(forest.roots, rows.shape[0])
    inverse_depth = np.zeros(pairs)
    codisp = np.zeros(pairs)
    remaining = np.ones(pairs)
    collusive = np.zeros(pairs)  # max over ancestors of sibling mass / (own mass + 1)
    active = np.arange(pairs)
    tree_mass = float(forest.sample_size)
    while active.shape[0]:
        at = node[active]
        x = rows[row_of[active]]
        low, high = forest.box_min[at], forest.box_max[at]
        stretched = (np.maximum(high, x) - np.minimum(low, x)).sum(axis=1)
        own = (high - low).sum(axis=1)
        p = np.divide(stretched - own, stretched, out=np.zeros_like(stretched), where=stretched > 0)
        depth = forest.depth[at]
        mass = forest.mass[at]
        weight = remaining[active] * p
        inverse_depth[active] += weight / (depth + 1.0)
        codisp[active] += weight * np.maximum(mass, collusive[active])
        leaf = forest.left[at] < 0
        seen = leaf & (p == 0.0)
        if seen.any():
            hit, hit_mass, hit_depth = active[seen], mass[seen], depth[seen]
            damp = 1.0 - hit_mass / (2.0 * tree_mass)
            inverse_depth[hit] += remaining[hit] * damp / (hit_depth + np.log2(hit_mass + 1.0))
            codisp[hit] += remaining[hit] * collusive[hit]
        remaining[active] *= 1.0 - p
        inner = ~leaf
        active, at, x = active[inner], at[inner], x[inner]
        goes_left = x[np.arange(at.shape[0]), forest.dim[at]] <= forest.cut[at]
        child = np.where(goes_left, forest.left[at], forest.right[at])
        parent_mass = forest.mass[at]
        child_mass = forest.mass[child]
        collusive[active] = np.maximum(collusive[active], (parent_mass - child_mass) / (child_mass + 1.0))
        node[active] = child
    return inverse_depth, codisp
