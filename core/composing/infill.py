"""Rewriting a span of bars between the music around it.

A model with infill (`TokenizerSettings.use_infill`) learned examples written as

    Infill_N  <up to two bars after the span>  Infill_Before  <the bars before it>  <the N bars>

so writing a span is a continuation of the bars before it, by a model that has read the bars
after it first (core.learning.dataset.infill_example). The span is written under the same grammar as a
continuation (its bars, its meter, the instrument's limits, the piece's chords, the controls
asked for), and the take is the input score with only the notes that start inside the span
replaced: every other note is the input's own, unchanged in time, pitch, length and velocity.

Bars are counted as the piano roll and the user count them: 1 is the bar from the score's first
tick (a pickup is a bar of its own there), on the bar lines of the score's time signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import symusic
import torch

from core.composing.generation import (
    ContinuationWriter,
    GenerationSettings,
    SeedError,
    TokenEvent,
    check_seed,
    close_with_empty_bars,
    control_plan,
    drain,
    grammar_for,
    key_shift_for,
    limits_for,
    sample,
)
from core.composing.grammar import RemiState, replay
from core.composing.joining import NATS_PER_SEMITONE, JoinGuide, next_onset_pitches
from core.learning.checkpoint import LoadedModel
from core.learning.tokenizer import MAX_SPAN
from core.music.markers import first_bar_number
from core.music.meter import bar_length

__all__ = ["MAX_SPAN", "InfillError", "InfillTake", "infill_variations", "parse_span", "stream_infill"]


class InfillError(ValueError):
    """A span that cannot be rewritten, said in words for the user."""


@dataclass
class InfillTake:
    score: symusic.Score  # the input with the span rewritten, at the input's resolution
    start_tick: int  # the span, in the score's ticks: its first downbeat ...
    end_tick: int  # ... and the bar line after it
    notes: list[symusic.Note]  # the new notes (score ticks)
    bars: int  # bars written: fewer than the span when the token budget ran out


def parse_span(text: str, first_number: int = 1) -> tuple[int, int]:
    """(first, last) bar, inclusive, of "5-8" or "5", as a score numbering its first bar
    `first_number` counts them (0: it numbers its pickup 0)."""
    first, dash, last = text.strip().partition("-")
    try:
        span = (int(first), int(last) if dash else int(first))
    except ValueError:
        raise InfillError(f"bars are written FIRST-LAST, as 5-8 (or one bar, as 5), not {text!r}") from None
    if span[0] > span[1]:
        raise InfillError(f"bars {text}: the first bar comes after the last (write {span[1]}-{span[0]})")
    if span[0] < first_number:
        raise InfillError(f"bars {text}: bars are counted from {first_number}"
                          + (" (the piece's score numbers its pickup bar 0)" if first_number == 0 else ""))
    return span


@dataclass
class InfillPlan:
    """What every row of one infill shares."""

    prefix: list[int]  # base ids of BOS and the bars before the span
    head: list[int]  # model ids the model reads first: Infill_N, the bars after, Infill_Before
    read: list[int]  # model ids of the bars before the span that fit in its context
    state: RemiState  # after the prefix
    last_bar: int  # the span's last bar as RemiState.bars counts it
    chords: dict[int, list[int]]
    no_chords: bool
    controls: dict[int, list[int]]
    shift: int  # semitones to C major / A or C minor (a key-normalised model)
    start_tick: int  # the span in tokenizer ticks
    end_tick: int
    middle: list[int]  # base ids of the span as the piece has it (what a benchmark scores)


def plan_infill(loaded: LoadedModel, score: symusic.Score, first: int, last: int, settings: GenerationSettings) -> InfillPlan:
    """The plan of rewriting bars `first`-`last` of `score` (1-based from its first bar, the way the
    piano roll counts; a message says them the way the piece's score numbers them)."""
    tokenizer = loaded.tokenizer
    said = first_bar_number(score) - 1  # -1: the score numbers its pickup bar 0
    if not tokenizer.settings.use_infill:
        raise InfillError("this model was trained before infill: it can only continue (choose a shipped model, "
                          "or retrain yours)")
    if last - first + 1 > MAX_SPAN:
        raise InfillError(f"bars {first + said}-{last + said}: at most {MAX_SPAN} bars at a time (what the model learned to "
                          "write); rewrite a longer passage in parts")
    if not any(track.notes for track in score.tracks):
        raise InfillError("the piece holds no notes: nothing around the span to fill between (compose from "
                          "nothing with generate)")
    shift = key_shift_for(loaded, score)
    work = score.shift_pitch(shift) if shift else score
    try:
        check_seed(tokenizer, work)
    except SeedError as error:
        raise InfillError(str(error).replace("the seed", "the piece")) from None
    grammar = grammar_for(tokenizer)
    ids = [tokenizer.bos_id, *tokenizer.encode(work)]
    end = max(n.time + n.duration for track in work.tracks for n in track.notes)
    close_with_empty_bars(grammar, ids, end * tokenizer.ticks_per_quarter / work.tpq)
    bar_id = tokenizer.inner.vocab["Bar_None"]
    bars = [i for i, token in enumerate(ids) if token == bar_id]
    if last > len(bars):
        raise InfillError(f"bars {first + said}-{last + said} lie outside the piece: its last bar is {len(bars) + said}")
    meters = _meters(grammar, ids, bars)
    changed = next((bar for bar in range(first, last + 1) if meters[bar - 1] != meters[first - 1]), None)
    if changed is not None or (first > 1 and meters[first - 2] != meters[first - 1]):
        at = changed or first
        raise InfillError(f"the meter changes at bar {at + said} ({_meter(meters[at - 2])} to {_meter(meters[at - 1])}): "
                          "a span is rewritten in the meter of the bar before it; choose bars of one meter")
    span_end = bars[last] if last < len(bars) else len(ids)
    prefix, middle = ids[:bars[first - 1]], ids[bars[first - 1]:span_end]
    state = replay(grammar, prefix, limits_for(loaded, settings).shifted(shift))
    start_tick = state.bar_start + (state.bar_length if state.bars else 0)
    whole = replay(grammar, ids)
    span_notes = [n for n in whole.notes if first - 1 <= n.bar <= last - 1]
    if len(span_notes) == len(whole.notes):
        raise InfillError(f"bars {first + said}-{last + said} hold every note of the piece: nothing around them to fill between "
                          "(compose from nothing with generate)")
    block = loaded.model.config.block_size
    after_end = bars[last + 2] if last + 2 < len(bars) else len(ids)
    after = ids[span_end:after_end] + ([tokenizer.eos_id] if after_end == len(ids) else [])
    head = [tokenizer.infill_ids[f"Infill_{last - first + 1}"],
            *tokenizer.to_model_ids(after).tolist()[: block // 4], tokenizer.infill_ids["Infill_Before"]]
    read = _context(tokenizer, prefix, block - len(head) - block // 2)
    chords, no_chords = _span_chords(tokenizer, middle, state.bars) if tokenizer.has_chords else ({}, False)
    try:
        controls = control_plan(tokenizer, range(state.bars + 1, state.bars + last - first + 2), settings.controls, shift)
    except ValueError as error:
        raise InfillError(str(error)) from None
    meter_ticks = state.bar_length if state.bars else bar_length(grammar.tpq, *meters[first - 1])
    return InfillPlan(prefix, head, read, state, state.bars + last - first + 1, chords, no_chords, controls, shift,
                 start_tick, start_tick + (last - first + 1) * meter_ticks, middle)


def _meters(grammar, ids: list[int], bars: list[int]) -> list[tuple[int, int]]:
    """The meter of each bar (the one in force after its bar line)."""
    meters, meter = [], (4, 4)
    for index, at in enumerate(bars):
        stop = bars[index + 1] if index + 1 < len(bars) else len(ids)
        for token_id in ids[at + 1:min(stop, at + 2)]:
            if grammar.types[token_id] == "TimeSig":
                meter = grammar.values[token_id]
        meters.append(meter)
    return meters


def _meter(meter: tuple[int, int]) -> str:
    return f"{meter[0]}/{meter[1]}"


def _context(tokenizer, prefix: list[int], budget: int) -> list[int]:
    """Model ids of the end of `prefix` that fit in `budget`, from a bar line (or its BOS)."""
    model_ids = tokenizer.to_model_ids(prefix).tolist()
    if len(model_ids) <= budget:
        return model_ids
    opens = np.flatnonzero(tokenizer.opens_bar[np.asarray(model_ids)])
    fitting = opens[opens >= len(model_ids) - budget]
    cut = int(fitting[0]) if len(fitting) else (int(opens[-1]) if len(opens) else len(model_ids) - budget)
    return model_ids[cut:]


def _span_chords(tokenizer, middle: list[int], bars_before: int) -> tuple[dict[int, list[int]], bool]:
    """The piece's own chords of the span's bars, as a chord plan; (no plan, write none) where the
    piece marks no chords."""
    bar_id = tokenizer.inner.vocab["Bar_None"]
    plan: dict[int, list[int]] = {}
    bar = bars_before
    for token_id in middle:
        if token_id == bar_id:
            bar += 1
        elif token_id in tokenizer.chord_of_id:
            plan.setdefault(bar, []).append(token_id)
    return plan, not plan


class _SpanWriter(ContinuationWriter):
    """A writer of a span: its first token opens the span's first bar (it adds nothing to the bar
    before), with the bar lines after the span closing it."""

    def allowed(self) -> torch.Tensor:
        mask = super().allowed()
        if self.fresh:
            opens = torch.from_numpy(self.grammar.tokenizer.opens_bar)
            mask = mask & opens if (mask & opens).any() else mask
        return mask


def stream_infill(loaded: LoadedModel, score: symusic.Score, first: int, last: int,
                  settings: GenerationSettings | None = None, *, variations: int = 1,
                  cancel: Callable[[], bool] | None = None) -> Generator[TokenEvent, None, list[InfillTake]]:
    """Write bars `first`-`last` (1-based, inclusive) of `score` anew, token by token (events as
    in core.composing.generation, times in tokenizer ticks); returns the finished takes (`takes = yield from
    stream_infill(...)`, or `drain`). Raises InfillError for a span that cannot be written, before
    anything is sampled."""
    settings = settings or GenerationSettings()
    plan = plan_infill(loaded, score, first, last, settings)
    grammar = grammar_for(loaded.tokenizer)
    shared: dict[int, torch.Tensor] = {}
    writers = [span_writer(grammar, plan, shared) for _ in range(variations)]
    rows = [plan.head + plan.read for _ in range(variations)]
    guide = join_guide(loaded, grammar, score, plan, join_pull(loaded, settings))
    yield from sample(loaded, writers, rows, settings, head=len(plan.head), shift=plan.shift, guide=guide,
                      cancel=cancel)
    return [_take(loaded, score, plan, writer) for writer in writers]


def span_writer(grammar, plan: InfillPlan, shared: dict[int, torch.Tensor] | None = None) -> ContinuationWriter:
    """A writer of `plan`'s span, its grammar state at the span's first bar line (`shared`: masks
    cached across the writers of one batch)."""
    writer = _SpanWriter(grammar, plan.prefix, [], plan.last_bar, plan.state.meter_given,
                         {} if shared is None else shared, plan.state.limits)
    writer.state.chord_plan, writer.state.no_chords = plan.chords, plan.no_chords
    writer.state.control_plan = plan.controls
    return writer


def join_guide(loaded: LoadedModel, grammar, score: symusic.Score, plan: InfillPlan, pull: float) -> JoinGuide | None:
    """The guide of the span's last bar towards the first onset after the span, pulling `pull` nats
    a semitone (None: no onset after it, or no pull)."""
    scale = score.tpq / loaded.tokenizer.ticks_per_quarter
    targets = [pitch + plan.shift for pitch in next_onset_pitches(score, round(plan.end_tick * scale))]
    return JoinGuide(grammar, plan.last_bar, targets, pull) if targets and pull else None


def join_pull(loaded: LoadedModel, settings: GenerationSettings) -> float:
    """The join guide's pull, nats a semitone: the one asked, else the model's own (config.json
    "generation": "join", fitted to its composer's joins: benchmarks/join_fit.py), else
    joining.NATS_PER_SEMITONE."""
    if settings.join is not None:
        return settings.join
    return float(loaded.config.get("generation", {}).get("join", NATS_PER_SEMITONE))


def infill_variations(loaded: LoadedModel, score: symusic.Score, first: int, last: int,
                      settings: GenerationSettings | None = None, n: int = 1, *,
                      cancel: Callable[[], bool] | None = None,
                      on_event: Callable[[TokenEvent], None] | None = None) -> list[InfillTake]:
    """`n` rewritings of bars `first`-`last` of `score`, sampled together as a batch."""
    return drain(stream_infill(loaded, score, first, last, settings, variations=n, cancel=cancel), on_event)


def _take(loaded: LoadedModel, score: symusic.Score, plan: InfillPlan, writer: ContinuationWriter) -> InfillTake:
    """The input score with the notes starting inside the span replaced by the writer's."""
    scale = score.tpq / loaded.tokenizer.ticks_per_quarter
    start, end = round(plan.start_tick * scale), round(plan.end_tick * scale)
    new = writer.state.notes[len(plan.state.notes):]
    out = score.copy()
    removed: dict[int, list[int]] = {}  # track -> pitches of the notes taken out
    velocities = [n.velocity for track in score.tracks for n in track.notes]
    for index, track in enumerate(out.tracks):
        kept = [n for n in track.notes if not start <= n.time < end]
        removed[index] = [n.pitch for n in track.notes if start <= n.time < end]
        if len(kept) != len(track.notes):
            track.notes = kept
    if not out.tracks:
        out.tracks.append(symusic.Track(program=loaded.program))
    homes = _track_homes(out, removed, start, end)
    default_velocity = int(np.median(velocities)) if velocities else 80
    notes = []
    for streamed in new:
        time = round(streamed.time * scale)
        if time >= end:
            continue
        duration = max(1, min(round(streamed.duration * scale), end - time))
        velocity = streamed.velocity if loaded.tokenizer.settings.use_velocities else default_velocity
        note = symusic.Note(time, duration, streamed.pitch - plan.shift, velocity)
        track = min(homes, key=lambda item: abs(item[1] - note.pitch))[0]
        out.tracks[track].notes.append(note)
        notes.append(note)
    for track in out.tracks:
        track.notes.sort(key=lambda n: (n.time, n.pitch))
    bars = writer.state.bars - plan.state.bars
    return InfillTake(out, start, end, notes, min(bars, plan.last_bar - plan.state.bars))


def _track_homes(score: symusic.Score, removed: dict[int, list[int]], start: int, end: int) -> list[tuple[int, float]]:
    """(track, its middle pitch near the span) for each track that may take new notes: the tracks
    that had notes in the span, else those with notes around it."""
    homes = [(index, float(np.median(pitches))) for index, pitches in removed.items() if pitches]
    if homes:
        return homes
    for index, track in enumerate(score.tracks):
        near = [n.pitch for n in track.notes if start - 8 * score.tpq <= n.time < end + 8 * score.tpq] \
            or [n.pitch for n in track.notes]
        if near:
            homes.append((index, float(np.median(near))))
    return homes or [(0, 60.0)]


