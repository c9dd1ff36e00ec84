"""Export adapters: MIDI, MusicXML and "Open in MuseScore" over the engine.

Uses `core.export` when it provides `export_score`; until then MIDI is written by symusic
(atomically), MusicXML by `core.notation.write_musicxml`, and MuseScore is found and started by
`core.musescore`. Every function returns what it wrote, or raises with a one-line reason.
"""

from __future__ import annotations

from pathlib import Path

import symusic

from core.atomic import atomic_write


def export_score(score: symusic.Score, path: Path, kind: str) -> Path:
    """Write `score` to `path` as `kind` ("midi" or "musicxml"); returns the path written."""
    try:
        from core import export as core_export  # the export engineer's module, once it lands
    except ImportError:
        core_export = None
    if core_export is not None and hasattr(core_export, "export_score"):
        result = core_export.export_score(score, path, kind)
        return Path(result) if isinstance(result, (str, Path)) else path
    if kind == "midi":
        atomic_write(path, lambda tmp: score.dump_midi(str(tmp)))
        return path
    if kind == "musicxml":
        from core.notation import write_musicxml

        write_musicxml(score, path)
        return path
    raise ValueError(f"unknown export format {kind!r}")


def open_in_musescore(score: symusic.Score, folder: Path) -> str:
    """Write MusicXML to `folder/musescore/` and open it in MuseScore; returns a status message."""
    from core.musescore import open_in_musescore as open_file
    from core.musescore import require_musescore

    require_musescore()  # raises MuseScoreNotFound with the download page before we write anything
    target = folder / "musescore" / "partita-take.musicxml"
    export_score(score, target, "musicxml")
    open_file(target)
    return f"Opened {target.name} in MuseScore"
