"""Cut a span of time inside one bar into note values a musician can read.

A note longer than one written value becomes several tied notes. The rules are the usual
engraving ones, kept simple: a note that starts on a beat may be any single (dotted) value;
otherwise notes do not hide a beat: they are cut at the beat and tied over it. Within a beat,
values align with their own size (a sixteenth on a sixteenth boundary). Positions are in
quarter notes (`Fraction`).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from core.music.notation.bars import Bar


@lru_cache(maxsize=1)
def notatable_values() -> frozenset[Fraction]:
    """Lengths (in quarters) one written note can have: plain, dotted, double-dotted, triplet."""
    values = set()
    for k in range(-6, 3):  # 256th .. whole note
        plain = Fraction(2) ** k
        values.add(plain)
        values.add(plain * Fraction(2, 3))  # triplet
        if k >= -5:
            values.add(plain * Fraction(3, 2))
        if k >= -4:
            values.add(plain * Fraction(7, 4))
    return frozenset(values)


def _aligned_values() -> list[Fraction]:
    """Plain and triplet values, longest first: what the greedy split inside a beat uses."""
    return sorted({v for v in notatable_values() if (v.numerator & (v.numerator - 1)) == 0}, reverse=True)


_ALIGNED = _aligned_values()


@lru_cache(maxsize=256)
def beat_boundaries(bar: Bar) -> tuple[Fraction, ...]:
    """Beat positions inside the bar, counted from its nominal start (a pickup bar starts late)."""
    nominal = bar.end - Fraction(bar.numerator * 4, bar.denominator)
    nominal = min(nominal, bar.start)
    points = []
    position = nominal
    while position < bar.end:
        if position >= bar.start:
            points.append(position)
        position += bar.beat
    return tuple([bar.start] + [p for p in points if p != bar.start] + [bar.end])


def split_span(start: Fraction, end: Fraction, bar: Bar) -> list[tuple[Fraction, Fraction]]:
    """Pieces (start, end) covering [start, end) inside `bar`, each one written value."""
    assert bar.start <= start < end <= bar.end, (start, end, bar)
    values = notatable_values()
    boundaries = beat_boundaries(bar)
    on_beat = set(boundaries)
    pieces = []
    s = start
    while s < end:
        if s in on_beat:
            if end - s in values:
                pieces.append((s, end))
                break
            longest = max((b - s for b in boundaries if s < b <= end and b - s in values), default=None)
            if longest is not None:
                pieces.append((s, s + longest))
                s += longest
                continue
        next_beat = min((b for b in boundaries if b > s), default=bar.end)
        stop = min(end, next_beat)
        if stop - s in values and (s in on_beat or stop in on_beat):
            pieces.append((s, stop))
            s = stop
            continue
        beat_start = max((b for b in boundaries if b <= s), default=bar.start)
        while s < stop:
            offset = s - beat_start
            step = next(
                (v for v in _ALIGNED if s + v <= stop and (offset / v).denominator == 1),
                None,
            )
            if step is None:  # not on any grid we write: take the largest value that fits
                step = next(v for v in _ALIGNED if s + v <= stop) if stop - s >= _ALIGNED[-1] else stop - s
            pieces.append((s, s + step))
            s += step
    return pieces
