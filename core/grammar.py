"""The grammar of REMI token sequences, used to mask sampling so decoding never fails.

A REMI piece reads: Bar [TimeSig] (Position (Pitch [Velocity] Duration)+)* Bar ...
`RemiState` follows one sequence token by token. It knows which token types may come next,
that Positions only move forward inside a bar and stay inside it, and it turns tokens into
notes as they arrive (`feed` returns the finished note), which is what lets the GUI and the
MIDI player stream a take while it is still being written.

Times: positions are counted per beat of the time signature (its denominator) at
`positions_per_beat`; note times are returned in ticks at the tokenizer's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import torch

from core.tokenizer import PartitaTokenizer

# Which token types may follow each type (None: the start of a sequence).
NEXT_TYPES: dict[str | None, tuple[str, ...]] = {
    None: ("Bar",),
    "BOS": ("Bar",),
    "Bar": ("TimeSig",),  # miditok writes the meter after every bar line (without TimeSig: see below)
    "TimeSig": ("Position", "Bar"),
    "Position": ("Pitch",),
    "Pitch": ("Velocity", "Duration"),  # Velocity only where the vocabulary has it
    "Velocity": ("Duration",),
    "Duration": ("Pitch", "Position", "Bar", "EOS"),
    "EOS": ("EOS",),
}


@dataclass(frozen=True)
class StreamedNote:
    time: int  # ticks at the tokenizer's resolution
    duration: int
    pitch: int
    velocity: int
    bar: int  # 0-based bar index in the sequence


class RemiGrammar:
    """Per-vocabulary tables shared by every `RemiState`."""

    def __init__(self, tokenizer: PartitaTokenizer):
        if tokenizer.settings.tokenization != "REMI":
            raise ValueError("the grammar mask is defined for REMI only")
        self.tokenizer = tokenizer
        self.types = list(tokenizer.token_types)
        size = len(self.types)
        self.type_masks: dict[str | None, torch.Tensor] = {}
        has_velocity = tokenizer.settings.use_velocities
        has_meter = "TimeSig" in self.types
        for previous, allowed in NEXT_TYPES.items():
            if previous == "Bar" and not has_meter:
                allowed = ("Position", "Bar")
            allowed = tuple(t for t in allowed if t != "Velocity" or has_velocity)
            if previous == "Pitch" and has_velocity:
                allowed = ("Velocity",)
            self.type_masks[previous] = torch.tensor([t in allowed for t in self.types], dtype=torch.bool)
        self.position_value = torch.full((size,), -1, dtype=torch.long)
        self.values: list[object] = [None] * size
        for token_id, token in enumerate(tokenizer.tokens):
            kind, _, value = token.partition("_")
            if kind == "Position":
                self.position_value[token_id] = int(value)
                self.values[token_id] = int(value)
            elif kind in ("Pitch", "Velocity"):
                self.values[token_id] = int(value)
            elif kind == "Duration":
                beats, numerator, denominator = (int(x) for x in value.split("."))
                self.values[token_id] = Fraction(beats) + Fraction(numerator, denominator)
            elif kind == "TimeSig":
                top, bottom = value.split("/")
                self.values[token_id] = (int(top), int(bottom))
        self.is_position = self.position_value >= 0
        self.eos_id = tokenizer.eos_id
        self.pitch_ids = {v: i for i, v in enumerate(self.values) if self.types[i] == "Pitch"}
        self.is_timesig = torch.tensor([t == "TimeSig" for t in self.types], dtype=torch.bool)
        self.is_pitch = torch.tensor([t == "Pitch" for t in self.types], dtype=torch.bool)
        self.timesig_ids = {v: i for i, v in enumerate(self.values) if self.types[i] == "TimeSig"}
        self.timesig_id = torch.arange(size)
        self.ppb = tokenizer.settings.positions_per_beat
        self.tpq = tokenizer.ticks_per_quarter
        self.mask_cache: dict[tuple, torch.Tensor] = {}  # RemiState.allowed's masks by state
        self._onsets: dict[tuple[int, tuple[int, int]], int] = {}  # (position, meter) -> ticks into the bar
        self._durations: dict[tuple[int, int], int] = {}  # (Duration id, meter denominator) -> ticks

    def onset_ticks(self, position: int, time_signature: tuple[int, int]) -> int:
        """Ticks from the downbeat to `position` (positions count per beat of the denominator)."""
        key = (position, time_signature)
        ticks = self._onsets.get(key)
        if ticks is None:
            ticks = self._onsets[key] = round(max(position, 0) * Fraction(self.tpq * 4, time_signature[1] * self.ppb))
        return ticks

    def duration_ticks(self, token_id: int, denominator: int) -> int:
        """Length in ticks of a Duration token, whose value counts beats of the denominator."""
        key = (token_id, denominator)
        ticks = self._durations.get(key)
        if ticks is None:
            ticks = self._durations[key] = max(1, round(self.values[token_id] * Fraction(self.tpq * 4, denominator)))
        return ticks

    def new_state(self) -> RemiState:
        return RemiState(self)


@dataclass
class RemiState:
    grammar: RemiGrammar
    last_type: str | None = None
    time_signature: tuple[int, int] = (4, 4)
    meter_given: bool = False  # a TimeSig token has been seen
    bars: int = 0  # Bar tokens seen
    bar_start: int = 0  # tick of the current bar's downbeat
    position: int = -1  # current position in the bar, -1 before the first Position
    pitch: int = 0
    velocity: int = 80
    finished: bool = False
    pitches_here: set = field(default_factory=set)  # pitches already sounding at this position
    notes: list[StreamedNote] = field(default_factory=list)

    @property
    def bar_ticks(self) -> int:
        numerator, denominator = self.time_signature
        return self.grammar.tpq * 4 * numerator // denominator

    @property
    def positions_per_bar(self) -> int:
        return self.time_signature[0] * self.grammar.ppb

    def allowed(self, *, min_bars: int = 0, keep_meter: bool = False, new_onset: bool = False) -> torch.Tensor:
        """Bool mask (vocab,) of the tokens that may come next.

        `min_bars`: no EOS before this many Bar tokens. `keep_meter`: TimeSig tokens may
        only repeat the current time signature (a continuation keeps its seed's meter).
        `new_onset`: the next note starts at a later position than the last one (the first token
        of a continuation: it must not add notes to the seed's last chord).
        """
        # The mask depends on these facts only, and sampling asks for the same few masks again
        # and again: each is built once per grammar (32 -> 4 us per token for the tiny model).
        after_note = self.last_type == "Duration"
        key = (self.last_type, self.position, self.time_signature, self.bars < min_bars,
               keep_meter and self.last_type == "Bar", new_onset and after_note,
               frozenset(self.pitches_here) if after_note else None)
        cache = self.grammar.mask_cache
        mask = cache.get(key)
        if mask is None:
            if len(cache) > 10_000:  # many-voiced music: bound the memory
                cache.clear()
            mask = cache[key] = self._build_mask(min_bars=min_bars, keep_meter=keep_meter, new_onset=new_onset)
        return mask.clone()

    def _build_mask(self, *, min_bars: int, keep_meter: bool, new_onset: bool) -> torch.Tensor:
        grammar = self.grammar
        mask = grammar.type_masks[self.last_type if self.last_type in NEXT_TYPES else "Duration"].clone()
        if new_onset and self.last_type == "Duration":
            mask &= ~grammar.is_pitch
        if mask[grammar.is_position].any():
            values = grammar.position_value
            in_bar = (values > self.position) & (values < self.positions_per_bar)
            mask &= ~grammar.is_position | in_bar
        if self.pitches_here and self.last_type == "Duration":  # no second note of one pitch at one time
            mask[[grammar.pitch_ids[p] for p in self.pitches_here if p in grammar.pitch_ids]] = False
        if self.bars < min_bars:
            mask[grammar.eos_id] = False
        if keep_meter and self.last_type == "Bar":
            mask &= ~grammar.is_timesig | (grammar.timesig_id == grammar.timesig_ids.get(self.time_signature, -1))
        if not mask.any():  # cannot happen with a REMI vocabulary; never leave sampling empty
            mask = self.grammar.type_masks["Duration"].clone()
        return mask

    def feed(self, token_id: int) -> StreamedNote | None:
        """Advance by one token; returns the note it completes, if any."""
        kind = self.grammar.types[token_id]
        value = self.grammar.values[token_id]
        note = None
        if kind == "Bar":
            if self.bars > 0:
                self.bar_start += self.bar_ticks
            self.bars += 1
            self.position = -1
            self.pitches_here.clear()
        elif kind == "TimeSig":
            self.time_signature = value  # type: ignore[assignment]
            self.meter_given = True
        elif kind == "Position":
            self.position = int(value)  # type: ignore[arg-type]
            self.pitches_here.clear()
        elif kind == "Pitch":
            self.pitch = int(value)  # type: ignore[arg-type]
            self.pitches_here.add(self.pitch)
        elif kind == "Velocity":
            self.velocity = int(value)  # type: ignore[arg-type]
        elif kind == "Duration":  # (the tick arithmetic is exact, in Fractions, and cached per meter)
            note = StreamedNote(
                time=self.bar_start + self.grammar.onset_ticks(self.position, self.time_signature),
                duration=self.grammar.duration_ticks(token_id, self.time_signature[1]),
                pitch=self.pitch,
                velocity=self.velocity,
                bar=max(self.bars - 1, 0),
            )
            self.notes.append(note)
        elif kind == "EOS":
            self.finished = True
        if kind != "BOS":
            self.last_type = kind
        return note


def replay(grammar: RemiGrammar, ids: list[int] | np.ndarray) -> RemiState:
    """The state after a whole sequence (e.g. a prompt)."""
    state = grammar.new_state()
    for token_id in ids:
        state.feed(int(token_id))
    return state
