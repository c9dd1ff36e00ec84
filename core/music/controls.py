"""Per-bar controls a musician can steer: how dense a bar is, how many notes sound at once, and
its lowest and highest pitch.

A vocabulary with controls (`TokenizerSettings.use_controls`) can write a bar's attributes as
tokens right after its bar line and meter: `Bar_None TimeSig_3/4 Density_3 Voices_1 Low_48 High_67
...`, each kind optional. They are measured from the music when training (`bar_attributes`),
written into some training windows and left out of the others (so a model composes without them
too), and when composing the grammar writes exactly the ones the user asked for, bar after bar
(`RemiState.control_plan`), or none. A vocabulary may learn only some kinds
(`TokenizerSettings.control_kinds`); a voices or range asked of a model that did not learn it is
still kept, as a limit of the grammar, without a token to condition on.

Density counts notes per quarter note, so a bar of sixteenths is level 5 in 3/4 as in 4/4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# upper bounds, in notes per quarter note, of density levels 1..5 (0: a bar without notes; 6: more)
DENSITY_BOUNDS = (0.5, 1.0, 1.5, 2.25, 3.25)
DENSITY_LEVELS = len(DENSITY_BOUNDS) + 2  # 0..6
DENSITY_WORDS = ("silent", "very sparse", "sparse", "moderate", "flowing", "busy", "very busy")
MAX_VOICES_TOKEN = 4  # Voices_4 stands for four or more notes at once
KINDS = ("Density", "Voices", "Low", "High")  # token kinds, in the order a bar writes them after its meter
# what a vocabulary may learn (`TokenizerSettings.control_kinds`): the range is its Low and High tokens
CONTROL_CHOICES = ("density", "voices", "range")


def density_level(notes: int, quarters: float) -> int:
    """The density level (0-6) of `notes` in a bar `quarters` quarter notes long."""
    if notes == 0:
        return 0
    rate = notes / max(quarters, 1e-9)
    return 1 + int(np.searchsorted(DENSITY_BOUNDS, rate, side="left"))


def density_notes(level: int, quarters: float) -> tuple[int, float]:
    """(fewest, most) notes a bar `quarters` long holds at density `level` (most: inf at the top level)."""
    if level == 0:
        return 0, 0
    low = 1 if level == 1 else int(np.floor(DENSITY_BOUNDS[level - 2] * quarters + 1e-9)) + 1
    high = float("inf") if level == DENSITY_LEVELS - 1 else int(np.floor(DENSITY_BOUNDS[level - 1] * quarters + 1e-9))
    return low, high


def control_tokens(pitch_range: tuple[int, int], kinds: tuple[str, ...] = CONTROL_CHOICES) -> list[str]:
    """The control tokens of a vocabulary whose pitches are [low, high) and that learns `kinds`."""
    low, high = pitch_range
    tokens = {"density": [f"Density_{level}" for level in range(DENSITY_LEVELS)],
              "voices": [f"Voices_{n}" for n in range(MAX_VOICES_TOKEN + 1)],
              "range": [f"Low_{p}" for p in range(low, high)] + [f"High_{p}" for p in range(low, high)]}
    return [token for kind in CONTROL_CHOICES if kind in kinds for token in tokens[kind]]


def control_kinds(kinds) -> tuple[str, ...] | None:
    """`kinds` (a list or tuple of names) in CONTROL_CHOICES' order; None when it is not a
    non-empty list of them (each caller says so in its own words)."""
    if not isinstance(kinds, list | tuple) or not kinds or any(kind not in CONTROL_CHOICES for kind in kinds):
        return None
    return tuple(kind for kind in CONTROL_CHOICES if kind in kinds)


def parse_control_kinds(text: str) -> tuple[str, ...]:
    """"density,voices" -> ("density", "voices"): control kinds in CONTROL_CHOICES' order;
    ValueError in words for an unknown or empty list."""
    kinds = control_kinds([word.strip().lower() for word in text.split(",") if word.strip()])
    if kinds is None:
        raise ValueError(f"bar controls are some of {', '.join(CONTROL_CHOICES)}, not {text!r:.40}")
    return kinds


@dataclass(frozen=True)
class BarControls:
    """What to ask of every new bar (None: not asked). `voices` is the most notes sounding at once."""

    density: int | None = None
    voices: int | None = None
    lowest: int | None = None
    highest: int | None = None

    def __post_init__(self) -> None:
        if self.density is not None and not 0 <= self.density < DENSITY_LEVELS:
            raise ValueError(f"density is a level from 0 (silent) to {DENSITY_LEVELS - 1} "
                             f"({DENSITY_WORDS[-1]}), not {self.density}")
        if self.voices is not None and not 1 <= self.voices <= 16:
            raise ValueError(f"polyphony is 1 to 16 notes at once, not {self.voices}")
        if (self.lowest is None) != (self.highest is None):
            raise ValueError("a range needs both its lowest and its highest pitch")

    def token_names(self, kinds: tuple[str, ...] = CONTROL_CHOICES) -> list[str]:
        """The tokens that ask for these controls, in the order a bar writes them: those of a
        vocabulary that learned `kinds` (the others are kept as limits only, or refused)."""
        names = []
        if self.density is not None and "density" in kinds:
            names.append(f"Density_{self.density}")
        if self.voices is not None and "voices" in kinds:
            names.append(f"Voices_{min(self.voices, MAX_VOICES_TOKEN)}")
        if self.lowest is not None and "range" in kinds:
            names += [f"Low_{self.lowest}", f"High_{self.highest}"]
        return names


def bar_attributes(notes, bar_starts: list[int], bar_lengths: list[int], tpq: int) -> np.ndarray:
    """(bars, 4) int array: density level, most notes sounding at once (up to MAX_VOICES_TOKEN),
    lowest and highest pitch (-1 in a bar without notes) of each bar, from `notes` (objects with
    time, duration, pitch in ticks at `tpq`) and the bars' starts and lengths."""
    out = np.full((len(bar_starts), 4), -1, dtype=np.int64)
    out[:, 0] = 0
    out[:, 1] = 0
    if not bar_starts:
        return out
    times = np.array([n.time for n in notes], dtype=np.int64)
    ends = times + np.array([n.duration for n in notes], dtype=np.int64)
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    order = np.argsort(times, kind="stable")
    times, ends, pitches = times[order], ends[order], pitches[order]
    for bar, (start, length) in enumerate(zip(bar_starts, bar_lengths, strict=True)):
        first, last = np.searchsorted(times, [start, start + length], side="left")
        count = int(last - first)
        out[bar, 0] = density_level(count, length / tpq)
        if count:
            out[bar, 2], out[bar, 3] = int(pitches[first:last].min()), int(pitches[first:last].max())
            # notes sounding at each onset of the bar (those begun earlier and still held count too)
            earlier = max(0, int(np.searchsorted(times, start - 64 * tpq)))
            onsets = times[first:last]
            held = (times[earlier:last, None] <= onsets[None, :]) & (ends[earlier:last, None] > onsets[None, :])
            out[bar, 1] = min(int(held.sum(0).max()), MAX_VOICES_TOKEN)
    return out


def parse_density(text: str) -> int:
    """A density level from "3" or a word of DENSITY_WORDS ("busy")."""
    value = text.strip().lower()
    if value.isdigit() and int(value) < DENSITY_LEVELS:
        return int(value)
    if value in DENSITY_WORDS:
        return DENSITY_WORDS.index(value)
    raise ValueError(f"density is 0-{DENSITY_LEVELS - 1} or one of: {', '.join(DENSITY_WORDS)}; not {text!r}")


def describe_density(level: int) -> str:
    """Words for a level: "5 (busy: 2.3-3.3 notes a beat)"."""
    if level == 0:
        return "0 (silent)"
    low = 0.0 if level == 1 else DENSITY_BOUNDS[level - 2]
    span = f"over {low:g}" if level == DENSITY_LEVELS - 1 else f"{low:g}-{DENSITY_BOUNDS[level - 1]:g}"
    return f"{level} ({DENSITY_WORDS[level]}: {span} notes a quarter note)"
