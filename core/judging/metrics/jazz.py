"""Jazz figures of a solo passage: one line, how busy, how much space, how it swings, whether it
lands on the changes, its range and dynamics (issue 18's style table).

Every figure takes a `symusic.Score` passage that starts on a bar line at tick 0 (as the style
benchmark cuts them) and, for the chord tones, the chords in force, as `(tick, Chord)` from tick
0 on (`chords_from`). Times are in beats of the score's quarter note: WJazzD's meters are all x/4,
one annotated beat per quarter.

* `polyphonic_time` / `silence`: as in `core.judging.metrics.style` (time with 2+ notes / none sounding);
* `notes_per_bar`: notes divided by the passage's bars;
* `swing`: in beats split into two notes, the second note's mean place in the beat (straight
  eighths: 0.5; swung ones later). A beat holds the onsets from 1/8 beat before it (a note played
  ahead of the beat belongs to it) to 1/8 before the next; it counts when it holds exactly two and
  the first lies within a quarter beat of the beat. Over all 19 Miles Davis solos: 0.58 in 1,294
  beats (`tests/core/test_chords.py`; issue 18's own analysis found 0.59 in 912);
* `chord_tones`: share of notes whose pitch class is a chord tone (root, third, fifth, seventh;
  a sixth of a major chord) of the chord in force at their onset; notes under NC are left out;
* `lowest` / `highest`: the passage's lowest and highest pitch (MIDI);
* `velocity_spread`: the standard deviation of the velocities (0: flattened dynamics).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import symusic

from core.judging.metrics.style import bar_lines, polyphonic_time_share, silent_time_share
from core.music.chords import Chord, marker_chord

AHEAD = 1 / 8  # of a beat: a note this much ahead of a beat is played on it

FIGURES = {
    "polyphonic_time": "time with 2+ notes sounding",
    "silence": "time with no note sounding",
    "notes_per_bar": "notes per bar",
    "swing": "beats split in two: the second note's place (0.5 straight)",
    "chord_tones": "notes on a chord tone of the changes",
    "lowest": "lowest pitch (MIDI)",
    "highest": "highest pitch (MIDI)",
    "velocity_spread": "velocity spread (standard deviation)",
}


def chords_from(score: symusic.Score, start: int = 0) -> list[tuple[int, Chord]]:
    """The chord changes of `score`'s `chord:` markers from tick `start` on, moved to start at 0;
    the chord in force at `start` (its last change before) comes first, at 0."""
    changes = sorted((int(marker.time), chord) for marker in score.markers
                     if (chord := marker_chord(marker.text)) is not None)
    before = [chord for time, chord in changes if time <= start]
    out = [(0, before[-1])] if before else []
    out += [(time - start, chord) for time, chord in changes if time > start]
    return out


def chord_tone_share(pitches: np.ndarray, onsets: np.ndarray, chords: Sequence[tuple[int, Chord]]) -> float:
    """Share of the notes (under a chord, not NC) whose pitch class is one of its chord tones."""
    if not chords:
        return math.nan
    times = np.array([time for time, _ in chords])
    hits = counted = 0
    for pitch, onset in zip(pitches.tolist(), onsets.tolist(), strict=True):
        at = int(np.searchsorted(times, onset, side="right")) - 1
        if at < 0 or not chords[at][1].is_chord:
            continue
        counted += 1
        hits += pitch % 12 in chords[at][1].tones()
    return hits / counted if counted else math.nan


def swing_places(onsets: np.ndarray, tpq: int) -> list[float]:
    """The second note's place in each beat split into two notes (see the module's doc)."""
    ahead = round(tpq * AHEAD)
    beats = (np.asarray(onsets) + ahead) // tpq
    places = []
    for beat in np.unique(beats):
        inside = onsets[beats == beat]
        if len(inside) == 2 and abs(int(inside[0]) - int(beat) * tpq) <= tpq // 4:
            places.append((int(inside[1]) - int(beat) * tpq) / tpq)
    return places


def jazz_figures(passage: symusic.Score, chords: Sequence[tuple[int, Chord]], bars: int) -> dict[str, float]:
    """Every figure of `FIGURES` for the first `bars` bars of a passage starting on a bar line at 0."""
    lines = bar_lines(passage, bars)
    span = (int(lines[0]), int(lines[-1]))
    notes = sorted((note for track in passage.tracks if not track.is_drum for note in track.notes
                    if note.time < span[1]), key=lambda note: (note.time, note.pitch))
    onsets = np.array([note.time for note in notes], dtype=np.int64)
    pitches = np.array([note.pitch for note in notes], dtype=np.int64)
    velocities = np.array([note.velocity for note in notes], dtype=np.float64)
    swing = swing_places(onsets, passage.tpq)
    return {
        "polyphonic_time": polyphonic_time_share(passage, span),
        "silence": silent_time_share(passage, span),
        "notes_per_bar": len(notes) / max(bars, 1),
        "swing": float(np.mean(swing)) if swing else math.nan,
        "chord_tones": chord_tone_share(pitches, onsets, chords),
        "lowest": float(pitches.min()) if len(pitches) else math.nan,
        "highest": float(pitches.max()) if len(pitches) else math.nan,
        "velocity_spread": float(velocities.std()) if len(velocities) > 1 else math.nan,
    }
