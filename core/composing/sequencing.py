"""Sequence guidance: a bar may take up the figure of the bar before it, a scale step away.

Bach spins his lines out by sequences: a bar's figure repeated at another degree of the scale, its
rhythm and the direction of every step kept (about a fifth of the bars of the cello suites repeat
the contour of one of the four bars before them; bars 5-12 of the held-out movements, a tenth).
A small model trained on 33 movements rarely does it on its own (2-3 % of its bars). The guide
offers it the sequence without forcing it: in a bar chosen to sequence (with probability
`strength`, drawn once per bar), it adds `SEQUENCE_BIAS` nats to the logit of the token that
carries the bar before's figure on (the next onset's Position, its Pitch: the same step in the
scale from the note before, and its Duration), and the model's own distribution decides between that and
everything else the grammar allows. Once the bar leaves the figure's rhythm, the guide lets go.

Pitches move in the scale of C major (A natural minor): a key-normalised model composes there
(`core.composing.generation.key_shift_for`); a model in its pieces' own keys gets exact (semitone)
sequences. Chromatic notes of the figure move by semitones.
"""

from __future__ import annotations

import torch

from core.composing.grammar import RemiGrammar, RemiState

SEQUENCE_BIAS = 5.0  # nats: e^5 = 150 times likelier than the model alone would make it
MIN_FIGURE = 3  # onsets a bar needs to be a figure worth repeating
WHITE_KEYS = (0, 2, 4, 5, 7, 9, 11)


class SequenceGuide:
    """Per take: which bars sequence, and the bias of each next token (see the module's doc)."""

    def __init__(self, grammar: RemiGrammar, strength: float, diatonic: bool):
        self.grammar = grammar
        self.strength = strength
        self.diatonic = diatonic
        self.chosen: dict[int, bool] = {}  # bar index -> whether it sequences
        self.durations: dict[int, dict[int, int]] = {}  # meter denominator -> ticks -> Duration id
        self.position_ids = {int(value): token_id for token_id, value in enumerate(grammar.position_value.tolist())
                             if value >= 0}

    def bias(self, state: RemiState, generator: torch.Generator) -> tuple[int, float] | None:
        """(token id, nats to add to its logit) for the next token, or None."""
        if self.strength <= 0 or state.last_type not in ("Position", "Pitch", "Velocity", "Duration", "TimeSig",
                                                         "Bar", "Chord"):
            return None
        bar = max(state.bars - 1, 0)
        figure, current = _top_lines(state, bar)
        begun = state.last_type in ("Pitch", "Velocity")  # current holds the note being written
        if len(figure) < MIN_FIGURE or len(current) - begun >= len(figure):
            return None
        if any(a[0] != b[0] for a, b in zip(figure, current, strict=False)):
            return None  # the bar has left the figure's rhythm
        if bar not in self.chosen:
            self.chosen[bar] = bool(torch.rand(1, generator=generator).item() < self.strength)
        if not self.chosen[bar]:
            return None
        k = len(current)
        if state.last_type in ("Pitch", "Velocity"):  # the note just begun: the figure's length
            if len(state.pitches_here) > 1:  # a chord's second note: the first one's length was biased
                return None
            token_id = self._duration_id(figure[len(current) - 1][2], state.time_signature[1])
            return None if token_id is None else (token_id, SEQUENCE_BIAS)
        if state.last_type == "Position":  # the k-th onset's pitch (after the first, which is free)
            here = state.position >= 0 and state.onset - state.bar_start
            if k == 0 or here != figure[k][0]:
                return None
            pitch = self._step(figure[k - 1][1], figure[k][1], current[k - 1][1])
            token_id = self.grammar.pitch_ids.get(pitch)
            return None if token_id is None else (token_id, SEQUENCE_BIAS)
        if state.last_type == "Duration" and current and state.onset - state.bar_start == current[-1][0] \
                and len(state.pitches_here) > 1:
            return None  # (a chord in progress)
        position = self.grammar.first_position_at(figure[k][0], state.time_signature)
        token_id = self.position_ids.get(position)
        return None if token_id is None else (token_id, SEQUENCE_BIAS)

    def _duration_id(self, ticks: int, denominator: int) -> int | None:
        table = self.durations.get(denominator)
        if table is None:
            table = self.durations[denominator] = {}
            for token_id, kind in enumerate(self.grammar.types):
                if kind == "Duration":
                    table.setdefault(self.grammar.duration_ticks(token_id, denominator), token_id)
        return table.get(ticks)

    def _step(self, before: int, after: int, start: int) -> int:
        """The pitch that moves from `start` as the figure moved from `before` to `after`."""
        if not self.diatonic or before % 12 not in WHITE_KEYS or after % 12 not in WHITE_KEYS \
                or start % 12 not in WHITE_KEYS:
            return start + after - before
        steps = _degree(after) - _degree(before)
        target = _degree(start) + steps
        return 12 * (target // 7) + WHITE_KEYS[target % 7]


def _degree(pitch: int) -> int:
    """A white key's number of scale steps above C of MIDI octave -1."""
    return 7 * (pitch // 12) + WHITE_KEYS.index(pitch % 12)


def _top_lines(state: RemiState, bar: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """(onset ticks into the bar, highest pitch, its duration) of bar `bar` - 1 and of bar `bar` so
    far (the pitch of a note just begun, whose duration is not chosen yet, included: duration 0)."""
    before: dict[int, tuple[int, int]] = {}
    now: dict[int, tuple[int, int]] = {}
    bar_length = state.bar_length
    for note in reversed(state.notes):
        if note.bar < bar - 1:
            break
        into = note.time - (state.bar_start - (bar_length if note.bar == bar - 1 else 0))
        target = now if note.bar == bar else before
        target[into] = max(target.get(into, (0, 0)), (note.pitch, note.duration))
    if state.last_type in ("Pitch", "Velocity") and state.position >= 0:
        into = state.onset - state.bar_start
        now[into] = max(now.get(into, (0, 0)), (state.pitch, 0))
    return ([(t, p, d) for t, (p, d) in sorted(before.items())], [(t, p, d) for t, (p, d) in sorted(now.items())])
