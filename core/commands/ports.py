"""`partita ports`: the MIDI ports Partita can play to and listen to, per backend."""

from __future__ import annotations

from core.commands import MIDI_BACKENDS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("ports", help="list MIDI input and output ports")
    parser.add_argument("--backend", choices=MIDI_BACKENDS, help="only this backend (default: all compiled in)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.midi.ports import VIRTUAL_CAPABLE, VIRTUAL_INPUT, VIRTUAL_OUTPUT, compiled_backends, list_ports
    from core.midi.synth import SynthUnavailable, require_synth

    listing = list_ports(args.backend)
    for backend in [args.backend] if args.backend else compiled_backends():
        if backend in listing.problems:
            print(f"{backend}: unavailable: {listing.problems[backend]}")
            continue
        outputs = [p.name for p in listing.outputs if p.backend == backend]
        inputs = [p.name for p in listing.inputs if p.backend == backend]
        print(f"{backend}:")
        print("  outputs (partita play --port NAME):")
        for name in outputs or ["(none)"]:
            print(f"    {name}")
        print("  inputs (partita record --port NAME):")
        for name in inputs or ["(none)"]:
            print(f"    {name}")
        if backend in VIRTUAL_CAPABLE:
            print(f"  virtual: --port virtual opens {VIRTUAL_OUTPUT!r} / {VIRTUAL_INPUT!r} for others to connect")
    try:
        _, font = require_synth()
        print(f"built-in synth: --port synth (FluidSynth, {font})")
    except SynthUnavailable as error:
        print(f"built-in synth: unavailable: {error}")
    if args.backend and args.backend in listing.problems:
        return 1  # the one backend asked for cannot be used (said above, with how to start it)
    return 0
