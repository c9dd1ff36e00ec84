"""Quantization: note times in ticks to exact positions on a grid a musician can read.

Two regimes, chosen per score:

* **exact** (notation-derived files, Mutopia MIDI, generated REMI takes): nearly every onset and
  end already lies on a 1/96-quarter grid (which holds 128ths and 64th-note triplets). Those are
  kept exactly, so a Bach movement round-trips note for note; the rare straggler (an ornament a
  LilyPond MIDI file played out) snaps to the nearest 64th or sixteenth-triplet.
* **performance** (recorded or humanised MIDI, jazz solos): every beat chooses the grid that fits
  its onsets best, sixteenths or triplets (straight preferred), and ends snap to the same grid.
  Swing eighths (long-short in 2:1) are written as straight eighths under a "Swing" mark.

Notes shorter than a 48th of a quarter in exact scores (grace notes, which music21 reads as one
tick) and performance notes crushed onto the next note's onset become grace notes instead of
1/128th-note debris.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

import symusic

from core.music.notation.bars import Bar, beat_starts

EXACT_GRIDS = (Fraction(1, 32), Fraction(1, 48))  # quarters: 128ths, 64th triplets; kept as they are
EXACT_TOLERANCE = 0.03  # share of off-grid positions an "exact" score may still have
GRACE_BELOW = Fraction(1, 48)  # quarters; shorter notes in exact scores are grace notes
STRAIGHT_STEP = Fraction(1, 4)  # sixteenth notes
SWING_LONG = Fraction(2, 3)  # where the second swing eighth starts, as a share of the beat


@dataclass(frozen=True)
class QNote:
    """A note on the grid. Positions in quarter notes from the score's tick 0."""

    onset: Fraction
    end: Fraction  # == onset for a grace note
    pitch: int
    velocity: int
    grace: bool = False


@dataclass(frozen=True)
class Quantized:
    tracks: tuple[tuple[QNote, ...], ...]  # one per input track, sorted by (onset, grace first, pitch)
    exact: bool  # the score was already on the grid: nothing but stragglers moved
    swing: bool  # swing eighths were written straight


def _quarters(ticks: int, tpq: int) -> Fraction:
    return Fraction(int(ticks), tpq)


def is_exact(score: symusic.Score) -> bool:
    """True when (nearly) every note boundary already lies on the exact grid."""
    tpq = score.ticks_per_quarter
    total = off = 0
    for track in score.tracks:
        for note in track.notes:
            if _quarters(note.duration, tpq) < GRACE_BELOW:
                continue
            for tick in (note.time, note.time + note.duration):
                total += 1
                off += not _on_exact_grid(_quarters(tick, tpq))
    return total > 0 and off <= EXACT_TOLERANCE * total


def detect_swing(score: symusic.Score, bars: list[Bar]) -> bool:
    """Swing eighths: off-beat onsets cluster near 2/3 of the beat rather than its middle."""
    tpq = score.ticks_per_quarter
    beats = beat_starts(bars)
    starts = [b[0] for b in beats]
    middle = long = 0
    for track in score.tracks:
        for note in track.notes:
            t = _quarters(note.time, tpq)
            index = bisect.bisect_right(starts, t) - 1
            if index < 0:
                continue
            start, length, compound = beats[index]
            if compound or length != 1:
                continue
            position = float(t - start)
            middle += abs(position - 0.5) < 0.07
            long += abs(position - 2 / 3) < 0.07
    return long >= 8 and long > 1.5 * middle


def quantize(score: symusic.Score, bars: list[Bar], *, swing: bool | None = None) -> Quantized:
    """Put every note of every track on the grid (see the module docstring)."""
    exact = is_exact(score)
    if exact:
        tracks = tuple(_quantize_exact(track, score.ticks_per_quarter) for track in score.tracks)
        return Quantized(tracks, exact=True, swing=False)
    swing = detect_swing(score, bars) if swing is None else swing
    grid = _BeatGrid(score, bars, swing=swing)
    tracks = tuple(_quantize_performance(track, score.ticks_per_quarter, grid) for track in score.tracks)
    return Quantized(tracks, exact=False, swing=swing)


def _on_exact_grid(position: Fraction) -> bool:
    return any((position / grid).denominator == 1 for grid in EXACT_GRIDS)


def _snap_exact(position: Fraction) -> Fraction:
    if _on_exact_grid(position):
        return position
    options = [round(position / step) * step for step in (Fraction(1, 16), Fraction(1, 12))]
    return min(options, key=lambda option: (abs(option - position), options.index(option)))


def _quantize_exact(track: symusic.Track, tpq: int) -> tuple[QNote, ...]:
    notes: list[QNote] = []
    graces = []
    for note in track.notes:
        onset = _snap_exact(_quarters(note.time, tpq))
        raw_duration = _quarters(note.duration, tpq)
        if raw_duration < GRACE_BELOW:
            graces.append((onset, int(note.pitch), int(note.velocity)))
            continue
        end = _snap_exact(onset + raw_duration)
        if end <= onset:  # a straggler snapped onto its own onset: give it a 64th
            end = onset + Fraction(1, 16)
        notes.append(QNote(onset, end, int(note.pitch), int(note.velocity)))
    return _attach_graces(notes, graces)


def _attach_graces(notes: list[QNote], graces: list[tuple[Fraction, int, int]]) -> tuple[QNote, ...]:
    """A grace note sits at the onset of the first real note at or after it; dropped at the end."""
    onsets = sorted({n.onset for n in notes})
    for onset, pitch, velocity in graces:
        index = bisect.bisect_left(onsets, onset)
        if index < len(onsets):
            notes.append(QNote(onsets[index], onsets[index], pitch, velocity, grace=True))
    return tuple(sorted(notes, key=lambda n: (n.onset, not n.grace, n.pitch)))


class _BeatGrid:
    """Per-beat grid for performance scores: sixteenths, or triplets where they fit better."""

    def __init__(self, score: symusic.Score, bars: list[Bar], *, swing: bool) -> None:
        self.beats = beat_starts(bars)
        self.starts = [b[0] for b in self.beats]
        tpq = score.ticks_per_quarter
        onsets_by_beat: dict[int, list[Fraction]] = {}
        for track in score.tracks:
            for note in track.notes:
                t = _quarters(note.time, tpq)
                index = self._beat_of(t)
                onsets_by_beat.setdefault(index, []).append(t - self.beats[index][0])
        self.triplet: set[int] = set()
        self.swung: set[int] = set()
        for index, positions in onsets_by_beat.items():
            _start, length, compound = self.beats[index]
            if compound or length not in (Fraction(1), Fraction(1, 2)):
                continue
            third = length / 3
            straight_error = sum(abs(p - _round_to(p, STRAIGHT_STEP)) for p in positions)
            triplet_error = sum(abs(p - _round_to(p, third)) for p in positions)
            if triplet_error < 0.6 * straight_error:
                self.triplet.add(index)
                used = {_round_to(p, third) for p in positions}
                if (
                    swing
                    and length == 1
                    and used <= {Fraction(0), SWING_LONG, Fraction(1)}
                    and SWING_LONG in used
                ):
                    self.swung.add(index)

    def _beat_of(self, t: Fraction) -> int:
        """The beat whose window holds t; a window starts an eighth of a beat early."""
        index = bisect.bisect_right(self.starts, t) - 1
        index = max(0, min(index, len(self.beats) - 1))
        start, length, _ = self.beats[index]
        if index + 1 < len(self.beats) and t >= start + length - length / 8:
            index += 1
        return index

    def snap(self, t: Fraction) -> tuple[Fraction, Fraction]:
        """(grid position, grid step there) nearest to t."""
        index = self._beat_of(t)
        start, length, _ = self.beats[index]
        position = max(t - start, -length / 8)
        if index in self.swung:  # long-short 2:1 becomes written straight eighths
            snapped = _round_to(position, length / 3)
            written = (
                snapped * 3 / 4 if snapped <= SWING_LONG else Fraction(1, 2) + (snapped - SWING_LONG) * 3 / 2
            )
            return start + written, STRAIGHT_STEP
        step = length / 3 if index in self.triplet else STRAIGHT_STEP
        if t > self.beats[-1][0] + self.beats[-1][1]:  # past the last bar: sixteenths
            step = STRAIGHT_STEP
        return start + _round_to(position, step), step


def _round_to(value: Fraction, step: Fraction) -> Fraction:
    return round(value / step) * step


def _quantize_performance(track: symusic.Track, tpq: int, grid: _BeatGrid) -> tuple[QNote, ...]:
    snapped = []
    for note in track.notes:
        onset, step = grid.snap(_quarters(note.time, tpq))
        end, _ = grid.snap(_quarters(note.time + note.duration, tpq))
        raw = _quarters(note.duration, tpq)
        snapped.append(
            (max(onset, Fraction(0)), max(end, onset + step), int(note.pitch), int(note.velocity), raw, step)
        )
    by_onset: dict[Fraction, list[tuple]] = {}
    for item in snapped:
        by_onset.setdefault(item[0], []).append(item)
    notes: list[QNote] = []
    graces = []
    for onset, end, pitch, velocity, raw, step in snapped:
        # A very short note that lands on the same grid point as a longer one was an ornament
        # or a ghost note played just before it: a grace note, not a chord tone.
        crowded = any(other[2] != pitch and other[4] > raw * 2 for other in by_onset[onset])
        if raw < step / 2 and crowded:
            graces.append((onset, pitch, velocity))
        else:
            notes.append(QNote(onset, end, pitch, velocity))
    return _attach_graces(notes, graces)
