"""Dimension reduction before indexing: SageMaker's ``sign`` random projection and ``fjlt``.

``sign`` multiplies by a d x t matrix of random ±1/√t (O(n·d·t)). ``fjlt`` is the fast
Johnson-Lindenstrauss transform in its subsampled randomized Hadamard form: random signs, a
Walsh-Hadamard transform of the rows zero-padded to a power of two (O(n·d·log d)), then t of
the coordinates, scaled by 1/√t. Both keep squared distances right in expectation. The random
draws come from the seed written in the model's JSON, so hosting rebuilds the same transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Rows transformed at a time: bounds the Hadamard transform's temporary arrays.
_CHUNK_ROWS = 4096


@dataclass(frozen=True)
class Reduction:
    """A seeded projection from ``input_dim`` to ``target_dim`` features."""

    kind: str
    seed: int
    input_dim: int
    target_dim: int

    def apply(self, rows: np.ndarray) -> np.ndarray:
        random = np.random.default_rng(self.seed)
        if self.kind == "sign":
            signs = random.choice(
                np.array([-1.0, 1.0], dtype=np.float32), size=(self.input_dim, self.target_dim)
            )
            return np.asarray(rows @ (signs / np.float32(np.sqrt(self.target_dim))), dtype=np.float32)
        return self._fjlt(rows, random)

    def _fjlt(self, rows: np.ndarray, random: np.random.Generator) -> np.ndarray:
        width = 1 << (max(self.input_dim, self.target_dim) - 1).bit_length()
        signs = random.choice(np.array([-1.0, 1.0], dtype=np.float32), size=self.input_dim)
        kept = np.sort(random.choice(width, size=self.target_dim, replace=False))
        out = np.empty((rows.shape[0], self.target_dim), dtype=np.float32)
        for start in range(0, rows.shape[0], _CHUNK_ROWS):
            chunk = rows[start : start + _CHUNK_ROWS]
            padded = np.zeros((chunk.shape[0], width), dtype=np.float32)
            padded[:, : self.input_dim] = chunk * signs
            out[start : start + chunk.shape[0]] = hadamard(padded)[:, kept]
        return out / np.float32(np.sqrt(self.target_dim))


def hadamard(rows: np.ndarray) -> np.ndarray:
    """The unnormalised Walsh-Hadamard transform of each row (width a power of two), log2(width) vector steps."""
    n, width = rows.shape
    out = rows
    half = 1
    while half < width:
        blocks = out.reshape(n, width // (2 * half), 2, half)
        low, high = blocks[:, :, 0, :], blocks[:, :, 1, :]
        out = np.stack([low + high, low - high], axis=2).reshape(n, width)
        half *= 2
    return out
