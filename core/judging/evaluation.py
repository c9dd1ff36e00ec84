"""Evaluate a trained model against its corpus: the engine side of `partita evaluate`.

`evaluate_run` loads a run folder and its corpus (with the split the run was trained on),
scores the model and an n-gram baseline on the held-out pieces' tokens, writes (or reads)
generated pieces, and measures them beside the held-out real pieces, the n-gram baseline's
music and shuffled/random references (`core.judging.report.data`). The result is a plain `Report`
that the CLI writes as report.json/report.html and the GUI shows in a tab.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import symusic

from core.judging.metrics import transitions
from core.judging.metrics.muspy_metrics import pitch_class_entropy, pitch_entropy
from core.judging.metrics.ngram import NGramModel
from core.judging.metrics.originality import TrainingIndex
from core.judging.metrics.references import pitch_shuffled, random_notes, rhythm_shuffled
from core.judging.metrics.uniqueness import uniqueness
from core.judging.report.data import (
    BASELINE,
    GENERATED,
    HELD_OUT,
    PITCH_SHUFFLED,
    RANDOM,
    REAL_CONTINUATIONS,
    RHYTHM_SHUFFLED,
    LearningFigures,
    Report,
    SweepPoint,
    TokenFigures,
    compare_sets_to_training,
)
from core.music.chords import MARKER_PREFIX as CHORD_MARKER

ProgressFn = Callable[[str], None]
CancelFn = Callable[[], bool]


class EvaluationError(ValueError):
    """Inputs that cannot be evaluated; the message names the folder and the problem."""


@dataclass(frozen=True)
class EvaluationSettings:
    generate: int = 8  # pieces to generate, each continuing the opening of a held-out piece
    bars: int = 8  # bars per generated continuation
    prompt_bars: int = 2  # bars of the held-out piece given as the seed
    temperature: float = 1.0
    top_p: float = 0.95
    sweep: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5)  # temperatures of the sweep (empty: none)
    sweep_variations: int = 4  # variations of one seed per temperature
    ngram_order: int = 4
    max_eval_windows: int = 256  # held-out windows of block_size tokens scored for the learning figures
    seed: int = 0
    use_music21: bool = True  # music21 key detection (slower) for the in-key rate


def evaluate_run(model_dir: str | Path | None, data: str | Path, *, generated_dir: str | Path | None = None,
                 settings: EvaluationSettings = EvaluationSettings(), progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None, best: bool = False) -> Report:
    """The whole evaluation of one run on one corpus (see module docstring), with the weights of
    its last step, or with `best` those of its lowest validation loss."""
    from core.learning.checkpoint import load_model
    from core.music.corpus import import_corpus

    say = progress or (lambda message: None)
    say("loading the model")
    loaded = load_model(model_dir, best=best)
    say(f"weights of {loaded.describe()}")
    if generated_dir is not None:  # before the long work: a wrong folder is said at once
        generated = load_generated(generated_dir, say)
    say(f"importing {data}")
    corpus = import_corpus(str(data))
    if not corpus.pieces:
        raise EvaluationError(f"{data}: no piece could be imported")
    train, held = split_like_run(corpus.pieces, loaded.config)
    if not held:
        raise EvaluationError(f"{data}: no held-out pieces (the corpus needs at least 3 pieces)")
    say(f"{len(train)} training and {len(held)} held-out pieces")

    scored, chosen_on = unbiased_pieces(held, loaded)
    say(f"learning figures: transformer and n-gram on the tokens of {len(scored)} held-out pieces")
    learning, ngram = learning_figures(loaded, train, scored, corpus.pitch_range, settings)

    prompts = [piece.score for piece in held]
    if generated_dir is None:
        generated = generate_pieces(loaded, prompts, settings, cancel=cancel, progress=say)
    say("sampling the n-gram baseline")
    baseline = ngram_pieces(ngram, loaded, prompts, max(settings.generate, len(generated)), settings)
    held_named = [(piece.name, piece.score) for piece in held]
    sets = {
        GENERATED: generated,
        HELD_OUT: held_named,
        REAL_CONTINUATIONS: [(n, real_continuation(s, settings)) for n, s in held_named],
        BASELINE: baseline,
        PITCH_SHUFFLED: [(n, pitch_shuffled(s, seed=i)) for i, (n, s) in enumerate(held_named)],
        RHYTHM_SHUFFLED: [(n, rhythm_shuffled(s, seed=i)) for i, (n, s) in enumerate(held_named)],
        RANDOM: [(n, random_notes(s, seed=i)) for i, (n, s) in enumerate(held_named)],
    }
    training = [(piece.name, piece.score) for piece in train]
    index = TrainingIndex(training)
    report = compare_sets_to_training(sets, training, use_music21=settings.use_music21, progress=say,
                                      cancel=cancel, index=index)
    report.title = f"Partita evaluation: {Path(loaded.run_dir).name}, {loaded.describe()}, on {corpus.name}"
    report.learning = learning
    learned_from = str(loaded.config.get("corpus", {}).get("name", ""))
    if learned_from and learned_from != corpus.name:
        report.warnings.insert(0, f"The model learned from {learned_from}, not from {corpus.name}: the figures say "
                                  "how it does on music it was not trained on.")
    if chosen_on:
        report.warnings.append(f"The weights ({loaded.describe()}) were chosen by their loss on the validation pieces, "
                               f"which are all the held-out pieces there are: the learning figures are somewhat "
                               f"optimistic ({', '.join(chosen_on[:3])}{', ...' if len(chosen_on) > 3 else ''}).")
    if not learning.beats_baseline:
        report.warnings.insert(0, f"The model does not beat the {learning.baseline_name} on held-out tokens "
                                  f"({learning.model.loss:.3f} vs {learning.baseline.loss:.3f} nats/token).")
    if report.copies:
        report.warnings.append(f"{len(report.copies)} piece(s) flagged as copies of the training set (see Copies).")
    if generated_dir is None and settings.sweep_variations >= 2:
        report.uniqueness, report.sweep = temperature_sweep(loaded, prompts[0], training, index, settings,
                                                            cancel=cancel, progress=say)
    return report


def split_like_run(pieces: Sequence, config: dict) -> tuple[list, list]:
    """(training, held-out) pieces as the run split them; held-out = validation + test."""
    from core.music.corpus import split_by_piece

    names = config.get("corpus", {}).get("split")
    if names and names.get("train"):
        by_name = {piece.name: piece for piece in pieces}
        train = [by_name[n] for n in names["train"] if n in by_name]
        held = [by_name[n] for n in names.get("validation", []) + names.get("test", []) if n in by_name]
        if train and held:
            return train, held
    split = split_by_piece(list(pieces), seed=int(config.get("train", {}).get("seed", 0)))
    return split.train, split.validation + split.test


def unbiased_pieces(held: Sequence, loaded) -> tuple[list, list[str]]:
    """The held-out pieces to score the model on, and the names of any among them that chose its
    weights. Weights picked by their validation loss (a run's best) are scored on the test pieces
    only, where the run has any; otherwise on all of them, and the validation pieces are named."""
    selected = loaded.by_validation
    validation = set(loaded.config.get("corpus", {}).get("split", {}).get("validation", []))
    if not selected or not validation:
        return list(held), []
    test = [piece for piece in held if piece.name not in validation]
    if test:
        return test, []
    return list(held), [piece.name for piece in held]


def learning_figures(loaded, train: Sequence, held: Sequence, pitch_range: tuple[int, int],
                     settings: EvaluationSettings) -> tuple[LearningFigures, NGramModel]:
    """Transformer and n-gram cross-entropy/accuracy on the same held-out windows of tokens."""
    from core.learning.baseline import score_windows, training_sequences
    from core.learning.dataset import NORMALIZING, evaluation_windows, tokenize_pieces
    from core.learning.training import evaluate

    tokenizer = loaded.tokenizer
    max_shift = int(loaded.config.get("train", {}).get("max_transpose", 0))
    key_mode = loaded.config.get("train", {}).get("key_mode") or "transpose"  # the keys it was trained in
    max_shift = 0 if key_mode in NORMALIZING else max_shift
    held_tokens = tokenize_pieces(list(held), tokenizer, pitch_range, 0, key_mode)
    x, y = evaluation_windows(held_tokens, tokenizer, loaded.model.config.block_size, settings.max_eval_windows)
    result = evaluate(loaded.model, tokenizer, x, y)
    model = TokenFigures(result.loss, result.perplexity, result.accuracy, result.tokens,
                         {t: {"loss": v["loss"], "accuracy": v["accuracy"]} for t, v in result.per_type.items()},
                         result.loss_per_note)
    # the n-gram sees the training pieces with the same transpositions the transformer saw
    train_tokens = tokenize_pieces(list(train), tokenizer, pitch_range, max_shift, key_mode)
    ngram = NGramModel(settings.ngram_order, len(tokenizer)).fit(training_sequences(train_tokens, tokenizer, max_shift))
    scores, notes = score_windows(ngram, tokenizer, x, y)  # the transformer's windows and targets
    baseline = TokenFigures(scores.loss, scores.perplexity, scores.accuracy, scores.tokens,
                            {t: {"loss": loss, "accuracy": acc} for t, (loss, acc) in scores.per_type.items()},
                            scores.loss * scores.tokens / notes if notes else float("nan"))
    name = f"{settings.ngram_order}-gram (absolute discounting)"
    return LearningFigures(model, baseline, name, [piece.name for piece in held]), ngram


def held_out_figures(loaded, data: str | None = None, split: str = "test",
                     settings: EvaluationSettings = EvaluationSettings()) -> dict:
    """The model's and a 4-gram's cross-entropy per note and per token type on one part of the
    run's own split ("test": pieces that neither trained it nor chose its weights), as JSON: what a
    shipped model carries in its config.json, and what benchmarks compare runs by."""
    from core.music.corpus import import_corpus

    corpus = import_corpus(data or loaded.config.get("train", {}).get("data") or loaded.config["corpus"]["name"])
    names = loaded.config.get("corpus", {}).get("split", {})
    by_name = {piece.name: piece for piece in corpus.pieces}
    train = [by_name[n] for n in names.get("train", []) if n in by_name]
    held = [by_name[n] for n in names.get(split, []) if n in by_name]
    if not train or not held:
        raise EvaluationError(f"{corpus.name}: the run's {split} pieces are not in it")
    figures, _ = learning_figures(loaded, train, held, corpus.pitch_range, settings)

    def as_json(tokens: TokenFigures) -> dict:
        return {"loss_per_note": round(tokens.loss_per_note, 4), "loss_per_token": round(tokens.loss, 4),
                "per_type": {kind: {name: round(value, 4) for name, value in values.items()}
                             for kind, values in tokens.per_type.items()}}

    return {"pieces": figures.pieces, "split": split, "model": as_json(figures.model),
            "baseline": as_json(figures.baseline), "baseline_name": figures.baseline_name}


def judge_takes(takes: list[tuple[str, symusic.Score, int]], training: list[tuple[str, symusic.Score]], *,
                progress=None, cancel=None):
    """The window's Judge takes: each take's continuation (`continuation`, after its seed's end tick)
    against the corpus pieces `training`, beside as many random-note pieces; no model needed.
    Returns (the report, ((take name, bar of the take where its judged part begins), ...)): a copied
    passage's bars are counted in the continuation, the musician counts them in the take."""
    from core.judging.metrics.references import random_notes
    from core.judging.report.data import GENERATED, RANDOM, compare_sets_to_training

    generated = [(name, continuation(score, seed_end)) for name, score, seed_end in takes]
    first_bars = tuple((name, continuation_first_bar(score, seed_end)) for name, score, seed_end in takes)
    sets = {GENERATED: generated,
            RANDOM: [(name, random_notes(score, seed=i)) for i, (name, score) in enumerate(generated)]}
    report = compare_sets_to_training(sets, training, use_music21=False, progress=progress, cancel=cancel)
    report.title = f"{len(generated)} take(s) against {len(training)} corpus pieces"
    return report, first_bars


def continuation_first_bar(score: symusic.Score, seed_end_tick: int) -> int:
    """The bar (1-based) of a take where `continuation` starts the part it judges: the bar of the
    first note at or after the seed's end."""
    downbeats = [int(t) for t in score.get_downbeats()] if score.end() > 0 else [0]
    first_new = min((n.time for t in score.tracks for n in t.notes if n.time >= seed_end_tick), default=seed_end_tick)
    return max(1, sum(1 for tick in downbeats if tick <= first_new))


def continuation(score: symusic.Score, seed_end_tick: int) -> symusic.Score:
    """The part of a take after its seed, moved to start at the bar line of its first new note
    (the first onset at or after the seed's end, the take's continuation marker): the seed's
    last bar is judged only where the continuation finishes it."""
    downbeats = [int(t) for t in score.get_downbeats()] if score.end() > 0 else [0]
    first_new = min((n.time for t in score.tracks for n in t.notes if n.time >= seed_end_tick), default=seed_end_tick)
    return _from_bar_line(score, max([t for t in downbeats if t <= first_new] or [0]))


def _from_bar_line(score: symusic.Score, start: int, markers=None) -> symusic.Score:
    """The score from the bar line at `start` on, moved to start at 0 in the meter it has there,
    with its chord symbols (`chord:` markers of `markers`, default the score's): the one in force
    at `start` at 0, then the later changes."""
    signatures = [ts for ts in score.time_signatures if ts.time <= start]
    part = score.clip(start, max(score.end(), start + 1), clip_end=False).shift_time(-start)
    if signatures and not any(ts.time == 0 for ts in part.time_signatures):
        last = signatures[-1]
        part.time_signatures.insert(0, symusic.TimeSignature(0, last.numerator, last.denominator))
    chords = sorted((m for m in (score.markers if markers is None else markers) if m.text.startswith(CHORD_MARKER)),
                    key=lambda m: m.time)
    before = [m for m in chords if m.time <= start]
    end = part.end()  # (before the markers: the part's notes and meters)
    kept = ([symusic.TextMeta(0, before[-1].text)] if before else []) + \
        [symusic.TextMeta(m.time - start, m.text) for m in chords if start < m.time < start + end]
    part.markers = [m for m in part.markers if not m.text.startswith(CHORD_MARKER)] + kept
    return part


def real_continuation(score: symusic.Score, settings: EvaluationSettings) -> symusic.Score:
    """The bars of a held-out piece that follow its seed, as many as are generated."""
    downbeats = [int(t) for t in score.get_downbeats()]
    if len(downbeats) <= settings.prompt_bars:
        return score
    start = downbeats[settings.prompt_bars]
    stop = settings.prompt_bars + settings.bars
    end = downbeats[stop] if stop < len(downbeats) else int(score.end()) + 1
    return _from_bar_line(score.clip(0, end, clip_end=True), start, markers=score.markers)


def generate_pieces(loaded, prompts: Sequence[symusic.Score], settings: EvaluationSettings, *,
                    cancel: CancelFn | None = None, progress: ProgressFn | None = None) -> list[tuple[str, symusic.Score]]:
    """`settings.generate` continuations, the i-th seeded by the opening of prompts[i % len]."""
    from core.composing.generation import GenerationSettings, SeedError, generate

    pieces = []
    for i in range(settings.generate):
        if cancel and cancel():
            break
        if progress:
            progress(f"generating piece {i + 1}/{settings.generate}")
        options = GenerationSettings(bars=settings.bars, temperature=settings.temperature, top_p=settings.top_p,
                                     random_seed=settings.seed + i, prompt_bars=settings.prompt_bars)
        try:
            take = generate(loaded, prompts[i % len(prompts)], options)
        except SeedError:  # a held-out piece that starts after its first bars: no seed, as before
            take = generate(loaded, None, options)
        pieces.append((f"generated-{i + 1}", continuation(take.score, take.seed_end_tick)))
    return pieces


def ngram_pieces(ngram: NGramModel, loaded, prompts: Sequence[symusic.Score], count: int,
                 settings: EvaluationSettings) -> list[tuple[str, symusic.Score]]:
    """Continuations sampled from the n-gram model on the same seeds, grammar-masked like the transformer."""
    from core.composing.generation import (
        ContinuationWriter,
        SeedError,
        continuation_start,
        grammar_for,
        limits_for,
        prompt_ids,
        seed_for_model,
    )
    from core.composing.grammar import replay

    tokenizer = loaded.tokenizer
    grammar = grammar_for(tokenizer)
    rng = np.random.default_rng(settings.seed)
    pieces = []
    for i in range(count):
        try:
            seed_ids = prompt_ids(loaded, prompts[i % len(prompts)], settings.prompt_bars)
        except SeedError:  # as in generate_pieces
            seed_ids = prompt_ids(loaded, None, None)
        seed_state = replay(grammar, seed_ids)
        read, respell = seed_for_model(tokenizer, seed_ids)  # as the transformer's seed (BPE)
        writer = ContinuationWriter(grammar, seed_ids, respell, seed_state.bars + settings.bars, seed_state.meter_given,
                                    limits=limits_for(loaded))  # the instrument's limits, as the transformer's
        ids = list(read)  # model ids: what the n-gram reads and writes
        for _ in range(4096):
            allowed = writer.allowed().numpy()
            prob = ngram.distribution(ids) ** (1.0 / settings.temperature) * allowed
            if prob.sum() <= 0:
                prob = allowed.astype(float)
            token, _ = writer.write(int(rng.choice(len(prob), p=prob / prob.sum())))
            ids.append(token)
            if writer.state.finished:
                break
        state = writer.state
        score = tokenizer.decode(tokenizer.expand(ids), program=loaded.program)
        seed_notes = len(seed_state.notes)
        start = continuation_start(seed_state.notes, state.notes[seed_notes:])  # as a take's marker
        pieces.append((f"n-gram-{i + 1}", continuation(score, start)))
    return pieces


def load_generated(folder: str | Path, say: Callable[[str], None] = lambda message: None,
                   ) -> list[tuple[str, symusic.Score]]:
    """Every music file in `folder` (already generated elsewhere), by file name; a file that
    cannot be read is skipped and `say` is told why."""
    from core.music.scores import ScoreError, is_supported, load_scores

    folder = Path(folder)
    if not folder.is_dir():
        raise EvaluationError(f"{folder}: not a folder of generated pieces")
    pieces = []
    for path in sorted(p for p in folder.iterdir() if is_supported(p)):
        try:
            pieces.extend((item.name, item.score) for item in load_scores(path))
        except ScoreError as error:
            say(f"skipped {error}")
    if not pieces:
        raise EvaluationError(f"{folder}: no readable music files")
    return pieces


def temperature_sweep(loaded, prompt: symusic.Score, training: Sequence[tuple[str, symusic.Score]],
                      index: TrainingIndex, settings: EvaluationSettings, *, cancel: CancelFn | None = None,
                      progress: ProgressFn | None = None) -> tuple[float | None, list[SweepPoint]]:
    """(uniqueness at the default temperature, one `SweepPoint` per sweep temperature)."""
    from core.composing.generation import GenerationSettings, generate

    reference = transitions.set_counts([score for _, score in training])
    points, default_uniqueness = [], None
    temperatures = sorted(set(settings.sweep) | {settings.temperature})
    for temperature in temperatures:
        if cancel and cancel():
            break
        if progress:
            progress(f"temperature {temperature:g}: {settings.sweep_variations} variations of one seed")
        # one take per random seed (not one batch: generate_variations can fail when rows end at
        # different lengths and the KV window slides, see the evaluation notes)
        takes = [generate(loaded, prompt, GenerationSettings(
            bars=settings.bars, temperature=temperature, top_p=settings.top_p, random_seed=settings.seed + 1000 + k,
            prompt_bars=settings.prompt_bars)) for k in range(settings.sweep_variations)]
        parts = [continuation(t.score, t.seed_end_tick) for t in takes]
        parts = [p for p in parts if p.note_num() > 0]
        if not parts:
            continue
        value = uniqueness(parts)
        if temperature == settings.temperature:
            default_uniqueness = value
        if temperature in settings.sweep:
            points.append(SweepPoint(
                temperature=temperature,
                pitch_entropy=float(np.nanmean([pitch_entropy(p) for p in parts])),
                pitch_class_entropy=float(np.nanmean([pitch_class_entropy(p) for p in parts])),
                uniqueness=value,
                copy_rate=float(np.mean([index.check(p).ngram_copy_rate for p in parts])),
                style_distance=transitions.style_distances(transitions.set_counts(parts), reference)["style"],
                pieces=len(parts),
            ))
    return default_uniqueness, points
