"""Does BPE pay? Loss per note and speed per note at a few vocabulary sizes, with the engine's BPE.

`partita train --bpe N` does what this script does per vocabulary, and this script calls the same
engine code (`PartitaTokenizer.train_bpe`, `to_model_ids`, `core.learning.dataset.window_starts`), with its
own loop only to score every validation note and to time the variants side by side:

* Corpora: the 42 cello-suite movements and the Bach chorales (`builtin:bach-chorales`), split
  by piece with `core.music.corpus.split_by_piece(seed=0)` as `partita train` does; the test part is
  unused.
* Augmentation, the same for every vocabulary: each training piece is transposed by each of its
  allowed shifts (`transpose_ids` on base ids, up to +-5 semitones as `partita train`), THEN
  BPE-encoded. BPE is learned from all those transposed copies (merges never cross a bar line), as
  `core.learning.training.learn_bpe` does. Every encoded piece is expanded back and checked equal to its base
  ids. Batches come from core's `BatchSampler` (packed, 16 x 256) over the (piece, shift) copies
  with `augment=False`, each copy weighted (piece length) / (number of shifts): the same draw as
  core's augmentation. The base row goes through the same path.
* Training: `tiny` preset with vocab_size = the BPE vocabulary, same seed and initial RNG, the
  same number of steps, `partita train`'s optimizer, schedule (warm-up min(100, steps/3), cosine)
  and gradient clipping; one torch thread.
* Counted: notes = Pitch tokens in a piece's base ids. Tokens per note = a piece's tokens without
  BOS/EOS over its notes (training: the transposed copies; validation: the pieces as written).
  Validation loss per note = the summed next-token NLL (nats) of EVERY target in the validation
  pieces (non-overlapping 256-token windows from BOS to EOS, each window starting without earlier
  context) / their notes: comparable across vocabularies. Per token = the same sum / targets.
* Speed (cello models): training steps of every vocabulary in interleaved rounds; notes/s =
  target tokens/s / training tokens per note. Decoding: batch 1, the model's KV cache, a
  softmax sample per token (no grammar mask), 200 tokens from BOS; ms per note = ms per token x
  validation tokens per note. Composing: the engine's own `stream_generation` (grammar mask,
  top-p 0.95) writing 16 bars from silence, ms per note written.

    .venv/bin/python benchmarks/bpe.py [--quick] [--steps 300] [--sizes 1000 2000 4000] [--cello-only]
                                 [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import CELLO_XML, interleaved, machine, median, rates, require, table

from core.composing.generation import GenerationSettings, stream_generation
from core.learning.checkpoint import LoadedModel
from core.learning.dataset import (
    IGNORE,
    BatchSampler,
    TokenizedPiece,
    evaluation_windows,
    tokenize_pieces,
    window_starts,
)
from core.learning.model import PRESETS, Transformer
from core.learning.run_config import TrainConfig
from core.learning.tokenizer import PartitaTokenizer, settings_for
from core.learning.training import learning_rate_at
from core.music.corpus import import_corpus, split_by_piece
from core.threads import torch_threads

BATCH, BLOCK = 16, 256  # as `partita train`
MAX_TRANSPOSE = 5  # semitones, as `partita train`
DECODE_TOKENS = 200
COMPOSE_BARS = 16


@dataclass
class Corpus:
    """A corpus split as training splits it: base tokenizer, training and validation pieces."""

    name: str
    tokenizer: PartitaTokenizer
    train: list[TokenizedPiece]  # base ids with allowed shifts
    validation: list[TokenizedPiece]  # base ids, shift 0


def load_corpus(name: str, source: str) -> Corpus:
    corpus = import_corpus(source)
    # continuation alone, as measured in benchmarks/RESULTS.md: no control tokens in the vocabulary
    # (with them a vocabulary of N holds about 190 merges fewer; see the README's BPE paragraph)
    tokenizer = PartitaTokenizer.create(replace(settings_for([p.score for p in corpus.pieces]), use_controls=False))
    split = split_by_piece(corpus.pieces, seed=0)
    train = tokenize_pieces(split.train, tokenizer, corpus.pitch_range, MAX_TRANSPOSE)
    validation = tokenize_pieces(split.validation, tokenizer, corpus.pitch_range, 0)
    return Corpus(name, tokenizer, train, validation)


@dataclass
class Encoded:
    """One corpus under one vocabulary, ready for `BatchSampler` and evaluation."""

    vocab_size: int  # the model's vocabulary (base or BPE)
    coder: PartitaTokenizer  # the tokenizer of that vocabulary
    train: list[TokenizedPiece]  # one per (piece, shift); shifts [0]
    weights: np.ndarray  # draw probability of each copy: piece length share / its shifts
    validation: list[TokenizedPiece]
    train_notes: int
    train_tokens: int  # without BOS/EOS
    validation_notes: int
    validation_tokens: int

    def tokens_per_note(self, part: str) -> float:
        return getattr(self, f"{part}_tokens") / getattr(self, f"{part}_notes")


def body_of(piece: TokenizedPiece) -> np.ndarray:
    return piece.ids[1:-1]  # without BOS, EOS


def encode_corpus(corpus: Corpus, vocab_size: int) -> Encoded:
    """Every training piece at each of its shifts, and the validation pieces, under `vocab_size`
    (0: the base vocabulary)."""
    tokenizer = corpus.tokenizer
    low, high = tokenizer.pitch_id_range()

    def notes(body: np.ndarray) -> int:
        return int(((body >= low) & (body <= high)).sum())

    copies = [(piece, shift, tokenizer.transpose_ids(body_of(piece), shift))
              for piece in corpus.train for shift in piece.shifts]
    coder = tokenizer.train_bpe(vocab_size, [body for _, _, body in copies]) if vocab_size else tokenizer

    def tokenized(name: str, body: np.ndarray, shift: int) -> TokenizedPiece:
        framed = np.concatenate([[tokenizer.bos_id], body, [tokenizer.eos_id]]).astype(np.int64)
        ids = coder.to_model_ids(framed)
        if coder.expand(ids) != framed.tolist():
            raise AssertionError("BPE round trip changed a piece")
        return TokenizedPiece(f"{name}{shift:+d}", ids, window_starts(ids, coder), [0])

    train = [tokenized(piece.name, body, shift) for piece, shift, body in copies]
    lengths = np.array([len(piece.ids) / len(piece.shifts) for piece, _, _ in copies])
    validation = [tokenized(p.name, body_of(p), 0) for p in corpus.validation]
    return Encoded(
        vocab_size=len(coder), coder=coder,
        train=train, weights=lengths / lengths.sum(), validation=validation,
        train_notes=sum(notes(body) for _, _, body in copies),
        train_tokens=sum(len(p.ids) - 2 for p in train),
        validation_notes=sum(notes(body_of(p)) for p in corpus.validation),
        validation_tokens=sum(len(p.ids) - 2 for p in validation),
    )


def sampler_for(encoded: Encoded, tokenizer: PartitaTokenizer, seed: int = 0) -> BatchSampler:
    sampler = BatchSampler(encoded.train, tokenizer, BLOCK, BATCH, seed=seed, augment=False, pack=True)
    sampler.weights = encoded.weights  # per piece as core draws it, then a shift uniformly
    return sampler


def new_model(vocab_size: int, seed: int = 0) -> Transformer:
    torch.manual_seed(seed)  # the same initial weights wherever the shapes agree
    return Transformer(replace(PRESETS["tiny"], vocab_size=vocab_size)).train()


def train_steps(model: Transformer, sampler: BatchSampler, steps: int, seed: int = 0) -> tuple[float, int]:
    """`partita train`'s loop for `steps` steps; (mean loss of the last 10 %, target tokens seen)."""
    config = TrainConfig(data="", out="", steps=steps, seed=seed, warmup_steps=min(100, max(1, steps // 3)))
    optimizer = model.adamw(config.learning_rate, config.weight_decay)
    losses, tokens = [], 0
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, config)
        x, y = sampler.batch(step)
        tokens += int((y != IGNORE).sum())
        torch.manual_seed(config.seed * 1_000_003 + step * 101)  # dropout draws per step
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses[-max(1, steps // 10):])), tokens


@torch.no_grad()
def validation_nll(model: Transformer, encoded: Encoded, tokenizer: PartitaTokenizer) -> tuple[float, int]:
    """(summed NLL in nats, targets) over every target of the validation pieces."""
    model.eval()
    x, y = evaluation_windows(encoded.validation, tokenizer, BLOCK, max_windows=10**9)
    total, count = 0.0, 0
    for start in range(0, len(x), 16):
        logits, _ = model(x[start:start + 16])
        targets = y[start:start + 16]
        total += float(F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE,
                                       reduction="sum"))
        count += int((targets != IGNORE).sum())
    model.train()
    return total, count


def label(size: int, encoded: Encoded) -> str:
    return f"base REMI ({encoded.vocab_size})" if size == 0 else f"BPE {encoded.vocab_size}"


def quality(corpus: Corpus, sizes: list[int], steps: int, seed: int = 0) -> tuple[str, dict]:
    """The compression and validation-loss table of one corpus; also the models and encodings."""
    rows, kept = [], {}
    base_per_note = None
    for size in sizes:
        began = time.perf_counter()
        encoded = encode_corpus(corpus, size)
        model = new_model(encoded.vocab_size, seed)
        train_loss, seen = train_steps(model, sampler_for(encoded, corpus.tokenizer, seed), steps, seed)
        nll, targets = validation_nll(model, encoded, corpus.tokenizer)
        per_note = nll / encoded.validation_notes
        base_per_note = base_per_note or per_note
        reference = kept[sizes[0]][1] if kept else encoded
        base_tpn, base_val = reference.tokens_per_note("train"), reference.tokens_per_note("validation")
        rows.append([label(size, encoded), encoded.tokens_per_note("train"), encoded.tokens_per_note("validation"),
                     f"{base_tpn / encoded.tokens_per_note('train'):.2f}x / "
                     f"{base_val / encoded.tokens_per_note('validation'):.2f}x",
                     seen / encoded.tokens_per_note("train"), train_loss, nll / targets, per_note,
                     f"{per_note / base_per_note:.3f}"])
        kept[size] = (model, encoded)
        print(f"  {corpus.name} {label(size, encoded)}: {time.perf_counter() - began:.0f} s", flush=True)
    validation = corpus.validation
    caption = (f"**{corpus.name}**: {len(corpus.train)} training pieces ({len(kept[sizes[0]][1].train)} "
               f"transposed copies), {len(validation)} validation pieces "
               f"({kept[sizes[0]][1].validation_notes:,} notes); `tiny`, {steps} steps of {BATCH} x {BLOCK} "
               f"packed, seed {seed}. Losses in nats.")
    return caption + "\n\n" + table(
        ["vocabulary", "tokens/note (train)", "tokens/note (val)", "shorter by (train / val)", "notes trained on",
         "train loss/token (last 10 %)", "val loss/token", "val loss/note", "loss/note vs base"], rows), kept


def speed(corpus: Corpus, kept: dict, repeats: int) -> str:
    """Training and decoding speed per note of each vocabulary, interleaved rounds."""
    def training_side(model: Transformer, encoded: Encoded):
        sampler = sampler_for(encoded, corpus.tokenizer)
        optimizer = model.adamw(1e-4, 0.1)
        counter = iter(range(10**6, 10**9))  # batches the loss run did not see, same order for all

        def measure():
            x, y = sampler.batch(next(counter))

            def work() -> int:
                _, loss = model(x, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                return int((y != IGNORE).sum())
            return rates(work)
        return measure

    def decoding_side(model: Transformer):
        def measure():
            model.eval()
            generator = torch.Generator().manual_seed(0)

            @torch.inference_mode()
            def work() -> int:
                cache = model.new_cache(1)
                idx = torch.tensor([[corpus.tokenizer.bos_id]])
                for _ in range(DECODE_TOKENS):
                    logits, _ = model(idx, cache=cache)
                    idx = torch.multinomial(torch.softmax(logits[:, -1], dim=-1), 1, generator=generator)
                return DECODE_TOKENS
            result = rates(work)
            model.train()
            return result
        return measure

    def composing_side(model: Transformer, encoded: Encoded):
        loaded = LoadedModel(model, encoded.coder, {}, Path("."))
        settings = GenerationSettings(bars=COMPOSE_BARS, random_seed=0)

        def measure():
            model.eval()

            def work() -> int:
                return sum(len(event.notes) for event in stream_generation(loaded, None, settings))
            result = rates(work)
            model.train()
            return result
        return measure

    train = interleaved({size: training_side(*kept[size]) for size in kept}, repeats)
    decode = interleaved({size: decoding_side(kept[size][0]) for size in kept}, repeats)
    compose = interleaved({size: composing_side(*kept[size]) for size in kept}, repeats)
    rows, base = [], None
    for size, (_, encoded) in kept.items():
        wall, cpu = median([r[0] for r in train[size]]), median([r[1] for r in train[size]])
        notes_cpu = cpu / encoded.tokens_per_note("train")
        ms_token = 1000 / median([r[1] for r in decode[size]])
        ms_note = ms_token * encoded.tokens_per_note("validation")
        ms_composed = 1000 / median([r[1] for r in compose[size]])
        base = base or (notes_cpu, ms_note, ms_composed)
        rows.append([label(size, encoded), cpu, wall, notes_cpu, wall / encoded.tokens_per_note("train"),
                     f"{notes_cpu / base[0]:.2f}x", ms_token, ms_note, f"{base[1] / ms_note:.2f}x",
                     ms_composed, f"{base[2] / ms_composed:.2f}x"])
    caption = (f"Speed, {corpus.name} models: training steps of {BATCH} x {BLOCK} packed, median of {repeats} "
               f"interleaved rounds; decoding {DECODE_TOKENS} tokens at batch 1 with the KV cache (CPU time); "
               f"composing {COMPOSE_BARS} bars from silence with `stream_generation` (CPU time). "
               f"Machine: {machine()}, load average {os.getloadavg()[0]:.1f}.")
    return caption + "\n\n" + table(
        ["vocabulary", "train tok/s (CPU)", "train tok/s (wall)", "train notes/s (CPU)", "train notes/s (wall)",
         "notes/s vs base", "decode ms/token", "decode ms/note", "decode per note vs base",
         "compose ms/note", "compose per note vs base"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps and rounds: a smoke run of minutes")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000], help="BPE vocabularies")
    parser.add_argument("--cello-only", action="store_true", help="leave out the Bach chorales")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="model initialisation, batches and dropout "
                        "(the split and the BPE merges stay fixed)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats = 20, 2
    sizes = [0, *args.sizes]
    with torch_threads(args.threads):
        corpora = [load_corpus("cello suites", str(require(CELLO_XML)))]
        if not args.cello_only:
            corpora.append(load_corpus("Bach chorales", "builtin:bach-chorales"))
        print("## BPE\n", flush=True)
        outputs = []
        for index, corpus in enumerate(corpora):
            text, kept = quality(corpus, sizes, args.steps, args.seed)
            outputs.append(text)
            if index == 0:
                outputs.append(speed(corpus, kept, args.repeats))
        print()
        print("\n\n".join(outputs))


if __name__ == "__main__":
    main()
