"""How long a bar is, in ticks, from a meter and a resolution: the one place it is computed.

Throughout Partita `bar_length` names a length in ticks; `core.music.scores.downbeat_ticks` names the ticks
where bars begin (downbeats)."""

from __future__ import annotations


def bar_length(ticks_per_quarter: int, numerator: int, denominator: int) -> int:
    """Ticks in one bar of `numerator`/`denominator` (a 1/`denominator` note is 4/`denominator`
    quarters), at least 1 however coarse the resolution."""
    return max(1, ticks_per_quarter * 4 * numerator // denominator)
