"""Split one track's quantized notes into at most four voices of non-overlapping chords.

A notation staff holds up to four voices; in each voice events follow one another without
overlapping. Notes that start and end together become one chord. Where notes overlap:

* ``trim`` (performance MIDI, legato playing): a note that rings on into the next onset for
  less than half its length is cut at that onset, so a single melodic line stays one voice;
* otherwise (a held bass under a moving line, double stops of unequal length) the notes go to
  separate voices, exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from core.music.notation.quantize import QNote

MAX_VOICES = 4  # MusicXML and MuseScore: four voices per staff


@dataclass(frozen=True)
class Event:
    """A chord (or single note) in one voice; positions in quarters."""

    onset: Fraction
    end: Fraction
    pitches: tuple[int, ...]  # low to high
    velocity: int
    graces: tuple[int, ...] = ()  # grace-note pitches played just before, in order


@dataclass(frozen=True)
class VoiceSplit:
    voices: tuple[tuple[Event, ...], ...]  # voice 1 first; each sorted by onset, no overlaps
    trimmed: int  # notes shortened to keep a line clean (or to fit four voices)


def tidy_overlaps(notes: tuple[QNote, ...]) -> tuple[tuple[QNote, ...], int]:
    """A performance's notes as a reader means them: the same key struck twice at once is one note,
    and legato overlaps are cut (see the module's docstring); and how many notes were shortened."""
    real, trimmed = _trim_legato(_dedupe([n for n in notes if not n.grace]))
    kept = sorted(real + [n for n in notes if n.grace], key=lambda n: (n.onset, not n.grace, n.pitch))
    return tuple(kept), trimmed


def split_voices(notes: tuple[QNote, ...]) -> VoiceSplit:
    """`notes` (tidied first where they are a performance: `tidy_overlaps`) in at most four voices;
    `trimmed` counts the notes cut to fit them."""
    trimmed = 0
    real = [n for n in notes if not n.grace]
    groups: dict[tuple[Fraction, Fraction], list[QNote]] = {}
    for note in real:
        groups.setdefault((note.onset, note.end), []).append(note)
    chords = []
    for (on, end), members in groups.items():
        # A unison written in two voices (same pitch, onset and length) stays two notes: the
        # repeats go to a chord of their own, hence to another voice.
        while members:
            unique: dict[int, QNote] = {}
            rest = []
            for note in members:
                if note.pitch in unique:
                    rest.append(note)
                else:
                    unique[note.pitch] = note
            pitches = tuple(sorted(unique))
            chords.append(Event(on, end, pitches, max(n.velocity for n in unique.values())))
            members = rest
    chords.sort(key=lambda e: (e.onset, -e.pitches[-1]))
    voices: list[list[Event]] = []
    for chord in chords:
        free = [v for v in voices if v[-1].end <= chord.onset]
        if free:
            free[0].append(chord)
        elif len(voices) < MAX_VOICES:
            voices.append([chord])
        else:  # a fifth simultaneous line: cut the voice that would end soonest
            voice = min(voices, key=lambda v: v[-1].end)
            last = voice[-1]
            if last.onset < chord.onset:
                voice[-1] = replace(last, end=chord.onset)
                voice.append(chord)
            trimmed += len(chord.pitches)
    voices = _attach_graces(voices, [n for n in notes if n.grace])
    return VoiceSplit(tuple(tuple(v) for v in voices), trimmed)


def _dedupe(notes: list[QNote]) -> list[QNote]:
    """The same pitch struck twice at one onset is one note (the longer)."""
    best: dict[tuple, QNote] = {}
    for note in notes:
        key = (note.onset, note.pitch)
        if key not in best or note.end > best[key].end:
            best[key] = note
    return sorted(best.values(), key=lambda n: (n.onset, n.pitch))


def _trim_legato(notes: list[QNote]) -> tuple[list[QNote], int]:
    onsets = sorted({n.onset for n in notes})
    following = {a: b for a, b in zip(onsets, onsets[1:], strict=False)}
    # notes struck together end together when their lengths are close (a played chord)
    longest: dict[Fraction, Fraction] = {}
    for note in notes:
        longest[note.onset] = max(longest.get(note.onset, note.end), note.end)
    # A line that is nearly always one note at a time (a horn solo, a cello line played legato)
    # is one voice: then every overlap is legato, however long.
    monophonic = _mostly_single(notes)
    out, trimmed = [], 0
    for note in notes:
        end = note.end
        chord_end = longest[note.onset]
        if end != chord_end and (monophonic or (end - note.onset) * 2 >= chord_end - note.onset):
            end = chord_end
        nxt = following.get(note.onset)
        if nxt is not None and end > nxt and (monophonic or (end - nxt) * 2 <= end - note.onset):
            end = nxt
        trimmed += end < note.end
        out.append(replace(note, end=end) if end != note.end else note)
    return out, trimmed


def _mostly_single(notes: list[QNote]) -> bool:
    """True when at most a tenth of the onsets strike more than one note."""
    onsets: dict[Fraction, int] = {}
    for note in notes:
        onsets[note.onset] = onsets.get(note.onset, 0) + 1
    return sum(1 for count in onsets.values() if count > 1) <= 0.1 * max(1, len(onsets))


def _attach_graces(voices: list[list[Event]], graces: list[QNote]) -> list[list[Event]]:
    """Each grace note goes before the first voice's chord that starts at its onset."""
    for grace in graces:
        for voice in voices:
            index = next((i for i, e in enumerate(voice) if e.onset == grace.onset), None)
            if index is not None:
                voice[index] = replace(voice[index], graces=voice[index].graces + (grace.pitch,))
                break
    return voices
