"""Training as a generator of small events, in the spirit of minGPT's trainer.

`train(config)` owns the loop and yields `TrainStarted`, `TrainStep`, `EvalResult`,
`CheckpointSaved` and `TrainDone`; the CLI prints them, the GUI plots them, tests assert on
them. Stopping is cooperative: `should_stop()` is checked every step, and closing the
generator also saves a checkpoint, so a run can always be resumed exactly (`resume=True`):
batches and dropout draws depend only on (seed, step, rank).

Under `torchrun --nproc_per_node N partita train ...` the same loop runs with PyTorch
DistributedDataParallel (gloo on CPU, nccl on CUDA); rank 0 evaluates and writes.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from core.learning.checkpoint import (
    load_optimizer_state,
    load_weights,
    optimizer_path,
    read_config,
    save_checkpoint,
    weights_path,
)
from core.learning.dataset import IGNORE, NORMALIZING, BatchSampler, evaluation_windows, tokenize_pieces
from core.learning.kept_meters import pieces_by_unkept_meter
from core.learning.model import PRESETS, ModelConfig, Transformer
from core.learning.run_config import TrainConfig, check_new_run_folder, resumed_config
from core.learning.tokenizer import (
    PartitaTokenizer,
    TokenizerSettings,
    settings_for,
    with_infill_and_controls,
)
from core.learning.training_log import (
    CheckpointSaved,
    EvalResult,
    MetricsLog,
    TrainDone,
    TrainEvent,
    TrainStarted,
    TrainStep,
)
from core.music.corpus import Corpus, import_corpus, split_by_piece, unkept_meter_warnings
from core.music.limits import measure as measure_limits


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def learning_rate_at(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to min_learning_rate (or the peak, if that is lower)
    at the last step."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    floor = min(config.min_learning_rate, config.learning_rate)
    return floor + cosine * (config.learning_rate - floor)


@dataclass
class PreparedData:
    corpus: Corpus
    tokenizer: PartitaTokenizer
    train: list
    validation: list
    split_names: dict


def prepare_data(config: TrainConfig, tokenizer_settings: TokenizerSettings | None = None) -> PreparedData:
    corpus = import_corpus(config.data, exclude=config.exclude)
    if not corpus.pieces:
        reasons = "; ".join(f"{e.name}: {e.reason}" for e in corpus.skipped[:3])
        raise ValueError(f"{config.data}: no piece could be imported ({reasons or 'no music files'})")
    if tokenizer_settings is None:
        tokenizer_settings = settings_for([p.score for p in corpus.pieces], config.tokenization)
        if config.use_velocities is not None:
            tokenizer_settings = replace(tokenizer_settings, use_velocities=config.use_velocities)
        if not config.controls:
            tokenizer_settings = replace(tokenizer_settings, use_controls=False)
        elif config.control_kinds is not None:
            tokenizer_settings = replace(tokenizer_settings, control_kinds=config.control_kinds)
    tokenizer = PartitaTokenizer.create(tokenizer_settings)
    split = split_by_piece(corpus.pieces, seed=config.seed)
    if config.bpe_vocab_size and not tokenizer.bpe:  # a new run learns its merges; a resumed one has them
        tokenizer = learn_bpe(tokenizer, split.train or corpus.pieces, corpus.pitch_range, config)
    train = tokenize_pieces(split.train or corpus.pieces, tokenizer, corpus.pitch_range, augmentation(config),
                            config.key_mode)
    validation = tokenize_pieces(split.validation, tokenizer, corpus.pitch_range, 0, config.key_mode)
    return PreparedData(corpus, tokenizer, train, validation, split.names())


def mixed_pieces(config: TrainConfig, tokenizer: PartitaTokenizer, data: PreparedData) -> list:
    """The pieces of `config.mix` (replay, beside the run's own corpus), tokenized as the run's are:
    all of them train, none validates. A piece that `data` holds out (validation or test: the same
    music, by content) is left out, so that replaying a corpus that holds the run's own pieces (all
    the jazz solos, for one soloist's) never trains on what judges the run."""
    if not config.mix:
        return []
    corpus = import_corpus(config.mix)
    held = {*data.split_names.get("validation", ()), *data.split_names.get("test", ())}
    held_digests = {piece.digest for piece in data.corpus.pieces if piece.name in held}
    pieces = tokenize_pieces([piece for piece in corpus.pieces if piece.digest not in held_digests], tokenizer,
                             corpus.pitch_range, augmentation(config), config.key_mode)
    if not pieces:
        raise ValueError(f"{config.mix}: no piece to mix in (the corpus has no music this vocabulary writes)")
    return pieces


def grown_weights(initial, tokenizer: PartitaTokenizer, model: Transformer) -> dict[str, torch.Tensor]:
    """The weights of `initial` (a LoadedModel) for `model`, whose vocabulary (`tokenizer`'s) may hold
    tokens that `initial`'s lacks (infill and controls, core.learning.tokenizer.with_infill_and_controls):
    every token keeps its embedding, found by name (a BPE merge's id moves when base tokens are
    added before the merges), and a new token keeps `model`'s fresh one."""
    state = initial.model.state_dict()
    if len(initial.tokenizer) == len(tokenizer):
        return state
    old = {name: index for index, name in enumerate(initial.tokenizer.model_tokens)}
    new_ids, old_ids = zip(*[(index, old[name]) for index, name in enumerate(tokenizer.model_tokens) if name in old],
                           strict=True)
    if len(old_ids) != len(old):
        raise ValueError("the fine-tune's vocabulary lacks tokens of the model it starts from")
    for name, tensor in state.items():
        if tensor.shape[:1] == (len(initial.tokenizer),) and name in model.state_dict():
            grown = model.state_dict()[name].clone()
            grown[list(new_ids)] = tensor[list(old_ids)]
            state[name] = grown
    return state


def augmentation(config: TrainConfig) -> int:
    """The transposition augmentation a run trains with, in semitones: none where every piece is
    moved to one key (augmenting would move it out of that key again)."""
    return 0 if config.key_mode in NORMALIZING else config.max_transpose


def learn_bpe(tokenizer: PartitaTokenizer, pieces: list, pitch_range: tuple[int, int],
              config: TrainConfig) -> PartitaTokenizer:
    """`tokenizer` with BPE merges learned from the training pieces at every transposition the
    model will see (so the merges fit the copies it trains on), never from held-out ones."""
    if config.bpe_vocab_size <= len(tokenizer):
        raise ValueError(f"the BPE vocabulary ({config.bpe_vocab_size}) must be larger than the "
                         f"{len(tokenizer)} base tokens")
    base = tokenize_pieces(pieces, tokenizer, pitch_range, augmentation(config), config.key_mode)
    bodies = [tokenizer.transpose_ids(piece.ids, shift)[1:-1] for piece in base
              for shift in (piece.shifts if augmentation(config) else [0])]
    return tokenizer.train_bpe(config.bpe_vocab_size, bodies)


@torch.no_grad()
def evaluate(model: Transformer, tokenizer: PartitaTokenizer, x: torch.Tensor, y: torch.Tensor,
             batch_size: int = 16, step: int = 0) -> EvalResult:
    """Cross-entropy, accuracy and perplexity on held-out windows, overall and per token type."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    types = tokenizer.model_types
    type_names = sorted(set(types))
    type_index = torch.tensor([type_names.index(t) for t in types])
    loss_sum = torch.zeros(len(type_names), dtype=torch.float64)
    correct = torch.zeros(len(type_names), dtype=torch.float64)
    count = torch.zeros(len(type_names), dtype=torch.float64)
    notes_per_token = torch.from_numpy(tokenizer.notes_per_token)
    notes = 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size].to(device), y[start:start + batch_size].to(device)
        logits, _ = model(xb)
        flat_logits, flat_y = logits.view(-1, logits.size(-1)).float(), yb.reshape(-1)
        keep = flat_y != IGNORE
        flat_logits, flat_y = flat_logits[keep], flat_y[keep]
        losses = F.cross_entropy(flat_logits, flat_y, reduction="none").cpu().double()
        hits = (flat_logits.argmax(-1) == flat_y).cpu().double()
        kinds = type_index[flat_y.cpu()]
        loss_sum.index_add_(0, kinds, losses)
        correct.index_add_(0, kinds, hits)
        count.index_add_(0, kinds, torch.ones_like(losses))
        notes += int(notes_per_token[flat_y.cpu()].sum())
    model.train(was_training)
    total = float(count.sum())
    if total == 0:
        return EvalResult(step, float("nan"), float("nan"), float("nan"), 0, {})
    loss = float(loss_sum.sum()) / total
    per_type = {
        name: {"loss": float(loss_sum[i] / count[i]), "accuracy": float(correct[i] / count[i]), "tokens": int(count[i])}
        for i, name in enumerate(type_names) if count[i] > 0
    }
    return EvalResult(step, loss, float(correct.sum()) / total, math.exp(min(loss, 50.0)), int(total), per_type,
                      float(loss_sum.sum()) / notes if notes else float("nan"))


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


@dataclass(frozen=True)
class RunSetup:
    """A run's settings as training will use them (`run_setup`), before any data is read."""

    config: TrainConfig  # a resumed run's own settings; a fine-tune's base model's tokenization and key mode
    tokenizer_settings: TokenizerSettings | None  # a resumed run's or a fine-tune's; None: from the corpus
    shape: ModelConfig  # the model's shape (its vocabulary size comes with the tokenizer)
    start_step: int = 0
    saved: dict = field(default_factory=dict)  # a resumed run's config.json
    initial: object = None  # a fine-tune's base model (core.learning.checkpoint.LoadedModel)


def run_setup(config: TrainConfig, *, resume: bool = False) -> RunSetup:
    """The settings of the run `config` describes as `prepare_run` (and the 4-gram baseline beside
    it, core.learning.baseline) will use them: those saved in the run folder when resuming, or a fine-tune's
    base model's tokenizer (grown by infill and controls where it had none), shape and key mode."""
    if resume:
        saved = read_config(Path(config.out))
        config = resumed_config(config, saved.get("train", {}))
        shape = ModelConfig.from_json(saved["model"])  # the checkpoint's own shape, whatever the presets are now
        return RunSetup(_keyed(config), TokenizerSettings.from_json(saved["tokenizer"]), shape,
                        int(saved.get("training", {}).get("step", 0)), saved)
    if not config.init:
        return RunSetup(_keyed(config), None, replace(PRESETS[config.preset], **config.model_overrides))
    from core.learning.checkpoint import load_model

    initial = load_model(config.init)
    # a model from before infill and controls learns them in its fine-tunes: its vocabulary grows
    settings = with_infill_and_controls(initial.tokenizer.settings, config.control_kinds)
    learned = settings.control_kinds if settings.use_controls else None
    if config.control_kinds is not None and config.control_kinds != learned:
        raise ValueError(f"control_kinds are not for a fine-tune: it keeps the bar controls of the model it starts "
                         f"from ({', '.join(learned) if learned else 'none'}); drop the option")
    config = replace(config, init=str(initial.run_dir), tokenization=settings.tokenization,
                     controls=learned is not None, control_kinds=learned,
                     key_mode=config.key_mode or initial.config.get("train", {}).get("key_mode") or "transpose",
                     bpe_vocab_size=len(initial.tokenizer) if initial.tokenizer.bpe else 0)
    shape = replace(ModelConfig.from_json(initial.config["model"]), **config.model_overrides)
    return RunSetup(config, settings, shape, initial=initial)


def _keyed(config: TrainConfig) -> TrainConfig:
    """`config` with its key mode said (None means "transpose")."""
    return config if config.key_mode is not None else replace(config, key_mode="transpose")


@dataclass
class PreparedRun:
    """Everything a run needs before its first step (`prepare_run`), and its checkpoints."""

    config: TrainConfig  # with a resumed run's own settings
    run_dir: Path
    rank: int
    world: int
    start_step: int
    tokenizer: PartitaTokenizer
    device: torch.device
    model: Transformer  # the weights the optimizer steps
    trained: torch.nn.Module  # what the loop calls: the model, compiled and/or wrapped for DDP
    averaged: Transformer | None  # with `ema`: their moving average, validated and saved
    optimizer: torch.optim.Optimizer
    sampler: BatchSampler
    eval_x: torch.Tensor
    eval_y: torch.Tensor
    meta: dict  # what every checkpoint saves beside the weights: settings, corpus, instrument
    log: MetricsLog
    best: dict  # the lowest validation loss so far, and its figures: the weights generation loads
    started: TrainStarted

    def checkpoint(self, step: int, last_eval: EvalResult | None, improved: bool = False,
                   stopped_early: bool = False) -> CheckpointSaved:
        """Save; `improved`: last_eval, of this step, is the lowest validation loss so far."""
        state = {"step": step, "world_size": self.world}
        if last_eval is not None:
            state["validation"] = {"loss": last_eval.loss, "accuracy": last_eval.accuracy,
                                   "perplexity": last_eval.perplexity, "step": last_eval.step}
            if improved:
                self.best.clear()
                self.best.update(state["validation"])
        if self.best:
            state["best"] = dict(self.best)
        if stopped_early:  # finished by patience: not a run to resume (core.userdata.resumable_runs)
            state["stopped_early"] = True
        save_checkpoint(self.run_dir, self.kept, self.tokenizer, {**self.meta, "training": state}, self.optimizer,
                        best=improved, trained=self.model)
        return self.log.write(CheckpointSaved(step, str(self.run_dir), best=improved))

    @property
    def kept(self) -> Transformer:
        """The weights validated, saved and composed with: the average where the run keeps one."""
        return self.averaged if self.averaged is not None else self.model

    def average(self) -> None:
        """Move the average one step towards the weights just trained."""
        if self.averaged is not None:
            with torch.no_grad():
                for average, weight in zip(self.averaged.parameters(), self.model.parameters(), strict=True):
                    average.lerp_(weight, 1 - self.config.ema)


def prepare_run(config: TrainConfig, *, resume: bool = False) -> PreparedRun:
    """The corpus, tokenizer, model, optimizer, sampler and log of a new run in `config.out`, of a
    fine-tune (`config.init`: the base model's tokenizer, shape and weights), or of the run there
    resumed (`resume`: its own settings, weights and optimizer state, at its saved step)."""
    run_dir = Path(config.out)
    rank, world = _distributed()
    if not resume and rank == 0:
        check_new_run_folder(run_dir)
    setup = run_setup(config, resume=resume)
    config, saved, start_step, initial = setup.config, setup.saved, setup.start_step, setup.initial
    data = prepare_data(config, setup.tokenizer_settings)
    tokenizer = data.tokenizer
    device = pick_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    model_config = replace(setup.shape, vocab_size=len(tokenizer))
    torch.manual_seed(config.seed)  # the same seed gives the same initial weights
    model = Transformer(model_config)
    if resume:
        load_weights(model, weights_path(run_dir, saved))
    elif initial is not None:
        try:
            model.load_state_dict(grown_weights(initial, tokenizer, model))
        except RuntimeError:
            raise ValueError(f"{config.init}: its weights do not fit the model settings given "
                             f"({config.model_overrides}): a fine-tune keeps the base model's shape") from None
    model.to(device).train()
    averaged = copy.deepcopy(model).eval().requires_grad_(False) if config.ema else None
    optimizer = model.adamw(config.learning_rate, config.weight_decay, fused=device.type == "cuda")
    if resume and optimizer_path(run_dir, saved) is not None:
        # with an average, the checkpoint's weights are the average; the trained ones lie beside the moments
        load_optimizer_state(run_dir, model, optimizer, trained_weights=averaged is not None)
    trained = model
    if config.compile if config.compile is not None else device.type == "cuda":
        trained = torch.compile(model)  # `model` keeps the trained weights (and, without ema, saves them)
    if world > 1:
        trained = torch.nn.parallel.DistributedDataParallel(trained, device_ids=[device.index] if device.type == "cuda" else None)
    mixed = mixed_pieces(config, tokenizer, data)
    sampler = BatchSampler(data.train, tokenizer, model_config.block_size, config.batch_size, config.seed,
                           augment=augmentation(config) > 0, pack=config.pack, mixed=mixed, mix_share=config.mix_share,
                           infill_share=config.infill_share, controls_share=config.controls_share)
    eval_x, eval_y = evaluation_windows(data.validation, tokenizer, model_config.block_size, config.eval_windows)
    program = config.program if config.program is not None else _corpus_program(data.corpus)
    meta = {"train": config.to_json(), "corpus": {"name": data.corpus.name, "program": program,
                                                   "pitch_range": list(data.corpus.pitch_range),
                                                   "split": data.split_names, "stats": data.corpus.stats()},
            # what the instrument plays, kept when composing (core.music.limits)
            "instrument": measure_limits(p.score for p in data.corpus.pieces).to_json()}
    log = MetricsLog(run_dir / "metrics.jsonl", enabled=rank == 0, truncate_after=start_step if resume else 0)
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        data.corpus.save_report(run_dir / "corpus.json")
    unkept = pieces_by_unkept_meter(data.corpus.pieces, tokenizer.settings.kept_meters())
    whose = "the base model's vocabulary" if initial is not None else "the vocabulary"
    started = TrainStarted(str(run_dir), model.num_parameters(), len(data.train), len(data.validation),
                           sum(len(p.ids) for p in data.train), str(device), start_step, len(tokenizer),
                           tokenizer.bpe, tuple(unkept_meter_warnings(unkept, whose)), len(mixed),
                           sum(len(p.ids) for p in mixed))
    best = _best_so_far(saved.get("training", {})) if resume else {}
    return PreparedRun(config, run_dir, rank, world, start_step, tokenizer, device, model, trained, averaged,
                       optimizer, sampler, eval_x, eval_y, meta, log, best, started)


def train(config: TrainConfig, *, resume: bool = False,
          should_stop: Callable[[], bool] | None = None) -> Iterator[TrainEvent]:
    """Train (or resume) a model in `config.out`, yielding events as it goes."""
    run = prepare_run(config, resume=resume)
    config, rank, world, device, best = run.config, run.rank, run.world, run.device, run.best
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    yield run.log.write(run.started)
    step, last_eval, saved_step = run.start_step, None, run.start_step
    diverged_at = None
    tick, tokens_since = time.perf_counter(), 0
    began = tick
    stale = 0  # validation passes since the best one (for `patience`)
    try:
        while step < config.steps:
            if should_stop and should_stop() or _out_of_patience(config, step, stale):
                break
            lr = learning_rate_at(step, config)
            for group in run.optimizer.param_groups:
                group["lr"] = lr
            x, y = run.sampler.batch(step, rank)
            tokens = int((y != IGNORE).sum()) * world  # counted on the CPU copy: no wait for the GPU
            x, y = x.to(device), y.to(device)
            torch.manual_seed(config.seed * 1_000_003 + step * 101 + rank)  # dropout draws per step
            with autocast:
                _, loss = run.trained(x, y)
            if not _finite_everywhere(loss, world):  # diverged: stop before the weights take it in
                diverged_at = step + 1
                break
            run.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(run.model.parameters(), config.grad_clip)
            run.optimizer.step()
            run.average()
            step += 1
            tokens_since += tokens
            now = time.perf_counter()
            yield run.log.write(TrainStep(step, config.steps, loss.item(), lr, tokens_since / max(now - tick, 1e-9),
                                          now - began))
            tick, tokens_since = now, 0
            if step % config.eval_every == 0 or step == config.steps:
                if rank == 0:
                    improved = False
                    if len(run.eval_x):
                        last_eval = evaluate(run.kept, run.tokenizer, run.eval_x, run.eval_y, step=step)
                        yield run.log.write(last_eval)
                        improved = _lower(last_eval.loss, best.get("loss"))
                        stale = 0 if improved else stale + 1
                    event = run.checkpoint(step, last_eval, improved,
                                           stopped_early=_out_of_patience(config, step, stale))
                    saved_step = step
                    yield event
                if config.patience and world > 1:  # every process stops at the same step
                    stale = _from_rank_0(stale, device)
            elif step == config.first_eval and rank == 0 and len(run.eval_x):
                # weights untouched: evaluate draws no random numbers and each step seeds its own
                yield run.log.write(evaluate(run.kept, run.tokenizer, run.eval_x, run.eval_y, step=step))
    except GeneratorExit:
        if rank == 0 and step > saved_step:  # the consumer stopped us: keep the work
            run.checkpoint(step, last_eval)
        raise
    stopped_early = _out_of_patience(config, step, stale)
    if rank == 0 and step > saved_step and diverged_at is None:
        yield run.checkpoint(step, last_eval)
    yield run.log.write(TrainDone(step if diverged_at is None else saved_step, step < config.steps, str(run.run_dir),
                                  best.get("step"), best.get("loss"), stopped_early=stopped_early,
                                  diverged_at=diverged_at))
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()


def _finite_everywhere(loss: torch.Tensor, world: int) -> bool:
    """Whether the loss is a finite number in every process (they all stop together)."""
    finite = torch.isfinite(loss.detach()).all()
    if world > 1:
        import torch.distributed as dist

        flag = finite.to(torch.int32).reshape(1)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())
    return bool(finite)


def _out_of_patience(config: TrainConfig, step: int, stale: int) -> bool:
    """Whether `stale` validation passes without a lower loss end the run before its last step."""
    return bool(config.patience) and stale >= config.patience and step < config.steps


def _best_so_far(training: dict) -> dict:
    """The best validation figures a saved run reached. Runs saved before they kept them know only
    their last pass: that one, when it was taken at the saved step (its weights are those saved)."""
    if "best" in training:
        return dict(training["best"])
    validation = training.get("validation", {})
    if validation.get("step") == training.get("step") and _lower(validation.get("loss", math.nan), None):
        return dict(validation)
    return {}


def _from_rank_0(value: int, device: torch.device) -> int:
    """`value` as rank 0 has it, in every process of a distributed run."""
    import torch.distributed as dist

    tensor = torch.tensor([value], device=device if device.type == "cuda" else "cpu")
    dist.broadcast(tensor, src=0)
    return int(tensor.item())


def _lower(loss: float, best: float | None) -> bool:
    """Whether `loss` beats the best so far (a NaN loss never does)."""
    return math.isfinite(loss) and (best is None or loss < best)


def _corpus_program(corpus: Corpus) -> int:
    programs = [p.score.tracks[0].program for p in corpus.pieces if p.score.tracks]
    return max(set(programs), key=programs.count) if programs else 0
