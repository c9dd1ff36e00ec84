"""Joining an infill to the music after it.

A span is written as a continuation of the bars before it by a model that has read the bars after
it (core.composing.infill), and the model uses what it read little: its lines enter a span as
the composer's do, but may leave it with a leap to the next bar's first note where he would not
(Miles Davis's 2-bar spans: 42 % of the model's against none of his; the cello model of before
replay left Bach's held-out movements a median of 7 semitones away against his 3.5). So through the span's last bar the guide draws each new note towards the pitches of
the first onset after the span: a pitch more than `FREE` semitones from all of them loses
`NATS_PER_SEMITONE` nats a semitone beyond, scaled by the square of how far through the bar the
note starts (free at the bar line, all of it on the last beat). The grammar, the instrument's
limits and the model's own distribution still decide; nothing is forced. A shipped model may carry
its own pull, the one under which its composer's notes are likeliest (config.json
"generation": "join"; benchmarks/join_fit.py): Bach's cello lines leave a span with a leap about
as often as by step (50 % of 2-bar spans), and at 0.5 the model's left with one from 29 %.
"""

from __future__ import annotations

import torch

from core.composing.grammar import RemiGrammar, RemiState

NATS_PER_SEMITONE = 0.5
FREE = 2  # semitones from a pitch of the next onset that cost nothing


class JoinGuide:
    """The bias of a span's last bar towards `targets`, the pitches of the first onset after the
    span (in the key the model composes in). A merged token (BPE) pays for each of its notes, as
    late in the bar as its last position."""

    def __init__(self, grammar: RemiGrammar, last_bar: int, targets: list[int],
                 nats_per_semitone: float = NATS_PER_SEMITONE):
        cost = {p: -nats_per_semitone * max(min(abs(p - t) for t in targets) - FREE, 0) for p in grammar.pitch_ids}
        spelled = [[grammar.values[i] for i in expansion if grammar.types[i] == "Pitch"] for expansion in grammar.expansions]
        ids = [model_id for model_id, pitches in enumerate(spelled) if pitches]
        self.ids = torch.tensor(ids)
        self.penalty = torch.tensor([sum(cost[p] for p in spelled[i]) for i in ids], dtype=torch.float32)
        self.top = grammar.last_position[self.ids]
        self.last_bar = last_bar

    def bias(self, state: RemiState, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(ids of the tokens that write notes, nats to add to their logits) in the span's last bar
        once an onset is placed, else None."""
        if state.bars != self.last_bar or state.position < 0:
            return None
        through = (torch.clamp(self.top, min=state.position) + 1) / state.positions_per_bar
        return self.ids, self.penalty * through**2


def next_onset_pitches(score, tick: int) -> list[int]:
    """The pitches of `score`'s (a symusic.Score) first onset at or after `tick` ([] if none)."""
    starts = [n.time for track in score.tracks for n in track.notes if n.time >= tick]
    if not starts:
        return []
    first = min(starts)
    return sorted({n.pitch for track in score.tracks for n in track.notes if n.time == first})
