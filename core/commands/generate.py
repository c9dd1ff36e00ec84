"""`partita generate --model RUN_DIR --prompt SEED.mid --bars 8 --out OUT.mid`."""

from __future__ import annotations

import sys
from pathlib import Path

from core.commands import (
    add_control_arguments,
    add_limit_arguments,
    add_model_arguments,
    add_style_arguments,
    seed_number,
)

MIDI_SUFFIXES = (".mid", ".midi")
MAX_BARS = 2000  # bars a take may ask for: a few minutes of sampling on a CPU
MAX_VARIATIONS = 64  # takes of one seed, sampled as one batch
TOKENS_PER_BAR = 600  # the safety stop on tokens, per bar asked for


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="continue a seed in the learned style")
    add_model_arguments(parser)
    parser.add_argument("--prompt", type=Path, help="seed file (MIDI, MusicXML, kern, ABC); none: from scratch")
    parser.add_argument("--prompt-bars", type=int, help="use only the first K bars of the seed")
    parser.add_argument("--bars", type=int, default=8, help="bars to write after the seed")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI (variations: OUT-1.mid, OUT-2.mid, ...)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=seed_number, help="random seed (same seed, same music)")
    parser.add_argument("--variations", type=int, default=1, help="how many continuations to write")
    add_limit_arguments(parser)
    add_control_arguments(parser)
    add_style_arguments(parser)
    parser.add_argument("--device", default="cpu",
                        help="cpu (fastest for tiny and small models), cuda, mps (worth it for base and large)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from tqdm import tqdm

    from core.atomic import atomic_write_bytes
    from core.cli import UserError, check_output
    from core.commands import check_device, fit_controls, limit_settings, load_cli_model
    from core.composing.generation import GenerationSettings, SeedError, generate_variations
    from core.terminal import printable

    if args.bars < 1 or args.variations < 1:
        raise UserError("--bars and --variations must be at least 1")
    if args.bars > MAX_BARS:
        raise UserError(f"--bars {args.bars}: at most {MAX_BARS} bars a take")
    if args.variations > MAX_VARIATIONS:
        raise UserError(f"--variations {args.variations}: at most {MAX_VARIATIONS} takes at once (they are sampled as one batch)")
    if not 0 < args.temperature <= 5:
        raise UserError("--temperature must be in (0, 5]")
    if not 0 < args.top_p <= 1:
        raise UserError("--top-p must be in (0, 1]")
    if args.top_k < 0:
        raise UserError("--top-k must be 0 (off) or more")
    if args.prompt_bars is not None and args.prompt_bars < 1:
        raise UserError("--prompt-bars must be at least 1")
    if args.out.suffix.lower() not in MIDI_SUFFIXES:
        raise UserError(f"--out {args.out}: generate writes MIDI (.mid); for MusicXML, PDF or PNG write a .mid "
                        f"and convert it with `partita export {args.out.with_suffix('.mid')} --musicxml ...`")
    outputs = [args.out] if args.variations == 1 else [
        args.out.with_name(f"{args.out.stem}-{i}{args.out.suffix}") for i in range(1, args.variations + 1)]
    for path in outputs:
        check_output(path, "--out")  # before the model composes, not after
    check_device(args.device)
    limits = limit_settings(args)
    loaded = load_cli_model(args, device=args.device)
    prompt = read_seed(args.prompt) if args.prompt else None
    # the safety stop on tokens grows with the bars asked for (a dense bar of sixteenths in four
    # voices is ~250 tokens), so a long take is not cut short
    settings = GenerationSettings(bars=args.bars, temperature=args.temperature, top_k=args.top_k,
                                  top_p=args.top_p, random_seed=args.seed, prompt_bars=args.prompt_bars,
                                  max_tokens=max(GenerationSettings.max_tokens, TOKENS_PER_BAR * args.bars), **limits)
    settings = fit_controls(loaded, settings)
    bar = tqdm(total=args.bars, unit="bar", desc="composing", leave=False, delay=0.5)  # drawn once it composes
    first_bar = {}

    def on_event(event) -> None:
        first_bar.setdefault(event.variation, event.bar)
        done = min(args.bars, event.bar - first_bar[event.variation])
        if event.variation == 0 and done > bar.n:
            bar.update(done - bar.n)

    try:  # the seed is encoded once; one that cannot start a take is refused before anything is sampled
        takes = generate_variations(loaded, prompt, settings, args.variations, on_event=on_event)
    except SeedError as error:
        raise UserError(f"--prompt {args.prompt}: {error}") from None
    finally:
        bar.close()
    short = []
    for take, path in zip(takes, outputs, strict=True):
        atomic_write_bytes(path, take.score.dumps_midi())  # what was composed is kept, even when short
        notes = sum(len(t.notes) for t in take.score.tracks)
        print(f"{printable(str(path))}: {notes} notes, {len(take.score.get_downbeats())} bars "
              f"(continuation from tick {take.seed_end_tick})")
        if take.new_bars < args.bars:
            short.append(f"{printable(str(path))} has {take.new_bars}")
    if short:
        print(f"partita generate: the model stopped before --bars {args.bars} ({'; '.join(short)} new bars): "
              "the take is saved as far as it went", file=sys.stderr)
        return 1
    return 0


def read_seed(path: Path):
    """The seed `--prompt` names, as a score with notes; UserError naming the file otherwise (an
    unreadable file, or one with no notes: composing from nothing is leaving out --prompt)."""
    from core.cli import UserError
    from core.music.scores import ScoreError, load_score

    warnings: list[str] = []
    try:
        prompt = load_score(path, warnings=warnings)
    except ScoreError as error:
        raise UserError(f"--prompt {error}") from None
    except OSError:
        raise  # the CLI names the file and the reason (no such file, permission denied)
    except Exception as error:  # noqa: BLE001 (music21 and symusic fail on hostile files in their own ways)
        text = str(error).strip().splitlines()
        reason = text[0][:160] if text else type(error).__name__
        raise UserError(f"--prompt {path}: unreadable ({type(error).__name__}: {reason})") from None
    if not any(track.notes for track in prompt.tracks):
        raise UserError(f"--prompt {path}: the seed holds no notes (to compose from nothing, leave out --prompt)")
    for line in warnings:
        print(f"warning: --prompt {line}", file=sys.stderr)
    return prompt
