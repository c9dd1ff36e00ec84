"""Corpora: find music files, import them robustly, report on each, split by piece.

Importing never stops at a bad file: every file ends up in the report either as imported
(with its notes, bars, key, time signature and duration) or as skipped with a one-line
reason. Parsed scores are cached on disk keyed by the file's content hash, so reopening a
corpus skips music21 entirely (see `ScoreCache`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import symusic

from core.atomic import atomic_write_bytes, atomic_write_text
from core.music.scores import (
    SUPPORTED_SUFFIXES,
    ScoreError,
    ScoreTooSlow,
    load_scores,
    note_count,
    score_problem,
)
from core.reading import MUSIC_BYTES, FileRefused, file_kind, read_bytes, read_json
from core.terminal import printable

BUILTIN_PREFIX = "builtin:"
BUILTINS = {
    "bach-chorales": "J.S. Bach's four-part chorales from the music21 corpus (MusicXML)",
    "oneills-1850": "O'Neill's Music of Ireland (1850) folk tunes from the music21 corpus (ABC)",
    "base": "what base models learn from: music21's Bach chorales, O'Neill's and Ryan's Mammoth fiddle "
            "tunes, Aird's airs, and the string quartets of Haydn, Mozart and Beethoven and Corelli's trio "
            "sonatas (MusicXML, ABC; 4,878 pieces from 1,564 files)",
}
# The music21 corpus folders of builtin:base, searched recursively. music21's corpus is free to
# redistribute (public-domain music, encodings under the music21 licence): fit for shipped models.
BASE_FOLDERS = ("bach", "oneills1850", "ryansMammoth", "airdsAirs", "miscFolk", "haydn", "mozart", "beethoven",
                "corelli")
# bump when core.music.scores changes what a file turns into. Not bumped for refusing a tempo out of range
# (a MusicXML <sound tempo="0">, once read at the default tempo) or a meter or resolution that cannot
# be counted: only hostile files read differently, and a bump re-imports every corpus of every user
# (builtin:base: 17 min). Nor for the "read in part" note (FileReport.note): a file cached before it
# was recorded shows none until its cache entry goes (the same scores either way).
LOADER_VERSION = "1"

ProgressFn = Callable[[int, int, str], None]  # (done, total, current file name)


@dataclass(frozen=True)
class PieceInfo:
    notes: int
    bars: int
    key: str  # e.g. "G major", from the file's key signature or estimated from pitches
    time_signature: str  # the first one, e.g. "3/4"
    duration_s: float
    lowest: int  # MIDI pitch range
    highest: int


@dataclass(frozen=True)
class FileReport:
    """What happened to one file (or one tune of a many-tune file)."""

    name: str
    path: str
    imported: bool
    reason: str = ""  # why it was skipped; empty when imported
    info: PieceInfo | None = None
    note: str = ""  # of an imported file: what of it could not be read ("read in part: ...")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Piece:
    name: str
    path: Path
    score: symusic.Score
    info: PieceInfo
    digest: str = ""  # content hash of the source file (+ tune index): the token cache's key


@dataclass
class Corpus:
    name: str
    pieces: list[Piece]
    report: list[FileReport]
    pitch_range: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        if self.pieces:
            self.pitch_range = (min(p.info.lowest for p in self.pieces), max(p.info.highest for p in self.pieces))
        else:
            self.pitch_range = (0, 127)

    @property
    def skipped(self) -> list[FileReport]:
        return [entry for entry in self.report if not entry.imported]

    def stats(self) -> dict:
        keys: dict[str, int] = {}
        for piece in self.pieces:
            keys[piece.info.key] = keys.get(piece.info.key, 0) + 1
        return {
            "pieces": len(self.pieces),
            "skipped": len(self.skipped),
            "notes": sum(p.info.notes for p in self.pieces),
            "bars": sum(p.info.bars for p in self.pieces),
            "duration_s": round(sum(p.info.duration_s for p in self.pieces), 1),
            "pitch_range": list(self.pitch_range),
            "keys": dict(sorted(keys.items(), key=lambda item: -item[1])),
        }

    def save_report(self, path: Path) -> None:
        data = {"corpus": self.name, "stats": self.stats(), "files": [e.to_json() for e in self.report]}
        atomic_write_text(path, json.dumps(data, indent=1))

    def report_table(self) -> str:
        lines = [f"{'file':44} {'status':8} {'notes':>6} {'bars':>5} {'key':10} {'time':5} {'sec':>6}  reason"]
        for entry in self.report:
            name = printable(entry.name)[:44]  # a file name may hold a newline or a terminal escape
            if entry.imported and entry.info:
                i = entry.info
                lines.append(
                    f"{name:44} {'ok':8} {i.notes:6d} {i.bars:5d} {printable(i.key)[:10]:10} "
                    f"{printable(i.time_signature):5} {i.duration_s:6.0f}" + (f"  {entry.note}" if entry.note else "")
                )
            else:
                lines.append(f"{name:44} {'SKIPPED':8} {'':6} {'':5} {'':10} {'':5} {'':6}  {printable(entry.reason)}")
        stats = self.stats()
        summary = f"{stats['pieces']} pieces imported, {stats['skipped']} skipped"
        if stats["pieces"]:
            summary += (f"; {stats['notes']} notes, {stats['bars']} bars, {stats['duration_s'] / 60:.1f} min, "
                        f"pitches {stats['pitch_range']}")
        lines.append(summary)
        return "\n".join(lines)


# --- finding files ---------------------------------------------------------------------
def resolve_source(source: str | Path | Sequence[str | Path],
                   exclude: Sequence[str] = ()) -> tuple[str, list[Path]]:
    """The corpus name and its files, from a folder, a file, a list of files, a builtin name or a
    pattern of file names in one folder (`solos/MilesDavis_*.mid`); `exclude`: patterns of file
    names to leave out (`MilesDavis_*`)."""
    name, files = _resolve_source(source)
    if exclude:
        files = [f for f in files if not any(fnmatch.fnmatch(f.name, pattern) for pattern in exclude)]
        name = f"{name} without {', '.join(exclude)}"
    return name, files


def _resolve_source(source: str | Path | Sequence[str | Path]) -> tuple[str, list[Path]]:
    if isinstance(source, (list, tuple)):
        files = [Path(s) for s in source]
        return (files[0].parent.name if files else "files"), files
    text = str(source)
    if text.startswith(BUILTIN_PREFIX):
        return text, builtin_files(text[len(BUILTIN_PREFIX):])
    path = Path(text).expanduser()
    if is_pattern(path.name) and path.parent.is_dir():
        files = sorted(p for p in path.parent.glob(path.name) if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"{text}: no music file matches")
        return f"{path.parent.name}/{path.name}", files
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        return path.name, files
    if path.is_file():
        return path.stem, [path]
    if path.exists():  # a FIFO, a device or a link to one: never opened
        raise FileNotFoundError(f"{text}: not a folder or a regular file ({file_kind(path)})")
    raise FileNotFoundError(f"{text}: no such folder or file (or builtin:NAME, one of {', '.join(BUILTINS)})")


def is_pattern(name: str) -> bool:
    """Whether a file name is a pattern (`*`, `?` or `[...]`) rather than one file."""
    return any(char in name for char in "*?[")


def builtin_files(name: str) -> list[Path]:
    """Files of a corpus shipped inside the music21 pip package (no network needed)."""
    if name not in BUILTINS:
        raise FileNotFoundError(f"builtin:{name}: unknown built-in corpus; choose from {', '.join(BUILTINS)}")
    import music21

    root = Path(music21.__file__).parent / "corpus"
    if name == "bach-chorales":
        # The bach folder holds the chorale settings as bwvNNN.N files (plus a few others).
        files = sorted(p for p in (root / "bach").iterdir() if p.name.startswith("bwv") and p.suffix in {".mxl", ".xml"})
        return files
    if name == "base":
        files = []
        for folder in BASE_FOLDERS:
            found = sorted(p for p in (root / folder).rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            # one encoding of each piece (the bach folder has some chorales as .krn beside .mxl)
            stems = {p.with_suffix("") for p in found if p.suffix.lower() in (".mxl", ".xml", ".musicxml")}
            files += [p for p in found if p.suffix.lower() in (".mxl", ".xml", ".musicxml", ".abc", ".mid")
                      or p.with_suffix("") not in stems]
        return files
    return sorted((root / "oneills1850").glob("*.abc"))


# --- the cache -------------------------------------------------------------------------
def default_cache_dir() -> Path:
    env = os.environ.get("PARTITA_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("partita")) / "corpus"


class ScoreCache:
    """Parsed scores (as MIDI bytes) and their report entries, keyed by file content and suffix
    (the suffix picks the parser). Piece names are stored without the file's name, which is
    added back on reading: a renamed or copied file is reported under its own name."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory or default_cache_dir()

    @staticmethod
    def key(digest: str, suffix: str, expand_repeats: bool) -> str:
        kind = suffix.lstrip(".").lower() or "none"
        return f"{digest}-{kind}-v{LOADER_VERSION}{'-rep' if expand_repeats else ''}"

    def get(self, key: str) -> list[tuple[str, symusic.Score | None, dict]] | None:
        """(name after the file's name, score or None, report extras) per piece, or None: also for
        an entry that is not what `put` writes (the cache is a folder anyone can write to, or
        PARTITA_CACHE_DIR names: its files are read within core.reading's bounds, a FIFO or a
        link to /dev/zero refused, and an entry names a file of this folder only)."""
        index = self.directory / f"{key}.json"
        try:
            entries = read_json(index, what="a cache index")
            if not isinstance(entries, list):
                return None
            result = []
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("tail"), str):
                    return None
                score = None
                if entry.get("midi"):
                    midi = entry["midi"]
                    if not isinstance(midi, str) or Path(midi).name != midi or midi in (".", ".."):
                        return None
                    score = symusic.Score.from_midi(read_bytes(self.directory / midi, MUSIC_BYTES, what="a cached score"))
                if not isinstance(entry.get("reason", ""), str) or not isinstance(entry.get("note", ""), str):
                    return None
                result.append((entry["tail"], score, entry))
            return result
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, RecursionError):
            return None

    def put(self, key: str, items: list[tuple[str, symusic.Score | None, dict]]) -> None:
        entries = []
        try:
            for index, (tail, score, extra) in enumerate(items):
                entry = {"tail": tail, **extra}
                if score is not None:
                    entry["midi"] = f"{key}-{index}.mid"
                    atomic_write_bytes(self.directory / entry["midi"], score.dumps_midi())
                entries.append(entry)
            atomic_write_text(self.directory / f"{key}.json", json.dumps(entries))
        except OSError:
            pass  # a cache that cannot be written only costs time


# --- importing -------------------------------------------------------------------------
def import_corpus(
    source: str | Path | Sequence[str | Path],
    *,
    expand_repeats: bool = False,
    cache: ScoreCache | None = None,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    seen: dict[str, str] | None = None,
    exclude: Sequence[str] = (),
) -> Corpus:
    """Import every file of `source` (but those `exclude` names, see `resolve_source`); bad files
    are skipped with a reason, never raised.

    `seen` (content digest -> file name) spans calls that import one corpus a file at a time, so a
    copy is skipped there too."""
    name, files = resolve_source(source, exclude)
    cache = cache or ScoreCache()
    pieces: list[Piece] = []
    report: list[FileReport] = []
    seen = {} if seen is None else seen
    for done, path in enumerate(files):
        if cancel and cancel():
            break
        if progress:
            progress(done, len(files), path.name)
        for entry, piece in _import_file(path, expand_repeats, cache, seen):
            report.append(entry)
            if piece is not None:
                pieces.append(piece)
    if progress:
        progress(len(files), len(files), "")
    return Corpus(name=name, pieces=pieces, report=report)


def _import_file(path: Path, expand_repeats: bool, cache: ScoreCache,
                 seen: dict[str, str]) -> Iterable[tuple[FileReport, Piece | None]]:
    try:
        data = read_bytes(path, MUSIC_BYTES, what="a music file")  # a regular file, and not too large
    except FileRefused as error:
        yield FileReport(path.name, str(path), False, str(error)), None
        return
    except OSError as error:
        yield FileReport(path.name, str(path), False, f"unreadable ({error.strerror or error})"), None
        return
    digest = hashlib.sha256(data).hexdigest()[:32]
    if data and digest in seen:  # a copy would put the same music in training and held-out pieces
        yield FileReport(path.name, str(path), False, f"the same file as {seen[digest]} (imported once)"), None
        return
    seen[digest] = path.name
    key = cache.key(digest, path.suffix, expand_repeats)
    cached = cache.get(key) if data else None
    if cached is None:
        items, keep = [], bool(data)
        try:
            for named in load_scores(path, expand_repeats=expand_repeats):
                problem = _problem(named.score)
                tail = named.name.removeprefix(path.name)  # "" or "#2 Title" for a tune in a collection
                items.append((tail, None if problem else named.score, {"reason": problem, "note": named.partial}))
        except ScoreError as error:
            items.append(("", None, {"reason": str(error).split(": ", 1)[-1]}))
            keep = keep and not isinstance(error, ScoreTooSlow)  # a busy machine's verdict is not the file's
        except Exception as error:  # a library bug on a strange file must not stop the corpus
            items.append(("", None, {"reason": f"could not read ({type(error).__name__}: {error})"[:200]}))
        if keep:
            cache.put(key, items)
        cached = items
    for index, (tail, score, extra) in enumerate(cached):
        name = path.name + tail
        if score is None:
            yield FileReport(name, str(path), False, extra.get("reason") or "no notes"), None
            continue
        info = piece_info(score)
        yield (FileReport(name, str(path), True, "", info, extra.get("note", "")),
               Piece(name, path, score, info, f"{key}-{index}"))


def _problem(score: symusic.Score) -> str:
    if note_count(score) == 0:
        return "no notes"
    if score.end() <= 0:
        return "empty (zero length)"
    # a meter, tempo or resolution that cannot be counted in beats (a MIDI time-signature byte of 8
    # reads as 4/0): seeds are refused for it (core.music.scores.load_score), and so is a corpus's piece
    return score_problem(score) or ""


# --- meters the vocabulary keeps --------------------------------------------------------
def unkept_meter_warnings(unkept: dict[str, list[str]], vocabulary: str = "the vocabulary",
                          shown: int = 12) -> list[str]:
    """One line per meter of `pieces_by_unkept_meter`, naming its pieces (the first `shown`, then how many
    more): "2 pieces are in 5/2, a meter the vocabulary lacks, so training reads them in 4/4 bars (bar
    lines moved): a.mid, b.mid"."""
    lines = []
    for meter, names in sorted(unkept.items(), key=lambda item: (-len(item[1]), item[0])):
        listed = ", ".join(printable(name) for name in names[:shown])
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        pieces, them = ("1 piece is", "it") if len(names) == 1 else (f"{len(names)} pieces are", "them")
        lines.append(f"{pieces} in {meter}, a meter {vocabulary} lacks, so training reads {them} in 4/4 bars "
                     f"(bar lines moved): {listed}{more}")
    return lines


# --- per-piece facts -------------------------------------------------------------------
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def _zscore(rows: np.ndarray) -> np.ndarray:
    centred = rows - rows.mean(axis=-1, keepdims=True)
    return centred / np.linalg.norm(centred, axis=-1, keepdims=True)


# The 24 key profiles (12 major tonics, then 12 minor), z-scored once: a correlation per key is
# then one dot product with the z-scored histogram.
_KEY_PROFILES = _zscore(np.array([np.roll(profile, tonic) for profile in (MAJOR_PROFILE, MINOR_PROFILE)
                                  for tonic in range(12)]))
_KEY_NAMES = [f"{PITCH_NAMES[tonic]} {mode}" for mode in ("major", "minor") for tonic in range(12)]


def estimate_key(score: symusic.Score) -> str:
    """Krumhansl-Schmuckler key estimate from duration-weighted pitch classes."""
    histogram = np.zeros(12)
    for track in score.tracks:
        for note in track.notes:
            histogram[note.pitch % 12] += note.duration
    if not histogram.any() or np.ptp(histogram) == 0:
        return "unknown"
    return _KEY_NAMES[int(np.argmax(_KEY_PROFILES @ _zscore(histogram)))]


def key_from_signature(score: symusic.Score) -> str | None:
    if not score.key_signatures:
        return None
    ks = score.key_signatures[0]
    major_tonic = (ks.key * 7) % 12  # sharps move the tonic up by fifths
    if ks.tonality == 1:
        return f"{PITCH_NAMES[(major_tonic + 9) % 12]} minor"
    # A key signature alone cannot tell major from its relative minor: ask the pitches. Baroque
    # minor keys are often written with one flat fewer (the Dorian signature: BWV 1007's Menuet II
    # is in G minor under one flat): where the pitches say that minor key, it is the piece's key.
    estimated = estimate_key(score)
    relative_minor = f"{PITCH_NAMES[(major_tonic + 9) % 12]} minor"
    dorian = f"{PITCH_NAMES[(major_tonic + 2) % 12]} minor"  # a fourth above the relative minor
    if estimated in (relative_minor, dorian):
        return estimated
    return f"{PITCH_NAMES[major_tonic]} major"


def piece_info(score: symusic.Score) -> PieceInfo:
    pitches = [n.pitch for t in score.tracks for n in t.notes]
    ts = score.time_signatures[0] if score.time_signatures else None
    bars = len(score.get_downbeats()) if score.end() > 0 else 0
    try:
        duration = float(score.to("second").end())
    except Exception:
        duration = 0.0
    return PieceInfo(
        notes=len(pitches),
        bars=bars,
        key=key_from_signature(score) or estimate_key(score),
        time_signature=f"{ts.numerator}/{ts.denominator}" if ts else "4/4",
        duration_s=round(duration, 2),
        lowest=min(pitches),
        highest=max(pitches),
    )


# --- splitting -------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    train: list[Piece]
    validation: list[Piece]
    test: list[Piece]

    def names(self) -> dict[str, list[str]]:
        return {part: [p.name for p in getattr(self, part)] for part in ("train", "validation", "test")}


def split_by_piece(pieces: Sequence[Piece], seed: int = 0, validation: float = 0.1, test: float = 0.1) -> Split:
    """A deterministic split of whole pieces: no piece contributes to two parts.

    With 3 or more pieces, validation gets at least one; with 4 or more, test does too.
    """
    ordered = sorted(pieces, key=lambda p: p.name)
    random.Random(seed).shuffle(ordered)
    n = len(ordered)
    n_val = max(1 if n >= 3 else 0, round(n * validation))
    n_test = max(1 if n >= 4 else 0, round(n * test)) if test > 0 else 0
    return Split(
        train=ordered[n_val + n_test:],
        validation=ordered[:n_val],
        test=ordered[n_val:n_val + n_test],
    )


def transposition_range(
    piece_range: tuple[int, int], corpus_range: tuple[int, int], max_shift: int = 5, margin: int = 2
) -> list[int]:
    """Semitone shifts that keep a piece inside the corpus's own range plus a margin."""
    low, high = corpus_range[0] - margin, corpus_range[1] + margin
    return [s for s in range(-max_shift, max_shift + 1) if piece_range[0] + s >= low and piece_range[1] + s <= high]
