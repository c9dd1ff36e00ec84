"""Style figures of a short passage: how many voices, how the line moves, key, rests, sequences, copies.

The figures of issue 17's table, each one small function on a passage of notes: a
`symusic.Score`, a `NoteArrays`, or a plain list of ``(time, duration, pitch)`` tuples. Times
are ticks (of the score, or of whatever unit the list uses, given as `tpq` where a function
rounds rhythm); shares are fractions in [0, 1]; intervals are semitones.

* `polyphonic_time_share`: share of the passage's time with 2 or more notes sounding;
* `chord_onset_share`: share of onsets (distinct start times) where 2 or more notes start;
* `leap_share` / `stepwise_share`: share of the melodic intervals over an octave (> 12
  semitones) / of 1 or 2 semitones. Melodic intervals go from one onset to the next along the
  top line: at a chord (double stop) the highest note stands for the onset (`notes.melody`);
  a repeated pitch is an interval of 0 and counts in neither, but in the total;
* `in_key_share`: share of notes (by count) in a given key (`core.judging.metrics.key.Key`: the raised
  6th and 7th degrees of minor count as in key); pass the analysed key of the real piece;
* `silent_time_share`: share of the passage's time with no note sounding;
* `sequence_share`: share of bars whose interval pattern (the top line's successive intervals
  between its onsets inside the bar, 3 onsets at least) equals an earlier bar's, by default one
  of the last 4 bars ("near"). The rhythm is not compared. Intervals are counted in semitones
  (exact repeats), in steps of the key's scale (a figure moved a degree up or down the scale,
  Bach's sequence, repeats even where its semitones change) or as directions only (contour);
  bars with under 3 onsets count in neither side of the share;
* `longest_copied_notes`: the longest run of consecutive notes whose (interval, inter-onset
  interval) steps follow one reference piece step by step, transposition-invariant: this is
  `core.judging.metrics.originality.TrainingIndex`, built by `copy_index` to see runs from
  `min_notes` notes.

The time shares are of the passage's span: bar line to bar line where `bar_lines` gives them
(silence at the end of a passage counts), otherwise first onset to last note end.

Measured on the Mutopia cello suites (bars 5-12 of each of the 41 movements, mean over
movements, key by `estimate_key` on the whole movement; tests/core/test_metrics_style.py), beside
issue 17's independent analysis of six movements: 2+ notes sounding 15 % (issue: 18 %), chord
onsets 7.9 % (9 %), leaps over an octave 2.8 % (3.6 %), stepwise 54 % (39 %), in-key 0.936 (0.915;
0.945 with music21's key), silence 0.4 % (0 %), near sequences 2.8 % exact, 7.0 % in scale
steps and 19 % in directions only (20 %: the issue's figure is likely of contours, as exact
repeats are rare in Bach). Movement to movement the figures range widely (2+ notes sounding
0-72 %, stepwise 5-81 %), so six movements differ from forty-one. Bar lines run from tick 0 by
the time signatures: in a movement that opens with a pickup (MIDI files mark none) the bar
figures see bar lines shifted by it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import TypeAlias

import numpy as np
import symusic

from core.judging.metrics.key import Key
from core.judging.metrics.notes import NoteArrays, melody, note_arrays, notes_to_score
from core.judging.metrics.originality import CopyThresholds, TrainingIndex
from core.music.notation.bars import make_bars, time_signature_changes

# (a string: symusic.Score is a factory, not a class, so `|` cannot join it at run time)
Passage: TypeAlias = "symusic.Score | NoteArrays | Sequence[tuple[int, int, int]]"

LEAP_OVER = 12  # semitones: a leap over an octave is 13 or more
STEP_SIZES = (1, 2)  # semitones: a half or whole step
MIN_PATTERN_NOTES = 3  # a bar's interval pattern needs this many onsets (two intervals)
NEAR_BARS = 4  # a "near" sequence repeats one of this many bars before it


def as_notes(passage: Passage, tpq: int = 480) -> NoteArrays:
    """The passage's notes sorted by (onset, pitch); a plain list is read as (time, duration, pitch)
    with `tpq` ticks per quarter note (a Score or NoteArrays keeps its own)."""
    if isinstance(passage, NoteArrays):
        return passage
    if isinstance(passage, symusic.Score):
        return note_arrays(passage)
    rows = np.array([tuple(row)[:3] for row in passage], dtype=np.int64).reshape(-1, 3)
    order = np.lexsort((rows[:, 2], rows[:, 0]))
    rows = rows[order]
    return NoteArrays(rows[:, 0], rows[:, 1], rows[:, 2], tpq)


def bar_lines(score: symusic.Score, bars: int | None = None) -> np.ndarray:
    """Ticks of the bar lines of `score` from tick 0, by its time signatures (4/4 without one):
    `bars` + 1 lines (the last closes the last bar) however far the notes go, or with `bars`
    None every bar line up to the one closing the last note."""
    changes = time_signature_changes(score)
    tpq = score.ticks_per_quarter
    notes = note_arrays(score)
    last_end = int(notes.end.max()) if len(notes) else 0  # (score.end() counts meters and markers too)
    end_quarters = max(last_end, 1) / tpq
    if bars is not None:
        end_quarters += bars * max(num * 4 / den for _, num, den in changes)
    found = make_bars(changes, Fraction(end_quarters).limit_denominator(tpq))
    lines = [round(bar.start * tpq) for bar in found] + [round(found[-1].end * tpq)]
    if bars is not None:
        return np.array(lines[:bars + 1], dtype=np.int64)
    closing = next((i for i, line in enumerate(lines) if line >= last_end), len(lines) - 1)
    return np.array(lines[:max(closing, 1) + 1], dtype=np.int64)


def _span(notes: NoteArrays, span: tuple[int, int] | None) -> tuple[int, int] | None:
    if span is not None:
        return int(span[0]), int(span[1])
    if len(notes) == 0:
        return None
    return int(notes.onset.min()), int(notes.end.max())


def sounding_time(notes: NoteArrays, span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(lengths in ticks, notes sounding) of the segments the note starts and ends cut `span` into."""
    start, stop = span
    onset, end = np.clip(notes.onset, start, stop), np.clip(notes.end, start, stop)
    keep = end > onset
    times = np.r_[onset[keep], end[keep]]
    steps = np.r_[np.ones(keep.sum()), -np.ones(keep.sum())]
    boundaries = np.unique(np.r_[start, stop, times])
    change = np.zeros(len(boundaries))
    np.add.at(change, np.searchsorted(boundaries, times), steps)
    return np.diff(boundaries), np.cumsum(change)[:-1]


def polyphonic_time_share(passage: Passage, span: tuple[int, int] | None = None) -> float:
    """Share of the span's time (ticks) with 2 or more notes sounding at once."""
    notes = as_notes(passage)
    window = _span(notes, span)
    if window is None or window[1] <= window[0]:
        return math.nan
    lengths, counts = sounding_time(notes, window)
    return float(lengths[counts >= 2].sum() / lengths.sum())


def silent_time_share(passage: Passage, span: tuple[int, int] | None = None) -> float:
    """Share of the span's time (ticks) with no note sounding."""
    notes = as_notes(passage)
    window = _span(notes, span)
    if window is None or window[1] <= window[0]:
        return math.nan
    lengths, counts = sounding_time(notes, window)
    return float(lengths[counts == 0].sum() / lengths.sum())


def chord_onset_share(passage: Passage) -> float:
    """Share of onsets (distinct start times) at which 2 or more notes start together."""
    notes = as_notes(passage)
    if len(notes) == 0:
        return math.nan
    _, counts = np.unique(notes.onset, return_counts=True)
    return float(np.mean(counts >= 2))


def onsets_per_bar(passage: Passage, lines: np.ndarray) -> float:
    """Distinct start times a bar (notes struck together count once) between the first and last
    bar line: how busy the rhythm is, whatever the number of voices."""
    notes = as_notes(passage)
    if len(lines) < 2:
        return math.nan
    inside = notes.onset[(notes.onset >= lines[0]) & (notes.onset < lines[-1])]
    return float(len(np.unique(inside)) / (len(lines) - 1))


def melodic_intervals(passage: Passage) -> np.ndarray:
    """Semitones from each onset to the next along the top line (a chord's highest note)."""
    return np.diff(melody(as_notes(passage)).pitch)


def leap_share(passage: Passage, over: int = LEAP_OVER) -> float:
    """Share of melodic intervals larger than `over` semitones (an octave: 13 and more)."""
    intervals = np.abs(melodic_intervals(passage))
    return float(np.mean(intervals > over)) if len(intervals) else math.nan


def stepwise_share(passage: Passage) -> float:
    """Share of melodic intervals of a half or whole step (1 or 2 semitones, up or down)."""
    intervals = np.abs(melodic_intervals(passage))
    return float(np.mean(np.isin(intervals, STEP_SIZES))) if len(intervals) else math.nan


def in_key_share(passage: Passage, key: Key) -> float:
    """Share of notes (by count) whose pitch class belongs to `key` (minor: natural, melodic, harmonic)."""
    notes = as_notes(passage)
    if len(notes) == 0:
        return math.nan
    return float(np.mean(key.degrees()[notes.pitch % 12]))


# Scale step of each pitch class above the tonic (a chromatic note takes the step below it; minor:
# the raised 6th and 7th are the 6th and 7th steps, a raised 3rd the 3rd)
MAJOR_STEPS = (0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6)
MINOR_STEPS = (0, 0, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6)
SEQUENCE_UNITS = ("semitones", "diatonic", "contour")


def scale_steps(pitches: np.ndarray, key: Key) -> np.ndarray:
    """Each MIDI pitch as a number of the key's scale steps above the tonic of MIDI octave -1, so
    that a figure moved a step up the scale keeps its intervals (a diatonic sequence)."""
    table = np.array(MAJOR_STEPS if key.mode == "major" else MINOR_STEPS)
    above = np.asarray(pitches, dtype=np.int64) - key.tonic
    return 7 * (above // 12) + table[above % 12]


def bar_interval_patterns(passage: Passage, lines: Sequence[int], unit: str = "semitones",
                          key: Key | None = None) -> list[tuple[int, ...] | None]:
    """Per bar (between successive `lines`, ticks): the top line's intervals between its onsets in
    the bar, or None for a bar with fewer than `MIN_PATTERN_NOTES` onsets. `unit`: "semitones",
    "diatonic" (steps of `key`'s scale) or "contour" (only up, down or same: +1, -1, 0)."""
    if unit not in SEQUENCE_UNITS:
        raise ValueError(f"unit must be one of {SEQUENCE_UNITS}, not {unit!r}")
    if unit == "diatonic" and key is None:
        raise ValueError("diatonic intervals need the key")
    line = melody(as_notes(passage))
    heights = scale_steps(line.pitch, key) if unit == "diatonic" else line.pitch
    patterns: list[tuple[int, ...] | None] = []
    for start, stop in zip(lines[:-1], lines[1:], strict=True):
        inside = (line.onset >= start) & (line.onset < stop)
        intervals = np.diff(heights[inside])
        if unit == "contour":
            intervals = np.sign(intervals)
        patterns.append(tuple(intervals.tolist()) if inside.sum() >= MIN_PATTERN_NOTES else None)
    return patterns


def sequence_share(passage: Passage, lines: Sequence[int], near: int | None = NEAR_BARS, *,
                   unit: str = "semitones", key: Key | None = None) -> float:
    """Share of bars (with a pattern) whose interval pattern equals an earlier bar's of the passage,
    one of the `near` bars before it (None: any earlier bar). NaN when no bar has a pattern.
    `unit` and `key`: as `bar_interval_patterns`."""
    patterns = bar_interval_patterns(passage, lines, unit, key)
    counted = repeats = 0
    for index, pattern in enumerate(patterns):
        if pattern is None:
            continue
        counted += 1
        earlier = patterns[max(0, index - near) if near is not None else 0:index]
        repeats += pattern in earlier
    return repeats / counted if counted else math.nan


def copy_index(named_scores: Sequence[tuple[str, symusic.Score]], min_notes: int = 5) -> TrainingIndex:
    """An index of reference pieces that finds copied runs of `min_notes` notes and longer."""
    return TrainingIndex(named_scores, CopyThresholds(n=min_notes - 1))


def longest_copied_notes(passage: Passage, index: TrainingIndex) -> int:
    """Notes in the longest run that follows one of the index's pieces (0: under its `min_notes`)."""
    score = passage if isinstance(passage, symusic.Score) else notes_to_score(as_notes(passage))
    return index.check(score).longest_run_notes


# name -> what it measures, in table order (the keys of `style_figures`)
FIGURES = {
    "polyphonic_time": "time with 2+ notes sounding",
    "chord_onsets": "onsets that are chords (2+ notes start)",
    "onsets_per_bar": "onsets a bar (a chord counts once)",
    "leaps_over_octave": "melodic intervals over an octave (top line)",
    "stepwise": "melodic intervals of 1-2 semitones (top line)",
    "in_key": "notes in the real piece's key",
    "silence": "time with no note sounding",
    "near_sequences": f"bars repeating the intervals (semitones) of one of the {NEAR_BARS} bars before",
    "near_diatonic_sequences": "the same, intervals in steps of the key's scale",
    "near_contour_sequences": "the same, only the direction of each interval",
    "copied_notes": "longest run of notes copied from a training piece",
}


def style_figures(passage: symusic.Score, key: Key, bars: int | None = None,
                  index: TrainingIndex | None = None) -> dict[str, float]:
    """Every figure of `FIGURES` for a passage that starts on a bar line at tick 0: its first
    `bars` bars (all its bars when None) make the span; `copied_notes` only with an index."""
    notes = note_arrays(passage)
    lines = bar_lines(passage, bars)
    span = (int(lines[0]), int(lines[-1]))
    figures = {
        "polyphonic_time": polyphonic_time_share(notes, span),
        "chord_onsets": chord_onset_share(notes),
        "onsets_per_bar": onsets_per_bar(notes, lines),
        "leaps_over_octave": leap_share(notes),
        "stepwise": stepwise_share(notes),
        "in_key": in_key_share(notes, key),
        "silence": silent_time_share(notes, span),
        "near_sequences": sequence_share(notes, lines),
        "near_diatonic_sequences": sequence_share(notes, lines, unit="diatonic", key=key),
        "near_contour_sequences": sequence_share(notes, lines, unit="contour"),
    }
    if index is not None:
        figures["copied_notes"] = float(longest_copied_notes(passage, index))
    return figures
