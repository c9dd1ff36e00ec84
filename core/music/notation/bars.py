"""Bars and beats of a score, in quarter notes (exact `Fraction`s), from its time signatures.

Notation needs exact positions: a bar of 6/8 is 3 quarters, a sixteenth triplet is 1/6 of a
quarter. Every position in `core.music.notation` is a `Fraction` of quarter notes from the score's
tick 0; `ticks / tpq` converts.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import symusic


@dataclass(frozen=True)
class Bar:
    """One bar line to the next. A pickup bar has `start > nominal start` (it is shorter)."""

    start: Fraction  # quarters from tick 0
    length: Fraction  # quarters; shorter than numerator*4/denominator for a pickup or a cut bar
    numerator: int
    denominator: int

    @property
    def end(self) -> Fraction:
        return self.start + self.length

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8, 6/16...: the beat is a dotted note, split in three."""
        return self.denominator >= 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def beat(self) -> Fraction:
        """The beat in quarters: what a note may fill without being split for readability."""
        if self.compound:
            return Fraction(3 * 4, self.denominator)
        if self.denominator >= 8:
            return Fraction(4, self.denominator)
        return Fraction(1)  # quarters in x/4 and, for a finer rhythmic grid, in x/2 too


def time_signature_changes(score: symusic.Score) -> list[tuple[Fraction, int, int]]:
    """(position in quarters, numerator, denominator), first at 0, one per position, sorted."""
    tpq = score.ticks_per_quarter
    changes: dict[Fraction, tuple[int, int]] = {}
    for ts in sorted(score.time_signatures, key=lambda t: t.time):
        if ts.numerator > 0 and ts.denominator > 0 and ts.denominator & (ts.denominator - 1) == 0:
            changes[Fraction(int(ts.time), tpq)] = (int(ts.numerator), int(ts.denominator))
    if not changes or min(changes) > 0:
        first = changes[min(changes)] if changes else (4, 4)
        changes[Fraction(0)] = first
    return [(at, num, den) for at, (num, den) in sorted(changes.items())]


def make_bars(
    changes: list[tuple[Fraction, int, int]], end: Fraction, *, pickup: Fraction = Fraction(0)
) -> list[Bar]:
    """Bars covering [pickup, end), at least one. A time signature that falls inside a bar
    cuts that bar short (an irregular bar), as MIDI files from sequencers sometimes do."""
    bars: list[Bar] = []
    for index, (at, num, den) in enumerate(changes):
        until = changes[index + 1][0] if index + 1 < len(changes) else None
        length = Fraction(num * 4, den)
        position = at
        while (until is None and (position < end or not bars)) or (until is not None and position < until):
            stop = position + length if until is None else min(position + length, until)
            bars.append(Bar(position, stop - position, num, den))
            position = stop
    if pickup > 0 and bars and pickup < bars[0].length:
        first = bars[0]
        bars[0] = Bar(first.start + pickup, first.length - pickup, first.numerator, first.denominator)
    return bars


def beat_starts(bars: list[Bar]) -> list[tuple[Fraction, Fraction, bool]]:
    """(start, length, compound) of every beat of full bars (quantization ignores pickups)."""
    beats = []
    for bar in bars:
        position = bar.start
        while position < bar.end:
            stop = min(position + bar.beat, bar.end)
            beats.append((position, stop - position, bar.compound))
            position = stop
    return beats
