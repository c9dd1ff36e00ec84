"""`partita export IN --midi OUT.mid | --musicxml OUT.musicxml | --pdf OUT.pdf | --png OUT.png`.

Reads any MIDI or notation file Partita reads (or a generated take saved as MIDI) and writes
MIDI, engraved MusicXML, and, through MuseScore, PDF and PNG. Several outputs may be asked for at
once; the score is read and engraved once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a take or a piece to MIDI, MusicXML (MuseScore), PDF or PNG",
        description="Export to MIDI and engraving-quality MusicXML; PDF/PNG are engraved by MuseScore.",
    )
    parser.add_argument("input", type=Path, help="MIDI, MusicXML, kern or ABC file")
    parser.add_argument("--midi", type=Path, metavar="OUT.mid", help="write a standard MIDI file")
    parser.add_argument(
        "--musicxml", type=Path, metavar="OUT.musicxml", help="write MusicXML (.mxl: compressed)"
    )
    parser.add_argument("--pdf", type=Path, metavar="OUT.pdf", help="engrave a PDF with MuseScore")
    parser.add_argument(
        "--png", type=Path, metavar="OUT.png", help="engrave PNG pages with MuseScore (OUT-1.png...)"
    )
    parser.add_argument("--title", default=None, help="title printed on the score (default: the file name)")
    parser.add_argument("--corpus-name", default="", help='credit printed as "after CORPUS_NAME"')
    parser.add_argument(
        "--instrument",
        default=None,
        help="instrument for every part: a General MIDI program number or a name (cello, violin, piano...)",
    )
    parser.add_argument("--part-name", default=None, help="name printed before the staff")
    swing = parser.add_mutually_exclusive_group()
    swing.add_argument(
        "--swing", dest="swing", action="store_const", const=True, help="write swing eighths straight"
    )
    swing.add_argument(
        "--straight", dest="swing", action="store_const", const=False, help="never assume swing"
    )
    parser.add_argument(
        "--overlaps",
        choices=("auto", "voices", "trim"),
        default="auto",
        help="overlapping notes: keep as voices, trim legato overlaps, or auto (trim for performances)",
    )
    parser.add_argument("--no-pickup", action="store_true", help="never turn the first bar into a pickup")
    parser.add_argument("--seed-end-tick", type=int, default=None, help="mark where the continuation starts")
    parser.add_argument("--musescore", default=None, help="path to the MuseScore executable")
    parser.add_argument("--open", action="store_true", help="open the MusicXML in MuseScore afterwards")
    parser.set_defaults(func=run)


def parse_instrument(value: str | None) -> int | None:
    from core.cli import UserError
    from core.music.instruments import INSTRUMENT_PROGRAMS

    if value is None:
        return None
    if value.isdigit() and 0 <= int(value) <= 127:
        return int(value)
    program = INSTRUMENT_PROGRAMS.get(value.strip().lower())
    if program is None:
        known = ", ".join(sorted(INSTRUMENT_PROGRAMS))
        raise UserError(f"unknown instrument {value!r}: give a program number 0-127 or one of {known}")
    return program


@contextmanager
def _writing(source: Path, target: Path, kind: str):
    """Say which file could not be written as what, and why, when an exporter fails in a way no
    check foresaw (the CLI said only "failed (IndexError: ...)", naming neither file)."""
    from core.cli import UserError
    from core.commands import failure
    from core.music.musescore import MuseScoreError, MuseScoreNotFound

    try:
        yield
    except (OSError, UserError, MuseScoreError, MuseScoreNotFound):
        raise  # already say the file (the CLI names an OSError's)
    except Exception as error:  # noqa: BLE001
        raise UserError(f"{source.name}: could not be written as {kind} to {target} ({failure(error)})") from None


def run(args: argparse.Namespace) -> int:
    from core.cli import UserError, check_output
    from core.commands import read_music
    from core.music.export import export_engraving, export_midi, export_musicxml
    from core.music.musescore import MuseScoreError, MuseScoreNotFound, open_in_musescore
    from core.music.notation import NotationOptions

    if not (args.midi or args.musicxml or args.pdf or args.png):
        raise UserError("nothing to do: give --midi, --musicxml, --pdf and/or --png")
    if args.seed_end_tick is not None and args.seed_end_tick < 0:
        raise UserError("--seed-end-tick must be 0 or more (a tick of the input)")
    if args.musescore is not None and shutil.which(os.path.expanduser(args.musescore)) is None:
        # a named executable that is not there must not quietly become the system's MuseScore
        raise UserError(f"--musescore {args.musescore}: no such executable")
    for option in ("midi", "musicxml", "pdf", "png"):
        if getattr(args, option) is not None:
            check_output(getattr(args, option), f"--{option}")  # before reading and engraving
    score = read_music(args.input, "export")
    program = parse_instrument(args.instrument)
    options = NotationOptions(
        title=args.title if args.title is not None else args.input.stem,
        corpus_name=args.corpus_name,
        program=program,
        part_name=args.part_name,
        swing=args.swing,
        overlaps=args.overlaps,
        pickup=False if args.no_pickup else None,
    )
    seed_end = args.seed_end_tick
    if args.midi:
        with _writing(args.input, args.midi, "MIDI"):
            export_midi(score, args.midi, program=program, track_name=args.part_name, seed_end_tick=seed_end)
        print(f"MIDI      {args.midi}")
    report = None
    if args.musicxml:
        with _writing(args.input, args.musicxml, "MusicXML"):
            report = export_musicxml(score, args.musicxml, options, seed_end_tick=seed_end)
        print(f"MusicXML  {args.musicxml}")
    for target in (args.pdf, args.png):
        if target is None:
            continue
        try:
            with _writing(args.input, target, target.suffix[1:].upper()):
                written, report = export_engraving(
                    score, target, options, seed_end_tick=seed_end, musescore=args.musescore
                )
        except (MuseScoreNotFound, MuseScoreError) as error:
            raise UserError(str(error)) from None
        print(f"{target.suffix[1:].upper():9} " + ", ".join(str(p) for p in written))
    if report is not None:
        grid = "exact (already on the grid)" if report.exact else "quantized to sixteenths/triplets"
        print(
            f"notation  {report.measures} bars, {grid}"
            + (", swing written straight" if report.swing else "")
            + (f", pickup bar of {report.pickup} quarter(s)" if report.pickup else "")
            + f", key {report.key_sharps:+d}{' (analysed)' if report.key_from_analysis else ''}"
            + (", grand staff" if report.grand_staff else "")
            + f", clefs {'/'.join(report.clefs) or '-'}, up to {report.max_voices} voice(s)"
            + (f", {report.trimmed_notes} overlapping notes trimmed" if report.trimmed_notes else "")
        )
        if report.drum_notes:
            print(f"partita export: warning: {args.input.name}: {report.drum_notes} drum notes left out "
                  "(the notation writes pitched parts only; --midi keeps them)", file=sys.stderr)
    if args.open:
        if not args.musicxml:
            raise UserError("--open needs --musicxml (the file to open)")
        try:
            open_in_musescore(args.musicxml, args.musescore)
        except MuseScoreNotFound as error:
            raise UserError(str(error)) from None
    return 0
