"""Bach-like structure: phrases, repeated sections, recurring rhythmic motifs.

All three work on the top line (`melody`) cut into bars of the first time signature.

* Phrases end at a rest of at least half a beat, or at a note at least twice the piece's
  median length and at least a beat long that lands on a strong beat after a step
  (cadential motion). Lengths are reported in bars; ``balanced_phrase_rate`` is the share
  of phrases whose length is close (within a quarter bar) to 2, 4 or 8 bars.
* The bar self-similarity matrix compares each pair of bars: half for the onset pattern
  (Jaccard) and half for the melodic shape (intervals from the bar's first note at shared
  onsets). ``exact_repeat_rate`` counts bars equal to an earlier one (same pitches and
  rhythm), ``varied_repeat_rate`` bars that are not exact repeats but similar (>= 0.6) to one.
* Motifs: a bar's onset pattern; ``motif_recurrence`` is the share of bars whose pattern
  occurs in another bar, ``distinct_patterns`` the share of different patterns among bars.

Onsets are rounded to 1/12 quarter, so performed MIDI works but is best quantized first.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import symusic

from core.judging.metrics.notes import NoteArrays, bar_length_ticks, melody, note_arrays

STEPS_PER_QUARTER = 12
VARIED_SIMILARITY = 0.6


def _bars(line: NoteArrays, bar: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Per bar: (onset positions in steps, pitches) of the top line."""
    if len(line) == 0:
        return []
    index = line.onset // bar
    result = []
    for b in range(int(index.max()) + 1):
        mask = index == b
        positions = np.round((line.onset[mask] % bar) * STEPS_PER_QUARTER / line.tpq).astype(int)
        result.append((tuple(positions.tolist()), tuple(line.pitch[mask].tolist())))
    return result


def _bar_similarity(a: tuple, b: tuple) -> float:
    (pos_a, pitch_a), (pos_b, pitch_b) = a, b
    if not pos_a and not pos_b:
        return 1.0
    if not pos_a or not pos_b:
        return 0.0
    set_a, set_b = set(pos_a), set(pos_b)
    rhythm = len(set_a & set_b) / len(set_a | set_b)
    shape_a = {p: q - pitch_a[0] for p, q in zip(pos_a, pitch_a, strict=True)}
    shape_b = {p: q - pitch_b[0] for p, q in zip(pos_b, pitch_b, strict=True)}
    shared = set_a & set_b
    shape = sum(shape_a[p] == shape_b[p] for p in shared) / len(set_a | set_b)
    return 0.5 * rhythm + 0.5 * shape


def self_similarity(score: symusic.Score) -> np.ndarray:
    """(n_bars, n_bars) similarity of bars of the top line, 1 on the diagonal."""
    bars = _bars(melody(note_arrays(score)), bar_length_ticks(score))
    n = len(bars)
    matrix = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i, j] = matrix[j, i] = _bar_similarity(bars[i], bars[j])
    return matrix


def repetition_stats(score: symusic.Score) -> dict[str, float]:
    bars = [b for b in _bars(melody(note_arrays(score)), bar_length_ticks(score))]
    if len(bars) < 2:
        return {"exact_repeat_rate": math.nan, "varied_repeat_rate": math.nan}
    exact = varied = 0
    for i in range(1, len(bars)):
        if not bars[i][0]:
            continue
        if bars[i] in bars[:i]:
            exact += 1
        elif max(_bar_similarity(bars[i], bars[j]) for j in range(i)) >= VARIED_SIMILARITY:
            varied += 1
    counted = len(bars) - 1
    return {"exact_repeat_rate": exact / counted, "varied_repeat_rate": varied / counted}


def motif_stats(score: symusic.Score) -> dict[str, float]:
    patterns = [b[0] for b in _bars(melody(note_arrays(score)), bar_length_ticks(score)) if b[0]]
    if not patterns:
        return {"motif_recurrence": math.nan, "distinct_patterns": math.nan}
    counts = Counter(patterns)
    return {
        "motif_recurrence": sum(c for c in counts.values() if c > 1) / len(patterns),
        "distinct_patterns": len(counts) / len(patterns),
    }


def phrase_lengths(score: symusic.Score) -> list[float]:
    """Lengths in bars of the phrases of the top line (see module docstring for boundaries)."""
    line = melody(note_arrays(score))
    if len(line) < 2:
        return []
    beat, bar = line.tpq, bar_length_ticks(score)
    gaps = line.onset[1:] - line.end[:-1]  # ticks of rest after each note
    median = float(np.median(line.duration))
    long_note = (line.duration[:-1] >= max(2 * median, beat))
    strong = (line.onset[:-1] % beat) == 0
    stepwise_arrival = np.r_[False, np.abs(np.diff(line.pitch[:-1])) <= 2]
    boundary = (gaps >= beat / 2) | (long_note & strong & stepwise_arrival)
    ends = np.flatnonzero(boundary)
    starts = np.r_[0, ends + 1]
    stops = np.r_[ends, len(line) - 1]
    return [float((line.end[b] - line.onset[a]) / bar) for a, b in zip(starts, stops, strict=True)]


def phrase_stats(score: symusic.Score) -> dict[str, float]:
    lengths = np.array(phrase_lengths(score))
    if len(lengths) == 0:
        return {"phrase_count": 0.0, "mean_phrase_bars": math.nan, "balanced_phrase_rate": math.nan}
    balanced = np.min(np.abs(lengths[:, None] - np.array([2.0, 4.0, 8.0])[None, :]), axis=1) <= 0.25
    return {
        "phrase_count": float(len(lengths)),
        "mean_phrase_bars": float(lengths.mean()),
        "balanced_phrase_rate": float(balanced.mean()),
    }


def structure_metrics(score: symusic.Score) -> dict[str, float]:
    return {**phrase_stats(score), **repetition_stats(score), **motif_stats(score)}
