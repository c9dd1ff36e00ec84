"""Export a `symusic.Score` (a take, a seed, a corpus piece) to MIDI, MusicXML, WAV, PDF and PNG.

`FORMATS` is the one table of what Partita writes (names, suffixes, what to do when writing
fails) and `export(score, path, kind)` the one entry point that writes any of them; File >
Export offers exactly that table.

* MIDI keeps the performance: tempo, time signature, key signature (analysed when the score has
  none), instrument program and track name, and the seed/continuation boundary as a marker.
* MusicXML is engraved notation from `core.music.notation` (quantized, measured, tied, voiced, clefs).
* WAV is the MIDI rendered by FluidSynth (`core.midi.synth`), when it is installed.
* PDF and PNG are that MusicXML engraved by MuseScore (`core.music.musescore`), when it is installed.

Every file is written atomically: a reader never sees half a file.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import symusic

from core.atomic import atomic_path, atomic_write_bytes
from core.music.instruments import program_name
from core.music.markers import CONTINUATION_MARKER, is_marker
from core.music.notation import NotationOptions, NotationReport, musicxml_bytes
from core.music.notation.keys import estimate_key

DEFAULT_TEMPO = 120.0  # quarter notes per minute, when a score has no tempo at all


@dataclass(frozen=True)
class ExportFormat:
    """One kind of file `export` writes, as a save dialog and an error message name it."""

    label: str  # "PDF": a dialog's title ("Export PDF") and its filter ("PDF (*.pdf)")
    suffix: str  # added to a name typed without one
    accepted: tuple[str, ...]  # suffixes a typed name may already have
    hint: str  # what to do when writing fails (said under the error)
    engraved: bool = False  # engraved by MuseScore, which must be installed

    @property
    def file_filter(self) -> str:
        """The save dialog's filter: "PDF (*.pdf)"."""
        return f"{self.label} (*{self.suffix})"


_ANOTHER_NAME = "Choose another file name or folder."
_MUSESCORE_HINT = ("Install MuseScore 4 from https://musescore.org/download (or Debian/Ubuntu's musescore3 package), "
                   "or export MusicXML and engrave it elsewhere.")
FORMATS: dict[str, ExportFormat] = {  # by the `kind` that `export` takes
    "midi": ExportFormat("MIDI", ".mid", (".mid", ".midi"), _ANOTHER_NAME),
    "musicxml": ExportFormat("MusicXML", ".musicxml", (".musicxml", ".xml"), _ANOTHER_NAME),
    "wav": ExportFormat("WAV audio", ".wav", (".wav",), "Install FluidSynth and a General MIDI SoundFont (the "
                        "message says how), or export MIDI and play it elsewhere."),
    "pdf": ExportFormat("PDF", ".pdf", (".pdf",), _MUSESCORE_HINT, engraved=True),
    # MuseScore writes one PNG per page: name-1.png, name-2.png...
    "png": ExportFormat("PNG", ".png", (".png",), _MUSESCORE_HINT, engraved=True),
}


def export(
    score: symusic.Score,
    path: str | Path,
    kind: str,
    *,
    program: int | None = None,
    seed_end_tick: int | None = None,
    options: NotationOptions | None = None,
) -> list[Path]:
    """Write `score` to `path` as `kind`, a key of `FORMATS`; returns the files written (PNG: one a
    page). `program` sets the instrument (None: the track's); `options` how notation is written,
    by default with `program`, and PDF and PNG titled with the file's name (as `partita export`
    titles them with the input's). Raises ValueError for an unknown kind,
    `core.midi.synth.SynthUnavailable` for WAV without FluidSynth, and `core.music.musescore.MuseScoreNotFound`
    or `MuseScoreError` for PDF and PNG without a working MuseScore."""
    if kind not in FORMATS:
        raise ValueError(f"unknown export format {kind!r} (one of {', '.join(FORMATS)})")
    if kind == "midi":
        return [export_midi(score, path, program=program, seed_end_tick=seed_end_tick)]
    if kind == "wav":
        from core.midi.synth import render_wav  # looked up here: tests replace it

        return [render_wav(prepare_midi(score, program=program, seed_end_tick=seed_end_tick), path)]
    if kind == "musicxml":
        export_musicxml(score, path, options or NotationOptions(program=program), seed_end_tick=seed_end_tick)
        return [Path(path)]
    written, _ = export_engraving(score, path, options or NotationOptions(title=Path(path).stem, program=program),
                                  seed_end_tick=seed_end_tick)
    return written


def with_continuation_marker(score: symusic.Score, seed_end_tick: int | None) -> symusic.Score:
    """A copy of `score` with a "continuation" marker at `seed_end_tick` (once)."""
    out = score.copy()
    if seed_end_tick is not None and not any(is_marker(m.text, CONTINUATION_MARKER) for m in out.markers):
        out.markers.append(symusic.TextMeta(int(seed_end_tick), CONTINUATION_MARKER))
    return out


def prepare_midi(
    score: symusic.Score,
    *,
    program: int | None = None,
    track_name: str | None = None,
    seed_end_tick: int | None = None,
) -> symusic.Score:
    """The score as it will be written to MIDI: every meta event a sequencer or notation program
    needs is present, the instrument is the caller's choice, the seed boundary is marked."""
    out = with_continuation_marker(score, seed_end_tick)
    if not out.tempos:
        out.tempos.append(symusic.Tempo(0, DEFAULT_TEMPO))
    if not out.time_signatures:
        out.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    if not out.key_signatures:
        tpq = out.ticks_per_quarter
        notes = [(n.pitch, n.duration / tpq) for t in out.tracks if not t.is_drum for n in t.notes]
        guess = estimate_key(notes)
        out.key_signatures.append(symusic.KeySignature(0, guess.sharps, 1 if guess.minor else 0))
    for track in out.tracks:
        if track.is_drum:
            continue
        if program is not None:
            track.program = program
        if track_name:
            track.name = track_name
        elif program is not None or not track.name.strip():
            track.name = program_name(int(track.program))
    return out


def export_midi(
    score: symusic.Score,
    path: str | Path,
    *,
    program: int | None = None,
    track_name: str | None = None,
    seed_end_tick: int | None = None,
) -> Path:
    """Write a standard MIDI file (type 1). Returns the path written."""
    prepared = prepare_midi(score, program=program, track_name=track_name, seed_end_tick=seed_end_tick)
    path = Path(path)
    with atomic_path(path) as tmp:
        prepared.dump_midi(str(tmp))
    return path


def export_musicxml(
    score: symusic.Score,
    path: str | Path,
    options: NotationOptions | None = None,
    *,
    seed_end_tick: int | None = None,
) -> NotationReport:
    """Write engraved notation as MusicXML; a ``.mxl`` suffix writes the compressed form."""
    data, report = musicxml_bytes(with_continuation_marker(score, seed_end_tick), options)
    path = Path(path)
    if path.suffix.lower() == ".mxl":
        data = _compressed_musicxml(data)
    atomic_write_bytes(path, data)
    return report


def _compressed_musicxml(data: bytes) -> bytes:
    """The MusicXML container format: a zip with META-INF/container.xml pointing at the score."""
    import io

    container = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
        '<rootfile full-path="score.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>'
        "</rootfiles></container>\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.recordare.musicxml")
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("score.musicxml", data)
    return buffer.getvalue()


def export_engraving(
    score: symusic.Score,
    path: str | Path,
    options: NotationOptions | None = None,
    *,
    seed_end_tick: int | None = None,
    musescore: str | Path | None = None,
) -> tuple[list[Path], NotationReport]:
    """Engrave with MuseScore to PDF, PNG or SVG (by suffix). PNG and SVG give one file per page
    (``name-1.png``...). Raises `core.music.musescore.MuseScoreNotFound` without MuseScore and
    `core.music.musescore.MuseScoreError` when it fails."""
    from core.music.musescore import MuseScoreError, convert, require_musescore, written_files

    exe = require_musescore(musescore)
    target = Path(path)
    with tempfile.TemporaryDirectory(prefix="partita-export-") as tmp:
        source = Path(tmp) / f"{target.stem or 'score'}.musicxml"
        report = export_musicxml(score, source, options, seed_end_tick=seed_end_tick)
        engraved = Path(tmp) / f"engraved{target.suffix}"
        (result,) = convert([(source, engraved)], executable=exe)
        if not result.ok:
            raise MuseScoreError(f"{target.name}: MuseScore could not engrave it ({result.message})")
        written = []
        for page in written_files(engraved):
            final = target.with_name(target.stem + page.name[len("engraved") :])
            atomic_write_bytes(final, page.read_bytes())
            written.append(final)
    return written, report
