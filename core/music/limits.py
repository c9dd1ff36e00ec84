"""What an instrument can play: its pitch range and how many notes it sounds at once.

Measured from a corpus when a model is trained, saved in the run's config.json ("instrument"),
and enforced by the grammar mask while composing (`core.composing.grammar.RemiState`), so a cello model
writes one line with the occasional double stop and a trumpet model strictly one note at a time,
whatever the sampler draws: no cluster can come out. The user may override both (`--voices`,
`--range`, the Generate panel).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import symusic

from core.terminal import printable

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"DB": "C#", "EB": "D#", "GB": "F#", "AB": "G#", "BB": "A#", "CB": "B", "FB": "E", "E#": "F", "B#": "C"}
# "How many notes it sounds at once": the 99th percentile over a piece's note onsets, and of those the
# median piece: pooled over pieces, a few chorales with instruments doubling the choir (15 parts)
# would make the chorales an 11-voice corpus. Chorales 4, cello suites 3, the jazz solos 1.
VOICES_QUANTILE = 0.99


@dataclass(frozen=True)
class InstrumentLimits:
    max_voices: int | None = None  # notes sounding at once, counted at every onset (None: no limit)
    lowest: int = 0  # MIDI pitches allowed, inclusive
    highest: int = 127

    def __post_init__(self) -> None:
        if self.max_voices is not None and (isinstance(self.max_voices, bool) or not isinstance(self.max_voices, int)
                                            or self.max_voices < 1):
            raise ValueError(f"the number of voices must be a whole number of at least 1, not {self.max_voices!r}")
        for value in (self.lowest, self.highest):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
                raise ValueError(f"pitches are MIDI numbers 0-127, not {value!r}")
        if self.lowest > self.highest:
            raise ValueError(f"the range's lowest pitch ({pitch_name(self.lowest)}) is above its highest "
                             f"({pitch_name(self.highest)})")

    @property
    def bounded(self) -> bool:
        """Whether these limits restrict anything."""
        return self.max_voices is not None or self.lowest > 0 or self.highest < 127

    def shifted(self, semitones: int) -> InstrumentLimits:
        """The same limits for music transposed by `semitones` (kept inside MIDI's pitches)."""
        if not semitones:
            return self
        return InstrumentLimits(self.max_voices, min(max(self.lowest + semitones, 0), 127),
                                min(max(self.highest + semitones, 0), 127))

    def describe(self) -> str:
        voices = "any number of notes" if self.max_voices is None else (
            "one note at a time" if self.max_voices == 1 else f"up to {self.max_voices} notes at once")
        return f"{voices}, {pitch_name(self.lowest)}-{pitch_name(self.highest)}"

    def to_json(self) -> dict:
        return {"max_voices": self.max_voices, "lowest": self.lowest, "highest": self.highest}

    @classmethod
    def json_problem(cls, data: dict) -> str | None:
        """Why `data`, config.json's "instrument" object, cannot be read as these limits (None: it
        can): a key that is none of the fields (a misspelt "max_voice" would be passed over and the
        limit it meant silently lifted), with the closest field, or a value out of its range."""
        known = list(cls.__dataclass_fields__)
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"did you mean \"{close[0]}\"? " if close else ""
                return (f"\"instrument.{printable(str(key))[:40]}\" is not an instrument setting "
                        f"({hint}the settings are {', '.join(known)})")
        try:
            cls(data.get("max_voices"), data.get("lowest", 0), data.get("highest", 127))
        except ValueError as error:
            return f"\"instrument\": {error}"
        return None

    @classmethod
    def from_json(cls, data: dict | None) -> InstrumentLimits:
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(data.get("max_voices"), int(data.get("lowest", 0)), int(data.get("highest", 127)))
        except (TypeError, ValueError):
            return cls()


def simultaneous_notes(notes: Iterable[tuple[int, int]]) -> np.ndarray:
    """For each note (onset, end) in ticks, how many notes sound at its onset, itself included."""
    spans = np.array(sorted(notes), dtype=np.int64).reshape(-1, 2)
    if not len(spans):
        return np.zeros(0, dtype=np.int64)
    onsets, ends = spans[:, 0], np.sort(spans[:, 1])
    started = np.searchsorted(onsets, onsets, side="right")  # notes with onset <= t
    ended = np.searchsorted(ends, onsets, side="right")  # notes with end <= t
    return started - ended


def measure(scores: Iterable[symusic.Score]) -> InstrumentLimits:
    """The limits a corpus keeps: how many notes sound at an onset (the median piece's 99th
    percentile), and its whole range."""
    counts, lowest, highest = [], 127, 0
    for score in scores:
        spans = [(n.time, n.time + max(n.duration, 1)) for track in score.tracks for n in track.notes]
        if not spans:
            continue
        counts.append(np.quantile(simultaneous_notes(spans), VOICES_QUANTILE))
        pitches = [n.pitch for track in score.tracks for n in track.notes]
        lowest, highest = min(lowest, min(pitches)), max(highest, max(pitches))
    if not counts:
        return InstrumentLimits()
    voices = int(np.ceil(np.median(counts)))
    return InstrumentLimits(max(voices, 1), lowest, highest)


def pitch_name(pitch: int) -> str:
    """MIDI 48 -> "C3" (middle C is C4)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def parse_pitch(text: str) -> int:
    """"C3", "Bb4", "F#2" or a MIDI number -> MIDI pitch; ValueError in words otherwise."""
    text = text.strip()
    if text.isdigit():
        pitch = int(text)
    else:
        match = re.fullmatch(r"([A-Ga-g])([#b]?)(-?\d)", text)
        if not match:
            raise ValueError(f"{text!r} is not a pitch (write C3, Bb4, F#2 or a MIDI number)")
        name = (match[1] + match[2]).upper()
        name = _FLATS.get(name, name)
        pitch = NOTE_NAMES.index(name) + 12 * (int(match[3]) + 1)
        pitch += 12 if (match[1] + match[2]).upper() == "B#" else -12 if (match[1] + match[2]).upper() == "CB" else 0
    if not 0 <= pitch <= 127:
        raise ValueError(f"{text!r} lies outside MIDI's pitches 0-127")
    return pitch


def parse_range(text: str) -> tuple[int, int]:
    """"C2-G5" -> (36, 79)."""
    low, sep, high = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a range (write it as LOW-HIGH, e.g. C2-G5)")
    return parse_pitch(low), parse_pitch(high)


def closest(seed: symusic.Score, candidates: dict[str, InstrumentLimits]) -> str | None:
    """The candidate whose instrument best fits a seed: as many voices as the seed sounds (a line
    for a line, four voices for a chorale), then the most of the seed's notes inside its range,
    then the narrowest range (a cello seed suits the cello model better than the chorales')."""
    notes = [n for track in seed.tracks for n in track.notes]
    if not notes or not candidates:
        return None
    heard = measure([seed])
    pitches = np.array([n.pitch for n in notes])

    def misfit(item: tuple[str, InstrumentLimits]) -> tuple:
        limits = item[1]
        voices = abs((limits.max_voices or 8) - (heard.max_voices or 1))
        outside = float(np.mean((pitches < limits.lowest) | (pitches > limits.highest)))
        return (round(outside, 1), voices, limits.highest - limits.lowest)

    return min(candidates.items(), key=misfit)[0]
