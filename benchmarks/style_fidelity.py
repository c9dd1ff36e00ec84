"""Style fidelity: do a style model's continuations of held-out pieces sound like its corpus?

For each style model (a shipped name or a run folder; default: every model in resources/models),
the held-out pieces of the corpus it learned from (its config.json's `train.data` or
`corpus.name`, and `corpus.split`: the test pieces, or the validation pieces where there are none) are cut after
their first `--seed-bars` bars, and the model continues each by `--bars` bars, `--takes` times
(`core.composing.generation.generate_variations`, temperature 1, top-p 0.95). Beside the model's
continuations the table shows, figure by figure (`core.judging.metrics.style`):

* real: the real continuation bars of the same pieces (bars 5-12 with the defaults);
* real vs real: the same bars of every other piece of the corpus (training and held-out), each
  measured alone: how far real pieces differ from one another (mean and min-max);
* 4-gram: a 4-gram (absolute discounting, `core.judging.metrics.ngram`) fitted on the model's tokens of
  its training pieces, sampled on the same seeds under the same grammar mask
  (`core.judging.evaluation.ngram_pieces`: temperature 1, no top-p), `--takes` times each.

Each cell is the mean over passages, with the range across them. The in-key share uses the
Krumhansl-Schmuckler key (`core.judging.metrics.key.estimate_key`) of the whole real piece a passage
continues; "copied" is the longest run of notes (top line, transposition-invariant) that follows
one training piece step by step, from 5 notes up (0: none as long); in the real-vs-real column
only for pieces outside the training set.

    .venv/bin/python benchmarks/style_fidelity.py [--models NAME_OR_DIR ...] [--pieces 6] \\
        [--seed-bars 4] [--bars 8] [--takes 3] [--json OUT.json] [--save-takes DIR]

Takes saved with --save-takes (the seed and its continuation; the 4-gram's and the real
continuation alone) can be engraved: `QT_QPA_PLATFORM=offscreen mscore3 -o take.png take.mid`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import symusic
from _common import REPO, machine, table

from core.composing.generation import GenerationSettings, SeedError, generate_variations
from core.judging.evaluation import (
    EvaluationSettings,
    continuation,
    learning_figures,
    ngram_pieces,
    real_continuation,
)
from core.judging.metrics import jazz
from core.judging.metrics.key import Key, estimate_key
from core.judging.metrics.originality import TrainingIndex
from core.judging.metrics.style import FIGURES, copy_index, style_figures
from core.learning.checkpoint import load_model
from core.music.corpus import is_pattern

MODELS = REPO / "resources" / "models"
SHARE_FIGURES = {"polyphonic_time", "chord_onsets", "leaps_over_octave", "stepwise", "silence",
                 "near_sequences", "near_diatonic_sequences", "near_contour_sequences", "chord_tones"}
THREE_DECIMALS = {"in_key", "swing"}


def model_folders(names: list[str] | None) -> list[Path]:
    """Run folders for `--models` (a folder, or the name of one in resources/models); default every
    shipped style model (base models, for fine-tuning only, have no style of their own to judge)."""
    if not names:
        from core.learning.checkpoint import read_config

        found = {folder.resolve(): folder for folder in sorted(MODELS.iterdir()) if (folder / "config.json").is_file()
                 and not read_config(folder).get("base_model")}
        return list(found.values())
    folders = []
    for name in names:
        path = Path(name)
        if not path.is_dir() and (MODELS / name).is_dir():
            path = MODELS / name
        if not (path / "config.json").is_file():
            raise SystemExit(f"{name}: neither a run folder nor a model in {MODELS}")
        folders.append(path)
    return folders


def corpus_source(config: dict, data: str | None) -> str:
    """What the model learned from: `data` when given, else the path or builtin name it was trained
    on (`train.data`, as given or from the repository), else the corpus's name."""
    if data:
        return data
    for source in (config.get("train", {}).get("data"), config.get("corpus", {}).get("name")):
        if not source:
            continue
        for path in (Path(source), REPO / source):  # a folder, a file, or a pattern of files in a folder
            if str(source).startswith("builtin:") or path.exists() or (is_pattern(path.name) and path.parent.is_dir()):
                return str(source) if str(source).startswith("builtin:") else str(path)
    raise SystemExit("the model's config.json names no corpus that is here; give it with --data")


def pieces_of(loaded, count: int, data: str | None = None, part: str = "test"):
    """(corpus, seed pieces, training pieces) of the model's corpus, split as the model was trained:
    the first `count` of its test pieces (else its validation pieces), or of `part` "validation"."""
    from core.judging.evaluation import split_like_run
    from core.music.corpus import import_corpus

    corpus = import_corpus(corpus_source(loaded.config, data))
    train, held = split_like_run(corpus.pieces, loaded.config)
    split = loaded.config.get("corpus", {}).get("split", {})
    by_name = {piece.name: piece for piece in held}
    chosen = [by_name[n] for n in split.get(part, []) if n in by_name] or \
             [by_name[n] for n in split.get("validation", []) if n in by_name] or held
    return corpus, chosen[:count], train


def bars_after(score: symusic.Score, seed_bars: int, bars: int) -> int:
    """How many of the `bars` bars after the first `seed_bars` the piece has."""
    return max(0, min(bars, len(score.get_downbeats()) - seed_bars))


def summary(values: list[float]) -> dict:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return {"mean": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {"mean": float(np.mean(finite)), "min": float(min(finite)), "max": float(max(finite)), "n": len(finite)}


def cell(name: str, stats: dict) -> str:
    if not stats["n"]:
        return "n/a"

    def one(value: float) -> str:
        if name in SHARE_FIGURES:
            percent = 100 * value
            return f"{percent:.1f}" if 0 < percent < 10 else f"{percent:.0f}"
        return f"{value:.3f}" if name in THREE_DECIMALS else f"{value:.1f}".removesuffix(".0")

    unit = " %" if name in SHARE_FIGURES else ""
    if stats["n"] == 1 or stats["min"] == stats["max"]:
        return one(stats["mean"]) + unit
    return f"{one(stats['mean'])}{unit} ({one(stats['min'])}-{one(stats['max'])})"


class Measured:
    """Every passage's figures, by column of the table (model, real, spread, ngram): a jazz
    model's (one with chord tokens) by `core.judging.metrics.jazz`, the others' by `core.judging.metrics.style`."""

    COLUMNS = ("model", "real", "spread", "ngram")

    def __init__(self, keys: dict[str, Key], index: TrainingIndex, save_dir: Path | None, jazz_figures: bool = False):
        self.keys, self.index, self.save_dir, self.jazz = keys, index, save_dir, jazz_figures
        self.figures = jazz.FIGURES if jazz_figures else FIGURES
        self.values = {column: {name: [] for name in self.figures} for column in self.COLUMNS}
        self.passages: list[dict] = []

    def add(self, column: str, label: str, part: symusic.Score, piece: str, bars: int, copies: bool = True) -> None:
        """Measure `bars` bars of `part`, a passage continuing `piece` (whose key it is judged in;
        a jazz passage over the chord symbols it carries)."""
        if self.jazz:
            figures = jazz.jazz_figures(part, jazz.chords_from(part), bars)
        else:
            figures = style_figures(part, self.keys[piece], bars=bars, index=self.index if copies else None)
        for name in self.figures:
            self.values[column][name].append(figures.get(name, math.nan))
        self.passages.append({"set": column, "passage": label, **figures})

    def save(self, score: symusic.Score, name: str) -> None:
        if self.save_dir is not None:
            score.dump_midi(str(self.save_dir / name))

    def stats(self) -> dict:
        return {column: {name: summary(values) for name, values in figures.items()}
                for column, figures in self.values.items()}


def continue_seeds(loaded, seeds: list, measured: Measured, args, cut: EvaluationSettings) -> list:
    """The model's takes and the real continuations of each seed piece; the pieces it could seed from."""
    seeded = []
    for i, piece in enumerate(seeds):
        stem = Path(piece.name).stem
        # a chord-aware model plays over the real continuation's changes
        changes = real_changes(piece.score, args.seed_bars, args.bars) if loaded.tokenizer.has_chords else ""
        settings = GenerationSettings(bars=args.bars, prompt_bars=args.seed_bars, random_seed=args.seed + i,
                                      temperature=args.temperature, top_p=args.top_p, chords=changes,
                                      sequences=args.sequences)
        try:
            takes = generate_variations(loaded, piece.score, settings, args.takes)
        except SeedError as error:
            print(f"  {piece.name}: skipped ({error})")
            continue
        seeded.append(piece)
        for k, take in enumerate(takes, 1):
            measured.add("model", f"{stem} take {k}", continuation(take.score, take.seed_end_tick), piece.name,
                         args.bars)
            measured.save(take.score, f"{stem}-take{k}.mid")
        real = real_continuation(piece.score, cut)
        measured.add("real", stem, real, piece.name, bars_after(piece.score, args.seed_bars, args.bars))
        measured.save(real, f"{stem}-real.mid")
    return seeded


def real_changes(score: symusic.Score, seed_bars: int, bars: int) -> str:
    """The chords of the bars after the seed, a symbol per beat (`core.music.chords.parse_progression`)."""
    downbeats = [int(t) for t in score.get_downbeats()]
    changes = jazz.chords_from(score)
    if not changes or len(downbeats) <= seed_bars:
        return ""
    times = [time for time, _ in changes]
    written = []
    for bar in range(seed_bars, min(seed_bars + bars, len(downbeats))):
        beats = []
        for beat in range(4):  # WJazzD: x/4 meters; the progression is laid out in the seed's meter
            at = int(np.searchsorted(times, downbeats[bar] + beat * score.tpq, side="right")) - 1
            beats.append(changes[at][1].name() if at >= 0 else "NC")
        written.append(" ".join(beats))
    return " | ".join(written)


def ngram_takes(ngram, loaded, seeded: list, measured: Measured, args, cut: EvaluationSettings) -> None:
    """The 4-gram's continuations of the same seeds, `args.takes` each."""
    prompts = [piece.score for piece in seeded for _ in range(args.takes)]
    for k, (_, part) in enumerate(ngram_pieces(ngram, loaded, prompts, len(prompts), cut)):
        piece, take = seeded[k // args.takes], k % args.takes + 1
        stem = Path(piece.name).stem
        measured.add("ngram", f"{stem} 4-gram {take}", part, piece.name, args.bars)
        measured.save(part, f"{stem}-4gram{take}.mid")


def evaluate_model(folder: Path, args, save_dir: Path | None) -> dict:
    """Every figure for one model's continuations, the real ones, real vs real and the 4-gram's."""
    started = time.perf_counter()
    loaded = load_model(folder)
    corpus, seeds, train = pieces_of(loaded, args.pieces, args.data)
    seeds = [p for p in seeds if bars_after(p.score, args.seed_bars, args.bars) > 0]
    if not seeds:
        raise SystemExit(f"{folder}: no held-out piece longer than {args.seed_bars} bars")
    keys = {piece.name: estimate_key(piece.score) for piece in corpus.pieces}
    measured = Measured(keys, copy_index([(piece.name, piece.score) for piece in train]), save_dir,
                        jazz_figures=loaded.tokenizer.has_chords)
    cut = EvaluationSettings(prompt_bars=args.seed_bars, bars=args.bars, seed=args.seed, temperature=1.0,
                             ngram_order=4, max_eval_windows=64)
    learned, ngram = learning_figures(loaded, train, seeds, corpus.pitch_range, cut)
    seeded = continue_seeds(loaded, seeds, measured, args, cut)
    ngram_takes(ngram, loaded, seeded, measured, args, cut)
    seed_names, training_names = {p.name for p in seeded}, {p.name for p in train}
    others = [p for p in corpus.pieces if p.name not in seed_names and bars_after(p.score, args.seed_bars, args.bars)]
    for piece in others:  # real vs real; copies only of pieces the index does not hold
        measured.add("spread", Path(piece.name).stem, real_continuation(piece.score, cut), piece.name,
                     bars_after(piece.score, args.seed_bars, args.bars), copies=piece.name not in training_names)
    config = loaded.model.config
    model_tokens, baseline_tokens = learned.model, learned.baseline
    pitch = {name: figures.per_type.get("Pitch", {}).get("loss", math.nan)
             for name, figures in (("model", model_tokens), ("ngram", baseline_tokens))}
    caption = (
        f"Model: {folder.name} ({config.n_layer} layers x {config.n_embd} wide, {loaded.describe()}), learned "
        f"from {corpus.name} ({len(train)} training pieces). Seeds: the first {args.seed_bars} bars of "
        f"{len(seeded)} held-out pieces ({', '.join(Path(p.name).stem for p in seeded)}); {args.bars} bars "
        f"generated, {args.takes} takes each (temperature {args.temperature:g}, top-p {args.top_p:g}, sequences "
        f"{'the model' + chr(39) + 's own' if args.sequences is None else args.sequences}); real vs "
        f"real: {len(others)} other pieces. Held-out loss per note (those pieces' tokens): model "
        f"{model_tokens.loss_per_note:.3f}, 4-gram {baseline_tokens.loss_per_note:.3f} nats; Pitch tokens "
        f"{pitch['model']:.3f} vs {pitch['ngram']:.3f} nats/token. {time.perf_counter() - started:.0f} s on "
        f"{machine()}, load average {os.getloadavg()[0]:.1f}.")
    stats = measured.stats()
    takes = len(seeded) * args.takes
    headers = ["figure", f"model ({takes} takes)", f"real bars {args.seed_bars + 1}-{args.seed_bars + args.bars} "
               f"({len(seeded)} pieces)", f"real vs real ({len(others)} pieces)", f"4-gram ({takes} takes)"]
    body = [[label] + [cell(name, stats[column][name]) for column in Measured.COLUMNS]
            for name, label in measured.figures.items()]
    return {"model": folder.name, "run_dir": str(folder), "corpus": corpus.name, "caption": caption,
            "table": table(headers, body), "figures": stats, "passages": measured.passages,
            "seeds": [p.name for p in seeded]}


def plain(value):
    """`value` with NaN as null, so the JSON is standard (NaN is not JSON)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="shipped model names or run folders (default: all shipped)")
    parser.add_argument("--data", help="the corpus the models learned from, where their config.json's is not here")
    parser.add_argument("--pieces", type=int, default=6, help="held-out pieces to seed from (at most)")
    parser.add_argument("--seed-bars", type=int, default=4)
    parser.add_argument("--bars", type=int, default=8, help="bars to generate after each seed")
    parser.add_argument("--takes", type=int, default=3, help="continuations of each seed")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0, help="random seed of the first piece's takes")
    parser.add_argument("--sequences", type=float,
                        help="share of bars offered the bar before's figure (default: each model's own; 0: off)")
    parser.add_argument("--json", type=Path, help="save the figures (and every passage's) as JSON")
    parser.add_argument("--save-takes", type=Path, help="write the takes, 4-gram takes and real bars as MIDI here")
    args = parser.parse_args()
    results = []
    for folder in model_folders(args.models):
        save_dir = None
        if args.save_takes:
            save_dir = args.save_takes / folder.name
            save_dir.mkdir(parents=True, exist_ok=True)
        result = evaluate_model(folder, args, save_dir)
        results.append(result)
        print(f"## Style fidelity: {result['model']}\n\n{result['caption']}\n\n{result['table']}\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"models": plain(results)}, indent=1))


if __name__ == "__main__":
    main()
