"""`partita infill PIECE.mid --bars 5-8 --out OUT.mid`: rewrite a span of bars between the music
around it (core.composing.infill); every note outside the span is kept as it is."""

from __future__ import annotations

from pathlib import Path

from core.commands import add_control_arguments, add_limit_arguments, add_model_arguments, seed_number
from core.commands.generate import MAX_VARIATIONS, MIDI_SUFFIXES, TOKENS_PER_BAR


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("infill", help="rewrite bars of a piece between the music around them")
    add_model_arguments(parser)
    parser.add_argument("piece", type=Path, help="the piece (MIDI, MusicXML, kern, ABC)")
    parser.add_argument("--bars", required=True, metavar="FIRST-LAST",
                        help="the bars to rewrite, as the piece's score numbers them (from 1; a pickup bar its score "
                             "numbers 0 is bar 0): 5-8, or 5 (at most 8 bars)")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI (variations: OUT-1.mid, OUT-2.mid, ...)")
    parser.add_argument("--variations", type=int, default=1, help="how many rewritings to write")
    parser.add_argument("--join", type=float, metavar="NATS",
                        help="how hard the span's last bar is drawn towards the notes after it, in nats a "
                             "semitone (default: the model's own, else 0.5; 0: not at all)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=seed_number, help="random seed (same seed, same music)")
    add_limit_arguments(parser)
    add_control_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.atomic import atomic_write_bytes
    from core.cli import UserError, check_output
    from core.commands import fit_controls, limit_settings, load_cli_model
    from core.commands.generate import read_seed
    from core.composing.generation import GenerationSettings
    from core.composing.infill import InfillError, infill_variations, parse_span
    from core.music.markers import first_bar_number
    from core.terminal import printable

    try:
        parse_span(args.bars, 0)  # the form, said before any work (the lowest bar: once the piece is read)
    except InfillError as error:
        raise UserError(f"--bars: {error}") from None
    if not 1 <= args.variations <= MAX_VARIATIONS:
        raise UserError(f"--variations must be 1 to {MAX_VARIATIONS}")
    if not 0 < args.temperature <= 5:
        raise UserError("--temperature must be in (0, 5]")
    if not 0 < args.top_p <= 1:
        raise UserError("--top-p must be in (0, 1]")
    if args.join is not None and not 0 <= args.join <= 10:
        raise UserError("--join must be 0 to 10 (nats a semitone)")
    if args.out.suffix.lower() not in MIDI_SUFFIXES:
        raise UserError(f"--out {args.out}: infill writes MIDI (.mid); convert it with `partita export`")
    outputs = [args.out] if args.variations == 1 else [
        args.out.with_name(f"{args.out.stem}-{i}{args.out.suffix}") for i in range(1, args.variations + 1)]
    for path in outputs:
        check_output(path, "--out")
    if args.chords:
        raise UserError("--chords: an infill keeps the piece's own chords in the span (it is written between them)")
    limits = limit_settings(args)
    loaded = load_cli_model(args)
    piece = read_seed(args.piece)
    numbered_from = first_bar_number(piece)  # bars as the piece's score counts them: its pickup may be bar 0
    try:
        first, last = parse_span(args.bars, numbered_from)
    except InfillError as error:
        raise UserError(f"--bars: {error}") from None
    settings_first, settings_last = first + 1 - numbered_from, last + 1 - numbered_from  # from 1, as the engine counts
    settings = GenerationSettings(temperature=args.temperature, top_p=args.top_p, random_seed=args.seed,
                                  join=args.join,
                                  max_tokens=TOKENS_PER_BAR * (last - first + 1), **limits)
    settings = fit_controls(loaded, settings)
    try:
        takes = infill_variations(loaded, piece, settings_first, settings_last, settings, args.variations)
    except InfillError as error:
        raise UserError(f"{args.piece}: {error}") from None
    short = False
    for take, path in zip(takes, outputs, strict=True):
        atomic_write_bytes(path, take.score.dumps_midi())
        print(f"{printable(str(path))}: bars {first}-{last} rewritten, {len(take.notes)} new notes "
              f"(ticks {take.start_tick}-{take.end_tick}); every other note as in {printable(str(args.piece))}")
        short = short or take.bars < last - first + 1
    return 1 if short else 0
