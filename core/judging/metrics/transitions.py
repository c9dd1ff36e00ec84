"""Transition matrices of a melodic line and the distances between them.

Three matrices describe how music moves, one step at a time, along the top line (`melody`):

* pitch class -> next pitch class (12 x 12), counted from the tonic of each piece's estimated
  key, so that a D major movement and a G major one are compared as scale degrees;
* melodic interval -> next interval, intervals clipped to an octave either way (25 x 25);
* duration class -> next duration class (`DURATION_CLASSES` x same).

Counts add over the pieces of a set; distances compare two sets' joint distributions with
Jensen-Shannon divergence (bits, 0..1, symmetric) and KL divergence (bits, smoothed).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import symusic

from core.judging.metrics.key import estimate_key
from core.judging.metrics.notes import NoteArrays, bar_length_ticks, melody, note_arrays
from core.music.meter import bar_length as length_of_bar  # (the parameter below is a bar_length)

MAX_INTERVAL = 12  # semitones; larger leaps are clipped to an octave
# Duration classes in quarters: upper bounds of each class (a 32nd is 0.125, a whole note 4).
DURATION_EDGES = np.array([0.09, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.1, 1.6, 2.2, 3.2, 4.5])
DURATION_CLASSES = len(DURATION_EDGES) + 1
DURATION_LABELS = ["<1/32", "1/32", "1/16T", "1/16", "1/8T", "1/8", "dot1/8", "1/4", "dot1/4",
                   "1/2", "dot1/2", "1", ">1"]
METRIC_POSITIONS = 72  # 1/12-quarter steps in the longest bar counted (6 quarters, e.g. 12/8)
SMOOTHING = 1e-6  # added to each cell before normalising, so KL stays finite


def duration_class(duration_ticks: np.ndarray, tpq: int) -> np.ndarray:
    """Index of each duration's class in `DURATION_EDGES` (quarters)."""
    return np.searchsorted(DURATION_EDGES, np.asarray(duration_ticks) / tpq)


def _line(score: symusic.Score | NoteArrays) -> NoteArrays:
    return melody(score if isinstance(score, NoteArrays) else note_arrays(score))


def _transition_counts(states: np.ndarray, n: int) -> np.ndarray:
    counts = np.zeros((n, n))
    if len(states) > 1:
        np.add.at(counts, (states[:-1], states[1:]), 1)
    return counts


def _key_relative(notes: NoteArrays, pitches: np.ndarray) -> np.ndarray:
    # key from note counts, not durations: a rhythm-shuffled piece keeps its key
    counted = NoteArrays(notes.onset, np.ones_like(notes.duration), notes.pitch, notes.tpq)
    return (pitches - estimate_key(counted).tonic) % 12


def pitch_class_transitions(score: symusic.Score | NoteArrays) -> np.ndarray:
    """(12, 12) counts of scale degree (pitch class above the tonic) -> next, along the top line."""
    notes = score if isinstance(score, NoteArrays) else note_arrays(score)
    return _transition_counts(_key_relative(notes, melody(notes).pitch), 12)


def interval_transitions(score: symusic.Score | NoteArrays) -> np.ndarray:
    """(25, 25) counts of interval -> next interval; index 12 is a repeated note."""
    intervals = np.clip(np.diff(_line(score).pitch), -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    return _transition_counts(intervals, 2 * MAX_INTERVAL + 1)


def duration_transitions(score: symusic.Score | NoteArrays) -> np.ndarray:
    """(13, 13) counts of duration class -> next duration class along the top line."""
    line = _line(score)
    return _transition_counts(duration_class(line.duration, line.tpq), DURATION_CLASSES)


def pitch_class_histogram(score: symusic.Score | NoteArrays) -> np.ndarray:
    """(12,) note counts per pitch class above the estimated tonic, over all notes."""
    notes = score if isinstance(score, NoteArrays) else note_arrays(score)
    return np.bincount(_key_relative(notes, notes.pitch), minlength=12).astype(float)


def duration_histogram(score: symusic.Score | NoteArrays) -> np.ndarray:
    """(13,) note counts per duration class over all notes."""
    notes = score if isinstance(score, NoteArrays) else note_arrays(score)
    return np.bincount(duration_class(notes.duration, notes.tpq), minlength=DURATION_CLASSES).astype(float)


def metric_position_histogram(score: symusic.Score | NoteArrays, bar_length: int | None = None) -> np.ndarray:
    """(METRIC_POSITIONS,) onset counts per position in the bar, in 1/12-quarter steps.

    Bars are counted from tick 0 with the length of the first time signature. Unquantized
    onsets are rounded to the nearest step (so performed MIDI is quantized here).
    """
    if isinstance(score, NoteArrays):
        notes, bar = score, bar_length or length_of_bar(score.tpq, 4, 4)
    else:
        notes, bar = note_arrays(score), bar_length or bar_length_ticks(score)
    onsets = np.unique(notes.onset)
    steps = np.round((onsets % bar) * 12 / notes.tpq).astype(np.int64) % max(1, round(bar * 12 / notes.tpq))
    return np.bincount(np.minimum(steps, METRIC_POSITIONS - 1), minlength=METRIC_POSITIONS).astype(float)


MATRICES = {
    "pitch_class_transitions": pitch_class_transitions,
    "interval_transitions": interval_transitions,
    "duration_transitions": duration_transitions,
}
HISTOGRAMS = {
    "pitch_class_histogram": pitch_class_histogram,
    "duration_histogram": duration_histogram,
    "metric_position_histogram": metric_position_histogram,
}


def set_counts(scores: Iterable[symusic.Score]) -> dict[str, np.ndarray]:
    """Every matrix and histogram, summed over a set of pieces."""
    totals: dict[str, np.ndarray] = {}
    for score in scores:
        notes = note_arrays(score)
        for name, fn in {**MATRICES, **HISTOGRAMS}.items():
            counts = fn(notes, bar_length_ticks(score)) if name == "metric_position_histogram" else fn(notes)
            totals[name] = totals[name] + counts if name in totals else counts
    return totals


def normalise(counts: np.ndarray) -> np.ndarray:
    smoothed = np.asarray(counts, float) + SMOOTHING
    return smoothed / smoothed.sum()


def row_normalise(counts: np.ndarray) -> np.ndarray:
    """Conditional probabilities P(next | current); rows without data stay zero (for plots)."""
    counts = np.asarray(counts, float)
    totals = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def kl_divergence(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """KL(P || Q) in bits between two count arrays (any shape), smoothed."""
    p, q = normalise(p_counts).ravel(), normalise(q_counts).ravel()
    return float(np.sum(p * np.log2(p / q)))


def js_divergence(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0 = same distribution, 1 = disjoint)."""
    p, q = normalise(p_counts).ravel(), normalise(q_counts).ravel()
    m = (p + q) / 2
    return float(max(0.0, 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))))


# the distances averaged into the one-number style distance: melody, harmony-in-key, rhythm, meter
STYLE_DISTANCES = ("pitch_class_transitions", "interval_transitions", "duration_transitions",
                   "metric_position_histogram")


def style_distances(candidate: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, float]:
    """JS divergence of each matrix/histogram of `candidate` from `reference` (both `set_counts`).

    ``style`` is the mean over `STYLE_DISTANCES`: the one-number style distance.
    """
    result = {f"js_{name}": js_divergence(candidate[name], reference[name]) for name in candidate}
    result.update({f"kl_{name}": kl_divergence(candidate[name], reference[name]) for name in STYLE_DISTANCES})
    result["style"] = float(np.mean([result[f"js_{name}"] for name in STYLE_DISTANCES]))
    return result
