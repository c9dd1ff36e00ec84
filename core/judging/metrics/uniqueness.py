"""Uniqueness: how different the variations generated from one seed are from each other.

Each variation becomes the set of its (interval, inter-onset interval) 4-grams along the top
line (transposition-invariant); uniqueness is the mean Jaccard *distance* over all pairs of
variations (0 = all identical, 1 = nothing in common), over a seeded sample of
`pairs.MAX_PAIRS` pairs when there are more. The seed bars, which every variation shares, are
cut off first when `start_tick` is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import symusic

from core.judging.metrics.notes import NoteArrays, melody, note_arrays
from core.judging.metrics.pairs import within

NGRAM = 4
STEPS_PER_QUARTER = 12


def ngram_set(score: symusic.Score, start_tick: int = 0, n: int = NGRAM) -> set[tuple]:
    notes = note_arrays(score)
    keep = notes.onset >= start_tick
    line = melody(NoteArrays(notes.onset[keep], notes.duration[keep], notes.pitch[keep], notes.tpq))
    steps = list(zip(np.diff(line.pitch).tolist(),
                     np.round(np.diff(line.onset) * STEPS_PER_QUARTER / line.tpq).astype(int).tolist(), strict=True))
    return {tuple(steps[i:i + n]) for i in range(len(steps) - n + 1)}


def jaccard_distance(a: set, b: set) -> float:
    if not a and not b:
        return 0.0
    return 1 - len(a & b) / len(a | b)


def uniqueness(variations: Sequence[symusic.Score], start_tick: int = 0) -> float:
    """Mean pairwise Jaccard distance of the variations' n-gram sets; NaN with fewer than two."""
    sets = [ngram_set(score, start_tick) for score in variations]
    chosen = within(len(sets))
    if not chosen.used:
        return math.nan
    return float(np.mean([jaccard_distance(sets[i], sets[j])
                          for i, j in zip(chosen.first.tolist(), chosen.second.tolist(), strict=True)]))
