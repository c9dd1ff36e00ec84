"""Token data for training: pieces as id arrays, deterministic batches, held-out windows.

Batches are a pure function of (seed, step, rank): a resumed run draws exactly the batches an
uninterrupted one would. Each sample is a window of `block_size + 1` tokens that starts at a
bar line (or at the piece's BOS), transposed on the fly by a random shift that keeps the
piece inside the corpus's range; short pieces are padded and the padding is ignored in the
loss. With a BPE tokenizer, ids are model ids: BPE ids cannot be transposed, so each piece is
transposed in base ids, then encoded, once per allowed shift (`TokenizedPiece.variants`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.learning.tokenizer import MAX_SPAN, PartitaTokenizer
from core.music.controls import CONTROL_CHOICES, DENSITY_LEVELS, MAX_VOICES_TOKEN
from core.music.corpus import Piece, transposition_range

IGNORE = -100  # target id that cross-entropy skips


@dataclass
class TokenizedPiece:
    name: str
    ids: np.ndarray  # (L,) int64 model ids: BOS, the piece's tokens, EOS
    bar_starts: np.ndarray  # indices where a window may start (BOS and every token opening a bar)
    shifts: list[int]  # allowed transpositions in semitones
    # BPE only: (ids, bar_starts) of the piece transposed by each allowed shift
    variants: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
    # a vocabulary with controls: each bar's attributes (core.music.controls.bar_attributes) as the
    # piece lies untransposed (in `ids`; a BPE variant's bars lie `shift` semitones from there)
    bar_attributes: np.ndarray | None = None


# the key modes that move every piece to one key (C major / A minor, or C major / C minor)
NORMALIZING = ("normalize", "tonic")


def tokenize_pieces(pieces: list[Piece], tokenizer: PartitaTokenizer, corpus_range: tuple[int, int],
                    max_shift: int = 5, key_mode: str = "transpose") -> list[TokenizedPiece]:
    """Token ids of each piece (cached on disk beside the corpus cache), with window starts.
    `key_mode` "normalize" or "tonic": each piece moved first to C major or A minor (normalize), or
    to C major or C minor (tonic), by its analysed key (`key_shift`); then transposed by up to
    `max_shift`."""
    from core.music.corpus import default_cache_dir

    cache_dir = default_cache_dir()
    result = []
    low, high = tokenizer.settings.pitch_range
    for piece in pieces:
        body = tokenizer.encode_cached(piece.score, piece.digest, cache_dir)
        if not body:
            continue
        base = np.array([tokenizer.bos_id, *body, tokenizer.eos_id], dtype=np.int64)
        lowest, highest = piece.info.lowest, piece.info.highest
        if key_mode in NORMALIZING:
            home = key_shift(piece.score, (lowest, highest), (low, high), tonic=key_mode == "tonic")
            base = tokenizer.transpose_ids(base, home)
            lowest, highest = lowest + home, highest + home
            corpus_range = (min(corpus_range[0], lowest), max(corpus_range[1], highest))
        shifts = transposition_range((lowest, highest), corpus_range, max_shift)
        shifts = [s for s in shifts if lowest + s >= low and highest + s < high] or [0]
        attributes = measure_bars(tokenizer, base) if tokenizer.settings.use_controls else None
        if not tokenizer.bpe:
            result.append(TokenizedPiece(piece.name, base, window_starts(base, tokenizer), shifts,
                                         bar_attributes=attributes))
            continue
        variants = {}
        for shift in shifts if max_shift else [0]:
            ids = tokenizer.to_model_ids(tokenizer.transpose_ids(base, shift))
            variants[shift] = (ids, window_starts(ids, tokenizer))
        if 0 not in variants:  # (the piece as written is scored in evaluation)
            unshifted = tokenizer.to_model_ids(base)
            variants_0 = (unshifted, window_starts(unshifted, tokenizer))
        else:
            variants_0 = variants[0]
        result.append(TokenizedPiece(piece.name, *variants_0, list(variants), variants, bar_attributes=attributes))
    return result


def key_shift(score, span: tuple[int, int] | None = None, pitch_range: tuple[int, int] = (0, 128),
              tonic: bool = False) -> int:
    """The transposition, -6 to +5 semitones (or an octave from there where the piece would leave
    `pitch_range`, lowest inclusive, highest exclusive), that moves a piece's analysed key to C
    major or A minor, or with `tonic` to C major or C minor (Krumhansl-Schmuckler on
    duration-weighted pitch classes)."""
    from core.judging.metrics.key import estimate_key

    if not any(track.notes for track in score.tracks):
        return 0
    key = estimate_key(score)
    shift = ((0 if key.mode == "major" or tonic else 9) - key.tonic) % 12
    shift = shift - 12 if shift > 5 else shift
    if span is not None:
        for candidate in (shift, shift - 12, shift + 12):
            if span[0] + candidate >= pitch_range[0] and span[1] + candidate < pitch_range[1]:
                return candidate
    return shift


def measure_bars(tokenizer: PartitaTokenizer, ids: np.ndarray) -> np.ndarray:
    """Each bar's attributes (core.music.controls.bar_attributes) of base `ids`."""
    from core.composing.grammar import RemiState, grammar_for
    from core.music.controls import bar_attributes

    grammar = grammar_for(tokenizer)
    state = RemiState(grammar)
    starts = []
    for token_id in ids.tolist():
        state.feed(token_id)
        if grammar.types[token_id] == "Bar":
            starts.append(state.bar_start)
    lengths = [b - a for a, b in zip(starts[:-1], starts[1:], strict=True)] + ([state.bar_length] if starts else [])
    return bar_attributes(state.notes, starts, lengths, grammar.tpq)


def window_starts(ids: np.ndarray, tokenizer: PartitaTokenizer) -> np.ndarray:
    """Where a training window may start in model ids: the BOS, and every token that opens a bar
    (every token, for a tokenization without bar lines)."""
    if not tokenizer.opens_bar.any():
        return np.arange(len(ids) - 1)
    return np.concatenate([[0], np.flatnonzero(tokenizer.opens_bar[ids])])


# share of training windows whose Chord tokens are dropped (a chord-aware vocabulary), so that a
# seed without chord symbols is music the model knows
CHORD_DROPOUT = 0.2
# a vocabulary with controls: the share of windows that write them, and then the chance of each
# kind (density, voices, range) being written; the others compose as if none were asked
CONTROLS_SHARE = 0.5
CONTROL_KIND_SHARE = 0.7
# a vocabulary with infill: the share of windows that are infill examples (the rest continue)
INFILL_SHARE = 0.4


class BatchSampler:
    """Random windows from the training pieces, reproducible from (seed, step, rank)."""

    def __init__(self, pieces: list[TokenizedPiece], tokenizer: PartitaTokenizer, block_size: int,
                 batch_size: int, seed: int, augment: bool = True, pack: bool = False, *,
                 mixed: list[TokenizedPiece] = (), mix_share: float = 0.0, infill_share: float | None = None,
                 controls_share: float | None = None):
        """`mixed`: pieces of another corpus (replay) that a `mix_share` of the windows start in.
        `infill_share`: of the windows, infill examples (a vocabulary with infill; None: INFILL_SHARE).
        `controls_share`: of the windows, those that write bar controls (a vocabulary with them;
        None: CONTROLS_SHARE)."""
        if not pieces:
            raise ValueError("no training pieces with notes")
        self.pieces = [*pieces, *mixed]
        self.tokenizer = tokenizer
        self.block_size = block_size
        self.batch_size = batch_size
        self.seed = seed
        self.augment = augment
        self.pack = pack
        self.chord_ids = np.array(sorted(tokenizer.chord_of_id)) if tokenizer.has_chords else None
        self.controls = ControlWriter(tokenizer) if tokenizer.settings.use_controls else None
        self.infill = tokenizer.settings.use_infill
        self.infill_share = infill_share
        self.controls_share = CONTROLS_SHARE if controls_share is None else controls_share
        self.weights = _by_length(pieces)  # longer pieces are drawn more often
        if len(mixed):
            self.weights = np.concatenate([(1 - mix_share) * self.weights, mix_share * _by_length(mixed)])

    def batch(self, step: int, rank: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y), each (B, T) int64; y is x shifted by one with padding set to IGNORE.

        Each row starts at a bar line of a piece drawn by length. When the piece ends before the
        row does, the row is padded, or with `pack` filled with further whole pieces (BOS ...
        EOS), as GPT pre-training packs documents: no compute is spent on padding (a 1024-token
        window over the Bach chorales is 59 % padding otherwise), and an EOS is never asked to
        predict the BOS after it.
        """
        rng = np.random.default_rng([self.seed, step, rank])
        T = self.block_size
        x = np.full((self.batch_size, T), self.tokenizer.pad_id, dtype=np.int64)
        y = np.full((self.batch_size, T), IGNORE, dtype=np.int64)
        for row in range(self.batch_size):
            window = self._segment(rng, T + 1, from_bar=True)
            while self.pack and len(window) < T + 1:
                window = np.concatenate([window, self._segment(rng, T + 1 - len(window), from_bar=False)])
            n = len(window) - 1
            x[row, :n] = window[:-1]
            y[row, :n] = window[1:]
        if self.pack:
            y[x == self.tokenizer.eos_id] = IGNORE
        return torch.from_numpy(x), torch.from_numpy(y)

    def _segment(self, rng: np.random.Generator, length: int, from_bar: bool) -> np.ndarray:
        """Up to `length` ids of a piece drawn by length, from a random bar line or from its BOS,
        transposed by one of its allowed shifts when augmenting: a stretch of the piece as it
        goes, or (a vocabulary with infill, from a bar line) an infill example. Where the
        vocabulary has them, some windows write each bar's controls, and some drop the chords."""
        piece = self.pieces[rng.choice(len(self.pieces), p=self.weights)]
        shift = 0
        if self.augment and len(piece.shifts) > 1:
            shift = int(rng.choice(piece.shifts))
        ids, starts, encoded = piece.ids, piece.bar_starts, 0
        if piece.variants is not None:  # BPE: the transposed copies are encoded already
            ids, starts = piece.variants.get(shift, (piece.ids, piece.bar_starts))
            encoded, shift = (shift if shift in piece.variants else 0), 0
        kinds = self.controls.draw(rng, self.controls_share) if self.controls is not None and from_bar else ()
        opens_bar = self.tokenizer.opens_bar

        def part(a: int, b: int) -> np.ndarray:  # ids[a:b], with the chosen controls written in
            if not kinds:
                return ids[a:b]
            return self.controls.write(piece, ids[a:b], int(opens_bar[ids[:a]].sum()), kinds, encoded)

        window = None
        share = INFILL_SHARE if self.infill_share is None else self.infill_share
        if self.infill and from_bar and share and rng.random() < share:
            window = infill_example(rng, ids, starts, self.tokenizer, length, self.block_size, part)
        if window is None:
            start = int(rng.choice(starts)) if from_bar else 0
            window = part(start, start + 2 * length)  # (cut to length once controls are in, chords out)
        if self.chord_ids is not None and rng.random() < CHORD_DROPOUT:  # learn to play without changes too
            window = window[~np.isin(window, self.chord_ids)]
        window = window[:length]
        if shift:
            window = self.tokenizer.transpose_ids(window, shift)
        return np.asarray(window, dtype=np.int64)


def _by_length(pieces: list[TokenizedPiece]) -> np.ndarray:
    lengths = np.array([len(p.ids) for p in pieces], dtype=np.float64)
    return lengths / lengths.sum()


class ControlWriter:
    """Writes bars' controls (core.music.controls) into training windows, after each bar's meter."""

    def __init__(self, tokenizer: PartitaTokenizer):
        ids = tokenizer.control_ids
        low = tokenizer.settings.pitch_range[0]
        self.kinds = tokenizer.controls  # those the vocabulary learns
        if "density" in self.kinds:
            self.density = np.array([ids[f"Density_{level}"] for level in range(DENSITY_LEVELS)])
        if "voices" in self.kinds:
            self.voices = np.array([ids[f"Voices_{n}"] for n in range(MAX_VOICES_TOKEN + 1)])
        if "range" in self.kinds:
            self.low_first, self.high_first, self.pitch_low = ids[f"Low_{low}"], ids[f"High_{low}"], low
            self.pitches = tokenizer.settings.pitch_range[1] - low
        self.opens_bar = tokenizer.opens_bar  # by model id (with BPE, a bar line merged with its meter too)
        self.is_meter = np.array(tokenizer.model_types) == "TimeSig"  # a meter on its own

    def draw(self, rng: np.random.Generator, share: float) -> tuple[str, ...]:
        """Which controls a window writes: none, but in a `share` of the windows, where each kind
        the vocabulary learns is written with CONTROL_KIND_SHARE."""
        if rng.random() >= share:
            return ()
        drawn = [kind for kind in CONTROL_CHOICES if rng.random() < CONTROL_KIND_SHARE]  # (one draw per kind)
        return tuple(kind for kind in drawn if kind in self.kinds)

    def tokens(self, attributes: np.ndarray, kinds: tuple[str, ...], shift: int = 0) -> list[int]:
        """A bar's control ids, its range moved by `shift` semitones (kept inside the vocabulary's)."""
        density, voices, low, high = (int(v) for v in attributes)
        out = []
        if "density" in kinds:
            out.append(self.density[density])
        if "voices" in kinds:
            out.append(self.voices[voices])
        if "range" in kinds and low >= 0:
            low, high = (min(max(p + shift - self.pitch_low, 0), self.pitches - 1) for p in (low, high))
            out += [self.low_first + low, self.high_first + high]
        return out

    def write(self, piece: TokenizedPiece, ids: np.ndarray, bars_before: int, kinds: tuple[str, ...],
              shift: int = 0) -> np.ndarray:
        """`ids` (of `piece`, after `bars_before` bar lines of it; a BPE variant transposed by `shift`)
        with each bar's controls after its line and meter."""
        at = np.flatnonzero(self.opens_bar[ids])
        if not len(at):
            return ids
        out, previous = [], 0
        for bar, index in enumerate(at.tolist(), start=bars_before):
            after = index + 1 + int(index + 1 < len(ids) and self.is_meter[ids[index + 1]])
            out.append(ids[previous:after])
            out.append(np.array(self.tokens(piece.bar_attributes[bar], kinds, shift), dtype=np.int64))
            previous = after
        out.append(ids[previous:])
        return np.concatenate(out)


def infill_example(rng: np.random.Generator, ids: np.ndarray, starts: np.ndarray, tokenizer: PartitaTokenizer,
                   length: int, block_size: int, part) -> np.ndarray | None:
    """An infill example from a piece's `ids` (BOS ... EOS; bar lines at `starts` after the BOS):
    `Infill_N`, up to two bars after a span of N bars (EOS where the piece ends), `Infill_Before`,
    the bars before it (as many as fit, from a bar line or the BOS), the span, and the token that
    follows it. `part(a, b)` gives ids[a:b] as the window writes it. None: the piece has no span
    that fits."""
    bars = starts[1:] if len(starts) and starts[0] == 0 else starts
    if not len(bars):
        return None
    ends = np.append(bars[1:], len(ids) - 1)  # where each bar ends (the last at the EOS)
    drawn = int(rng.integers(1, min(MAX_SPAN, len(bars)) + 1))
    first = int(rng.integers(0, len(bars) - drawn + 1))
    for n in range(drawn, 0, -1):  # a span that does not fit in half a window: fewer bars
        last = first + n - 1
        span = part(int(bars[first]), int(ends[last]))
        if len(span) <= block_size // 2:
            break
    else:
        return None
    after_end = int(ends[min(last + 2, len(bars) - 1)]) + (1 if last + 2 >= len(bars) - 1 else 0)
    after = part(int(ends[last]), after_end)[: block_size // 4]
    closing = ids[ends[last]]  # the bar line after the span, or the EOS
    head = [tokenizer.infill_ids[f"Infill_{n}"], *after.tolist(), tokenizer.infill_ids["Infill_Before"]]
    budget = length - len(head) - len(span) - 1
    if budget < 0:
        return None
    candidates = starts[(starts <= bars[first]) & (starts >= bars[first] - budget)]
    before = part(int(candidates[0]), int(bars[first])) if len(candidates) else ids[:0]
    while len(before) > budget:  # controls written into it made it longer: drop its first bar
        cut = np.flatnonzero(tokenizer.opens_bar[before[1:]])
        before = before[cut[0] + 1:] if len(cut) else before[:0]
    return np.concatenate([np.array(head, dtype=np.int64), before, span, [closing]]).astype(np.int64)


def evaluation_windows(pieces: list[TokenizedPiece], tokenizer: PartitaTokenizer, block_size: int,
                       max_windows: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows covering the held-out pieces (every target counted once)."""
    xs, ys = [], []
    for piece in pieces:
        ids = piece.ids
        for start in range(0, len(ids) - 1, block_size):
            window = ids[start:start + block_size + 1]
            x = np.full(block_size, tokenizer.pad_id, dtype=np.int64)
            y = np.full(block_size, IGNORE, dtype=np.int64)
            x[:len(window) - 1] = window[:-1]
            y[:len(window) - 1] = window[1:]
            xs.append(x)
            ys.append(y)
    if len(xs) > max_windows:  # evenly spaced subset, same every time
        keep = np.linspace(0, len(xs) - 1, max_windows).round().astype(int)
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    if not xs:
        return torch.empty(0, block_size, dtype=torch.long), torch.empty(0, block_size, dtype=torch.long)
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
