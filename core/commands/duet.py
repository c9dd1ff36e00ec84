"""`partita duet --model RUN_DIR --input NAME --output NAME`: trade phrases with the model until Ctrl+C."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from core.commands import (
    MIDI_BACKENDS,
    add_limit_arguments,
    add_model_arguments,
    add_style_arguments,
    seed_number,
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("duet", help="call and response with a MIDI keyboard")
    add_model_arguments(parser)
    add_limit_arguments(parser)
    add_style_arguments(parser)
    parser.add_argument("--input", required=True, help="input port (your keyboard); 'virtual': 'Partita In'")
    parser.add_argument("--output", required=True, help="output port; 'synth': built-in synth; 'virtual'")
    parser.add_argument("--bars", type=int, default=2, help="bars in each reply")
    parser.add_argument("--silence-ms", type=float, default=600, help="a pause this long ends your phrase")
    parser.add_argument("--bpm", type=float, help="tempo (default: estimated from your first phrase)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=seed_number, help="random seed")
    parser.add_argument("--no-thru", action="store_true",
                        help="do not echo your playing to the output (use when your keyboard makes its own sound)")
    parser.add_argument("--out", type=Path, help="save the whole conversation to this MIDI file at the end")
    parser.add_argument("--seconds", type=float, help="end after this long (default: at Ctrl+C)")
    parser.add_argument("--backend", choices=MIDI_BACKENDS, help="MIDI backend (default: the first that works)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.cli import UserError, check_output

    if args.bars < 1 or args.silence_ms <= 0:
        raise UserError("--bars must be at least 1 and --silence-ms positive")
    if not 0 < args.temperature <= 5:
        raise UserError("--temperature must be in (0, 5]")
    if not 0 < args.top_p <= 1:
        raise UserError("--top-p must be in (0, 1]")
    if args.bpm is not None and not 20 <= args.bpm <= 400:
        raise UserError("--bpm must be between 20 and 400")
    if args.seconds is not None and args.seconds <= 0:
        raise UserError("--seconds must be positive")
    if args.out:
        check_output(args.out, "--out")  # before the conversation, not after it
    from core.threads import torch_threads

    # Token-by-token decoding of a small model is latency-bound: one thread answers ~10x sooner
    # than a thread pool fighting the player and the MIDI threads for two cores. Restored after,
    # for callers of main() in the same process.
    with torch_threads(1):
        return _duet(args)


def _duet(args) -> int:
    from core.cli import UserError
    from core.commands import limit_settings, load_cli_model, save_take
    from core.commands.play import open_cli_output
    from core.composing.generation import GenerationSettings, engine_reply_generator
    from core.midi.duet import Duet, DuetError
    from core.midi.ports import PortError, open_input

    loaded = load_cli_model(args)
    settings = GenerationSettings(temperature=args.temperature, top_p=args.top_p, random_seed=args.seed, **limit_settings(args))
    output = open_cli_output(args.output, args.backend)

    class Spoken(Duet):
        def listening(self):
            print("listening... play a phrase, then pause", file=sys.stderr)

        def phrase_detected(self, prompt, seconds):
            notes = len(prompt.tracks[0].notes)
            bars = f"{self.bars} bar" + ("s" if self.bars > 1 else "")
            print(f"heard {notes} notes at {self.bpm:.0f} bpm; answering with {bars}", file=sys.stderr)

        def error(self, message):
            print(f"partita duet: {message}", file=sys.stderr)

    duet = Spoken(engine_reply_generator(loaded, settings), output, bars=args.bars, silence_ms=args.silence_ms,
                  bpm=args.bpm, program=loaded.program, thru=None if args.no_thru else output)
    duet.listen()  # before the port opens, so the first note played is heard
    try:
        source = open_input(None if args.input == "virtual" else args.input, virtual=args.input == "virtual",
                            backend=args.backend, callback=duet.feed, clock=duet.clock.now)
    except PortError as error:
        output.close()
        raise UserError(str(error)) from None
    if args.seconds:
        threading.Timer(args.seconds, duet.stop).start()
    status = 0
    try:
        duet.run()
    except KeyboardInterrupt:
        duet.stop()
    except DuetError:
        status = 1
    finally:
        source.close()
        output.close()
        if args.out and duet.turns:
            if save_take(duet.take(), args.out, "duet"):
                print(f"{args.out}: {len(duet.turns)} turns", file=sys.stderr)
            else:
                status = 1
    return status
