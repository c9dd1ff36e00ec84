"""Key: where the tonic is, and how much of the music stays in the key.

`estimate_key` is the Krumhansl-Schmuckler method on duration-weighted pitch classes, in
numpy (fast; used to make pitch-class statistics key-relative). `music21_key` asks music21's
own analysis (slower, imported lazily) and `in_key_rate` reports the share of notes that lie
in the key music21 detects, counting the raised 6th and 7th degrees of minor keys as in key
(melodic and harmonic minor), as Bach writes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import symusic

from core.judging.metrics.notes import NoteArrays, note_arrays

PITCH_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
# Krumhansl-Kessler key profiles, tonic first
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_DEGREES = (0, 2, 4, 5, 7, 9, 11)
MINOR_DEGREES = (0, 2, 3, 5, 7, 8, 9, 10, 11)  # natural minor plus raised 6th and 7th


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class 0..11 (C = 0)
    mode: str  # "major" or "minor"

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    def degrees(self) -> np.ndarray:
        """(12,) bool: which pitch classes belong to the key."""
        mask = np.zeros(12, bool)
        mask[[(self.tonic + d) % 12 for d in (MAJOR_DEGREES if self.mode == "major" else MINOR_DEGREES)]] = True
        return mask


def estimate_key(score: symusic.Score | NoteArrays) -> Key:
    """Krumhansl-Schmuckler: the key profile best correlated with the duration-weighted pitch classes."""
    notes = score if isinstance(score, NoteArrays) else note_arrays(score)
    histogram = np.bincount(notes.pitch % 12, weights=notes.duration, minlength=12) if len(notes) else np.zeros(12)
    if not histogram.any():
        return Key(0, "major")
    best, best_key = -2.0, Key(0, "major")
    for tonic in range(12):
        for profile, mode in ((MAJOR_PROFILE, "major"), (MINOR_PROFILE, "minor")):
            r = np.corrcoef(histogram, np.roll(profile, tonic))[0, 1]
            if r > best:
                best, best_key = r, Key(tonic, mode)
    return best_key


def music21_key(score: symusic.Score) -> Key:
    """The key music21's default analysis finds (its own weighted key-finding algorithm)."""
    from music21 import note, stream  # lazy: slow to import

    notes = note_arrays(score)
    if len(notes) == 0:
        return Key(0, "major")
    part = stream.Stream()
    for onset, duration, pitch in zip(notes.onset, notes.duration, notes.pitch, strict=True):
        element = note.Note(int(pitch), quarterLength=max(duration, 1) / notes.tpq)
        part.insert(onset / notes.tpq, element)
    found = part.analyze("key")
    return Key(found.tonic.pitchClass, "minor" if found.mode == "minor" else "major")


def in_key_rate(score: symusic.Score, key: Key | None = None) -> float:
    """Share of notes (by count) whose pitch class is in `key` (music21's detected key by default)."""
    notes = note_arrays(score)
    if len(notes) == 0:
        return math.nan
    key = key or music21_key(score)
    return float(np.mean(key.degrees()[notes.pitch % 12]))
