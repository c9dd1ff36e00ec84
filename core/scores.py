"""Reading music files into `symusic.Score`, the one in-memory form the engine uses.

MIDI goes straight to symusic (fast, C++). Notation (MusicXML, Humdrum **kern, ABC) goes
through music21, imported lazily because it takes about a second to import. Notation is
converted note by note (not through music21's MIDI writer), so:

* repeats are played once, as written, unless ``expand_repeats=True``;
* tied notes become one note;
* a pickup bar is kept: the score is shifted so that bar lines fall where the time
  signature says (REMI's Bar tokens then line up with the music's real bars).

Times are in ticks at ``TICKS_PER_QUARTER`` for notation and the file's own resolution for
MIDI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import symusic

MIDI_SUFFIXES = frozenset({".mid", ".midi"})
NOTATION_SUFFIXES = frozenset({".xml", ".mxl", ".musicxml", ".krn", ".abc"})
SUPPORTED_SUFFIXES = MIDI_SUFFIXES | NOTATION_SUFFIXES
TICKS_PER_QUARTER = 480  # resolution of scores converted from notation
CELLO_PROGRAM = 42  # General MIDI program number (0-based) of the violoncello


class ScoreError(ValueError):
    """A file that cannot be read as music; the message names the file and the problem."""


@dataclass(frozen=True)
class NamedScore:
    """One piece read from a file (an ABC file can hold many tunes)."""

    name: str  # file name, plus "#index title" for one tune of a many-tune file
    score: symusic.Score


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load_score(path: str | Path, *, expand_repeats: bool = False) -> symusic.Score:
    """Read one piece. A file holding several tunes gives its first; see `load_scores`."""
    return load_scores(path, expand_repeats=expand_repeats)[0].score


def load_scores(path: str | Path, *, expand_repeats: bool = False) -> list[NamedScore]:
    """Read every piece in a file. Raises `ScoreError` with a one-line reason when unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ScoreError(f"{path.name}: not a music file (suffix {suffix or 'none'})")
    if not path.is_file():
        raise ScoreError(f"{path}: no such file")  # the whole path: which folder was meant
    if path.stat().st_size == 0:
        raise ScoreError(f"{path.name}: empty file")
    if suffix in MIDI_SUFFIXES:
        return [NamedScore(path.name, _load_midi(path))]
    return list(_load_notation(path, expand_repeats=expand_repeats))


def _load_midi(path: Path) -> symusic.Score:
    data = path.read_bytes()
    if not data.startswith(b"MThd"):
        raise ScoreError(f"{path.name}: not a MIDI file (no MThd header)")
    try:
        return symusic.Score.from_midi(data)
    except Exception as error:  # symusic raises RuntimeError/ValueError with C++ messages
        raise ScoreError(f"{path.name}: corrupt MIDI ({_first_line(error)})") from None


def _load_notation(path: Path, *, expand_repeats: bool) -> Iterator[NamedScore]:
    from music21 import converter, stream  # lazy: slow to import

    try:
        parsed = converter.parse(str(path), forceSource=True)
    except Exception as error:
        raise ScoreError(f"{path.name}: unreadable notation ({_first_line(error)})") from None
    if isinstance(parsed, stream.Opus):
        pieces = list(parsed.scores)
        for index, piece in enumerate(pieces, start=1):
            title = (piece.metadata.title if piece.metadata else None) or ""
            name = f"{path.name}#{index}" + (f" {title}" if title else "")
            yield NamedScore(name, music21_to_score(piece, expand_repeats=expand_repeats))
    else:
        if isinstance(parsed, stream.Score) and not parsed.parts:
            raise ScoreError(f"{path.name}: a score without parts (nothing to read)")
        yield NamedScore(path.name, music21_to_score(parsed, expand_repeats=expand_repeats))


def music21_to_score(m21_score, *, expand_repeats: bool = False) -> symusic.Score:
    """Convert a music21 Score (or Part) to a symusic Score, one track per part."""
    from music21 import key, meter, stream, tempo

    score = symusic.Score(TICKS_PER_QUARTER)
    parts = list(m21_score.parts) if hasattr(m21_score, "parts") and m21_score.parts else [m21_score]

    def ticks(quarters) -> int:
        return round(Fraction(quarters) * TICKS_PER_QUARTER)

    shift = _pickup_shift(parts[0]) if parts else Fraction(0)
    for part in parts:
        if expand_repeats:
            try:
                part = part.expandRepeats()
            except Exception:  # music21 refuses malformed repeat marks; play as written
                pass
        flat = part.stripTies(matchByPitch=True).flatten()
        track = symusic.Track(name=(part.partName or "").strip(), program=_program_of(part))
        for element in flat.notes:
            onset = ticks(Fraction(element.offset) + shift)
            duration = max(1, ticks(element.duration.quarterLength))
            velocity = element.volume.velocity or 80
            pitches = [p.midi for p in element.pitches] if element.isChord else [element.pitch.midi]
            for pitch in pitches:
                if 0 <= pitch <= 127:
                    track.notes.append(symusic.Note(onset, duration, pitch, velocity))
        track.notes.sort(key=lambda n: (n.time, n.pitch))
        score.tracks.append(track)

    first = parts[0].flatten() if parts else stream.Stream()
    for ts in first.getElementsByClass(meter.TimeSignature):
        onset = ticks(Fraction(ts.offset) + shift) if ts.offset else 0
        score.time_signatures.append(symusic.TimeSignature(onset, ts.numerator, ts.denominator))
    for ks in first.getElementsByClass(key.KeySignature):
        onset = ticks(Fraction(ks.offset) + shift) if ks.offset else 0
        tonality = 1 if isinstance(ks, key.Key) and ks.mode == "minor" else 0
        score.key_signatures.append(symusic.KeySignature(onset, ks.sharps, tonality))
    marks = list(first.getElementsByClass(tempo.MetronomeMark))
    for mark in marks:
        bpm = mark.getQuarterBPM() or 100.0
        onset = ticks(Fraction(mark.offset) + shift) if mark.offset else 0
        score.tempos.append(symusic.Tempo(onset, bpm))
    if not marks:
        score.tempos.append(symusic.Tempo(0, 100.0))
    if not score.time_signatures:
        score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    return score


def _pickup_shift(part) -> Fraction:
    """Quarters to shift by so that a pickup (anacrusis) bar ends on a full-bar boundary."""
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return Fraction(0)
    first = measures[0]
    padding = first.paddingLeft or 0
    if not padding:
        ts = first.timeSignature or first.getContextByClass("TimeSignature")
        if ts is not None and first.duration.quarterLength < ts.barDuration.quarterLength and len(measures) > 1:
            padding = ts.barDuration.quarterLength - first.duration.quarterLength
    return Fraction(padding).limit_denominator(96)


def _program_of(part) -> int:
    instrument = part.getInstrument(returnDefault=False)
    if instrument is not None:
        name = (instrument.instrumentName or "").lower()
        if "cello" in name:
            return CELLO_PROGRAM
        if instrument.midiProgram is not None:
            return int(instrument.midiProgram)
    return 0


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:160] if text else type(error).__name__


def note_count(score: symusic.Score) -> int:
    return sum(len(track.notes) for track in score.tracks)


def bar_ticks(score: symusic.Score) -> list[int]:
    """Tick of every bar line (downbeat) up to the end of the score."""
    downbeats = score.get_downbeats() if score.end() > 0 else []
    return [int(t) for t in downbeats]
