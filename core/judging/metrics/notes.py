"""Notes as numpy arrays, the common input of every metric.

Metrics take `symusic.Score` objects; they first flatten the pitched (non-drum) tracks into
arrays sorted by onset. Times stay in ticks at ``score.tpq`` unless a function says beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import symusic

from core.music.meter import bar_length


@dataclass(frozen=True)
class NoteArrays:
    """Every pitched note of a score, sorted by (onset, pitch). Times in ticks."""

    onset: np.ndarray  # (N,) int64 ticks
    duration: np.ndarray  # (N,) int64 ticks
    pitch: np.ndarray  # (N,) int64 MIDI pitch
    tpq: int  # ticks per quarter note

    def __len__(self) -> int:
        return len(self.pitch)

    @property
    def end(self) -> np.ndarray:
        return self.onset + self.duration


def note_arrays(score: symusic.Score, *, include_drums: bool = False) -> NoteArrays:
    """Flatten the score's notes into sorted arrays (drums left out unless asked for)."""
    onsets, durations, pitches = [], [], []
    for track in score.tracks:
        if track.is_drum and not include_drums:
            continue
        if not len(track.notes):
            continue
        data = track.notes.numpy()  # dict of arrays: time, duration, pitch, velocity
        onsets.append(data["time"])
        durations.append(data["duration"])
        pitches.append(data["pitch"])
    if not onsets:
        empty = np.zeros(0, dtype=np.int64)
        return NoteArrays(empty, empty, empty, int(score.tpq))
    onset = np.concatenate(onsets).astype(np.int64)
    duration = np.concatenate(durations).astype(np.int64)
    pitch = np.concatenate(pitches).astype(np.int64)
    order = np.lexsort((pitch, onset))
    return NoteArrays(onset[order], duration[order], pitch[order], int(score.tpq))


def melody(notes: NoteArrays) -> NoteArrays:
    """The highest note at each onset (skyline): the line that interval metrics follow.

    A cello suite is mostly one line with occasional double stops; a jazz solo is one line.
    Keeping the top note of each chord makes interval and duration sequences well defined.
    """
    if len(notes) == 0:
        return notes
    # notes are sorted by (onset, pitch): the last note of each onset group is the highest
    last_of_group = np.r_[notes.onset[1:] != notes.onset[:-1], True]
    return NoteArrays(notes.onset[last_of_group], notes.duration[last_of_group],
                      notes.pitch[last_of_group], notes.tpq)


def bar_length_ticks(score: symusic.Score) -> int:
    """Ticks per bar of the first time signature (4/4 when there is none)."""
    if len(score.time_signatures):
        ts = score.time_signatures[0]
        return bar_length(score.tpq, ts.numerator, ts.denominator)
    return bar_length(score.tpq, 4, 4)


def notes_to_score(notes: NoteArrays, like: symusic.Score | None = None, program: int = 0) -> symusic.Score:
    """A one-track score holding these notes, with the time signatures and tempos of `like`."""
    score = symusic.Score(notes.tpq)
    if like is not None:
        score.time_signatures = like.time_signatures.copy()
        score.tempos = like.tempos.copy()
        score.key_signatures = like.key_signatures.copy()
        if len(like.tracks):
            program = like.tracks[0].program
    track = symusic.Track(program=program)
    for onset, duration, pitch in zip(notes.onset, notes.duration, notes.pitch, strict=True):
        track.notes.append(symusic.Note(int(onset), max(1, int(duration)), int(pitch), 80))
    score.tracks.append(track)
    return score


def quantize(score: symusic.Score, steps_per_quarter: int = 12) -> symusic.Score:
    """Snap onsets and durations to a grid (default 12 per quarter: 16ths and triplets).

    Performed MIDI (the jazz solos) has onsets a few ticks off any grid; metrics that compare
    onset positions across bars (groove consistency, onset-on-grid, empty beats, motifs)
    need this first. Durations are kept at least one grid step.
    """
    step = score.tpq / steps_per_quarter  # ticks per grid step (may be fractional)
    result = score.copy()
    for track in result.tracks:
        notes = track.notes.numpy()
        if not len(notes["time"]):
            continue
        onset = np.round(notes["time"] / step)
        end = np.round((notes["time"] + notes["duration"]) / step)
        end = np.maximum(end, onset + 1)
        new = symusic.Note.from_numpy(
            time=np.round(onset * step).astype(np.int32),
            duration=np.round((end - onset) * step).astype(np.int32),
            pitch=notes["pitch"], velocity=notes["velocity"],
        )
        track.notes = new
    return result


def quantize_performance(score: symusic.Score, steps_per_quarter: int = 12) -> symusic.Score:
    """Quantize performed MIDI by its inter-onset intervals, not by absolute position.

    Performed solos (the Weimar Jazz Database) drift against any fixed grid: ticks follow the
    average tempo, the player does not. Rounding each inter-onset interval to the grid (onsets
    closer than half a step become a chord) and rebuilding onsets from the first one keeps
    the local rhythm and removes the drift, so per-bar onset patterns become comparable.
    Durations are rounded to the grid too (at least one step). Bar phase is the first note's.
    """
    step = score.tpq / steps_per_quarter  # ticks per grid step
    notes = note_arrays(score)
    if len(notes) == 0:
        return score.copy()
    onsets, group = np.unique(notes.onset, return_inverse=True)
    steps_between = np.round(np.diff(onsets) / step).astype(np.int64)  # 0: merged into a chord
    first = int(np.round(onsets[0] / step))
    grid_onsets = first + np.r_[0, np.cumsum(steps_between)]
    duration_steps = np.maximum(1, np.round(notes.duration / step)).astype(np.int64)
    quantized = NoteArrays(
        np.round(grid_onsets[group] * step).astype(np.int64),
        np.round(duration_steps * step).astype(np.int64),
        notes.pitch, notes.tpq,
    )
    return notes_to_score(quantized, like=score)
