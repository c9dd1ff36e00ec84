"""Export adapters: MIDI, MusicXML, WAV, PDF, PNG and "Open in MuseScore" over `core.export`,
`core.synth` and `core.musescore`.

The roll's score is handed over with the seed boundary (`seed_end_tick`), which the engine
writes as a "continuation" marker; MusicXML goes through the engine's engraving pipeline
(quantize, voices, ties, clefs), and PDF and PNG are that MusicXML engraved by MuseScore, as
`partita export --pdf/--png` does. Every function returns what it wrote, or raises with a
one-line reason that the window shows in a dialog.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import symusic


@dataclass(frozen=True)
class ExportFormat:
    """What File > Export offers for one kind of file."""

    label: str  # in the dialog's title and filter: "Export PDF", "PDF (*.pdf)"
    suffix: str  # added to a name typed without one
    accepted: tuple[str, ...]  # suffixes a typed name may already have
    hint: str  # the error dialog's advice when writing fails
    engraved: bool = False  # written by MuseScore (it must be installed)


_ANOTHER_NAME = "Choose another file name or folder."
_MUSESCORE_HINT = "Install MuseScore 4 from https://musescore.org/download (or Debian/Ubuntu's musescore3 package), " \
                  "or export MusicXML and engrave it elsewhere."
FORMATS = {
    "midi": ExportFormat("MIDI", ".mid", (".mid", ".midi"), _ANOTHER_NAME),
    "musicxml": ExportFormat("MusicXML", ".musicxml", (".musicxml", ".xml"), _ANOTHER_NAME),
    "wav": ExportFormat("WAV audio", ".wav", (".wav",), "Install FluidSynth and a General MIDI SoundFont (the "
                        "message says how), or export MIDI and play it elsewhere."),
    "pdf": ExportFormat("PDF", ".pdf", (".pdf",), _MUSESCORE_HINT, engraved=True),
    # MuseScore writes one PNG per page: name-1.png, name-2.png...
    "png": ExportFormat("PNG", ".png", (".png",), _MUSESCORE_HINT, engraved=True),
}
TAKE_ONLY_NAME = " (continuation)"  # added to the default file name of a take exported alone


def missing_musescore() -> str | None:
    """Why PDF and PNG cannot be written here (MuseScore is not installed, and where to get it), or None."""
    from core.musescore import MuseScoreNotFound, require_musescore

    try:
        require_musescore()
    except MuseScoreNotFound as error:
        return str(error)
    return None


def take_only(score: symusic.Score, seed_end_tick: int) -> symusic.Score:
    """The take without its seed: from the bar line where it leaves the seed on, moved to start at
    0 (the cut the evaluation judges, `core.evaluation.continuation`). A seed that ends inside
    that bar keeps its notes there, and the boundary stays marked (not at the start: all of it is take)."""
    from core.evaluation import continuation
    from core.export import with_continuation_marker
    from core.markers import CONTINUATION_MARKER, is_marker

    # marked before the cut, so that the marker moves with the notes (or goes, at a bar line before them)
    part = continuation(with_continuation_marker(score, seed_end_tick), seed_end_tick)
    part.markers = [m for m in part.markers if m.time > 0 or not is_marker(m.text, CONTINUATION_MARKER)]
    return part


def export_files(score: symusic.Score, path: Path, kind: str, *, seed_end_tick: int | None = None,
                 program: int | None = None) -> list[Path]:
    """Write `score` to `path` as any kind of `FORMATS`; returns the files written (PNG: one a page)."""
    if kind not in FORMATS or not FORMATS[kind].engraved:
        return [export_score(score, path, kind, seed_end_tick=seed_end_tick, program=program)]
    from core.export import export_engraving
    from core.musescore import MuseScoreError, MuseScoreNotFound
    from core.notation import NotationOptions

    try:  # titled with the file's name, as the command line titles it with the input's
        written, _ = export_engraving(score, path, NotationOptions(title=Path(path).stem, program=program),
                                      seed_end_tick=seed_end_tick)
    except (MuseScoreNotFound, MuseScoreError) as error:
        raise ValueError(str(error)) from None  # said as it is, without the class name
    return written


def export_score(score: symusic.Score, path: Path, kind: str, *, seed_end_tick: int | None = None,
                 program: int | None = None) -> Path:
    """Write `score` to `path` as `kind` ("midi", "musicxml" or "wav"); returns the path written."""
    from core import export

    if kind == "midi":
        return export.export_midi(score, path, program=program, seed_end_tick=seed_end_tick)
    if kind == "musicxml":
        export.export_musicxml(score, path, seed_end_tick=seed_end_tick)
        return Path(path)
    if kind == "wav":
        from core.synth import SynthUnavailable, render_wav

        try:
            return render_wav(export.prepare_midi(score, program=program), path)
        except SynthUnavailable as error:
            raise ValueError(str(error)) from None  # said as it is, without the class name
    raise ValueError(f"unknown export format {kind!r}")


def open_in_musescore(score: symusic.Score, folder: Path, *, seed_end_tick: int | None = None) -> str:
    """Write MusicXML to `folder/musescore/` and open it in MuseScore; returns a status message."""
    from core.musescore import open_in_musescore as open_file
    from core.musescore import require_musescore

    executable = require_musescore()  # raises MuseScoreNotFound naming the download page, before writing
    target = Path(folder) / "musescore" / "partita-take.musicxml"
    export_score(score, target, "musicxml", seed_end_tick=seed_end_tick)
    process = open_file(target, executable)
    # Partita does not wait for MuseScore, but someone must once it quits, or it stays a zombie
    threading.Thread(target=process.wait, name="musescore-reaper", daemon=True).start()
    return f"Opened {target} in {Path(executable).name}"
