"""`partita train --data PATH --preset tiny --steps N --out RUN_DIR [--resume]`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from core.commands import seed_number

PRESET_NAMES = ("tiny", "small", "base", "large")  # core.learning.model.PRESETS, without importing torch for --help
KEY_MODE_NAMES = ("transpose", "normalize", "tonic")  # core.learning.run_config.KEY_MODES, likewise


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a model on a corpus (resumable, DDP under torchrun)")
    parser.add_argument("--data", help="folder, file, files of a folder ('solos/*.mid'), or builtin:NAME "
                             "(default on --resume: the run's own)")
    parser.add_argument("--exclude", action="append", metavar="PATTERN",
                        help="leave out files whose names match (repeatable), e.g. --exclude 'MilesDavis_*'")
    parser.add_argument("--out", required=True, type=Path, help="run folder (weights, config, metrics)")
    parser.add_argument("--preset", choices=PRESET_NAMES, help="model size (default tiny)")
    parser.add_argument("--steps", type=int, help="total optimizer steps (default 2000; on --resume the run's own)")
    parser.add_argument("--batch-size", type=int, help="windows per step (default 16)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default 1e-3)")
    parser.add_argument("--warmup", type=int, help="warm-up steps (default 100)")
    parser.add_argument("--eval-every", type=int,
                        help="steps between validation + checkpoint (default 200; on --resume the run's own)")
    parser.add_argument("--patience", type=int,
                        help="stop after this many validation passes without a lower loss "
                             "(default 0: never; 3 when fine-tuning with --init)")
    parser.add_argument("--init", metavar="RUN_OR_NAME",
                        help="fine-tune: start from this run's or shipped model's weights and tokenizer "
                             "(e.g. base); the learning rate defaults to 3e-4")
    parser.add_argument("--key", choices=KEY_MODE_NAMES,
                        help="transpose: pieces in their keys, shifted at random by --transpose (default); "
                             "normalize: each piece moved to C major / A minor by its analysed key first; "
                             "tonic: to C major / C minor (every pitch counted from the tonic)")
    parser.add_argument("--seed", type=seed_number, help="seed of weights, batches and dropout (default 0)")
    parser.add_argument("--transpose", type=int, help="augment by up to ± semitones (0: off; default 5)")
    parser.add_argument("--pack", action=argparse.BooleanOptionalAction, default=None,
                        help="fill windows past a piece's end with further pieces, not padding (default: on)")
    parser.add_argument("--tokenization", help="REMI (the default; the only one the grammar knows)")
    parser.add_argument("--bpe", type=int, metavar="N",
                        help="learn BPE merges from the training pieces up to a vocabulary of N tokens "
                             "(default: off; 1200-2000 suit a few hundred pieces: N counts the ~780 base tokens too)")
    parser.add_argument("--mix", metavar="DATA",
                        help="replay: draw a share of the windows from this corpus too (e.g. builtin:base, the "
                             "base model's own, when fine-tuning from it); validation stays on --data")
    parser.add_argument("--mix-share", type=float, metavar="S",
                        help="the share of windows from --mix, above 0 and below 1 (default 0.5)")
    parser.add_argument("--controls", action=argparse.BooleanOptionalAction, default=None,
                        help="learn bar controls (density, polyphony, range; default: on); --no-controls: a "
                             "vocabulary without them, as the default model's")
    parser.add_argument("--control-kinds", type=_control_kinds, metavar="KINDS",
                        help="the bar controls a new vocabulary learns, some of density,voices,range (default: all); "
                             "a polyphony or range not learned is still kept when composing, as a limit")
    parser.add_argument("--controls-share", type=float, metavar="S",
                        help="the share of training windows drawn to write bar controls, 0 to 1 (default 0.5; each "
                             "kind in 7 of 10 of those, so with fewer kinds fewer windows hold one); the others "
                             "teach composing without them")
    parser.add_argument("--infill-share", type=float, metavar="S",
                        help="the share of training windows that teach infill (rewriting bars), 0 to 0.9 "
                             "(default 0.4; 0: continuation alone)")
    parser.add_argument("--ema", type=float, metavar="DECAY",
                        help="validate, save and compose with a moving average of the weights, keeping this much "
                             "of it each step (e.g. 0.995: about the last 200 steps; default 0: off)")
    parser.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, ...")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="torch.compile the model (default: on CUDA only)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a model field, e.g. --set n_layer=2 --set dropout=0.0")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out exactly where it stopped, with its own settings")
    parser.set_defaults(func=run)


# Options that define a run (option name -> TrainConfig field); not given: TrainConfig's default,
# or on --resume the run's own value.
RUN_OPTIONS = {"preset": "preset", "batch_size": "batch_size", "lr": "learning_rate", "warmup": "warmup_steps",
               "seed": "seed", "transpose": "max_transpose", "pack": "pack", "tokenization": "tokenization",
               "bpe": "bpe_vocab_size", "key": "key_mode", "init": "init", "exclude": "exclude", "mix": "mix",
               "mix_share": "mix_share", "ema": "ema", "infill_share": "infill_share",
               "controls": "controls", "controls_share": "controls_share", "control_kinds": "control_kinds"}
FINE_TUNING = {"learning_rate": 3e-4, "patience": 3}  # defaults with --init: a gentler step, early stopping


def _control_kinds(text: str) -> tuple[str, ...]:
    from core.music.controls import parse_control_kinds

    try:
        return parse_control_kinds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _overrides(pairs: list[str]) -> dict:
    from core.cli import UserError
    from core.learning.model import ModelConfig

    result = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in ModelConfig.__dataclass_fields__ or not value:
            raise UserError(f"--set {pair}: expected FIELD=VALUE with FIELD one of {list(ModelConfig.__dataclass_fields__)}")
        try:
            result[name] = json.loads(value) if value not in ("true", "false") else value == "true"
        except json.JSONDecodeError:
            raise UserError(f"--set {pair}: {value!r} is not a number (or true/false)") from None
    return result


def _baseline(config, resume: bool):
    """The 4-gram on the run's validation windows (core.learning.baseline), or None where it would cost a
    second BPE training or the run has no validation pieces."""
    if config.bpe_vocab_size and not resume:
        return None
    from core.learning.baseline import ngram_baseline

    try:
        return ngram_baseline(config, resume=resume)
    except (ValueError, OSError, KeyError):
        return None  # train itself names the problem


# TrainConfig's field names as the options that set them, for its messages
OPTION_OF_FIELD = {**{field: "--" + option.replace("_", "-") for option, field in RUN_OPTIONS.items()},
                   "steps": "--steps", "eval_every": "--eval-every", "patience": "--patience",
                   "model_overrides": "--set"}


def _with_option_names(message: str) -> str:
    """A TrainConfig message that starts with a field's name, starting with its option's instead."""
    field, _, rest = message.partition(" ")
    return f"{OPTION_OF_FIELD[field]} {rest}" if field in OPTION_OF_FIELD and rest else message


def _out_of_memory(error: BaseException) -> bool:
    import torch

    text = str(error)
    return isinstance(error, MemoryError | torch.OutOfMemoryError) or "allocate" in text and "memory" in text


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:160] if lines else type(error).__name__


def run(args) -> int:
    from tqdm import tqdm

    from core.cli import UserError
    from core.commands import check_device
    from core.learning.run_config import TrainConfig, absolute_source, check_resume
    from core.learning.training import CheckpointSaved, EvalResult, TrainDone, TrainStarted, TrainStep, train

    given = {field: getattr(args, option) for option, field in RUN_OPTIONS.items() if getattr(args, option) is not None}
    if "exclude" in given:
        given["exclude"] = tuple(given["exclude"])
    if "mix" in given:
        given["mix"] = absolute_source(given["mix"])
    if args.set:
        given["model_overrides"] = _overrides(args.set)
    data, saved = args.data, {}
    if args.resume:  # a run keeps what it was started with; say so rather than ignore an option
        try:
            saved = check_resume(args.out, data=data, given=given, names=OPTION_OF_FIELD)
        except ValueError as error:
            raise UserError(str(error)) from None
        data = data or saved["data"]
    if not data:
        raise UserError("--data is required (a folder, a file or builtin:NAME)")
    check_device(args.device)
    lengths = {"steps": args.steps, "eval_every": args.eval_every, "patience": args.patience}
    if args.resume:  # not given: the run's own
        lengths = {name: value if value is not None else saved.get(name) for name, value in lengths.items()}
    elif args.init:
        given.setdefault("learning_rate", FINE_TUNING["learning_rate"])
        lengths["patience"] = lengths["patience"] if lengths["patience"] is not None else FINE_TUNING["patience"]
    lengths = {name: value for name, value in lengths.items() if value is not None}
    try:
        config = TrainConfig(data=absolute_source(data), out=str(args.out), device=args.device, compile=args.compile,
                             **lengths, **given)
    except ValueError as error:
        raise UserError(_with_option_names(str(error))) from None
    stop = {"requested": False}

    def request_stop(signum, frame):
        stop["requested"] = signum
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl+C interrupts at once

    # Ctrl+C (SIGINT) and SIGTERM alike stop at the next step and save a checkpoint there
    previous = signal.signal(signal.SIGTERM, request_stop)
    previous_int = signal.signal(signal.SIGINT, request_stop)
    bar = None
    diverged = False
    baseline = _baseline(config, args.resume)  # the 4-gram each validation pass is set against
    ahead = False
    # Under torchrun every process runs this; the first one speaks for all.
    quiet = int(os.environ.get("RANK", "0")) != 0

    def say(text: str) -> None:
        if quiet:
            return
        if bar is not None:
            bar.write(text)  # above the progress bar
        else:
            print(text)

    try:
        for event in train(config, resume=args.resume, should_stop=lambda: stop["requested"]):
            if isinstance(event, TrainStarted):
                vocabulary = f", {event.vocabulary} tokens{' (BPE)' if event.bpe else ''}" if event.vocabulary else ""
                say(f"training {event.parameters / 1e6:.2f} M parameters{vocabulary} on {event.device}: "
                    f"{event.train_pieces} train pieces ({event.train_tokens} tokens), "
                    f"{event.validation_pieces} validation pieces; run folder {event.run_dir}")
                if event.mixed_pieces:
                    say(f"replaying {event.mixed_pieces} pieces of {config.mix} ({event.mixed_tokens} tokens) in "
                        f"{config.mix_share:.0%} of the windows")
                for line in event.meter_warnings:
                    say(f"warning: {line}")
                if event.validation_pieces == 0:
                    say("note: no held-out pieces (the corpus needs at least 3), so no validation figures"
                        + (": --patience has nothing to go by" if config.patience else ""))
                interactive = sys.stderr.isatty()  # a log file gets a line every 30 s, not every step
                bar = tqdm(total=config.steps, initial=event.start_step, unit="step", dynamic_ncols=True,
                           mininterval=0.5 if interactive else 30, disable=quiet)
            elif isinstance(event, TrainStep):
                bar.update(1)
                bar.set_postfix(loss=f"{event.loss:.3f}", lr=f"{event.learning_rate:.1e}",
                                tok_s=f"{event.tokens_per_s:.0f}")
            elif isinstance(event, EvalResult):
                versus = ""
                if baseline is not None:
                    versus = f"; {baseline.name} {baseline.loss_per_note:.2f} per note"
                    if event.loss_per_note < baseline.loss_per_note and not ahead:
                        ahead, versus = True, versus + ": better than the 4-gram now"
                say(f"step {event.step}: validation loss {event.loss:.3f} ({event.loss_per_note:.2f} per note"
                    f"{versus}), accuracy {event.accuracy:.3f}, perplexity {event.perplexity:.2f}")
            elif isinstance(event, CheckpointSaved):
                say(f"step {event.step}: checkpoint saved{' (lowest validation loss so far)' if event.best else ''}")
            elif isinstance(event, TrainDone):
                if bar:
                    bar.close()
                    bar = None
                if event.best_step is not None and event.best_step != event.step:
                    say(f"the lowest validation loss, {event.best_loss:.3f}, was at step {event.best_step}: "
                        "--best composes with those weights (generate, evaluate, duet)")
                if event.diverged_at is not None:
                    kept = f"step {event.step}" if event.step else "none: no checkpoint was saved before"
                    say(f"stopped at step {event.diverged_at}: the loss is no longer a finite number (training "
                        f"diverged; try a lower --lr). The last good checkpoint is kept ({kept}).")
                    diverged = True
                elif event.stopped_early:
                    passes = f"{config.patience} validation pass" + ("es" if config.patience > 1 else "")
                    say(f"stopped at step {event.step}: {passes} without a lower loss")
                elif event.cancelled:
                    say(f"stopped at step {event.step}; resume with: "
                        f"partita train --out {event.run_dir} --resume --steps {config.steps}")
                else:
                    say(f"finished at step {event.step}; to train further: "
                        f"partita train --out {event.run_dir} --resume --steps N (N > {event.step})")
    except KeyboardInterrupt:  # a second Ctrl+C, or one before training began
        if bar:
            bar.close()
        print("interrupted: the last checkpoint is kept; resume with --resume")
        return 130
    except (ValueError, FileNotFoundError) as error:
        raise UserError(_with_option_names(str(error))) from None
    except (RuntimeError, MemoryError) as error:  # a model or batch this machine cannot hold
        if not _out_of_memory(error):
            raise
        raise UserError(f"the model (--preset, --set) or the batch (--batch-size) does not fit in this machine's "
                        f"memory ({_first_line(error)})") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    if diverged:
        return 1
    return 128 + stop["requested"] if stop["requested"] else 0  # stopped by a signal: say so, as a shell would
