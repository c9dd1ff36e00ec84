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

from core.notation.quantize import QNote

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


def split_voices(notes: tuple[QNote, ...], *, trim_overlaps: bool) -> VoiceSplit:
    real = _dedupe([n for n in notes if not n.grace], same_end_only=not trim_overlaps)
    trimmed = 0
    if trim_overlaps:
        real, trimmed = _trim_legato(real)
    groups: dict[tuple[Fraction, Fraction], list[QNote]] = {}
    for note in real:
        groups.setdefault((note.onset, note.end), []).append(note)
    chords = sorted(
        (
            Event(on, end, tuple(sorted(n.pitch for n in members)), max(n.velocity for n in members))
            for (on, end), members in groups.items()
        ),
        key=lambda e: (e.onset, -e.pitches[-1]),
    )
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


def _dedupe(notes: list[QNote], *, same_end_only: bool) -> list[QNote]:
    """The same pitch struck twice at one onset is one note (the longer). Written music may hold
    a unison in two voices with different lengths (`same_end_only`): those stay two notes."""
    best: dict[tuple, QNote] = {}
    for note in notes:
        key = (note.onset, note.pitch, note.end) if same_end_only else (note.onset, note.pitch)
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
    out, trimmed = [], 0
    for note in notes:
        end = note.end
        chord_end = longest[note.onset]
        if end != chord_end and (end - note.onset) * 2 >= chord_end - note.onset:
            end = chord_end
        nxt = following.get(note.onset)
        if nxt is not None and end > nxt and (end - nxt) * 2 <= end - note.onset:
            end = nxt
        trimmed += end < note.end
        out.append(replace(note, end=end) if end != note.end else note)
    return out, trimmed


def _attach_graces(voices: list[list[Event]], graces: list[QNote]) -> list[list[Event]]:
    """Each grace note goes before the first voice's chord that starts at its onset."""
    for grace in graces:
        for voice in voices:
            index = next((i for i, e in enumerate(voice) if e.onset == grace.onset), None)
            if index is not None:
                voice[index] = replace(voice[index], graces=voice[index].graces + (grace.pitch,))
                break
    return voices
