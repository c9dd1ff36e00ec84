"""Export adapters: MIDI, MusicXML and "Open in MuseScore" over `core.export` and `core.musescore`.

The roll's score is handed over with the seed boundary (`seed_end_tick`), which the engine
writes as a "continuation" marker; MusicXML goes through the engine's engraving pipeline
(quantize, voices, ties, clefs). Every function returns what it wrote, or raises with a
one-line reason that the window shows in a dialog.
"""

from __future__ import annotations

import threading
from pathlib import Path

import symusic


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
