"""`partita play FILE --port NAME`: play a MIDI or notation file to a MIDI output (or the built-in synth)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.commands import MIDI_BACKENDS

SYNTH = "synth"  # --port synth: the built-in FluidSynth
VIRTUAL = "virtual"  # --port virtual: open "Partita Out" for a DAW or synth to connect to


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("play", help="play a MIDI/MusicXML file to a MIDI output port")
    parser.add_argument("file", type=Path, help="MIDI, MusicXML, kern or ABC file")
    parser.add_argument("--port", help=f"output port name or part of it; {SYNTH!r}: built-in synth; "
                                       f"{VIRTUAL!r}: a port others connect to (see `partita ports`)")
    parser.add_argument("--backend", choices=MIDI_BACKENDS, help="MIDI backend (default: the first that works)")
    parser.add_argument("--tempo-factor", type=float, default=1.0, help="2.0 plays twice as fast")
    parser.add_argument("--from-bar", type=int, default=1, help="start at this bar (1 = the beginning)")
    parser.add_argument("--loop", action="store_true", help="repeat until interrupted")
    parser.add_argument("--wav", type=Path, help="render to this WAV file with the built-in synth instead")
    parser.set_defaults(func=run)


def open_cli_output(name: str, backend: str | None):
    """An output for a command-line port name: a real port, 'synth' or 'virtual'."""
    from core.cli import UserError
    from core.midi.ports import PortError, open_output
    from core.midi.synth import FluidSynthOutput, SynthUnavailable

    try:
        if name == SYNTH:
            return FluidSynthOutput()
        if name == VIRTUAL:
            return open_output(virtual=True, backend=backend)
        return open_output(name, backend=backend)
    except (PortError, SynthUnavailable) as error:
        raise UserError(str(error)) from None


def run(args) -> int:
    from core.cli import UserError, check_output
    from core.commands import failure, read_music
    from core.midi.playback import Player
    from core.midi.synth import SynthUnavailable, render_wav
    from core.music.scores import downbeat_ticks
    from core.terminal import printable

    if args.wav:
        if args.wav.suffix.lower() != ".wav":
            raise UserError(f"--wav {args.wav}: the built-in synth writes WAV only: name the file *.wav")
        check_output(args.wav, "--wav")
    score = read_music(args.file, "play")
    if args.wav:
        try:
            render_wav(score, args.wav)
        except SynthUnavailable as error:
            raise UserError(f"{args.file.name}: not rendered: {error}") from None
        except OSError:
            raise  # the CLI names the file
        except Exception as error:  # noqa: BLE001
            raise UserError(f"{args.file.name}: not rendered to {args.wav} ({failure(error)})") from None
        print(f"{args.wav}: rendered {args.file.name}")
        return 0
    if not args.port:
        raise UserError("name an output with --port (see `partita ports`), or render with --wav OUT.wav")
    if not 0.05 <= args.tempo_factor <= 20:
        raise UserError("--tempo-factor must be between 0.05 and 20")
    bars = downbeat_ticks(score)
    if not 1 <= args.from_bar <= max(1, len(bars)):
        raise UserError(f"--from-bar must be between 1 and {max(1, len(bars))}")
    start = bars[args.from_bar - 1] if bars else 0
    output = open_cli_output(args.port, args.backend)
    if args.port == VIRTUAL:
        print(f"connect your synth to {output.name!r}; starting in 3 s", file=sys.stderr)
        time.sleep(3)
    player = Player(output, score, tempo_factor=args.tempo_factor)
    if args.loop:
        player.set_loop(start, max(start + 1, score.end()))
    seconds = score.to("second").end() / args.tempo_factor
    print(f"playing {args.file.name} to {output.name} ({seconds:.0f} s)", file=sys.stderr)
    try:
        player.play(start)
        while not player.wait(0.2):
            pass
    except KeyboardInterrupt:
        player.stop()  # note-offs and All Notes Off before we go
        raise
    finally:
        output.close()
    if player.error_message:
        print(f"partita play: {printable(args.file.name)}: stopped playing to {printable(str(output.name))}: "
              f"{printable(player.error_message)}", file=sys.stderr)
        return 1
    return 0
