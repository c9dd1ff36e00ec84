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

import io
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import symusic

from core.music.markers import PICKUP_MARKER
from core.reading import (
    MUSIC_BYTES,
    FileRefused,
    OverTime,
    check_regular,
    read_bytes,
    size_text,
    within_budget,
)
from core.terminal import printable

MIDI_SUFFIXES = frozenset({".mid", ".midi"})
NOTATION_SUFFIXES = frozenset({".xml", ".mxl", ".musicxml", ".krn", ".abc"})
SUPPORTED_SUFFIXES = MIDI_SUFFIXES | NOTATION_SUFFIXES
TICKS_PER_QUARTER = 480  # resolution of scores converted from notation
CELLO_PROGRAM = 42  # General MIDI program number (0-based) of the violoncello
# What a meter, a tempo and a resolution may be: beyond these a file is damaged or hostile (a
# time-signature byte of 8 or more reads as x/0, a division of 0 as 0 ticks per quarter), and
# everything that counts beats divides by them.
MAX_TICKS_PER_QUARTER = 32767  # MIDI's division has 15 bits
MAX_TICK = 2**31 - 1  # symusic's ticks are 32-bit integers: at 480 a quarter, about 4.5 million quarter notes
MAX_NUMERATOR = 255  # a MIDI byte
DENOMINATORS = (1, 2, 4, 8, 16, 32, 64, 128)  # powers of two, as MIDI writes them
TEMPO_RANGE_QPM = (1.0, 10_000.0)  # quarter notes per minute
DEFAULT_QPM = 100.0  # the tempo of a score that marks none (a tempo mark out of range is refused, not replaced)
# What reading one file may cost. A file is at most MUSIC_BYTES on disk, and a .mxl's MusicXML at
# most that unpacked (a 1.2 MB .mxl held 1.2 GB of XML and took 7.2 GB to parse). Music21 takes
# about 18 ms a measure (20,000 measures took 362 s), so MusicXML is refused beyond MAX_MEASURES
# measures a part, counted in the raw XML before parsing (a long symphony movement has ~1,000); and
# any notation file that still takes over IMPORT_SECONDS to read is stopped (`core.reading.within_budget`).
MAX_MEASURES = 5_000
IMPORT_SECONDS = 120.0
_MUSICXML = (".xml", ".musicxml", ".mxl")


class ScoreError(ValueError):
    """A file that cannot be read as music; the message names the file and the problem."""


class ScoreTooSlow(ScoreError):
    """A file that took longer than IMPORT_SECONDS to read (on another day, a faster machine
    might read it: a corpus does not remember it as refused)."""


@dataclass(frozen=True)
class NamedScore:
    """One piece read from a file (an ABC file can hold many tunes)."""

    name: str  # file name, plus "#index title" for one tune of a many-tune file
    score: symusic.Score
    partial: str = ""  # what music21 could not read of the file ("" when it read it all): see `partly_read`


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load_score(path: str | Path, *, expand_repeats: bool = False, warnings: list[str] | None = None) -> symusic.Score:
    """Read one piece (a seed, a file to play or export). A file holding several tunes gives its
    first; see `load_scores`. A piece whose meter, tempo or resolution is impossible is refused
    with `ScoreError` (see `score_problem`). Where music21 could read only part of the file, a line
    naming the file and what was left out is appended to `warnings`."""
    named = load_scores(path, expand_repeats=expand_repeats)[0]
    problem = score_problem(named.score)
    if problem:
        raise ScoreError(f"{named.name}: {problem}")
    if named.partial and warnings is not None:
        warnings.append(f"{named.name}: {named.partial}")
    return named.score


# --- what music21 says as it reads ------------------------------------------------------
# music21 writes what it could not parse (a kern event such as '4zz', an ABC token) straight to
# stderr (environment.Environment.warn), where the CLI's progress bars and the window lose it and the
# piece looks whole. While Partita reads a file, the reading thread's warnings are kept instead,
# and said as the file's `partial` reading.
_reading = threading.local()
_hook_lock = threading.Lock()  # two threads reading their first notation file install the hook once


def _keep_music21_warnings() -> None:
    """Route music21's Environment.warn through the reading thread's list, once per process."""
    from music21 import environment

    with _hook_lock:
        original = environment.Environment.warn
        if getattr(original, "partita_keeps", False):
            return

        def warn(self, msg, header=None):
            kept = getattr(_reading, "warnings", None)
            if kept is None:
                return original(self, msg, header)
            kept.append(" ".join(str(part) for part in (msg if isinstance(msg, list) else [msg])))

        warn.partita_keeps = True
        environment.Environment.warn = warn


@contextmanager
def _music21_warnings() -> Iterator[list[str]]:
    """The warnings music21 gives in this thread inside the block (other threads' go on to stderr)."""
    _keep_music21_warnings()
    _reading.warnings = []
    try:
        yield _reading.warnings
    finally:
        _reading.warnings = None


def partly_read(warnings: list[str]) -> str:
    """One line of what music21 could not read: "read in part: <its first warning> (and N more)"."""
    if not warnings:
        return ""
    first = " ".join(warnings[0].split())[:160]
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return f"read in part: {printable(first)}{more}"


def resolution_problem(ticks_per_quarter, where: str = "") -> str | None:
    """Why `ticks_per_quarter` cannot be a score's resolution (None: it can); `where` is said
    after the value ("at tick 0")."""
    if not _is_int(ticks_per_quarter) or not 1 <= ticks_per_quarter <= MAX_TICKS_PER_QUARTER:
        return (f"{_quoted(ticks_per_quarter)} ticks per quarter note{where} is impossible "
                f"(a resolution is 1 to {MAX_TICKS_PER_QUARTER})")
    return None


def meter_problem(numerator, denominator, where: str = "") -> str | None:
    """Why `numerator`/`denominator` cannot be a time signature (None: it can)."""
    if not (_is_int(numerator) and _is_int(denominator)) or not 1 <= numerator <= MAX_NUMERATOR \
            or denominator not in DENOMINATORS:
        return f"time signature {_quoted(numerator)}/{_quoted(denominator)}{where} is impossible {_METERS_ARE}"
    return None


_METERS_ARE = f"(a numerator is 1 to {MAX_NUMERATOR}, a denominator a power of two from 1 to {DENOMINATORS[-1]})"


def tempo_problem(qpm, where: str = "") -> str | None:
    """Why `qpm` (quarter notes per minute) cannot be a tempo (None: it can)."""
    low, high = TEMPO_RANGE_QPM
    if isinstance(qpm, bool) or not isinstance(qpm, int | float) or not low <= qpm <= high:  # NaN fails too
        return f"tempo {_quoted(qpm)}{where} is impossible (a tempo is {low:g} to {high:g} quarter notes a minute)"
    return None


def score_problem(score: symusic.Score) -> str | None:
    """What makes `score` impossible to count in beats: its resolution, a time signature or a
    tempo out of range (None: nothing)."""
    problems = (resolution_problem(int(score.ticks_per_quarter)),
                *(meter_problem(int(ts.numerator), int(ts.denominator), f" at tick {int(ts.time)}")
                  for ts in score.time_signatures),
                *(tempo_problem(float(tempo.qpm), f" at tick {int(tempo.time)}") for tempo in score.tempos))
    return next((problem for problem in problems if problem), None)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _quoted(value) -> str:
    """A value as a message shows it, cut to 20 characters (a number 400 digits long, say)."""
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."


def load_scores(path: str | Path, *, expand_repeats: bool = False) -> list[NamedScore]:
    """Read every piece in a file. Raises `ScoreError` with a one-line reason when unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ScoreError(f"{path.name}: not a music file (suffix {suffix or 'none'})")
    try:
        # a regular file (a FIFO would block, a link to /dev/zero read for ever) of a bounded size
        size = check_regular(path, MUSIC_BYTES, what="a music file")
        if size == 0:
            raise ScoreError(f"{path.name}: empty file")
        if suffix in MIDI_SUFFIXES:
            return [NamedScore(path.name, _load_midi(path, read_bytes(path, MUSIC_BYTES, what="a music file")))]
        if suffix in _MUSICXML:
            _check_musicxml(path, read_bytes(path, MUSIC_BYTES, what="a music file"))
        else:  # ABC, kern: a meter no music has (M:1000/4 took music21 40 s to parse) refused before parsing
            problem = _raw_meter_problem(read_bytes(path, MUSIC_BYTES, what="a music file"), suffix)
            if problem:
                raise ScoreError(f"{path.name}: {problem}")
    except FileNotFoundError:
        raise ScoreError(f"{path}: no such file") from None  # the whole path: which folder was meant
    except FileRefused as error:
        raise ScoreError(f"{path.name}: {error}") from None
    except OSError as error:
        raise ScoreError(f"{path.name}: unreadable ({error.strerror or error})") from None
    from music21 import converter  # noqa: F401 (imported before the budget starts: a second or two the first time)

    try:
        return within_budget(IMPORT_SECONDS, lambda: list(_load_notation(path, expand_repeats=expand_repeats)),
                             what=f"reading {path.name}")
    except OverTime:
        raise ScoreTooSlow(f"{path.name}: took over {IMPORT_SECONDS:g} s to read, the time a file may take") from None


def _check_musicxml(path: Path, data: bytes) -> None:
    """Refuse MusicXML that would take too long or too much memory to parse: a .mxl whose score
    unpacks beyond MUSIC_BYTES (its declared size, then the bytes actually unpacked), and a score of
    more than MAX_MEASURES measures a part (counted in the raw XML, before any parsing)."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                # the entry music21 reads: the first score outside META-INF
                entry = next((info for info in archive.infolist() if "META-INF" not in info.filename
                              and (Path(info.filename).suffix in _MUSICXML or info.filename == ".xml")), None)
                if entry is None:
                    return  # music21 says what is missing
                too_large = f"{path.name}: too large: its {printable(entry.filename)} unpacks to"
                over = f"over the {size_text(MUSIC_BYTES)} a music file may have"
                if entry.file_size > MUSIC_BYTES:  # as the archive declares it
                    raise ScoreError(f"{too_large} {size_text(entry.file_size)}, {over}")
                with archive.open(entry) as handle:  # as it unpacks: read no further than the cap
                    data = handle.read(MUSIC_BYTES + 1)
                if len(data) > MUSIC_BYTES:
                    raise ScoreError(f"{too_large} more than {size_text(MUSIC_BYTES)}, the most a music file may have")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError,
                EOFError, OSError) as error:
            if isinstance(error, ScoreError):
                raise
            raise ScoreError(f"{path.name}: not a readable .mxl archive ({_first_line(error)})") from None
    measures = _measures_per_part(data)
    if measures > MAX_MEASURES:
        raise ScoreError(f"{path.name}: too large: {measures:,} measures, over the {MAX_MEASURES:,} a file may have")
    problem = _sound_tempo_problem(data) or _raw_meter_problem(data, ".musicxml")
    if problem:
        raise ScoreError(f"{path.name}: {problem}")


_SOUND_TEMPO = re.compile(rb"""<sound\b[^>]*?\stempo\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MEASURE_NUMBER = re.compile(rb"""<measure\b[^>]*?\snumber\s*=\s*(?:"([^"]*)"|'([^']*)')""")


# time signatures as notation writes them: MusicXML's <beats>/<beat-type> (beats may be "3+2"), ABC's
# M: field (a header line or inline [M:...]), kern's *M interpretation
_RAW_METERS = {
    ".musicxml": re.compile(rb"<beats>\s*([0-9+\s]+?)\s*</beats>\s*<beat-type>\s*([0-9]+)\s*</beat-type>"),
    ".abc": re.compile(rb"(?:^|\[)[ \t]*M:[ \t]*([0-9]+(?:[ \t]*\+[ \t]*[0-9]+)*)[ \t]*/[ \t]*([0-9]+)", re.M),
    ".krn": re.compile(rb"\*M([0-9]+(?:\+[0-9]+)*)/([0-9]+)"),
}


def _raw_meter_problem(data: bytes, suffix: str) -> str | None:
    """Why a time signature written in this notation cannot be one (None: each can), read from the
    raw text before parsing: music21 takes tens of seconds over a meter of 1,000 beats (and a score
    in it is refused afterwards anyway, see `meter_problem`)."""
    pattern = _RAW_METERS.get(".musicxml" if suffix in _MUSICXML else suffix)
    for match in pattern.finditer(data) if pattern else ():
        parts = re.split(rb"\s*\+\s*", match[1].strip())
        if not all(part.isdigit() for part in parts):
            continue  # ("3+", say: music21 says what it makes of it)
        longest = max(len(part) for part in (*parts, match[2]))
        if longest > 6:  # (int() of thousands of digits fails, and they would fill the line)
            return f"a time signature of a {longest:,}-digit number is impossible {_METERS_ARE}"
        problem = meter_problem(sum(int(part) for part in parts), int(match[2]))
        if problem:
            return problem
    return None


def _sound_tempo_problem(xml: bytes) -> str | None:
    """Why a `<sound tempo="...">` of this MusicXML cannot be a tempo (None: each can). Music21
    skips a tempo of 0 with a warning and plays the score at its default tempo, so these are read
    from the raw XML, before parsing: a score that says its tempo is 0 is damaged, not tempo-less."""
    for match in _SOUND_TEMPO.finditer(xml):
        text = (match[1] if match[1] is not None else match[2]).decode("utf-8", "replace").strip()
        try:
            qpm = float(text)
            qpm = int(qpm) if qpm.is_integer() else qpm  # "0", not "0.0"
        except (ValueError, OverflowError):
            qpm = text
        start = xml.rfind(b"<measure", 0, match.start())
        number = _MEASURE_NUMBER.match(xml, start) if start >= 0 else None
        bar = (number[1] if number[1] is not None else number[2]).decode("utf-8", "replace") if number else ""
        problem = tempo_problem(qpm, f" in bar {printable(bar)[:12]}" if bar else "")
        if problem:
            return problem
    return None


def _measures_per_part(xml: bytes) -> int:
    """How many measures a part of this MusicXML holds (the most, on average over its parts), from
    its <measure> and <score-part> tags: bytes.count over the raw text, a few ms for megabytes."""
    def tags(name: bytes) -> int:
        return sum(xml.count(b"<" + name + end) for end in (b" ", b">", b"/", b"\n", b"\t", b"\r"))

    return -(-tags(b"measure") // max(tags(b"score-part"), 1))


def _load_midi(path: Path, data: bytes) -> symusic.Score:
    if not data.startswith(b"MThd"):
        raise ScoreError(f"{path.name}: not a MIDI file (no MThd header)")
    try:
        return symusic.Score.from_midi(data)
    except Exception as error:  # symusic raises RuntimeError/ValueError with C++ messages
        raise ScoreError(f"{path.name}: corrupt MIDI ({_first_line(error)})") from None


def _load_notation(path: Path, *, expand_repeats: bool) -> Iterator[NamedScore]:
    from music21 import converter, stream  # lazy: slow to import

    try:
        with _music21_warnings() as warnings:
            parsed = converter.parse(str(path), forceSource=True)
    except Exception as error:
        raise ScoreError(f"{path.name}: unreadable notation ({_first_line(error)})") from None
    partial = partly_read(warnings)
    if isinstance(parsed, stream.Opus):
        pieces = list(parsed.scores)
        for index, piece in enumerate(pieces, start=1):
            title = (piece.metadata.title if piece.metadata else None) or ""
            name = f"{path.name}#{index}" + (f" {title}" if title else "")
            yield NamedScore(name, _converted(piece, name, expand_repeats), partial)
    else:
        if isinstance(parsed, stream.Score) and not parsed.parts:
            raise ScoreError(f"{path.name}: a score without parts (nothing to read)")
        yield NamedScore(path.name, _converted(parsed, path.name, expand_repeats), partial)


def _converted(m21_score, name: str, expand_repeats: bool) -> symusic.Score:
    """`music21_to_score`, its refusals and failures said as `ScoreError` naming the piece (a
    tempo of 0 made music21 divide by zero, which reached the user as a bare ZeroDivisionError)."""
    try:
        return music21_to_score(m21_score, expand_repeats=expand_repeats)
    except ScoreError as error:
        raise ScoreError(f"{name}: {error}") from None
    except Exception as error:  # music21 fails on strange notation in its own ways
        raise ScoreError(f"{name}: unreadable notation ({type(error).__name__}: {_first_line(error)})") from None


def music21_to_score(m21_score, *, expand_repeats: bool = False) -> symusic.Score:
    """Convert a music21 Score (or Part) to a symusic Score, one track per part."""
    from music21 import key, meter, stream, tempo

    score = symusic.Score(TICKS_PER_QUARTER)
    parts = list(m21_score.parts) if hasattr(m21_score, "parts") and m21_score.parts else [m21_score]

    def ticks(quarters) -> int:
        return round(Fraction(quarters) * TICKS_PER_QUARTER)

    shift = _pickup_shift(parts[0]) if parts else Fraction(0)
    if parts and _numbers_its_first_bar_0(parts[0]):  # counted as the score counts it (core.music.markers)
        score.markers.append(symusic.TextMeta(0, PICKUP_MARKER))
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
            if onset + duration > MAX_TICK:  # (symusic's ticks are 32-bit: a TypeError said nothing)
                length = Fraction(element.duration.quarterLength)
                shown = f"{int(length):,}" if length.denominator == 1 else f"{float(length):,.2f}"
                most = f"a score may be ({MAX_TICK // TICKS_PER_QUARTER:,} quarter notes)"
                raise ScoreError(f"a note{_where(element)} lasts {shown} quarter notes, longer than {most}"
                                 if duration > MAX_TICK else f"a note{_where(element)} ends past the longest {most}")
            velocity = element.volume.velocity or 80
            pitches = [p.midi for p in element.pitches] if element.isChord else [element.pitch.midi]
            for pitch in pitches:
                if 0 <= pitch <= 127:
                    track.notes.append(symusic.Note(onset, duration, pitch, velocity))
        track.notes.sort(key=lambda n: (n.time, n.pitch))
        score.tracks.append(track)

    first = parts[0].flatten() if parts else stream.Stream()
    for ts in first.getElementsByClass(meter.TimeSignature):
        problem = meter_problem(ts.numerator, ts.denominator, _where(ts))
        if problem:  # (symusic takes a numerator of one byte: a TypeError said nothing)
            raise ScoreError(problem)
        onset = ticks(Fraction(ts.offset) + shift) if ts.offset else 0
        score.time_signatures.append(symusic.TimeSignature(onset, ts.numerator, ts.denominator))
    for ks in first.getElementsByClass(key.KeySignature):
        onset = ticks(Fraction(ks.offset) + shift) if ks.offset else 0
        tonality = 1 if isinstance(ks, key.Key) and ks.mode == "minor" else 0
        score.key_signatures.append(symusic.KeySignature(onset, ks.sharps, tonality))
    marks = list(first.getElementsByClass(tempo.MetronomeMark))
    for mark in marks:
        bpm = _quarter_bpm(mark)
        problem = tempo_problem(bpm, _where(mark)) if bpm is not None else None
        if problem:  # refused, as in MIDI: no default tempo stands in for one the score gets wrong
            raise ScoreError(problem)
        onset = ticks(Fraction(mark.offset) + shift) if mark.offset else 0
        score.tempos.append(symusic.Tempo(onset, DEFAULT_QPM if bpm is None else bpm))
    if not marks:
        score.tempos.append(symusic.Tempo(0, DEFAULT_QPM))
    if not score.time_signatures:
        score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    return score


def _quarter_bpm(mark) -> float | int | None:
    """The quarter notes a minute of a music21 MetronomeMark (None: it gives no number, as a bare
    "Allegro"); what music21's getQuarterBPM says, without its division by the number, which a
    tempo of 0 turns into a ZeroDivisionError."""
    number = mark.numberSounding if mark.numberSounding is not None else mark.number
    if number is None:
        return None
    try:
        bpm = float(number) * float(mark.referent.quarterLength)
    except (TypeError, ValueError, OverflowError, AttributeError):
        return float("nan")
    return int(bpm) if bpm.is_integer() else bpm  # "tempo 0", not "tempo 0.0"


def _where(element) -> str:
    """Where a music21 element is, for a message: " in bar 12", or " at the start"."""
    bar = getattr(element, "measureNumber", None)
    if bar:
        return f" in bar {bar}"
    return " at the start" if not element.offset else f" at quarter note {float(element.offset):g}"


def _numbers_its_first_bar_0(part) -> bool:
    measures = part.getElementsByClass("Measure")
    return bool(len(measures)) and measures[0].number == 0


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


def downbeat_ticks(score: symusic.Score) -> list[int]:
    """Tick of every bar line (downbeat) up to the end of the score."""
    downbeats = score.get_downbeats() if score.end() > 0 else []
    return [int(t) for t in downbeats]
