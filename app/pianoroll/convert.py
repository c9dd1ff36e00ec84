"""Conversion between the roll's notes and `symusic.Score`, the engine's currency.

The roll keeps every note at `TICKS_PER_QUARTER` (480); scores at other resolutions (MIDI
files at 96, 384, 960 ...; tokenizer output at its own resolution) are scaled on the way in.
"""

from __future__ import annotations

from collections.abc import Iterable

import symusic

from app.pianoroll.model import GENERATED, SEED, TICKS_PER_QUARTER, ChordSymbol, Meter, Note
from core.music.chords import MARKER_PREFIX, marker_chord
from core.music.markers import PICKUP_MARKER, first_bar_number
from core.music.scores import meter_problem, tempo_problem


def scale_ticks(ticks: int, from_tpq: int, to_tpq: int = TICKS_PER_QUARTER) -> int:
    return ticks if from_tpq == to_tpq else round(ticks * to_tpq / from_tpq)


def meter_of(score: symusic.Score) -> Meter:
    """The first time signature and tempo of a score (4/4 at 100 bpm when it has none, or when they
    are impossible: `core.music.scores.load_score` refuses such files with the reason, and what the
    window makes itself, a recording or a duet, must not stop on them), and the number its score
    gives its first bar (0: a pickup, core.music.markers)."""
    numerator, denominator = 4, 4
    if len(score.time_signatures):
        first = score.time_signatures[0]
        if not meter_problem(int(first.numerator), int(first.denominator)):
            numerator, denominator = int(first.numerator), int(first.denominator)
    tempo = round(float(score.tempos[0].qpm), 2) if len(score.tempos) else 100.0
    return Meter(TICKS_PER_QUARTER, numerator, denominator, 100.0 if tempo_problem(tempo) else tempo,
                 first_bar_number(score))


def chords_of(score: symusic.Score, transpose: int = 0) -> list[ChordSymbol]:
    """The chord changes a score marks (`chord:SYMBOL` markers, WJazzD's spelling or the usual one),
    at the roll's resolution and in the usual spelling (`transpose`: semitones to move them by);
    markers that do not read as chords are left out, and so are restatements of the chord sounding."""
    tpq = int(score.ticks_per_quarter)
    changes = sorted((int(marker.time), chord) for marker in score.markers
                     if (chord := marker_chord(marker.text)) is not None)
    chords: list[ChordSymbol] = []
    for time, chord in changes:
        name = chord.transposed(transpose).name()
        start = scale_ticks(time, tpq)
        if chords and chords[-1].start == start:  # two on one tick: the last one holds
            chords.pop()
        if not chords or chords[-1].name != name:
            chords.append(ChordSymbol(start, name))
    return chords


def notes_from_score(score: symusic.Score, role: str = SEED, take: int = 0,
                     start_at: int = 0) -> list[Note]:
    """Every pitched note of every (non-drum) track, at the roll's resolution.

    `start_at` (in the score's own ticks) keeps only notes starting there or later, which is
    how the continuation is taken out of a generated take (seed + continuation).
    """
    tpq = int(score.ticks_per_quarter)
    notes = []
    for track in score.tracks:
        if track.is_drum:
            continue
        for n in track.notes:
            if n.time < start_at:
                continue
            notes.append(Note(scale_ticks(int(n.time), tpq), int(n.pitch),
                              max(1, scale_ticks(int(n.duration), tpq)), int(n.velocity) or 80, role, take))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def score_from_notes(notes: Iterable[Note], meter: Meter, program: int = 0, name: str = "",
                     chords: Iterable[ChordSymbol] = ()) -> symusic.Score:
    """One-track score of `notes` with the meter's time signature and tempo, and `chords` as
    `chord:NAME` markers (what a chord-aware model reads); a pickup numbered 0 keeps its marker, so
    the engine counts bars as the roll does."""
    score = symusic.Score(meter.ticks_per_quarter)
    track = symusic.Track(name=name, program=program)
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        track.notes.append(symusic.Note(n.start, n.duration, n.pitch, n.velocity))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, meter.numerator, meter.denominator))
    score.tempos.append(symusic.Tempo(0, meter.tempo_qpm))
    if meter.first_bar == 0:
        score.markers.append(symusic.TextMeta(0, PICKUP_MARKER))
    for chord in chords:
        score.markers.append(symusic.TextMeta(chord.start, MARKER_PREFIX + chord.name))
    return score


def take_score(seed: Iterable[Note], take: Iterable[Note], meter: Meter, program: int = 0) -> symusic.Score:
    """Seed followed by a take, as the engine's metrics, export and playback want it."""
    return score_from_notes([*seed, *take], meter, program)


__all__ = ["GENERATED", "SEED", "chords_of", "meter_of", "notes_from_score", "scale_ticks", "score_from_notes", "take_score"]
