"""`partita generate --model RUN_DIR --prompt SEED.mid --bars 8 --out OUT.mid`."""

from __future__ import annotations

from pathlib import Path

from core.commands import add_limit_arguments, add_model_arguments, add_style_arguments

MIDI_SUFFIXES = (".mid", ".midi")


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
    parser.add_argument("--seed", type=int, help="random seed (same seed, same music)")
    parser.add_argument("--variations", type=int, default=1, help="how many continuations to write")
    add_limit_arguments(parser)
    add_style_arguments(parser)
    parser.add_argument("--device", default="cpu",
                        help="cpu (fastest for tiny and small models), cuda, mps (worth it for base and large)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from tqdm import tqdm

    from core.atomic import atomic_write_bytes
    from core.cli import UserError, check_output
    from core.commands import check_device, limit_settings, load_cli_model
    from core.generation import GenerationSettings, SeedError, generate_variations
    from core.scores import ScoreError, load_score

    if args.bars < 1 or args.variations < 1:
        raise UserError("--bars and --variations must be at least 1")
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
    try:
        prompt = load_score(args.prompt) if args.prompt else None
    except ScoreError as error:
        raise UserError(str(error)) from None
    settings = GenerationSettings(bars=args.bars, temperature=args.temperature, top_k=args.top_k,
                                  top_p=args.top_p, seed=args.seed, prompt_bars=args.prompt_bars, **limits)
    bar = tqdm(total=args.bars, unit="bar", desc="composing", leave=False)
    first_bar = {}

    def on_event(event) -> None:
        first_bar.setdefault(event.variation, event.bar)
        done = min(args.bars, event.bar - first_bar[event.variation])
        if event.variation == 0 and done > bar.n:
            bar.update(done - bar.n)

    try:
        takes = generate_variations(loaded, prompt, settings, args.variations, on_event=on_event)
    except SeedError as error:
        raise UserError(f"{args.prompt}: {error}") from None
    finally:
        bar.close()
    for take, path in zip(takes, outputs, strict=True):
        atomic_write_bytes(path, take.score.dumps_midi())
        notes = sum(len(t.notes) for t in take.score.tracks)
        print(f"{path}: {notes} notes, {len(take.score.get_downbeats())} bars "
              f"(continuation from tick {take.seed_end_tick})")
    return 0
