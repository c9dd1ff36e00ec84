"""Build a music21 Score (parts, measures, voices, ties, clefs, keys) from a `symusic.Score`.

This is the only module of `core.music.notation` that touches music21, which it imports lazily. The
musical decisions (grid, voices, note values, clefs, key) are made by the pure modules beside it;
here they are only turned into music21 objects, so MusicXML comes out already measured, tied and
voiced, and music21's own guessing (`makeNotation`) has nothing left to change but beams.
"""

from __future__ import annotations

import bisect
import functools
import statistics
from dataclasses import dataclass, field, replace
from fractions import Fraction

import symusic

from core.music.instruments import program_name
from core.music.markers import CONTINUATION_MARKER, END_MARKER, is_marker
from core.music.notation.bars import Bar, make_bars, time_signature_changes
from core.music.notation.keys import choose_clefs, clefs_for, estimate_key
from core.music.notation.quantize import Quantized, quantize
from core.music.notation.rhythm import split_span
from core.music.notation.staves import LOWER_CLEFS, UPPER_CLEFS, split_staves, wants_grand_staff
from core.music.notation.voices import Event, VoiceSplit, split_voices, tidy_overlaps

_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")


@dataclass(frozen=True)
class NotationOptions:
    """How to write a score as notation. Defaults suit a take or a corpus piece."""

    title: str = ""  # printed at the top; empty: no title
    corpus_name: str = ""  # printed as "after <corpus_name>" where the composer goes
    program: int | None = None  # General MIDI program for every part (42 = cello); None: the track's
    part_name: str | None = None  # None: the track name, or the instrument's name
    swing: bool | None = None  # write swing eighths straight with a "Swing" mark; None: detect
    overlaps: str = "auto"  # "voices" keeps overlaps as voices, "trim" cuts legato overlaps, "auto"
    pickup: bool | None = None  # first bar as a pickup when the music starts inside it; None: when
    # the first note comes in the second half of the first bar


@dataclass(frozen=True)
class NotationReport:
    """What the conversion decided, for the CLI and tests."""

    parts: int
    measures: int
    exact: bool  # source already on the grid: notes kept exactly
    swing: bool
    pickup: Fraction  # length of the pickup (anacrusis) bar in quarters; 0: none
    key_sharps: int
    key_from_analysis: bool
    trimmed_notes: int
    max_voices: int
    clefs: tuple[str, ...] = field(default=())  # clefs used by the first part (its staves), in order of appearance
    drum_notes: int = 0  # notes of drum tracks, left out: the notation writes pitched parts only
    grand_staff: bool = False  # a part is written on two staves (`core.music.notation.staves`)


@dataclass(frozen=True)
class Staff:
    """One staff of a part: its voices and the clefs it may take, home clef first."""

    split: VoiceSplit
    clefs: tuple[str, ...]


def to_music21(score: symusic.Score, options: NotationOptions | None = None):
    """Return (music21.stream.Score, NotationReport)."""
    options = options or NotationOptions()
    from music21 import layout, metadata, stream

    tpq = score.ticks_per_quarter
    tracks, quantized, staves, changes = _plan(score, options)
    splits = [staff.split for part in staves for staff in part]

    events = [e for s in splits for v in s.voices for e in v]
    end = max((e.end for e in events), default=Fraction(0))
    # a take marks its last bar line with an "end" marker: a final bar of rests still counts
    end = max([end] + [Fraction(int(m.time), tpq) for m in score.markers if is_marker(m.text, END_MARKER)])
    first = min((e.onset for e in events), default=Fraction(0))
    first_bar_length = make_bars(changes, Fraction(1))[0].length
    pickup = Fraction(0)
    # A pickup is at most half a bar (Bach's courantes: a sixteenth or an eighth; gavottes: half a
    # bar); music that starts a little late (after a sixteenth rest) starts in a full first bar.
    starts_late = 0 < first < first_bar_length and first * 2 >= first_bar_length
    if options.pickup or (options.pickup is None and starts_late and end > first_bar_length):
        pickup = first if 0 < first < first_bar_length else Fraction(0)
    bars = make_bars(changes, max(end, Fraction(1)), pickup=pickup)

    key_sharps, key_changes, analysed = _keys(score, quantized, bars)
    m21 = stream.Score()
    m21.metadata = metadata.Metadata()
    m21.metadata.title = options.title or ""
    m21.metadata.movementName = options.title or ""
    if options.corpus_name:
        m21.metadata.composer = f"after {options.corpus_name}"
    # a creator of our own, so music21 does not print its default composer ("Music21")
    m21.metadata.addContributor(metadata.Contributor(role="arranger", name="Partita"))
    tempo = _notation_tempo(score)
    marker_positions = [
        Fraction(int(m.time), tpq) for m in score.markers if is_marker(m.text, CONTINUATION_MARKER)
    ]
    chords = _chord_changes(score)
    clefs_used: tuple[str, ...] = ()
    for index, (track, part_staves) in enumerate(zip(tracks, staves, strict=True)):
        built = []
        for number, staff in enumerate(part_staves):
            top_staff = index == 0 and number == 0  # the tempo, swing mark and markers go over it
            part, clefs = _build_part(
                track,
                staff,
                bars,
                key_changes,
                options,
                on_grand_staff=len(part_staves) > 1,
                tempo=tempo if top_staff else None,
                swing=quantized.swing and top_staff,
                markers=marker_positions if top_staff else [],
                chords=chords if top_staff else [],
            )
            m21.insert(0, part)
            built.append(part)
            if index == 0:  # the first part's clefs, of both its staves on a grand staff
                clefs_used += tuple(c for c in clefs if c not in clefs_used)
        if len(built) > 1:
            m21.insert(0, layout.StaffGroup(built, name=built[0].partName, symbol="brace", barTogether=True))
    report = NotationReport(
        parts=len(tracks),
        measures=len(bars),
        exact=quantized.exact,
        swing=quantized.swing,
        pickup=bars[0].length if pickup else Fraction(0),
        key_sharps=key_sharps,
        key_from_analysis=analysed,
        trimmed_notes=sum(s.trimmed for s in splits),
        max_voices=max((len(s.voices) for s in splits), default=0),
        clefs=clefs_used,
        drum_notes=sum(len(t.notes) for t in score.tracks if t.is_drum),
        grand_staff=any(len(part) > 1 for part in staves),
    )
    return m21, report


def _notation_tempo(score: symusic.Score) -> float:
    """One metronome mark: the first tempo, or the median of a performance's dense tempo map."""
    tempos = [t.qpm for t in score.tempos]
    if not tempos:
        return 120.0
    return tempos[0] if len(tempos) <= 4 else statistics.median(tempos)


def _keys(score: symusic.Score, quantized: Quantized, bars: list[Bar]):
    """(first key's sharps, {bar index: sharps} of every change, whether it was analysed)."""
    tpq = score.ticks_per_quarter
    starts = [b.start for b in bars]
    changes: dict[int, int] = {}
    for ks in sorted(score.key_signatures, key=lambda k: k.time):
        position = Fraction(int(ks.time), tpq)
        index = max(0, sum(1 for s in starts if s <= position) - 1)
        if -7 <= ks.key <= 7:
            changes[index] = int(ks.key)
    analysed = not changes
    if analysed:
        notes = [(n.pitch, float(n.end - n.onset)) for track in quantized.tracks for n in track]
        changes[0] = estimate_key(notes).sharps
    changes.setdefault(0, changes[min(changes)])
    compact, previous = {}, None
    for index in sorted(changes):
        if changes[index] != previous:
            compact[index] = changes[index]
            previous = changes[index]
    return compact[0], compact, analysed


def _pitch_name(midi: int, sharps: int) -> str:
    names = _FLAT_NAMES if sharps < 0 else _SHARP_NAMES
    return f"{names[midi % 12]}{midi // 12 - 1}"


def _program_and_name(track: symusic.Track, options: NotationOptions) -> tuple[int, str]:
    """The General MIDI program a part is written for, and the name printed before its staff."""
    program = options.program if options.program is not None else int(track.program)
    if options.part_name:
        return program, options.part_name
    if options.program is not None or not track.name.strip():
        return program, program_name(program)  # as the MIDI track of the same take is named
    return program, track.name.strip()


def _instrument(track: symusic.Track, options: NotationOptions):
    from music21 import instrument

    program, name = _program_and_name(track, options)
    try:
        inst = instrument.instrumentFromMidiProgram(program)
    except Exception:  # music21 knows most, not all, of the 128 programs
        inst = instrument.Instrument()
        inst.midiProgram = program
    inst.partName = name
    inst.instrumentName = name
    return inst, program, name


def _chord_changes(score: symusic.Score) -> list[tuple[Fraction, str]]:
    """(quarter notes, the usual spelling) of each change of the score's `chord:` markers."""
    from core.music.chords import marker_chord

    changes = sorted((Fraction(int(m.time), score.ticks_per_quarter), chord) for m in score.markers
                     if (chord := marker_chord(m.text)) is not None)
    out: list[tuple[Fraction, str]] = []
    for position, chord in changes:
        if out and out[-1][0] == position:
            out.pop()  # two on one tick: the last one holds
        if not out or out[-1][1] != chord.name():
            out.append((position, chord.name()))
    return out


def _chord_symbol(name: str):
    """A music21 chord symbol shown above the staff (not played), or the name as text where music21
    does not read it."""
    from music21 import expressions, harmony

    if name == "NC":
        return harmony.NoChord()
    figure = name[0] + "-" + name[2:] if name[1:2] == "b" else name  # music21 writes a flat root B-
    figure = figure.replace("7sus", "7sus4")
    try:
        symbol = harmony.ChordSymbol(figure)
    except Exception:  # noqa: BLE001 (music21 raises several kinds for a figure it cannot parse)
        return expressions.TextExpression(name)
    symbol.writeAsChord = False
    return symbol


def _build_part(track, staff: Staff, bars, key_changes, options, *, on_grand_staff, tempo, swing, markers, chords=()):
    """One staff's part (a `PartStaff` of a grand staff when `on_grand_staff`), and the clefs it used."""
    from music21 import clef, expressions, key, meter, stream
    from music21 import tempo as m21tempo

    inst, _, name = _instrument(track, options)
    voices = staff.split.voices
    part = stream.PartStaff() if on_grand_staff else stream.Part()
    part.partName = name
    part.insert(0, inst)
    pitches_by_bar = _pitches_by_bar(voices, bars)
    clef_names = choose_clefs(pitches_by_bar, staff.clefs)
    clef_classes = {"bass": clef.BassClef, "tenor": clef.TenorClef, "alto": clef.AltoClef, "treble": clef.TrebleClef}
    sharps = key_changes[0]
    previous_ts = None
    previous_clef = None
    used_clefs: list[str] = []
    cursors = [0] * len(voices)  # first event of each voice that may still sound in this bar
    pickup = bars[0].length < Fraction(bars[0].numerator * 4, bars[0].denominator)
    for index, bar in enumerate(bars):
        measure = stream.Measure(number=index if pickup else index + 1)
        if index == 0 and pickup:
            measure.showNumber = stream.enums.ShowNumber.NEVER  # MusicXML implicit="yes"
            measure.paddingLeft = float(Fraction(bar.numerator * 4, bar.denominator) - bar.length)
        elif bar.length < Fraction(bar.numerator * 4, bar.denominator):  # cut short by a meter change
            measure.paddingRight = float(Fraction(bar.numerator * 4, bar.denominator) - bar.length)
        if clef_names[index] != previous_clef:
            measure.insert(0, clef_classes[clef_names[index]]())
            previous_clef = clef_names[index]
            if previous_clef not in used_clefs:
                used_clefs.append(previous_clef)
        if index in key_changes:
            sharps = key_changes[index]
            measure.insert(0, key.KeySignature(sharps))
        signature = (bar.numerator, bar.denominator)
        if signature != previous_ts:
            measure.insert(0, meter.TimeSignature(f"{bar.numerator}/{bar.denominator}"))
            previous_ts = signature
        if index == 0 and tempo is not None:
            measure.insert(0, m21tempo.MetronomeMark(number=round(tempo)))
        if index == 0 and swing:
            measure.insert(0, expressions.TextExpression("Swing"))
        voice_streams = []
        for number, voice in enumerate(voices):
            while cursors[number] < len(voice) and voice[cursors[number]].end <= bar.start:
                cursors[number] += 1
            if number > 0 and not _sounds_in(voice, cursors[number], bar):
                continue
            voice_streams.append(_voice_in_bar(voice, cursors[number], bar, sharps, hidden_rests=number > 0))
        if not voices:
            voice_streams.append(_voice_in_bar((), 0, bar, sharps, hidden_rests=False))
        if len(voice_streams) == 1:
            for element in voice_streams[0]:
                measure.append(element)
            _beam_and_bracket(measure, bar)
            marked = measure
        else:
            for number, elements in enumerate(voice_streams, start=1):
                voice_stream = stream.Voice(id=str(number))
                for element in elements:
                    voice_stream.append(element)
                _beam_and_bracket(voice_stream, bar)
                measure.insert(0, voice_stream)
            marked = None
        # Marks go in after the notes: Measure.append places an element after the highest
        # offset, so a mark inserted first (mid-bar) would push the bar's notes behind it.
        for position in markers:
            if bar.start <= position < bar.end:
                offset = float(position - bar.start)
                target = marked or _voice_with_onset(measure, offset)
                target.insert(offset, expressions.TextExpression(CONTINUATION_MARKER))
        for position, name in chords:  # the chord symbols of a jazz take, over the staff
            if bar.start <= position < bar.end:
                offset = float(position - bar.start)
                (marked or _voice_with_onset(measure, offset)).insert(offset, _chord_symbol(name))
        part.append(measure)
    # Courtesy and necessary accidentals against the key signature, bar by bar (ties carry none).
    stream.makeNotation.makeAccidentalsInMeasureStream(part, cautionaryNotImmediateRepeat=False)
    return part, tuple(used_clefs)


def _voice_with_onset(measure, offset: float):
    """The voice with a note or rest starting at `offset`: a mark placed there is written in time
    order among its notes. Elsewhere (at the measure's level, or in a voice holding a note across
    it) it would get an <offset>, which MuseScore 3 ignores (it printed at the bar line)."""
    for voice in measure.voices:
        if any(element.offset == offset for element in voice.notesAndRests):
            return voice
    return measure.voices[0]


@functools.lru_cache(maxsize=32)
def _time_signature(numerator: int, denominator: int):
    """One music21 TimeSignature per meter, reused for beaming (building one is slow)."""
    from music21 import meter

    return meter.TimeSignature(f"{numerator}/{denominator}")


def _beam_and_bracket(container, bar: Bar) -> None:
    """Beams by the meter's beat groups and tuplet brackets, the only notation music21 adds."""
    from music21 import stream

    ts = _time_signature(bar.numerator, bar.denominator)
    notes = list(container.notesAndRests)
    try:
        beams = ts.getBeams(
            notes, measureStartOffset=float(bar.start - (bar.end - ts.barDuration.quarterLength))
        )
        for element, beam in zip(notes, beams, strict=True):
            element.beams = beam if beam is not None else element.beams
    except Exception:  # irregular content (a cut bar): unbeamed notes are still correct notation
        pass
    stream.makeNotation.makeTupletBrackets(container, inPlace=True)


def _sounds_in(voice: tuple[Event, ...], cursor: int, bar: Bar) -> bool:
    return cursor < len(voice) and voice[cursor].onset < bar.end


def _pitches_by_bar(voices, bars: list[Bar]) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in bars]
    starts = [b.start for b in bars]
    for voice in voices:
        for event in voice:
            index = max(0, bisect.bisect_right(starts, event.onset) - 1)
            out[index].extend(event.pitches)
    return out


def _voice_in_bar(voice, cursor: int, bar: Bar, sharps: int, *, hidden_rests: bool) -> list:
    """Notes, chords and rests filling the whole bar for one voice, tied where events continue."""
    from music21 import chord, duration, note, tie

    elements = []
    position = bar.start

    def rests(until: Fraction) -> None:
        for start, stop in split_span(position, until, bar):
            rest = note.Rest(quarterLength=stop - start)
            if start == bar.start and stop == bar.end:
                rest.fullMeasure = True
            if hidden_rests:
                rest.style.hideObjectOnPrint = True
            elements.append(rest)

    index = cursor
    while index < len(voice) and voice[index].onset < bar.end:
        event = voice[index]
        start = max(event.onset, bar.start)
        stop = min(event.end, bar.end)
        if start > position:
            rests(start)
        if event.onset >= bar.start:
            for grace in event.graces:
                g = note.Note(_pitch_name(grace, sharps))
                g.duration = duration.Duration("eighth")
                elements.append(g.getGrace())
        for a, b in split_span(start, stop, bar):
            names = [_pitch_name(p, sharps) for p in event.pitches]
            element = note.Note(names[0]) if len(names) == 1 else chord.Chord(names)
            element.duration = duration.Duration(b - a)
            element.volume.velocity = event.velocity
            begins = a == event.onset
            ends = b == event.end
            if not (begins and ends):
                element.tie = tie.Tie("start" if begins else "stop" if ends else "continue")
            elements.append(element)
        position = stop
        if event.end > bar.end:
            break
        index += 1
    if position < bar.end:
        rests(bar.end)
    return elements


def _plan(score: symusic.Score, options: NotationOptions):
    """The musical decisions: (tracks written, quantized notes, the staves of each track's part,
    time signatures)."""
    tpq = score.ticks_per_quarter
    tracks = [t for t in score.tracks if not t.is_drum] or [
        symusic.Track(name="", program=options.program or 0)
    ]
    pitched = symusic.Score(tpq)
    pitched.tracks.extend(tracks)
    changes = time_signature_changes(score)
    raw_end = max(
        (Fraction(int(n.time + n.duration), tpq) for t in tracks for n in t.notes), default=Fraction(0)
    )
    quantized = quantize(pitched, make_bars(changes, raw_end + 8), swing=options.swing)
    trim = options.overlaps == "trim" or (options.overlaps == "auto" and not quantized.exact)
    staves: list[tuple[Staff, ...]] = []
    for track, notes in zip(tracks, quantized.tracks, strict=True):
        clefs = clefs_for(*_program_and_name(track, options))
        tidied = 0
        if trim:  # a legato line's overlaps are not two voices: tidied before the staves are chosen
            notes, tidied = tidy_overlaps(notes)
        if wants_grand_staff(notes, clefs):
            upper, lower = split_staves(notes)
            parts = [(split_voices(upper), UPPER_CLEFS), (split_voices(lower), LOWER_CLEFS)]
        else:
            parts = [(split_voices(notes), clefs)]
        first, first_clefs = parts[0]  # the notes tidied are counted with the first staff's own cuts
        parts[0] = (replace(first, trimmed=first.trimmed + tidied), first_clefs)
        staves.append(tuple(Staff(split, staff_clefs) for split, staff_clefs in parts))
    return tracks, quantized, staves, changes


def written_notes(
    score: symusic.Score, options: NotationOptions | None = None
) -> list[tuple[Fraction, Fraction, int]]:
    """(onset, duration, pitch) in quarters of every note the notation writes, sorted; grace
    notes have duration 0. Tied pieces count as one note, as a reader (and music21) sees them.
    Positions are those of `score` (a pickup keeps its place), so they compare with the source's."""
    _, _, staves, _ = _plan(score, options or NotationOptions())
    out = []
    for staff in (staff for part in staves for staff in part):
        for voice in staff.split.voices:
            for event in voice:
                out.extend((event.onset, Fraction(0), p) for p in event.graces)
                out.extend((event.onset, event.end - event.onset, p) for p in event.pitches)
    return sorted(out)
