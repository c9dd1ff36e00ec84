"""Read back what a MusicXML file says, to check an export (or MuseScore's copy of it).

`read_notes` follows ties within each part and voice, which music21's ``stripTies`` on a
flattened part does not do reliably once two voices tie the same pitch. Positions are shifted
like `core.music.scores` shifts them (a pickup bar keeps its place before the first bar line), so they
compare directly with `core.music.notation.written_notes` of the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class ReadBack:
    notes: list[tuple[Fraction, Fraction, int]]  # (onset, duration, pitch) in quarters; grace: duration 0
    measures: int
    not_full: list[str]  # "part/measure/voice: has X of Y quarters" for every short or long voice
    time_signatures: list[str]
    clefs: list[str]
    key_sharps: list[int]
    part_names: list[str]


def read_notes(path: str | Path) -> ReadBack:
    from music21 import converter

    parsed = converter.parse(str(path), forceSource=True)
    notes: list[tuple[Fraction, Fraction, int]] = []
    not_full: list[str] = []
    signatures: list[str] = []
    clefs: list[str] = []
    keys: list[int] = []
    names: list[str] = []
    measure_count = 0
    for part_index, part in enumerate(parsed.parts):
        names.append((part.partName or "").strip())
        measures = list(part.getElementsByClass("Measure"))
        measure_count = max(measure_count, len(measures))
        shift = Fraction(0)
        if measures:
            first = measures[0]
            ts = first.timeSignature or first.getContextByClass("TimeSignature")
            bar = Fraction(ts.barDuration.quarterLength).limit_denominator(1000) if ts else Fraction(4)
            length = _measure_length(first)
            if len(measures) > 1 and length < bar:
                shift = bar - length
        open_ties: dict[tuple[str, int], int] = {}  # (voice, pitch) -> index in notes
        bar_length = Fraction(4)
        for number, measure in enumerate(measures):
            if measure.timeSignature is not None:
                bar_length = Fraction(measure.timeSignature.barDuration.quarterLength).limit_denominator(1000)
                if part_index == 0:
                    signatures.append(measure.timeSignature.ratioString)
            if part_index == 0:
                clefs.extend(c.sign + str(c.line) for c in measure.getElementsByClass("Clef"))
                keys.extend(k.sharps for k in measure.getElementsByClass("KeySignature"))
            start = Fraction(measure.offset).limit_denominator(10000) + shift
            voices = list(measure.voices) or [measure]
            expected = bar_length if 0 < number < len(measures) - 1 else _measure_length(measure)
            for voice in voices:
                voice_id = str(voice.id) if voice is not measure else "1"
                filled = Fraction(0)
                for element in voice.notesAndRests:
                    if "Harmony" in element.classes:  # a chord symbol over the staff: not played
                        continue
                    onset = start + Fraction(element.offset).limit_denominator(10000)
                    length = Fraction(element.duration.quarterLength).limit_denominator(10000)
                    filled += length
                    if element.isRest:
                        continue
                    tie = element.tie.type if element.tie is not None else None
                    for pitch_object in element.pitches:
                        pitch = pitch_object.midi
                        key = (voice_id, pitch)
                        if tie in ("stop", "continue") and key in open_ties:
                            index = open_ties[key]
                            first_onset, duration, _ = notes[index]
                            notes[index] = (first_onset, duration + length, pitch)
                            if tie == "stop":
                                del open_ties[key]
                            continue
                        notes.append((onset, length, pitch))
                        if tie in ("start", "continue"):
                            open_ties[key] = len(notes) - 1
                if filled != expected:
                    not_full.append(
                        f"part {part_index + 1} measure {measure.number} voice {voice_id}: "
                        f"{filled} of {expected} quarters"
                    )
    return ReadBack(sorted(notes), measure_count, not_full, signatures, clefs, keys, names)


def _measure_length(measure) -> Fraction:
    voices = list(measure.voices) or [measure]
    return max(
        (
            sum(
                (Fraction(e.duration.quarterLength).limit_denominator(10000) for e in v.notesAndRests),
                Fraction(0),
            )
            for v in voices
        ),
        default=Fraction(0),
    )
