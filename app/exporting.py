"""Export adapters over `core.music.export` (its `FORMATS` are what File > Export offers, its `export`
writes them) and `core.music.musescore`: the take alone, and "Open in MuseScore".

The roll's score is handed over with the seed boundary (`seed_end_tick`), which the engine
writes as a "continuation" marker. Every function returns what it wrote, or raises with a
one-line reason that the window shows in a dialog.
"""

from __future__ import annotations

import threading
from pathlib import Path

import symusic

TAKE_ONLY_NAME = " (continuation)"  # added to the default file name of a take exported alone


def missing_musescore() -> str | None:
    """Why PDF and PNG cannot be written here (MuseScore is not installed, and where to get it), or None."""
    from core.music.musescore import MuseScoreNotFound, require_musescore

    try:
        require_musescore()
    except MuseScoreNotFound as error:
        return str(error)
    return None


def take_only(score: symusic.Score, seed_end_tick: int) -> symusic.Score:
    """The take without its seed: from the bar line where it leaves the seed on, moved to start at
    0 (the cut the evaluation judges, `core.judging.evaluation.continuation`). A seed that ends inside
    that bar keeps its notes there, and the boundary stays marked (not at the start: all of it is take)."""
    from core.judging.evaluation import continuation
    from core.music.export import with_continuation_marker
    from core.music.markers import CONTINUATION_MARKER, is_marker

    # marked before the cut, so that the marker moves with the notes (or goes, at a bar line before them)
    part = continuation(with_continuation_marker(score, seed_end_tick), seed_end_tick)
    part.markers = [m for m in part.markers if m.time > 0 or not is_marker(m.text, CONTINUATION_MARKER)]
    return part


def export_files(score: symusic.Score, path: Path, kind: str, *, seed_end_tick: int | None = None,
                 program: int | None = None) -> list[Path]:
    """Write `score` to `path` as any kind of `core.music.export.FORMATS`; returns the files written
    (PNG: one a page). A missing synth or MuseScore raises ValueError, said as it is."""
    from core.midi.synth import SynthUnavailable
    from core.music.export import export
    from core.music.musescore import MuseScoreError, MuseScoreNotFound

    try:
        return export(score, path, kind, program=program, seed_end_tick=seed_end_tick)
    except (SynthUnavailable, MuseScoreNotFound, MuseScoreError) as error:
        raise ValueError(str(error)) from None  # said as it is, without the class name


def open_in_musescore(score: symusic.Score, folder: Path, *, seed_end_tick: int | None = None) -> str:
    """Write MusicXML to `folder/musescore/` and open it in MuseScore; returns a status message."""
    from core.music.musescore import open_in_musescore as open_file
    from core.music.musescore import require_musescore

    executable = require_musescore()  # raises MuseScoreNotFound naming the download page, before writing
    target = Path(folder) / "musescore" / "partita-take.musicxml"
    export_files(score, target, "musicxml", seed_end_tick=seed_end_tick)
    process = open_file(target, executable)
    # Partita does not wait for MuseScore, but someone must once it quits, or it stays a zombie
    threading.Thread(target=process.wait, name="musescore-reaper", daemon=True).start()
    return f"Opened {target} in {Path(executable).name}"
