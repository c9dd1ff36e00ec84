"""Chord symbols: read them (the Weimar Jazz Database's spelling and the usual lead-sheet one),
reduce them to a root and one of a few qualities, and lay a typed progression out beat by beat.

A chord-aware model (`TokenizerSettings.use_chords`) reads the harmony of each bar before its
notes, one `Chord` token per beat right after the bar's meter, as a lead sheet shows it above the
staff. What it learns from are the `chord:SYMBOL` markers of the WJazzD files
(`../shared/data/wjazzd-beats`); what it follows is the seed's markers or a progression the user
types (`parse_progression`).

Qualities (what a soloist hears in a chord): maj (triads, 6, maj7), min (m, m6, m7, m-maj7), dom
(7, 9, 13, alt), hdim (m7b5), dim (o, o7), aug (+, +7), sus (sus, sus7); tensions and slash basses
are dropped. "NC" is no chord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

QUALITIES = ("maj", "min", "dom", "hdim", "dim", "aug", "sus")
NO_CHORD = "NC"
NOTE_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
SPELLING = {"maj": "maj7", "min": "m7", "dom": "7", "hdim": "m7b5", "dim": "o7", "aug": "+", "sus": "7sus"}
# the pitch classes a soloist treats as chord tones (root, third or fourth, fifth, seventh)
CHORD_TONES = {"maj": (0, 4, 7, 11, 9), "min": (0, 3, 7, 10), "dom": (0, 4, 7, 10), "hdim": (0, 3, 6, 10),
               "dim": (0, 3, 6, 9), "aug": (0, 4, 8, 10), "sus": (0, 5, 7, 10)}
MARKER_PREFIX = "chord:"

_ROOT = re.compile(r"^([A-Ga-g])([#b]*)(.*)$")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class 0-11 (C = 0); -1 for no chord
    quality: str  # one of QUALITIES, or NO_CHORD

    @property
    def is_chord(self) -> bool:
        return self.quality != NO_CHORD

    def name(self) -> str:
        """The usual spelling: Dm7, G7, Cmaj7, Bm7b5, ..., NC."""
        return NO_CHORD if not self.is_chord else NOTE_NAMES[self.root] + SPELLING[self.quality]

    def transposed(self, semitones: int) -> Chord:
        return self if not self.is_chord else Chord((self.root + semitones) % 12, self.quality)

    def tones(self) -> frozenset[int]:
        """Pitch classes of its chord tones (none for NC)."""
        if not self.is_chord:
            return frozenset()
        return frozenset((self.root + step) % 12 for step in CHORD_TONES[self.quality])


NC = Chord(-1, NO_CHORD)


def parse_chord(symbol: str) -> Chord:
    """A chord from its symbol, WJazzD's (`C-7`, `Fj7`, `Bbo7`, `Dm7b5`, `F79b`, `Bb7/D`) or the usual
    one (`Cm7`, `Cmaj7`, `CΔ`, `Bø`, `C°7`, `Cmin7`, `G13`); ValueError names what it cannot read."""
    text = symbol.strip()
    if text.upper() in ("NC", "N.C.", "N.C"):
        return NC
    match = _ROOT.match(text)
    if not match:
        raise ValueError(f"{symbol!r} is not a chord symbol (expected a root A-G, e.g. Dm7, G7, Cmaj7, NC)")
    letter, accidentals, rest = match.groups()
    root = (_LETTERS[letter.upper()] + accidentals.count("#") - accidentals.count("b")) % 12
    quality = _quality(rest.split("/", 1)[0])
    if quality is None:
        raise ValueError(f"{symbol!r}: cannot read the chord's quality {rest!r} (e.g. m7, 7, maj7, m7b5, o7, +, sus)")
    return Chord(root, quality)


def _quality(rest: str) -> str | None:
    text = rest.replace("Δ", "maj").replace("ø", "m7b5").replace("°", "o")
    lower = text.lower()
    if "m7b5" in lower or "-7b5" in lower or lower.startswith("h"):
        return "hdim"
    if lower.startswith(("o", "dim")):
        return "dim"
    if lower.startswith(("+", "aug")):
        return "aug"
    if "sus" in lower:
        return "sus"
    if text.startswith(("maj", "Maj", "M", "j", "^")):
        return "maj"
    if text.startswith(("-", "m", "min")):
        return "min"
    if lower.startswith(("7", "9", "11", "13", "alt")):
        return "dom"
    if lower == "" or lower.startswith(("6", "add", "2", "5")):
        return "maj"
    return None


def marker_chord(text: str) -> Chord | None:
    """The chord of a `chord:SYMBOL` marker (None: another marker, or a symbol that does not read)."""
    if not text.startswith(MARKER_PREFIX):
        return None
    try:
        return parse_chord(text[len(MARKER_PREFIX):])
    except ValueError:
        return None


def parse_progression(text: str, beats_per_bar: int = 4) -> list[list[Chord]]:
    """Bars of per-beat chords from a typed progression.

    Bars are separated by `|`, and the chords inside one bar share it evenly (`Dm7 G7 | Cmaj7`:
    two beats each, then a whole bar). Without any `|`, each chord is one bar (`Dm7 G7 Cmaj7`).
    A bar that cannot share its beats evenly (three chords in 4/4) gives the remainder to the last.
    """
    if not text.strip():
        return []
    groups = [part.split() for part in text.split("|")] if "|" in text else [[word] for word in text.split()]
    bars = []
    for number, symbols in enumerate(groups, start=1):
        if not symbols:
            continue
        if len(symbols) > beats_per_bar:
            raise ValueError(f"bar {number} of the progression has {len(symbols)} chords for {beats_per_bar} beats")
        chords = [parse_chord(symbol) for symbol in symbols]
        each = beats_per_bar // len(chords)
        beats = [chord for chord in chords for _ in range(each)]
        beats += [chords[-1]] * (beats_per_bar - len(beats))
        bars.append(beats)
    return bars
