"""`partita record --port NAME --out FILE.mid [--seconds N]`: record a phrase from a MIDI input."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.commands import MIDI_BACKENDS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("record", help="record a phrase from a MIDI input port")
    parser.add_argument("--port", required=True, help="input port name or part of it; 'virtual': 'Partita In'")
    parser.add_argument("--out", type=Path, required=True, help="MIDI file to write")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: at Ctrl+C)")
    parser.add_argument("--backend", choices=MIDI_BACKENDS, help="MIDI backend (default: the first that works)")
    parser.add_argument("--thru", help="echo what is played to this output port ('synth': built-in synth)")
    parser.add_argument("--bpm", type=float, help="tempo (default: estimated from the playing)")
    parser.add_argument("--count-in", type=int, default=0, metavar="BEATS", help="click this many beats first")
    parser.add_argument("--click", action="store_true", help="keep clicking while recording (needs --thru)")
    parser.add_argument("--grid", type=int, default=4, help="quantize to this many steps per beat (0: off)")
    parser.add_argument("--program", type=int, default=0, help="General MIDI program for the track (0-127)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.cli import UserError, check_output
    from core.commands import save_take
    from core.commands.play import open_cli_output
    from core.midi.ports import PortError, open_input
    from core.midi.recording import DEFAULT_BPM, Recorder, phrase_to_score

    if args.seconds is not None and args.seconds <= 0:
        raise UserError("--seconds must be positive")
    if args.bpm is not None and not 20 <= args.bpm <= 400:
        raise UserError("--bpm must be between 20 and 400")
    if args.grid < 0 or not 0 <= args.program <= 127:
        raise UserError("--grid must be 0 or more, --program between 0 and 127")
    if (args.count_in or args.click) and not args.thru:
        raise UserError("--count-in and --click need an output to click on: add --thru NAME")
    if args.count_in < 0:
        raise UserError("--count-in must be 0 or more")
    check_output(args.out, "--out")  # before the phrase is played, not after
    thru = open_cli_output(args.thru, args.backend) if args.thru else None
    recorder = Recorder(thru=thru, bpm=args.bpm or DEFAULT_BPM, count_in_beats=args.count_in, click=args.click)
    recorder.start()  # before the port opens: a note played the moment it connects is kept (start clears)
    try:
        source = open_input(None if args.port == "virtual" else args.port, virtual=args.port == "virtual",
                            backend=args.backend, callback=recorder.feed, clock=recorder.clock)
    except PortError as error:
        recorder.stop()
        if thru is not None:
            thru.close()
        raise UserError(str(error)) from None
    print(f"recording from {source.name}" + (f" for {args.seconds:g} s" if args.seconds else "; Ctrl+C to stop"),
          file=sys.stderr)
    deadline = time.perf_counter() + args.count_in * 60.0 / recorder.bpm + (args.seconds or float("inf"))
    try:
        while time.perf_counter() < deadline:
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass  # stop recording and keep what was played
    finally:
        notes = recorder.stop()
        source.close()
        if thru is not None:
            thru.close()
    if not notes:
        print("partita record: nothing was played; no file written", file=sys.stderr)
        return 1
    origin = 0.0 if args.count_in else None
    grid = args.grid or 480  # 0: keep the timing (one-tick grid)
    score = phrase_to_score(notes, bpm=args.bpm, grid=grid, program=args.program, origin=origin)
    if not save_take(score, args.out, "record"):
        return 1
    print(f"{args.out}: {len(notes)} notes at {score.tempos[0].qpm:.1f} bpm")
    return 0
