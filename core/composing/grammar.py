"""The grammar of REMI token sequences, used to mask sampling so decoding never fails.

A REMI piece reads: Bar [TimeSig] (Position (Pitch [Velocity] Duration)+)* Bar ...
`RemiState` follows one sequence token by token. It knows which token types may come next,
that Positions only move forward inside a bar and stay inside it, and it turns tokens into
notes as they arrive (`feed` returns the finished note), which is what lets the GUI and the
MIDI player stream a take while it is still being written.

With BPE the model writes tokens that stand for several base tokens of one bar. The state still
follows base tokens (`feed_model` feeds a model token's expansion), and `allowed` masks model
tokens: one is allowed when its whole expansion is, checked at once for every token from
per-token tables (`core.composing.grammar_bpe.BpeTable`).

Times: positions are counted per beat of the time signature (its denominator) at
`positions_per_beat`; note times are returned in ticks at the tokenizer's resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import torch

from core.learning.tokenizer import PartitaTokenizer
from core.music.controls import KINDS as CONTROL_KINDS
from core.music.controls import density_notes
from core.music.limits import InstrumentLimits
from core.music.meter import bar_length

# Which token type may follow which. The music's own types follow miditok's REMI as it states them
# (its `tokens_types_graph`, for the vocabulary's meters and velocities), with one rule stricter:
# a bar's first note comes after its Position (miditok also reads a Pitch straight after the meter).
# Partita's own types sit between a bar's meter (or its bar line) and its first note: the bar's
# controls (core.music.controls: [Density] [Voices] [Low High]), then its chords, one per beat.
REMI_TYPES = ("Bar", "TimeSig", "Position", "Pitch", "Velocity", "Duration")
BAR_HEADER = ("Density", "Voices", "Low", "Chord")  # in the order they are written
AT_A_POSITION = ("Position", "Duration")  # last types after which a Pitch starts a note at the current position


def next_types(tokenizer: PartitaTokenizer) -> dict[str | None, tuple[str, ...]]:
    """The types that may follow each type of `tokenizer`'s vocabulary (None: the start)."""
    graph = tokenizer.inner.tokens_types_graph
    rules = {kind: tuple(t for t in REMI_TYPES if t in graph[kind]) for kind in REMI_TYPES if kind in graph}
    opening = "TimeSig" if "TimeSig" in rules else "Bar"  # what the bar's own types follow
    content = tuple(t for t in rules[opening] if t != "Pitch")  # the first Position, or the next bar line
    header = (*BAR_HEADER, *content)
    rules[opening] = header
    rules.update({"Density": header[1:], "Voices": header[2:], "Low": ("High",), "High": header[3:],
                  "Chord": ("Chord", *content)})
    rules["Duration"] += ("EOS",)
    return {None: ("Bar",), "BOS": ("Bar",), **rules, "EOS": ("EOS",)}


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
        self.type_masks: dict[str | None, torch.Tensor] = {
            previous: torch.tensor([t in allowed for t in self.types], dtype=torch.bool)
            for previous, allowed in next_types(tokenizer).items()}
        self.position_value = torch.full((size,), -1, dtype=torch.long)
        self.values: list[object] = [None] * size
        for token_id, token in enumerate(tokenizer.tokens):
            kind, _, value = token.partition("_")
            if kind == "Position":
                self.position_value[token_id] = int(value)
                self.values[token_id] = int(value)
            elif kind in ("Pitch", "Velocity", "Density", "Voices", "Low", "High"):
                self.values[token_id] = int(value)
            elif kind == "Duration":
                beats, numerator, denominator = (int(x) for x in value.split("."))
                self.values[token_id] = Fraction(beats) + Fraction(numerator, denominator)
            elif kind == "TimeSig":
                top, bottom = value.split("/")
                self.values[token_id] = (int(top), int(bottom))
        self.is_position = self.position_value >= 0
        # by model id: the longest Duration it writes, in beats of the meter's denominator (0: none)
        self.longest_duration = torch.tensor([float(max((self.values[i] for i in expansion if self.types[i] == "Duration"),
                                                        default=0)) for expansion in tokenizer.expansions])
        self.eos_id = tokenizer.eos_id
        self.bar_id = self.types.index("Bar")
        self.pitch_ids = {v: i for i, v in enumerate(self.values) if self.types[i] == "Pitch"}
        self.is_timesig = torch.tensor([t == "TimeSig" for t in self.types], dtype=torch.bool)
        self.is_pitch = torch.tensor([t == "Pitch" for t in self.types], dtype=torch.bool)
        self.is_chord = torch.tensor([t == "Chord" for t in self.types], dtype=torch.bool)
        self.is_control = torch.tensor([t in CONTROL_KINDS for t in self.types], dtype=torch.bool)
        self.timesig_ids = {v: i for i, v in enumerate(self.values) if self.types[i] == "TimeSig"}
        self.timesig_id = torch.arange(size)
        self.ppb = tokenizer.settings.positions_per_beat
        self.tpq = tokenizer.ticks_per_quarter
        self.expansions = tokenizer.expansions  # base ids of each model id
        self.first_types = [self.types[expansion[0]] for expansion in self.expansions]  # by model id
        self.bpe = None
        if tokenizer.bpe:
            from core.composing.grammar_bpe import (
                BpeTable,  # (it builds on this module's RemiGrammar and RemiState)
            )

            self.bpe = BpeTable(self)
        # by model id: the last Position it writes (-1: none), where its notes start at the latest
        self.last_position = self.bpe.top_position if self.bpe is not None else torch.full((len(self.expansions),), -1)
        self._starting_with: dict[int, list[int]] | None = None  # see starting_with
        self.mask_cache: dict[tuple, torch.Tensor] = {}  # RemiState.allowed's masks by state
        self._onsets: dict[tuple[int, tuple[int, int]], int] = {}  # (position, meter) -> ticks into the bar
        self._durations: dict[tuple[int, int], int] = {}  # (Duration id, meter denominator) -> ticks
        self._outside: dict[tuple[int, int], torch.Tensor] = {}  # (lowest, highest) -> Pitch ids outside

    def starting_with(self, base_id: int) -> list[int]:
        """The model ids whose expansion starts with `base_id` (the base token itself first)."""
        if self._starting_with is None:
            self._starting_with = {}
            for model_id, spelled in enumerate(self.expansions):
                self._starting_with.setdefault(spelled[0], []).append(model_id)
        return self._starting_with.get(base_id, [])

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

    def outside_range(self, lowest: int, highest: int) -> torch.Tensor:
        """Bool mask (base vocabulary,) of the Pitch tokens outside lowest..highest."""
        mask = self._outside.get((lowest, highest))
        if mask is None:
            mask = self._outside[(lowest, highest)] = torch.tensor(
                [kind == "Pitch" and not lowest <= value <= highest for kind, value in zip(self.types, self.values, strict=True)],
                dtype=torch.bool)
        return mask

    def first_position_at(self, ticks: int, time_signature: tuple[int, int]) -> int:
        """The first position of a bar whose onset lies `ticks` or more after the downbeat."""
        if ticks <= 0:
            return 0
        position = -(-ticks * time_signature[1] * self.ppb // (self.tpq * 4))  # ceil, then undo onset rounding
        while position > 0 and self.onset_ticks(position - 1, time_signature) >= ticks:
            position -= 1
        while self.onset_ticks(position, time_signature) < ticks:
            position += 1
        return position

    def new_state(self, limits: InstrumentLimits | None = None) -> RemiState:
        return RemiState(self, limits=limits if limits is not None and limits.bounded else None)


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
    held: dict = field(default_factory=dict)  # pitch -> end tick of its latest note (those that may still sound)
    notes: list[StreamedNote] = field(default_factory=list)
    limits: InstrumentLimits | None = None  # the instrument's range and voices, kept while composing
    ends: list = field(default_factory=list)  # end ticks of the notes that may still sound (with limits)
    chords_in_bar: int = 0  # Chord tokens of the current bar so far (a chord-aware vocabulary)
    # chords to write, by bar (the `bars` count once its Bar token is read): base ids, one per beat
    chord_plan: dict = field(default_factory=dict)
    no_chords: bool = False  # write no Chord tokens (the seed has none and no progression is given)
    # controls to write, by bar (as for chords): base ids in order; a bar without a plan writes none
    control_plan: dict = field(default_factory=dict)
    controls_in_bar: int = 0
    notes_in_bar: int = 0  # notes begun in the current bar

    @property
    def bar_length(self) -> int:
        return bar_length(self.grammar.tpq, *self.time_signature)

    @property
    def positions_per_bar(self) -> int:
        return self.time_signature[0] * self.grammar.ppb

    def allowed(self, *, min_bars: int = 0, keep_meter: bool = False, new_onset: bool = False) -> torch.Tensor:
        """Bool mask (model vocabulary,) of the tokens that may come next.

        `min_bars`: no EOS before this many Bar tokens. `keep_meter`: TimeSig tokens may
        only repeat the current time signature (a continuation keeps its seed's meter).
        `new_onset`: the next note starts at a later position than the last one (the first token
        of a continuation: it must not add notes to the seed's last chord).
        """
        # The mask depends on these facts only, and sampling asks for the same few masks again
        # and again: each is built once per grammar (32 -> 4 us per token for the tiny model).
        after_note = self.last_type == "Duration"
        bpe = self.grammar.bpe
        if bpe is None:
            key = (self.last_type, self.position, self.time_signature, self.bars < min_bars,
                   keep_meter and self.last_type == "Bar", new_onset and after_note,
                   frozenset(self.pitches_here) if self.last_type in AT_A_POSITION else None, self.chords_in_bar)
        else:  # a model token may hold a meter or a note at this position or a later one, whatever the last type
            key = (self.last_type, self.position, self.time_signature, self.bars < min_bars, keep_meter,
                   new_onset and after_note, frozenset(self.pitches_here), self.held_key())
        if self.limits is not None:
            key += (self.limits, self._voices_key(), self.first_position_with_a_pitch())
        cache = self.grammar.mask_cache
        mask = cache.get(key)
        if mask is None:
            if len(cache) > 10_000:  # many-voiced music: bound the memory
                cache.clear()
            mask = self._build_mask(min_bars=min_bars, keep_meter=keep_meter, new_onset=new_onset)
            if bpe is not None:
                base = mask
                mask = bpe.mask(self, base, keep_meter=keep_meter)
                if self.limits is not None:
                    mask = bpe.within_limits(self, mask, base)
            cache[key] = mask
        mask = mask.clone()
        self._follow_controls(mask)
        self._keep_density(mask)
        if self.chord_plan or self.no_chords:
            self._follow_chords(mask)
        return mask

    def _density(self, bar: int) -> tuple[int, float] | None:
        """(fewest, most) notes of the density level asked of `bar` (a `bars` count), if one is."""
        grammar = self.grammar
        level = next((grammar.values[i] for i in self.control_plan.get(bar, ()) if grammar.types[i] == "Density"), None)
        return None if level is None else density_notes(level, self.bar_length / grammar.tpq)

    def _keep_density(self, mask: torch.Tensor) -> None:
        """Keep (in place) the notes of a bar asked for a density level inside that level: no new
        note once it holds the most; before it holds the fewest, no bar line (or end) while a
        position is left to write one at, and no position so late, nor a note held so long (here
        or into a next bar asked for a level), that too few positions are left after it for the
        notes still needed, a sixteenth apart."""
        density = self._density(self.bars)
        if density is None and not self.control_plan.get(self.bars + 1):
            return
        grammar, bpe, size = self.grammar, self.grammar.bpe, len(self.grammar.types)
        notes = self.notes_in_bar + (self.last_type in ("Pitch", "Velocity"))
        fewest, most = density or (0, math.inf)
        step = max(1, grammar.ppb * self.time_signature[1] // 16)  # a sixteenth, in positions
        positions = self.positions_per_bar
        if notes >= most and self.last_type not in ("Pitch", "Velocity", "Position"):
            mask[:size] &= ~(grammar.is_position | grammar.is_pitch)
        if bpe is not None and density is not None:  # a merged token adds no more notes than the level has room for
            mask[size:] &= bpe.notes_added[size:] <= max(most - notes, 0)
        need = max(fewest - notes, 0)
        if need:
            mask[:size] &= ~grammar.is_position | (grammar.position_value <= positions - need * step)
            if bpe is not None:
                after = positions - 1 - torch.clamp(bpe.top_position[size:], min=self.position)  # positions left after it
                mask[size:] &= bpe.notes_added[size:] + torch.div(after, step, rounding_mode="floor") >= need
        self._leave_room(mask, need, step)
        if need and self.last_type != "Bar":
            may_write = (mask[:size] & (grammar.is_position | grammar.is_pitch)).any()
            if bpe is not None:
                may_write = may_write or bool((mask[size:] & (bpe.pitch_count[size:] > 0)).any())
            if may_write:
                mask[grammar.bar_id] = False
                mask[grammar.eos_id] = False
                if bpe is not None:
                    mask[size:] &= ~bpe.opens_bar[size:]
        if not mask.any():  # never leave sampling empty
            mask[grammar.bar_id] = True

    def _leave_room(self, mask: torch.Tensor, need: int, step: int) -> None:
        """With a limit of voices, no note held past the position (counted from this bar's
        downbeat, into the next bar) from which the `need` notes this bar still needs, or the
        fewest of the next bar's level, must start, `step` positions apart: a held note takes a voice."""
        if self.limits is None or self.limits.max_voices is None or self.position < 0:
            return
        positions = self.positions_per_bar
        if need:
            latest = positions - need * step
        else:
            later = self._density(self.bars + 1)
            if later is None or not later[0]:
                return
            latest = 2 * positions - later[0] * step
        grammar = self.grammar
        ends = torch.clamp(grammar.last_position, min=self.position) + grammar.longest_duration * grammar.ppb  # in positions
        too_long = ends > max(latest, self.position + 1) + 1e-9
        if mask[~too_long].any():
            mask &= ~too_long

    def _follow_controls(self, mask: torch.Tensor) -> None:
        """Write (in place) exactly the planned controls of this bar, in order, or none: the model
        never chooses a control itself."""
        is_control = self.grammar.is_control
        if not mask[: len(is_control)][is_control].any():
            return
        planned = self.control_plan.get(self.bars)
        if planned is not None and self.controls_in_bar < len(planned):
            mask[:] = False
            mask[planned[self.controls_in_bar]] = True
        else:
            mask[: len(is_control)] &= ~is_control

    def _follow_chords(self, mask: torch.Tensor) -> None:
        """Keep (in place) to the planned chords of this bar, or to none."""
        is_chord = self.grammar.is_chord
        if not mask[: len(is_chord)][is_chord].any():
            return
        planned = self.chord_plan.get(self.bars)
        if planned is not None and self.chords_in_bar < len(planned):
            mask[:] = False
            mask[planned[self.chords_in_bar]] = True
        elif self.no_chords or planned is not None:
            mask[: len(is_chord)] &= ~is_chord

    def _build_mask(self, *, min_bars: int, keep_meter: bool, new_onset: bool) -> torch.Tensor:
        grammar = self.grammar
        mask = grammar.type_masks[self.last_type if self.last_type in grammar.type_masks else "Duration"].clone()
        if new_onset and self.last_type == "Duration":
            mask &= ~grammar.is_pitch
        if mask[grammar.is_position].any():
            values = grammar.position_value
            in_bar = (values > self.position) & (values < self.positions_per_bar)
            mask &= ~grammar.is_position | in_bar
        if self.pitches_here and self.last_type in AT_A_POSITION:  # no second note of one pitch at one time
            mask[[grammar.pitch_ids[p] for p in self.pitches_here if p in grammar.pitch_ids]] = False
        if self.bars < min_bars:
            mask[grammar.eos_id] = False
        if keep_meter and self.last_type == "Bar":
            mask &= ~grammar.is_timesig | (grammar.timesig_id == grammar.timesig_ids.get(self.time_signature, -1))
        if mask[grammar.is_chord].any():  # a bar's chords: none, or one for each of its beats
            beats = self.time_signature[0]
            if 0 < self.chords_in_bar < beats:
                mask &= grammar.is_chord
            elif self.chords_in_bar >= beats:
                mask &= ~grammar.is_chord
        if self.limits is not None:
            self._keep_limits(mask)
        if not mask.any():  # cannot happen with a REMI vocabulary; never leave sampling empty
            mask = self.grammar.type_masks["Duration"].clone()
        return mask

    # --- the instrument's limits ----------------------------------------------------------
    @property
    def onset(self) -> int:
        """Tick of the current position (of the downbeat before the bar's first Position)."""
        return self.bar_start + self.grammar.onset_ticks(self.position, self.time_signature)

    def sounding_at(self, tick: int) -> int:
        """How many of the notes written so far still sound at `tick`."""
        return sum(end > tick for end in self.ends)

    def first_position_with_a_pitch(self) -> int:
        """The first position of this bar at which a note of the range may start: where the range's
        every pitch is still held by an earlier note (a narrow range, a long note), none can."""
        pitches = range(self.limits.lowest, self.limits.highest + 1)
        if len(self.held) < len(pitches):  # (nearly always: a few pitches held, a range of dozens)
            return 0
        ends = [self.held.get(pitch) for pitch in pitches]
        if None in ends:
            return 0
        return self.grammar.first_position_at(min(ends) - self.bar_start, self.time_signature)

    def first_free_position(self) -> int:
        """The first position of this bar at which a voice is free to start a note."""
        voices = self.limits.max_voices if self.limits is not None else None
        if voices is None or len(self.ends) < voices:
            return 0
        free_at = sorted(self.ends)[-voices]  # the voices-th latest end: a voice is free from then on
        return self.grammar.first_position_at(free_at - self.bar_start, self.time_signature)

    def held_key(self) -> tuple:
        """The notes that may still sound, as (pitch, end from this bar's downbeat): what a BPE mask's
        check of later positions depends on."""
        now = self.onset if self.position >= 0 else self.bar_start
        return tuple(sorted((pitch, end - self.bar_start) for pitch, end in self.held.items() if end > now))

    def _voices_key(self) -> tuple:
        """What the limits' part of a mask depends on (the notes still sounding, from the downbeat)."""
        if self.limits.max_voices is None:
            return ()
        now = self.onset if self.position >= 0 else self.bar_start
        return (tuple(sorted(end - self.bar_start for end in self.ends if end > now)),)

    def _keep_limits(self, mask: torch.Tensor) -> None:
        """Mask (in place) the base tokens that would break the instrument's range or voices."""
        grammar, limits = self.grammar, self.limits
        mask &= ~grammar.outside_range(limits.lowest, limits.highest)
        if mask[grammar.is_position].any():  # a Position must be followed by a pitch it may start
            mask &= ~grammar.is_position | (grammar.position_value >= self.first_position_with_a_pitch())
        if limits.max_voices is None:
            return
        if self.last_type in ("Duration", "Position") and self.position >= 0 \
                and self.sounding_at(self.onset) >= limits.max_voices:
            mask &= ~grammar.is_pitch  # every voice is busy at this onset
        if mask[grammar.is_position].any():
            mask &= ~grammar.is_position | (grammar.position_value >= self.first_free_position())

    def fits_limits(self, base_id: int) -> bool:
        """Whether base token `base_id` keeps the instrument's limits here (the grammar aside)."""
        if self.limits is None:
            return True
        kind, value = self.grammar.types[base_id], self.grammar.values[base_id]
        if kind == "Pitch":
            if not self.limits.lowest <= value <= self.limits.highest:  # type: ignore[operator]
                return False
            return self.limits.max_voices is None or self.sounding_at(self.onset) < self.limits.max_voices
        if kind == "Position":
            return value >= max(self.first_free_position(), self.first_position_with_a_pitch())  # type: ignore[operator]
        return True

    def feed(self, token_id: int) -> StreamedNote | None:
        """Advance by one token; returns the note it completes, if any."""
        kind = self.grammar.types[token_id]
        value = self.grammar.values[token_id]
        note = None
        if kind == "Bar":
            if self.bars > 0:
                self.bar_start += self.bar_length
            self.bars += 1
            self.position = -1
            self.pitches_here.clear()
            self.chords_in_bar = 0
            self.controls_in_bar = 0
            self.notes_in_bar = 0
        elif kind in CONTROL_KINDS:
            self.controls_in_bar += 1
        elif kind == "Chord":
            self.chords_in_bar += 1
        elif kind == "TimeSig":
            self.time_signature = value  # type: ignore[assignment]
            self.meter_given = True
        elif kind == "Position":
            self.position = int(value)  # type: ignore[arg-type]
            now = self.onset  # the pitches still held here, from notes begun before
            self.held = {pitch: end for pitch, end in self.held.items() if end > now}
            self.pitches_here = set(self.held)
            if self.ends:
                self.ends = [end for end in self.ends if end > now]
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
            self.notes_in_bar += 1
            self.held[note.pitch] = max(self.held.get(note.pitch, 0), note.time + note.duration)
            if self.limits is not None:
                self.ends.append(note.time + note.duration)
        elif kind == "EOS":
            self.finished = True
        if kind != "BOS":
            self.last_type = kind
        return note

    def respelling(self, pending: list[int], *, min_bars: int = 0, keep_meter: bool = False) -> torch.Tensor:
        """Bool mask of the model tokens that spell the start of `pending` (base ids of the seed
        still to come), or all of it and then go on as `allowed` permits: with new_onset, as
        the first new token of a continuation (see core.composing.generation.seed_for_model)."""
        expansions = self.grammar.expansions
        mask = torch.zeros(len(expansions), dtype=torch.bool)
        pending = tuple(pending)
        after = None  # the state once all of `pending` is spelled
        fits = []
        for model_id in self.grammar.starting_with(pending[0]):  # (a tenth of a BPE vocabulary or less)
            spelled = expansions[model_id]
            if len(spelled) <= len(pending):
                if spelled == pending[:len(spelled)]:
                    fits.append(model_id)
            elif spelled[:len(pending)] == pending:
                if after is None:
                    after = self.copy()
                    for base_id in pending:
                        after.feed(base_id)
                probe = after.copy()
                for i, base_id in enumerate(spelled[len(pending):]):
                    if not probe.allowed(min_bars=min_bars, keep_meter=keep_meter, new_onset=i == 0)[base_id]:
                        break
                    probe.feed(base_id)
                else:
                    fits.append(model_id)
        mask[fits] = True
        return mask

    def copy(self) -> RemiState:
        """This state, to try tokens on (without the notes it has collected)."""
        return replace(self, pitches_here=set(self.pitches_here), held=dict(self.held), notes=[], ends=list(self.ends))  # (the plan is shared, read-only)

    def feed_model(self, model_id: int) -> list[StreamedNote]:
        """Advance by a model token (its base tokens, one by one); returns the notes it completes."""
        notes = []
        for base_id in self.grammar.expansions[model_id]:
            note = self.feed(base_id)
            if note is not None:
                notes.append(note)
        return notes


_GRAMMARS: dict[int, RemiGrammar] = {}  # by id(tokenizer); see grammar_for


def grammar_for(tokenizer: PartitaTokenizer) -> RemiGrammar:
    """One grammar per tokenizer, kept between takes: building one costs ~8 ms, and its mask
    cache (see `RemiState.allowed`) fills once instead of in every take."""
    grammar = _GRAMMARS.get(id(tokenizer))
    if grammar is None or grammar.tokenizer is not tokenizer:
        if len(_GRAMMARS) >= 8:
            _GRAMMARS.clear()
        grammar = _GRAMMARS[id(tokenizer)] = RemiGrammar(tokenizer)
    return grammar


def replay(grammar: RemiGrammar, ids: list[int] | np.ndarray, limits: InstrumentLimits | None = None) -> RemiState:
    """The state after a whole sequence (e.g. a prompt), keeping `limits` from then on."""
    state = grammar.new_state(limits)
    for token_id in ids:
        state.feed(int(token_id))
    return state

