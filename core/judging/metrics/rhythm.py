"""Rhythm metrics: duration and inter-onset entropy, onset-on-grid rate, quantized groove.

Durations and inter-onset intervals (IOIs) are measured in grid steps of 1/24 quarter note
(32nd notes and 16th triplets), so a piece at 480 ticks per quarter and the same piece at
192 give the same figures. Performed MIDI should be quantized first (`notes.quantize_performance`) for
the groove figures; the entropies round to the grid themselves.
"""

from __future__ import annotations

import math

import numpy as np
import symusic

from core.judging.metrics.muspy_metrics import groove_consistency
from core.judging.metrics.notes import NoteArrays, bar_length_ticks, melody, note_arrays

GROOVE_PER_QUARTER = 12  # onset-vector steps per quarter for groove: 16ths and eighth triplets
GRID_PER_QUARTER = 24  # steps per quarter: 32nd notes (3 steps) and 16th triplets (4 steps), like the tokenizer


def to_steps(ticks: np.ndarray, tpq: int, per_quarter: int = GRID_PER_QUARTER) -> np.ndarray:
    """Ticks to whole grid steps (at least one), rounding to the nearest step."""
    return np.maximum(1, np.round(np.asarray(ticks) * per_quarter / tpq)).astype(np.int64)


def _entropy_of(values: np.ndarray) -> float:
    if len(values) == 0:
        return math.nan
    _, counts = np.unique(values, return_counts=True)
    prob = counts / counts.sum()
    return float(-(prob * np.log2(prob)).sum())


def duration_steps(notes: NoteArrays) -> np.ndarray:
    return to_steps(notes.duration, notes.tpq)


def ioi_steps(notes: NoteArrays) -> np.ndarray:
    """Grid steps between successive distinct onsets."""
    onsets = np.unique(notes.onset)
    return to_steps(np.diff(onsets), notes.tpq) if len(onsets) > 1 else np.zeros(0, np.int64)


def duration_entropy(score: symusic.Score) -> float:
    """Entropy (bits) of the note-count histogram of durations on the 1/24-quarter grid."""
    return _entropy_of(duration_steps(note_arrays(score)))


def ioi_entropy(score: symusic.Score) -> float:
    """Entropy (bits) of the histogram of inter-onset intervals on the 1/24-quarter grid."""
    return _entropy_of(ioi_steps(note_arrays(score)))


def onset_on_grid_rate(score: symusic.Score, steps_per_quarter: int = GRID_PER_QUARTER,
                       tolerance: float = 1 / 192) -> float:
    """Share of onsets within `tolerance` quarters of the grid (32nds and 16th triplets by default).

    Notated music scores 1.0; unquantized performance and random onsets score lower.
    """
    notes = note_arrays(score)
    if len(notes) == 0:
        return math.nan
    position = notes.onset * steps_per_quarter / notes.tpq  # in grid steps
    off_by = np.abs(position - np.round(position)) / steps_per_quarter  # in quarters
    return float(np.mean(off_by <= tolerance))


def quantized_groove_consistency(score: symusic.Score, steps_per_quarter: int = GROOVE_PER_QUARTER) -> float:
    """MusPy's groove consistency on onset vectors of `steps_per_quarter` steps per quarter.

    At tick resolution (MusPy's own) almost every piece scores above 0.99, because a bar has
    hundreds of empty ticks; on the 16th/triplet grid real music scores about 0.9-0.99 and
    random onsets about 0.75. Performed MIDI needs this grid anyway.
    """
    grid = score.resample(steps_per_quarter, min_dur=1)
    return groove_consistency(grid, bar_length_ticks(grid))


def rhythm_metrics(score: symusic.Score) -> dict[str, float]:
    line = melody(note_arrays(score))
    return {
        "duration_entropy": duration_entropy(score),
        "ioi_entropy": ioi_entropy(score),
        "onset_on_grid_rate": onset_on_grid_rate(score),
        "quantized_groove_consistency": quantized_groove_consistency(score),
        "mean_ioi_beats": float(np.mean(ioi_steps(line)) / GRID_PER_QUARTER) if len(line) > 1 else math.nan,
    }
