"""Reference sets that a good metric must tell apart from real music.

* `pitch_shuffled`: the same rhythm, the same pitches in a random order (keeps the pitch
  histogram, breaks melodic motion);
* `rhythm_shuffled`: the same pitches in order, the inter-onset intervals (with their notes'
  durations) in a random order (keeps the duration histogram, breaks rhythmic patterns);
* `random_notes`: chromatic pitches in the piece's range on random, off-grid onsets.
"""

from __future__ import annotations

import numpy as np
import symusic

from core.judging.metrics.notes import NoteArrays, note_arrays, notes_to_score


def pitch_shuffled(score: symusic.Score, seed: int = 0) -> symusic.Score:
    notes = note_arrays(score)
    pitch = np.random.default_rng(seed).permutation(notes.pitch)
    return notes_to_score(NoteArrays(notes.onset, notes.duration, pitch, notes.tpq), like=score)


def rhythm_shuffled(score: symusic.Score, seed: int = 0) -> symusic.Score:
    notes = note_arrays(score)
    if len(notes) < 2:
        return score.copy()
    onsets, group = np.unique(notes.onset, return_inverse=True)  # group: onset index of each note
    last = notes.duration[group == len(onsets) - 1].max()
    ioi = np.diff(np.r_[onsets, onsets[-1] + last])  # ticks from each onset to the next
    order = np.random.default_rng(seed).permutation(len(onsets))  # slot k takes IOI order[k]
    new_ioi = ioi[order]
    new_onsets = onsets[0] + np.r_[0, np.cumsum(new_ioi)[:-1]]
    # notes stay in their slot (pitch order kept); durations stretch with their slot's new IOI
    duration = np.maximum(1, np.round(notes.duration * new_ioi[group] / np.maximum(ioi[group], 1)))
    shuffled = NoteArrays(new_onsets[group], duration.astype(np.int64), notes.pitch.copy(), notes.tpq)
    return notes_to_score(shuffled, like=score)


def random_notes(score: symusic.Score, seed: int = 0) -> symusic.Score:
    """As many notes as the piece, uniform chromatic pitches in its range, random tick lengths."""
    notes = note_arrays(score)
    rng = np.random.default_rng(seed)
    n = max(len(notes), 1)
    low, high = (int(notes.pitch.min()), int(notes.pitch.max())) if len(notes) else (48, 72)
    pitch = rng.integers(low, high + 1, n)
    ioi = rng.integers(max(1, notes.tpq // 8), notes.tpq + 1, n)  # a 32nd to a quarter, any tick
    onset = np.r_[0, np.cumsum(ioi)[:-1]]
    return notes_to_score(NoteArrays(onset, ioi, pitch, notes.tpq), like=score)
