"""Engrave a take's new bars above the real bars at the same place, as one PNG (docs/*-take.png).

    .venv/bin/python scripts/engrave_pair.py OUT.png TAKE.mid SEED_BARS REAL.mid [--bars 8] [--title NAME] [--all-voices]

TAKE.mid is a take as `benchmarks/style_fidelity.py --save-takes` writes it (the seed, then the
new bars), REAL.mid the real continuation alone. Both are cut to `--bars` bars, their onsets and
ends rounded to the nearer of sixteenths and eighth-note triplets (a performed take is on a grid
of 24 a beat, which engraves as 32nd-note tuplets), kept to one line (`--all-voices`: every note,
the tracks merged into one, so a chorale's four parts engrave on a grand staff as a four-voice take
does; where one voice strikes a pitch another still holds, the held note ends there, as one MIDI
channel has it), with their `chord:` markers (the chord in force where the cut starts included), and engraved
by `partita export --png` (MuseScore); the two pages are cropped and stacked on white.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import symusic
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def cut(path: Path, first_bar: int, bars: int, *, all_voices: bool = False) -> symusic.Score:
    """Bars first_bar .. first_bar + bars of a 4/4 MIDI file, rounded and kept to one line (or, with
    `all_voices`, every note in one track)."""
    score = symusic.Score.from_file(str(path))
    tpq = score.tpq
    start, end = first_bar * 4 * tpq, (first_bar + bars) * 4 * tpq

    def snap(tick: int) -> int:
        sixteenth, triplet = round(tick * 4 / tpq) * tpq / 4, round(tick * 3 / tpq) * tpq / 3
        return round(sixteenth if abs(sixteenth - tick) <= abs(triplet - tick) else triplet)

    out = score.copy()
    if all_voices:
        merged = out.tracks[0].copy()
        merged.notes = sorted((note for track in out.tracks for note in track.notes
                               if start <= note.time < end), key=lambda n: (n.time, n.pitch))
        for note in merged.notes:
            note.duration = max(snap(min(note.time + note.duration, end)) - snap(note.time), tpq // 4)
            note.time = snap(note.time) - start
        out.tracks = [merged]
    else:
        for track in out.tracks:
            notes = sorted((n for n in track.notes if start <= n.time < end), key=lambda n: n.time)
            line: list[symusic.Note] = []
            for index, note in enumerate(notes):
                time = snap(note.time) - start
                stop = min(note.time + note.duration, notes[index + 1].time if index + 1 < len(notes) else end, end)
                if line and line[-1].time >= time:
                    continue
                if line and line[-1].time + line[-1].duration > time:
                    line[-1].duration = time - line[-1].time
                line.append(symusic.Note(time, max(snap(stop) - start, time + tpq // 4) - time, note.pitch, note.velocity))
            track.notes = line
    chords = sorted((m.time, m.text) for m in score.markers if m.text.startswith("chord:"))
    in_force = [text for time, text in chords if time <= start][-1:]
    out.markers = [symusic.TextMeta(0, text) for text in in_force] + [
        symusic.TextMeta(snap(time) - start, text) for time, text in chords if start < time < end]
    out.time_signatures = [symusic.TimeSignature(0, 4, 4)]
    return out


def engraved(score: symusic.Score, title: str, folder: Path) -> Image.Image:
    midi, png = folder / f"{len(list(folder.iterdir()))}.mid", folder / f"{title}.png"
    score.dump_midi(str(midi))
    subprocess.run([str(ROOT / ".venv" / "bin" / "partita"), "export", str(midi), "--png", str(png), "--title", title],
                   check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, capture_output=True)
    page = Image.open(folder / f"{title}-1.png").convert("RGBA")
    white = Image.new("RGBA", page.size, "white")
    white.alpha_composite(page)
    image = white.convert("RGB")
    top, bottom = image.convert("L").point(lambda v: 0 if v > 250 else 255).getbbox()[1::2]
    return image.crop((0, max(0, top - 40), image.width, bottom + 40))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("take", type=Path)
    parser.add_argument("seed_bars", type=int)
    parser.add_argument("real", type=Path)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--title", default="")
    parser.add_argument("--width", type=int, default=1528, help="width of the PNG in pixels")
    parser.add_argument("--all-voices", action="store_true", help="keep every note (a chorale), not one line")
    args = parser.parse_args()
    span = f"bars {args.seed_bars + 1}-{args.seed_bars + args.bars}"
    with tempfile.TemporaryDirectory() as folder:
        pages = [engraved(cut(args.take, args.seed_bars, args.bars, all_voices=args.all_voices),
                          f"{args.title} {span}: the model's take", Path(folder)),
                 engraved(cut(args.real, 0, args.bars, all_voices=args.all_voices),
                          f"{args.title} {span}: the real bars", Path(folder))]
    sheet = Image.new("RGB", (max(p.width for p in pages), sum(p.height for p in pages)), "white")
    top = 0
    for page in pages:
        sheet.paste(page, (0, top))
        top += page.height
    sheet.resize((args.width, sheet.height * args.width // sheet.width)).save(args.out)
    print(f"{args.out}: {sheet.width} x {sheet.height} before scaling", file=sys.stderr)


if __name__ == "__main__":
    main()
