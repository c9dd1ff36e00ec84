"""Continuing a seed: token streaming with a KV cache, grammar-masked sampling, bar counting.

`stream_generation` yields one `TokenEvent` per sampled token (with the note it completes,
if any), so a window or a MIDI player can show and play a take while it is being written.
`generate` and `generate_variations` collect the stream into `Take`s: a score holding the
seed followed by the continuation, with a "continuation" marker where the seed ends.

"The seed" here is always the music a take starts from; the number that fixes the draws is the
random seed, `GenerationSettings.random_seed` (`--seed` on the command line, "Random seed" in the window).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import symusic
import torch

from core.composing.grammar import RemiGrammar, RemiState, StreamedNote, grammar_for, replay
from core.composing.sampling import sample_next_token
from core.composing.sequencing import SequenceGuide
from core.learning.checkpoint import LoadedModel
from core.music.controls import BarControls
from core.music.limits import InstrumentLimits
from core.music.markers import CONTINUATION_MARKER, END_MARKER, is_marker
from core.threads import torch_threads

CPU = torch.device("cpu")
T = TypeVar("T")


@dataclass(frozen=True)
class GenerationSettings:
    bars: int = 8  # length of the continuation in bars
    temperature: float = 1.0
    top_k: int = 0  # 0: off
    top_p: float = 0.95  # 1.0: off
    random_seed: int | None = None  # None: a fresh draw each time (the seed, the music, is the prompt)
    prompt_bars: int | None = None  # keep only the first K bars of the prompt
    max_tokens: int = 8192  # safety stop for a model that never closes its bars
    voices: int | None = None  # notes sounding at once: None, the model's instrument's; 0, no limit
    pitch_range: tuple[int, int] | None = None  # lowest, highest MIDI pitch; None: the model's instrument's
    # chords of the new bars (core.music.chords.parse_progression: "Dm7 G7 | Cmaj7"), repeated to the end,
    # for a chord-aware model; "": the model goes on with the seed's chords as it hears them
    chords: str = ""
    # share of bars that are offered the figure of the bar before, a scale step away
    # (core.composing.sequencing); None: the model's own setting (config.json "generation"), else 0
    sequences: float | None = None
    # what every new bar is asked to be (core.music.controls), for a model with controls
    controls: BarControls = BarControls()
    # an infill's pull in its last bar towards the notes after it, nats a semitone
    # (core.composing.joining); None: the model's own (config.json "generation"), else
    # joining.NATS_PER_SEMITONE; 0: none
    join: float | None = None


def key_shift_for(loaded: LoadedModel, prompt: symusic.Score | None) -> int:
    """Semitones that move the seed to the key a key-normalised model composes in: C major / A
    minor (key_mode "normalize") or C major / C minor ("tonic"); 0 for other models, and for an
    empty seed (which is then composed in C major / A or C minor)."""
    from core.learning.dataset import NORMALIZING, key_shift

    key_mode = loaded.config.get("train", {}).get("key_mode")
    if key_mode not in NORMALIZING or prompt is None:
        return 0
    notes = [n for track in prompt.tracks for n in track.notes]
    if not notes:
        return 0
    low, high = loaded.tokenizer.settings.pitch_range
    return key_shift(prompt, (min(n.pitch for n in notes), max(n.pitch for n in notes)), (low, high),
                     tonic=key_mode == "tonic")


def limits_for(loaded: LoadedModel, settings: GenerationSettings = GenerationSettings()) -> InstrumentLimits:
    """The instrument limits a take keeps: the model's (measured from its corpus when it was trained;
    older runs know only their corpus's range), with the settings' overrides."""
    config = loaded.config
    if isinstance(config.get("instrument"), dict):
        limits = InstrumentLimits.from_json(config["instrument"])
    else:
        corpus_range = config.get("corpus", {}).get("pitch_range")
        try:
            limits = InstrumentLimits(None, int(corpus_range[0]), int(corpus_range[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            limits = InstrumentLimits()
    if settings.voices is not None:
        limits = replace(limits, max_voices=settings.voices or None)
    if settings.pitch_range is not None:
        limits = InstrumentLimits(limits.max_voices, *settings.pitch_range)
    asked = settings.controls  # the controls asked of every bar are kept too, not only asked for
    if asked.voices is not None:
        limits = replace(limits, max_voices=min(asked.voices, limits.max_voices or asked.voices))
    if asked.lowest is not None:
        limits = InstrumentLimits(limits.max_voices, max(limits.lowest, asked.lowest), min(limits.highest, asked.highest))
    return limits


@dataclass(frozen=True)
class TokenEvent:
    variation: int  # which row of the batch
    token_id: int  # a model id (with BPE, one token may stand for several base tokens)
    token: str
    bar: int  # bars of the whole sequence so far (seed included)
    notes: tuple[StreamedNote, ...]  # the notes this token completes (times in tokenizer ticks)


@dataclass
class Take:
    score: symusic.Score  # seed + continuation, at the tokenizer's resolution
    seed_end_tick: int  # where the continuation starts
    ids: list[int]  # the whole sequence in base ids (BOS, seed, continuation)
    seed_tokens: int  # base ids of BOS and the seed
    new_bars: int = 0  # bars written after the seed: fewer than asked when the token budget ran out


def prompt_ids(loaded: LoadedModel, prompt: symusic.Score | None, prompt_bars: int | None) -> list[int]:
    """BOS followed by the seed's tokens (optionally cut after `prompt_bars` bars; 0: no seed),
    ending with every bar the seed spans: bars of rest inside the cut, and the bars its last notes
    are held into, count, so the continuation comes after them."""
    tokenizer = loaded.tokenizer
    ids = [tokenizer.bos_id]
    if prompt is None or prompt_bars == 0 or not any(track.notes for track in prompt.tracks):
        return ids
    end = max(note.time + note.duration for track in prompt.tracks for note in track.notes)
    if prompt_bars is not None:
        downbeats = prompt.get_downbeats()
        if len(downbeats) > prompt_bars:
            cut = int(downbeats[prompt_bars])
            clipped = prompt.clip(0, cut, clip_end=True)
            if not any(track.notes for track in clipped.tracks):  # it would start from nothing
                first = min(track.notes[0].time for track in prompt.tracks if track.notes)
                bar = int(np.searchsorted(downbeats, first, side="right"))
                raise SeedError(f"the first {prompt_bars} bar{'s' if prompt_bars > 1 else ''} of the seed hold "
                                f"no notes (its first note is in bar {bar}): keep more bars")
            prompt, end = clipped, cut
    check_seed(tokenizer, prompt)
    ids += tokenizer.encode(prompt)
    close_with_empty_bars(grammar_for(tokenizer), ids, end * tokenizer.ticks_per_quarter / prompt.tpq)
    return ids


MAX_SEED_BARS = 2000  # bars of 4/4 a seed may span: the model reads only its last few anyway


def check_seed(tokenizer, prompt: symusic.Score) -> None:
    """Refuse (SeedError) a seed that the take could not hold as it is: a meter the vocabulary
    lacks (its bar lines would move: 7/8 read as 4/4), notes outside the pitches it can write (they
    would vanish), or a span of thousands of bars (a note held for 100,000 beats)."""
    from core.learning.kept_meters import unkept_meters
    from core.music.limits import pitch_name

    settings = tokenizer.settings
    unkept = unkept_meters(prompt, settings.kept_meters())
    if unkept:
        known = ", ".join(settings.meters) if settings.use_time_signatures else "4/4"
        meters = ", ".join(f"{n}/{d}" for n, d in unkept)
        raise SeedError(f"the seed is in {meters}, a meter this model's vocabulary lacks (it knows {known}): "
                        "its bars cannot be kept; choose a seed in one of those meters, or a model trained on yours")
    low, high = settings.pitch_range  # [low, high)
    outside = sorted({note.pitch for track in prompt.tracks for note in track.notes
                      if not low <= note.pitch < high})
    if outside:
        shown = ", ".join(pitch_name(p) for p in outside[:4]) + (", ..." if len(outside) > 4 else "")
        raise SeedError(f"the seed has notes outside the pitches this model can write ({pitch_name(low)} to "
                        f"{pitch_name(high - 1)}): {shown}; they would be lost from the take")
    end = max((note.time + note.duration for track in prompt.tracks for note in track.notes), default=0)
    if end > MAX_SEED_BARS * 4 * prompt.tpq:
        raise SeedError(f"the seed spans {end / (4 * prompt.tpq):,.0f} bars of 4/4 (a note held that long?); a seed is "
                        f"at most {MAX_SEED_BARS} bars: keep fewer with --prompt-bars")


def close_with_empty_bars(grammar: RemiGrammar, ids: list[int], end: float) -> None:
    """Append bar lines (each with its meter, where the vocabulary writes one) until the bar in
    progress reaches `end` (tokenizer ticks): REMI writes bars only up to the last note onset.
    Counted on the tokenizer's own bar grid, so a meter it rewrites (5/8 as 4/4) or leaves out
    cannot disagree with it."""
    state = replay(grammar, ids)
    bar_id = grammar.bar_id
    # a chord-aware seed's harmony goes on in these bars: the chord it ends on, on every beat (left
    # open, the model would write a chord of its own there, between the seed's and the new bars')
    chords = [i for i in ids if grammar.types[i] == "Chord"]
    while state.bars and state.bar_start + state.bar_length < end:
        meter_id = grammar.timesig_ids.get(state.time_signature) if "TimeSig" in grammar.types else None
        for token_id in (bar_id,) if meter_id is None else (bar_id, meter_id):
            ids.append(token_id)
            state.feed(token_id)
        for token_id in [chords[-1]] * state.time_signature[0] if chords else ():
            ids.append(token_id)
            state.feed(token_id)


class ContinuationWriter:
    """Writes one continuation under the grammar as a sampler (the model, or the n-gram baseline)
    draws it token by token: says what may come next, and writes each drawn token into the
    grammar state. With BPE it first spells again the seed's last bar (`respell`, see
    `seed_for_model`); a bar line past `last_bar` closes the piece instead."""

    def __init__(self, grammar: RemiGrammar, seed_ids: list[int], respell: list[int], last_bar: int,
                 keep_meter: bool, respelling: dict[int, torch.Tensor] | None = None,
                 limits: InstrumentLimits | None = None):
        self.grammar = grammar
        # masks while respelling, by how much is left: the same for every row of one seed (shared)
        self.respelling = respelling if respelling is not None else {}
        self.state = replay(grammar, seed_ids[:len(seed_ids) - len(respell)], limits)
        self.pending = list(respell)  # base ids of the seed still to spell
        self.fresh = True  # nothing of the continuation written yet (its first note must start anew)
        self.constraints = {"min_bars": last_bar, "keep_meter": keep_meter}
        self.last_bar = last_bar

    def allowed(self) -> torch.Tensor:
        """Bool mask of the model tokens that may come next."""
        if self.pending:
            mask = self.respelling.get(len(self.pending))
            if mask is None:
                mask = self.respelling[len(self.pending)] = self.state.respelling(self.pending, **self.constraints)
            return mask
        return self.state.allowed(new_onset=self.fresh, **self.constraints)

    def write(self, token_id: int) -> tuple[int, list[StreamedNote] | None]:
        """Feed a sampled token: (the token written, EOS in place of a bar line past the last bar;
        the notes its new part completes, None when it only spelled the seed again)."""
        grammar, state = self.grammar, self.state
        if self.pending:
            spelled = grammar.expansions[token_id]
            for base_id in spelled[:len(self.pending)]:
                state.feed(base_id)
            new = spelled[len(self.pending):]
            self.pending = self.pending[len(spelled):]
            if not new:
                return token_id, None
            notes = [note for note in map(state.feed, new) if note is not None]
        else:
            if grammar.first_types[token_id] == "Bar" and state.bars >= self.last_bar:
                token_id = grammar.eos_id  # the requested bars are written: close the piece
            notes = state.feed_model(token_id)
        self.fresh = False
        return token_id, [self._ended_by_the_last_bar_line(note) for note in notes]

    def _ended_by_the_last_bar_line(self, note: StreamedNote) -> StreamedNote:
        """A note held past the last bar line ends at it, as in the decoded take (`_take_from_ids`),
        so a streamed take is no longer than the bars asked for. The line is reckoned in the current
        meter: the note was completed in the state's current bar."""
        state = self.state
        end = state.bar_start + (self.last_bar - state.bars + 1) * state.bar_length
        return note if note.time + note.duration <= end else replace(note, duration=max(1, end - note.time))


def seed_for_model(tokenizer, seed_ids: list[int]) -> tuple[list[int], list[int]]:
    """(model ids the model reads, base ids it then spells again) for a seed in base ids.

    Without BPE the model reads the whole seed. With BPE a seed's last bar is usually cut where
    no bar of the training pieces ends, so its tokens are not the ones training would have made
    of it (a review found: in 95 % of such cuts), and the model, seeing a bar's last token, closes
    the bar at once. So the model reads the seed up to its last bar line and spells that bar again
    under a mask that allows only tokens re-spelling it, or re-spelling all of it and going on
    ("token healing"): the bar is then tokenised as in training.
    """
    if not tokenizer.bpe:
        return list(seed_ids), []
    bar_id = tokenizer.inner.vocab["Bar_None"]
    bars = [i for i, token in enumerate(seed_ids) if token == bar_id]
    if not bars:
        return tokenizer.to_model_ids(seed_ids).tolist(), []
    return tokenizer.to_model_ids(seed_ids[:bars[-1]]).tolist(), list(seed_ids[bars[-1]:])


def chord_plan(tokenizer, seed_ids: list[int], seed_state: RemiState, settings: GenerationSettings,
               shift: int = 0) -> tuple[dict[int, list[int]], bool]:
    """(Chord ids by bar, for `RemiState.chord_plan`; whether to write no chords at all) for a
    chord-aware model: the settings' progression laid over the new bars, repeated to the end (in
    the seed's meter); without one the model writes the changes itself where the seed has chords,
    and none where it has none (as it learned from solos whose chords were dropped)."""
    from core.music.chords import parse_progression

    if not settings.chords:
        return {}, not any(token in tokenizer.chord_of_id for token in seed_ids)
    bars = parse_progression(settings.chords, seed_state.time_signature[0])
    first = seed_state.bars + 1  # the first new bar, counted as RemiState.bars counts it
    plan = {first + n: [tokenizer.chord_ids[chord.transposed(shift)] for chord in bars[n % len(bars)]]
            for n in range(settings.bars)}
    return plan, False


class SeedError(ValueError):
    """A seed that cannot start a continuation (said in words for the user)."""


def stream_generation(
    loaded: LoadedModel,
    prompt: symusic.Score | None,
    settings: GenerationSettings = GenerationSettings(),
    *,
    variations: int = 1,
    cancel: Callable[[], bool] | None = None,
) -> Generator[TokenEvent, None, list[list[int]]]:
    """Sample continuations of `prompt` token by token; returns each row's model ids (`rows =
    yield from stream_generation(...)`, or `drain`)."""
    start = _start(loaded, prompt, settings, variations)
    return (yield from sample(loaded, start.writers, start.rows, settings, shift=start.shift, cancel=cancel))


@dataclass
class _Start:
    """What a batch of continuations of one seed starts from."""

    seed_ids: list[int]  # base ids of BOS and the seed, in the key the model composes in
    shift: int  # semitones the seed was moved by for a key-normalised model (see key_shift_for)
    writers: list[ContinuationWriter]  # one per row
    rows: list[list[int]]  # model ids each row has read: the seed, then what is sampled


def _start(loaded: LoadedModel, prompt: symusic.Score | None, settings: GenerationSettings,
           variations: int) -> _Start:
    tokenizer = loaded.tokenizer
    grammar = grammar_for(tokenizer)
    shift = key_shift_for(loaded, prompt)  # a key-normalised model composes in C major / A or C minor
    if shift:
        prompt = prompt.shift_pitch(shift)
    seed_ids = prompt_ids(loaded, prompt, settings.prompt_bars)
    seed_state = replay(grammar, seed_ids)
    last_bar = seed_state.bars + settings.bars  # the continuation ends with this bar
    read, respell = seed_for_model(tokenizer, seed_ids)
    shared: dict[int, torch.Tensor] = {}
    limits = limits_for(loaded, settings).shifted(shift)
    writers = [ContinuationWriter(grammar, seed_ids, respell, last_bar, seed_state.meter_given, shared, limits)
               for _ in range(variations)]
    chords, no_chords = chord_plan(tokenizer, seed_ids, seed_state, settings, shift) if tokenizer.has_chords else ({}, False)
    controls = control_plan(tokenizer, range(seed_state.bars + 1, last_bar + 1), settings.controls, shift)
    for writer in writers:
        writer.state.chord_plan, writer.state.no_chords, writer.state.control_plan = chords, no_chords, controls
    return _Start(seed_ids, shift, writers, [list(read) for _ in range(variations)])


def drain(stream: Generator[TokenEvent, None, T], on_event: Callable[[TokenEvent], None] | None = None) -> T:
    """Run `stream` to its end, handing each event to `on_event`; returns what the stream returns."""
    while True:
        try:
            event = next(stream)
        except StopIteration as end:
            return end.value
        if on_event:
            on_event(event)


def control_plan(tokenizer, bars, controls: BarControls, shift: int = 0) -> dict[int, list[int]]:
    """Control ids by bar (as `RemiState.bars` counts it once the bar line is read) for `bars`:
    what `controls` asks of each, in the kinds the model learned; {} when that is nothing (a
    polyphony or range it did not learn is kept as a limit only: `limits_for`). Raises ValueError
    for a density asked of a model that did not learn it, or a range it cannot write."""
    learned = tokenizer.controls
    if controls.density is not None and "density" not in learned:
        raise ValueError("this model was trained without the density control: retrain it with it, "
                         "or choose a shipped model")
    if controls.lowest is not None:
        controls = replace(controls, lowest=controls.lowest + shift, highest=controls.highest + shift)
    try:
        ids = [tokenizer.control_ids[name] for name in controls.token_names(learned)]
    except KeyError as error:
        raise ValueError(f"the range asked for leaves the pitches this model writes ({error.args[0]})") from None
    return {bar: ids for bar in bars} if ids else {}


def sample(loaded: LoadedModel, writers: list[ContinuationWriter], rows: list[list[int]], settings: GenerationSettings, *,
           head: int = 0, shift: int = 0, guide=None,
           cancel: Callable[[], bool] | None = None) -> Generator[TokenEvent, None, list[list[int]]]:
    """Sample every row's next tokens under its writer's grammar until all are finished (or the
    token budget is spent, or `cancel`); `rows` (model ids read so far) grow as they go, and are
    returned. The first `head` ids of every row stay in the context when the window slides (an
    infill's bars after the span). `guide`, beside each row's sequence guide: one more with a
    `bias(state, generator)` (an infill's JoinGuide), shared by every row."""
    model, tokenizer = loaded.model, loaded.tokenizer
    sequences = sequence_guides(loaded, writers[0].grammar, settings, len(writers)) or [None] * len(writers)
    guides = [[g for g in (sequence, guide) if g is not None] for sequence in sequences]  # per row
    guides = guides if any(guides) else None
    generator = torch.Generator().manual_seed(settings.random_seed if settings.random_seed is not None else
                                              int(np.random.SeedSequence().entropy % 2**63))
    device = next(model.parameters()).device
    block = model.config.block_size
    logits, cache = _prefill(model, rows, block, device, head)
    eos_only = torch.zeros(len(tokenizer), dtype=torch.bool)
    eos_only[tokenizer.eos_id] = True
    for _ in range(settings.max_tokens):
        if cancel and cancel():
            return rows
        # Masks and the draw are CPU work whatever the model's device (the generator lives there).
        # One thread: at batch 8 two would spin over 8 rows of logits, and a BPE mask built with
        # two kept the other core busy for the whole take (CPU time 1.4x wall).
        with _sampling_threads(CPU):
            masks = [eos_only if writer.state.finished else writer.allowed()  # finished rows write EOS
                     for writer in writers]
            allowed = masks[0].unsqueeze(0) if len(masks) == 1 else torch.stack(masks)
            last = logits[:, -1, :]
            if guides:
                last = _guided(last, guides, writers, generator)
            chosen = sample_next_token(last, temperature=settings.temperature, top_k=settings.top_k,
                                       top_p=settings.top_p, allowed=allowed, generator=generator)
        next_ids = chosen.tolist()
        for row, (writer, token_id) in enumerate(zip(writers, next_ids, strict=True)):
            if writer.state.finished:  # rows stay equal in length (the sliding window needs it)
                next_ids[row] = tokenizer.eos_id  # (the only token its mask allows)
                rows[row].append(tokenizer.eos_id)
                continue
            token_id, notes = writer.write(token_id)
            next_ids[row] = token_id
            rows[row].append(token_id)
            if notes is not None and token_id != tokenizer.eos_id:
                if shift:
                    notes = [replace(note, pitch=note.pitch - shift) for note in notes]
                yield TokenEvent(row, token_id, tokenizer.model_tokens[token_id], writer.state.bars, tuple(notes))
        if all(writer.state.finished for writer in writers):
            return rows
        if cache.length >= block:
            logits, cache = _prefill(model, rows, block, device, head)  # slide the window
        else:
            with torch.inference_mode(), _sampling_threads(device):
                logits, _ = model(torch.tensor(next_ids, device=device).view(-1, 1), cache=cache)
    return rows


def sequence_guides(loaded: LoadedModel, grammar: RemiGrammar, settings: GenerationSettings,
                    rows: int) -> list[SequenceGuide] | None:
    """A sequence guide per row where the settings or the model ask for one."""
    strength = settings.sequences
    if strength is None:
        strength = float(loaded.config.get("generation", {}).get("sequences", 0.0) or 0.0)
    if strength <= 0:
        return None
    # it composes in C major / A minor, whose scale the sequences move in (a "tonic" model's minor
    # seeds are in C minor: its sequences move by semitones)
    diatonic = loaded.config.get("train", {}).get("key_mode") == "normalize"
    return [SequenceGuide(grammar, strength, diatonic) for _ in range(rows)]


def _guided(logits: torch.Tensor, guides: list[list], writers: list[ContinuationWriter],
            generator: torch.Generator) -> torch.Tensor:
    """The last logits with each row's guides' biases added (rows still spelling the seed: none)."""
    logits = logits.to(CPU, torch.float32, copy=True)
    for row, (row_guides, writer) in enumerate(zip(guides, writers, strict=True)):
        if writer.pending or writer.state.finished:
            continue
        for guide in row_guides:
            bias = guide.bias(writer.state, generator)
            if bias is not None:
                logits[row, bias[0]] += bias[1]
    return logits


def _sampling_threads(device: torch.device) -> AbstractContextManager[None]:
    """One intra-op thread for the model and sampler work of generation on a CPU.

    A token's operations are too small to share: with two threads each one pays a fork/join,
    and when anything else holds a core (the GUI, audio, another job) the threads wait for each
    other. Measured on the 2-core machine under load, tiny model, batch 1: a whole take 25 ->
    250 tokens/s wall with 13x less CPU per token; a 200-token prefill 690 -> 71 ms.
    Restored at once (0.2 us per switch), so other work keeps its threads.
    """
    return torch_threads(1) if device.type == "cpu" else nullcontext()


def _prefill(model, rows: list[list[int]], block: int, device, head: int = 0) -> tuple[torch.Tensor, object]:
    """Run the last part of every row (after its first `head` ids, which stay) through the model,
    filling a fresh cache."""
    if len(rows[0]) < block:
        context = torch.tensor(rows, dtype=torch.long, device=device)
    else:
        keep = max(block // 2 - head, block // 4)
        context = torch.tensor([row[:head] + row[-keep:] for row in rows], dtype=torch.long, device=device)
    cache = model.new_cache(batch=len(rows))
    with torch.inference_mode(), _sampling_threads(device):
        logits, _ = model(context, cache=cache)
    return logits, cache


def generate_variations(
    loaded: LoadedModel,
    prompt: symusic.Score | None,
    settings: GenerationSettings = GenerationSettings(),
    n: int = 1,
    *,
    cancel: Callable[[], bool] | None = None,
    on_event: Callable[[TokenEvent], None] | None = None,
) -> list[Take]:
    """`n` continuations of one seed, sampled together as a batch."""
    start = _start(loaded, prompt, settings, n)
    rows = drain(sample(loaded, start.writers, start.rows, settings, shift=start.shift, cancel=cancel), on_event)
    seed_ids = start.seed_ids  # encoded once, for the sampling and the takes
    program = _program_for(loaded, prompt)
    # a row stopped while still spelling the seed's last bar again holds only part of it: the seed whole
    spelled = [loaded.tokenizer.expand(ids) for ids in rows]
    takes = [_take_from_ids(loaded, ids if len(ids) >= len(seed_ids) else list(seed_ids), len(seed_ids), program)
             for ids in spelled]
    for take in takes:
        if start.shift:  # back to the seed's key
            take.score.shift_pitch(-start.shift, inplace=True)
        _copy_conductor(prompt, take.score)
    return takes


def generate(loaded: LoadedModel, prompt: symusic.Score | None,
             settings: GenerationSettings = GenerationSettings()) -> Take:
    return generate_variations(loaded, prompt, settings, 1)[0]


def _program_for(loaded: LoadedModel, prompt: symusic.Score | None) -> int:
    if prompt is not None and prompt.tracks:
        return prompt.tracks[0].program
    return loaded.program


def _take_from_ids(loaded: LoadedModel, ids: list[int], seed_tokens: int, program: int) -> Take:
    tokenizer = loaded.tokenizer
    if tokenizer.eos_id in ids[seed_tokens:]:  # a row that finished early is padded with EOS
        ids = ids[:ids.index(tokenizer.eos_id, seed_tokens) + 1]
    score = tokenizer.decode(ids, program=program)
    grammar = grammar_for(tokenizer)
    seed_state: RemiState = replay(grammar, ids[:seed_tokens])
    full_state = replay(grammar, ids)
    seed_end = continuation_start(seed_state.notes, full_state.notes[len(seed_state.notes):])
    score.markers.append(symusic.TextMeta(seed_end, CONTINUATION_MARKER))
    # Notes held past the last bar line would lengthen the piece: end them at the bar line.
    piece_end = full_state.bar_start + full_state.bar_length
    for track in score.tracks:
        for note in track.notes:
            if note.time + note.duration > piece_end:
                note.duration = max(1, piece_end - note.time)
    score.markers.append(symusic.TextMeta(piece_end, END_MARKER))
    return Take(score=score, seed_end_tick=seed_end, ids=list(ids), seed_tokens=seed_tokens,
                new_bars=full_state.bars - seed_state.bars)


def continuation_start(seed: list[StreamedNote], new: list[StreamedNote]) -> int:
    """The tick a continuation starts at, its marker: where the seed's notes end, or earlier where
    a new note comes in while the seed's last ones still sound (0 without a seed)."""
    return min([max((n.time + n.duration for n in seed), default=0)] + [n.time for n in new])


def _copy_conductor(prompt: symusic.Score | None, score: symusic.Score) -> None:
    """Give the take its seed's tempo and key (a decoded sequence has neither)."""
    tempo = prompt.tempos[0].qpm if prompt is not None and prompt.tempos else 100.0
    score.tempos = [symusic.Tempo(0, tempo)]
    if prompt is not None and prompt.key_signatures:
        first = prompt.key_signatures[0]
        score.key_signatures = [symusic.KeySignature(0, first.key, first.tonality)]
    # a seed in 3/2 is written as 6/4 (the same bars; see core.learning.kept_meters.equivalent_meter): the take
    # says 3/2 again
    seed_meters = {(ts.numerator, ts.denominator) for ts in prompt.time_signatures} if prompt is not None else set()
    if len(seed_meters) == 1:
        numerator, denominator = next(iter(seed_meters))
        if all(ts.numerator * denominator == numerator * ts.denominator for ts in score.time_signatures):
            score.time_signatures = [symusic.TimeSignature(ts.time, numerator, denominator)
                                     for ts in score.time_signatures]


def seed_end_of(score: symusic.Score) -> int | None:
    """The tick where a take's continuation starts, from its marker (None if unmarked)."""
    for marker in score.markers:
        if is_marker(marker.text, CONTINUATION_MARKER):
            return int(marker.time)
    return None


def engine_reply_generator(loaded: LoadedModel, settings: GenerationSettings | None = None):
    """A duet's replies (core.midi.duet.ReplyGenerator) from a trained model, streamed note by note."""
    settings = settings or GenerationSettings()
    tokenizer_tpq = loaded.tokenizer.ticks_per_quarter

    def reply(prompt: symusic.Score, bars: int, cancel: Callable[[], bool]):
        scale = prompt.tpq / tokenizer_tpq  # tokenizer ticks -> prompt ticks
        chosen = replace(settings, bars=bars)
        for event in stream_generation(loaded, prompt, chosen, cancel=cancel):
            for note in event.notes:
                yield symusic.Note(round(note.time * scale), max(1, round(note.duration * scale)),
                                   note.pitch, note.velocity or 80)

    return reply
