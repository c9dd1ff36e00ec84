"""Engraving-quality notation from a `symusic.Score`: the part of export that MuseScore 4 no
longer does for us (it does not quantize on MIDI import).

Pipeline, one pure module per decision, music21 only at the end:

``bars`` (bar lines from time signatures, pickup) -> ``quantize`` (grid: exact, or sixteenths and
triplets per beat, swing) -> ``voices`` (chords, overlaps, up to four voices) -> ``rhythm``
(note values, ties over beats and bar lines) -> ``keys`` (key signature, clefs by range) ->
``build`` (music21 objects) -> MusicXML.
"""

from __future__ import annotations

from pathlib import Path

import symusic

from core.atomic import atomic_write_bytes
from core.music.notation.build import NotationOptions, NotationReport, to_music21

__all__ = [
    "NotationOptions",
    "NotationReport",
    "musicxml_bytes",
    "to_music21",
    "write_musicxml",
]


def musicxml_bytes(
    score: symusic.Score, options: NotationOptions | None = None
) -> tuple[bytes, NotationReport]:
    """The MusicXML document (uncompressed, UTF-8) and what the conversion decided."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    m21, report = to_music21(score, options or NotationOptions())
    exporter = GeneralObjectExporter(m21)
    exporter.makeNotation = False  # measures, ties and tuplets are final: music21 must not re-split them
    data = exporter.parse()
    return data, report


def write_musicxml(
    score: symusic.Score, path: str | Path, options: NotationOptions | None = None
) -> NotationReport:
    """Write `score` as MusicXML to `path` atomically (a .mxl suffix is not supported: use .musicxml)."""
    data, report = musicxml_bytes(score, options)
    atomic_write_bytes(path, data)
    return report
