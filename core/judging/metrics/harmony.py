"""Implied harmony: the triad each bar (or beat) outlines, and how the harmony moves.

For a single line (a cello suite, a jazz solo) the harmony is implied: the notes of a bar,
weighted by duration, are matched against the 24 major and minor triads (plus diminished),
and the best-covering triad names the bar's chord. For polyphony the same template match
reads the sounding chords. Statistics of the resulting progression:

* ``chord_fit``: mean share of each window's duration covered by its triad (how clearly the
  notes outline a harmony; random notes fit poorly);
* ``chord_change_rate``: share of windows whose chord differs from the previous one;
* ``fifth_motion_rate``: share of root changes by a fourth or fifth (functional motion);
* ``distinct_chords``: number of different chords used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import symusic

from core.judging.metrics.notes import bar_length_ticks, note_arrays

QUALITIES = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6)}
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
TEMPLATES = [(root, quality, np.isin(np.arange(12), [(root + i) % 12 for i in steps]))
             for quality, steps in QUALITIES.items() for root in range(12)]


@dataclass(frozen=True)
class HarmonyStats:
    chords: list[str]  # one label per window, "" for a silent window, e.g. "G:maj"
    chord_fit: float
    chord_change_rate: float
    fifth_motion_rate: float
    distinct_chords: int

    def to_json(self) -> dict:
        return asdict(self)

    def figures(self) -> dict[str, float]:
        return {"chord_fit": self.chord_fit, "chord_change_rate": self.chord_change_rate,
                "fifth_motion_rate": self.fifth_motion_rate, "distinct_chords": float(self.distinct_chords)}


def window_pitch_classes(score: symusic.Score, window: int) -> np.ndarray:
    """(n_windows, 12) sounding duration (ticks) of each pitch class in each window of `window` ticks."""
    notes = note_arrays(score)
    if len(notes) == 0:
        return np.zeros((0, 12))
    n_windows = int(-(-notes.end.max() // window))  # ceil: a note ending on the last bar line opens no new bar
    weights = np.zeros((n_windows, 12))
    for onset, end, pitch in zip(notes.onset, notes.end, notes.pitch, strict=True):
        first, last = int(onset // window), int((end - 1) // window)
        for index in range(first, last + 1):
            overlap = min(end, (index + 1) * window) - max(onset, index * window)
            weights[index, pitch % 12] += overlap
    return weights


def implied_chords(score: symusic.Score, window: int | None = None) -> tuple[list[str], list[float]]:
    """Best triad per window (a bar by default) and the share of the window's notes it covers."""
    weights = window_pitch_classes(score, window or bar_length_ticks(score))
    labels, fits = [], []
    for row in weights:
        total = row.sum()
        if total <= 0:
            labels.append("")
            continue
        # covered weight, ties broken toward the triad whose root sounds longest
        scores = [(row[mask].sum(), row[root], f"{NAMES[root]}:{quality}") for root, quality, mask in TEMPLATES]
        covered, _, label = max(scores)
        labels.append(label)
        fits.append(covered / total)
    return labels, fits


def harmony_stats(score: symusic.Score, window: int | None = None) -> HarmonyStats:
    labels, fits = implied_chords(score, window)
    chords = [c for c in labels if c]
    if not chords:
        return HarmonyStats(labels, math.nan, math.nan, math.nan, 0)
    changes = [(a, b) for a, b in zip(chords[:-1], chords[1:], strict=True) if a != b]
    roots = {name: i for i, name in enumerate(NAMES)}
    fifths = [(roots[b.split(":")[0]] - roots[a.split(":")[0]]) % 12 in (5, 7) for a, b in changes]
    return HarmonyStats(
        chords=labels,
        chord_fit=float(np.mean(fits)),
        chord_change_rate=len(changes) / max(1, len(chords) - 1),
        fifth_motion_rate=float(np.mean(fifths)) if fifths else 0.0,
        distinct_chords=len(set(chords)),
    )
