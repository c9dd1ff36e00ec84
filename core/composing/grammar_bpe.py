"""The grammar mask for BPE vocabularies: which model tokens, each standing for several base
tokens of one bar, may follow a grammar state (see `core.composing.grammar`), checked at once for every
token from per-token tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from core.composing.grammar import RemiGrammar, RemiState


class BpeTable:
    """What `RemiState.allowed` needs to know of each BPE token's expansion, as arrays over the
    model vocabulary. An expansion lies inside one bar (merges never cross a bar line), starts a
    bar only with its first token, and holds a meter only right after that Bar. So a model token
    may follow a state when its first base token may (the base mask) and
      * its Positions lie after the current one (unless it opens a position or a bar) and inside
        the bar, of its own meter where it writes one;
      * the pitches it adds are not sounding already where it adds them (at the current position,
        checked from a table; at its later positions, by stepping through it);
      * its meter is the current one, where the continuation keeps its seed's meter;
      * its own base tokens follow one another as the grammar allows (a base token always does).
    """

    NONE = 10**9  # no Position in the expansion to check

    def __init__(self, grammar: RemiGrammar):
        self.grammar = grammar
        size = len(grammar.expansions)
        self.first = torch.tensor([expansion[0] for expansion in grammar.expansions])
        valid, rest_min, top, meter_positions, meter_id = [], [], [], [], []
        leading = torch.zeros((len(grammar.pitch_ids), size), dtype=torch.bool)
        # for notes over a held note of their pitch: the pitches each token adds after its first base token
        adds = torch.zeros((len(grammar.pitch_ids), size), dtype=torch.bool)
        pitch_rows = {pitch: row for row, pitch in enumerate(sorted(grammar.pitch_ids))}
        self.pitch_rows = pitch_rows
        for model_id, expansion in enumerate(grammar.expansions):
            types = [grammar.types[i] for i in expansion]
            valid.append(all(bool(grammar.type_masks[before if before in grammar.type_masks else "Duration"][after])
                             for before, after in zip(types[:-1], expansion[1:], strict=True))
                         and not _repeats_a_pitch(grammar, expansion))
            positions = [grammar.values[i] for i in expansion if grammar.types[i] == "Position"]
            opens = types[0] in ("Bar", "Position")
            rest_min.append(min(positions) if positions and not opens else self.NONE)
            top.append(max(positions) if positions else -1)
            meters = [grammar.values[i] for i in expansion if grammar.types[i] == "TimeSig"]
            meter_positions.append(meters[0][0] * grammar.ppb if meters else -1)
            meter_id.append(next((i for i in expansion if grammar.types[i] == "TimeSig"), -1))
            for base_id, kind in zip(expansion, types, strict=True):
                if kind in ("Position", "Bar"):
                    break
                if kind == "Pitch":
                    leading[pitch_rows[grammar.values[base_id]], model_id] = True
            for base_id in expansion[1:]:
                if grammar.types[base_id] == "Pitch":
                    adds[pitch_rows[grammar.values[base_id]], model_id] = True
        self.valid = torch.tensor(valid, dtype=torch.bool)
        self.rest_min_position = torch.tensor(rest_min)
        self.top_position = torch.tensor(top)
        self.meter_positions = torch.tensor(meter_positions)
        self.meter_id = torch.tensor(meter_id)
        self.leading_pitches = leading
        self.adds_pitch = adds
        # for the instrument's limits: each token's pitch span, and whether its later base tokens
        # add notes or positions (which only stepping through them can check against the voices)
        pitches = [[grammar.values[i] for i in expansion if grammar.types[i] == "Pitch"] for expansion in grammar.expansions]
        self.lowest_pitch = torch.tensor([min(p) if p else 127 for p in pitches])
        self.highest_pitch = torch.tensor([max(p) if p else 0 for p in pitches])
        self.repeats_pitch = torch.tensor([len(set(p)) < len(p) for p in pitches])  # (stepped through: see mask)
        self.steps_voices = torch.tensor([any(grammar.types[i] in ("Pitch", "Position") for i in expansion[1:])
                                          for expansion in grammar.expansions], dtype=torch.bool)
        self.pitch_count = torch.tensor([len(p) for p in pitches])
        # for a bar's density: the notes a token adds, one more where it ends on a Position (whose
        # note must follow), and whether it opens a bar
        self.notes_added = self.pitch_count + torch.tensor([grammar.types[e[-1]] == "Position" for e in grammar.expansions])
        self.opens_bar = torch.from_numpy(grammar.tokenizer.opens_bar)

    def mask(self, state: RemiState, base: torch.Tensor, *, keep_meter: bool) -> torch.Tensor:
        """The model tokens allowed after `state`, given its base mask `base`."""
        mask = base[self.first] & self.valid & (self.rest_min_position > state.position)
        limit = torch.where(self.meter_positions >= 0, self.meter_positions, state.positions_per_bar)
        mask &= self.top_position < limit
        if keep_meter:
            current = self.grammar.timesig_ids.get(state.time_signature, -2)
            mask &= (self.meter_id < 0) | (self.meter_id == current)
        rows = [self.pitch_rows[p] for p in state.pitches_here if p in self.pitch_rows]
        if rows:
            mask &= ~self.leading_pitches[rows].any(0)
        # no note of a pitch that an earlier one still holds, at the token's later positions: the
        # tokens that add a pitch held now, or one pitch twice, are stepped through
        held = [self.pitch_rows[p] for p in {*state.held, *state.pitches_here} if p in self.pitch_rows]
        maybe = self.repeats_pitch | (self.adds_pitch[held].any(0) if held else False)
        for model_id in (mask & maybe).nonzero().flatten().tolist():
            if self._restrikes(state, self.grammar.expansions[model_id]):
                mask[model_id] = False
        if not mask.any():  # never leave sampling empty: the base tokens the base mask allows
            mask = torch.zeros(len(self.valid), dtype=torch.bool)
            mask[: len(base)] = base
        return mask

    def _restrikes(self, state: RemiState, spelled: tuple[int, ...]) -> bool:
        """Whether a base token after the first of `spelled` starts a note of a pitch still sounding
        (what feeding a copy of `state` and asking its masks finds, without the copies)."""
        grammar = self.grammar
        types, values = grammar.types, grammar.values
        meter, bar_start, position, pitch = state.time_signature, state.bar_start, state.position, state.pitch
        held, here = dict(state.held), set(state.pitches_here)
        for index, base_id in enumerate(spelled):
            kind = types[base_id]
            if kind == "Bar":  # (only a token's first)
                bar_start += state.bar_length if state.bars > 0 else 0
                position, here = -1, set()
            elif kind == "TimeSig":
                meter = values[base_id]
            elif kind == "Position":
                position = values[base_id]
                onset = bar_start + grammar.onset_ticks(position, meter)
                here = {p for p, end in held.items() if end > onset}
            elif kind == "Pitch":
                pitch = values[base_id]
                if index and pitch in here:
                    return True
                here.add(pitch)
            elif kind == "Duration":
                end = bar_start + grammar.onset_ticks(position, meter) + grammar.duration_ticks(base_id, meter[1])
                held[pitch] = max(held.get(pitch, 0), end)
        return False

    def _keeps_voices(self, state: RemiState, spelled: tuple[int, ...], voices: int) -> bool:
        """Whether the base tokens after the first of `spelled` keep `voices` (what stepping a copy
        of `state` through them with `fits_limits` finds, without the copies: this runs for hundreds
        of tokens per new state). Merged tokens never cross a bar line, so only their first token
        can be a Bar, and a meter only follows it."""
        grammar = self.grammar
        types, values = grammar.types, grammar.values
        meter, bar_start, position = state.time_signature, state.bar_start, state.position
        first = spelled[0]
        if types[first] == "Bar":
            bar_start += state.bar_length if state.bars > 0 else 0
            position = -1
        onset = bar_start + grammar.onset_ticks(position, meter)
        ends = [end for end in state.ends if end > onset] if position >= 0 else list(state.ends)
        for index, base_id in enumerate(spelled):
            kind = types[base_id]
            if kind == "TimeSig":
                meter = values[base_id]
            elif kind == "Position":
                position = values[base_id]
                if index:  # a voice must be free here
                    busy = sorted(ends)
                    if len(busy) >= voices and position < grammar.first_position_at(busy[-voices] - bar_start, meter):
                        return False
                onset = bar_start + grammar.onset_ticks(position, meter)
                ends = [end for end in ends if end > onset]
            elif kind == "Pitch" and index and sum(end > onset for end in ends) >= voices:
                return False
            elif kind == "Duration":
                ends.append(onset + grammar.duration_ticks(base_id, meter[1]))
        return True

    def within_limits(self, state: RemiState, mask: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """`mask` without the model tokens that would break `state.limits` (their first base token
        was checked by the base mask; the rest are stepped through, once per state: masks are cached)."""
        limits = state.limits
        mask = mask & (self.lowest_pitch >= limits.lowest) & (self.highest_pitch <= limits.highest)
        if limits.max_voices is not None:
            expansions = self.grammar.expansions
            # a token whose notes all fit beside every note sounding now, with a voice to spare for
            # each of its positions, cannot break the limit: only the others are stepped through
            room = limits.max_voices - state.sounding_at(state.onset if state.position >= 0 else state.bar_start) \
                - (state.last_type in ("Pitch", "Velocity"))  # a note whose Duration is still to come
            for model_id in (mask & self.steps_voices & (self.pitch_count >= room)).nonzero().flatten().tolist():
                if not self._keeps_voices(state, expansions[model_id], limits.max_voices):
                    mask[model_id] = False
        if not mask.any():  # never leave sampling empty: the base tokens the base mask allows
            mask = torch.zeros(len(self.valid), dtype=torch.bool)
            mask[: len(base)] = base
        return mask


def _repeats_a_pitch(grammar: RemiGrammar, expansion: tuple[int, ...]) -> bool:
    """Whether an expansion sounds one pitch twice at one position (a unison of two voices, as
    merged tracks hold it): the grammar writes one note of a pitch at a time."""
    here: set[int] = set()
    for base_id in expansion:
        kind = grammar.types[base_id]
        if kind in ("Position", "Bar"):
            here.clear()
        elif kind == "Pitch":
            if grammar.values[base_id] in here:
                return True
            here.add(grammar.values[base_id])
    return False
