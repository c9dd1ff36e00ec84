"""Notation export without MuseScore: what the MusicXML says, read back with music21.

Edge cases from issue 6: notes across barlines, very short and overlapping notes, an empty take,
3/4, 6/8 and a pickup, swing and unquantized timing, clefs by range, key by analysis.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import symusic

from core.music.export import export_musicxml
from core.music.notation import NotationOptions
from core.music.notation.bars import Bar
from core.music.notation.build import written_notes
from core.music.notation.keys import choose_clefs, estimate_key
from core.music.notation.rhythm import notatable_values, split_span
from core.music.notation.verify import read_notes

TPQ = 480


def make_score(notes, *, ts=(4, 4), tpq=TPQ, key=None, program=42) -> symusic.Score:
    """notes: (onset, duration, pitch) in quarters (floats or Fractions)."""
    score = symusic.Score(tpq)
    score.time_signatures.append(symusic.TimeSignature(0, *ts))
    score.tempos.append(symusic.Tempo(0, 90.0))
    if key is not None:
        score.key_signatures.append(symusic.KeySignature(0, key, 0))
    track = symusic.Track(name="", program=program)
    for onset, duration, pitch in notes:
        track.notes.append(symusic.Note(round(onset * tpq), round(duration * tpq), pitch, 80))
    score.tracks.append(track)
    return score


def export_and_read(score, tmp_path: Path, **options):
    path = tmp_path / "out.musicxml"
    report = export_musicxml(score, path, NotationOptions(**options))
    return report, read_notes(path)


def q(x) -> Fraction:
    return Fraction(x).limit_denominator(1000)


def test_note_across_barline_is_tied_and_reads_back_as_one_note(tmp_path):
    score = make_score([(3.5, 2.0, 50), (5.5, 0.5, 52)], key=0)
    _, back = export_and_read(score, tmp_path)
    assert back.notes == [(q(3.5), q(2), 50), (q(5.5), q(0.5), 52)]
    assert back.not_full == []
    text = (tmp_path / "out.musicxml").read_text()
    assert '<tie type="start"' in text and '<tie type="stop"' in text


def test_split_span_ties_over_beats_but_keeps_values_that_start_on_a_beat():
    bar = Bar(Fraction(0), Fraction(4), 4, 4)
    assert split_span(Fraction(0), Fraction(3, 2), bar) == [(0, Fraction(3, 2))]  # dotted quarter
    assert split_span(Fraction(1, 2), Fraction(3, 2), bar) == [(Fraction(1, 2), 1), (1, Fraction(3, 2))]
    assert split_span(Fraction(0), Fraction(5, 4), bar) == [(0, 1), (1, Fraction(5, 4))]
    six_eight = Bar(Fraction(0), Fraction(3), 6, 8)
    assert split_span(Fraction(1, 2), Fraction(3, 2), six_eight) == [(Fraction(1, 2), Fraction(3, 2))]
    for start, stop in split_span(Fraction(1, 3), Fraction(13, 4), bar):
        assert stop - start in notatable_values()


def test_empty_take_exports_one_bar_of_rest(tmp_path):
    score = make_score([])
    report, back = export_and_read(score, tmp_path, title="Empty")
    assert back.notes == [] and back.measures == 1 and report.measures == 1
    assert back.not_full == []


def test_three_four_with_pickup_keeps_the_pickup_bar(tmp_path):
    # a one-beat pickup, then two full bars of 3/4 (positions as core.music.scores gives them)
    notes = [(2, 1, 55)] + [(3 + i, 1, 57 + i) for i in range(6)]
    score = make_score(notes, ts=(3, 4), key=1)
    report, back = export_and_read(score, tmp_path)
    assert report.pickup == 1  # one quarter
    assert back.notes == [(q(o), q(d), p) for o, d, p in notes]
    text = (tmp_path / "out.musicxml").read_text()
    assert 'implicit="yes"' in text and back.time_signatures == ["3/4"]
    assert back.not_full == []


def test_six_eight_groups_in_dotted_quarters(tmp_path):
    notes = [(i * 0.5, 0.5, 60 + i % 5) for i in range(12)] + [(6, 3, 48)]
    score = make_score(notes, ts=(6, 8), key=0)
    report, back = export_and_read(score, tmp_path)
    assert back.time_signatures == ["6/8"] and report.measures == 3
    assert back.notes == sorted((q(o), q(d), p) for o, d, p in notes)
    text = (tmp_path / "out.musicxml").read_text()
    assert "<dot" in text  # the last note is one dotted half, not tied pieces
    assert back.not_full == []


def test_short_and_overlapping_performance_notes_become_one_clean_line(tmp_path):
    # a legato scale played with jitter: each note rings 30% into the next; a 15 ms ghost note
    notes = []
    for i in range(16):
        onset = i * 0.5 + (0.03 if i % 3 else -0.02)
        notes.append((onset, 0.65, 48 + i))
    notes.append((4.0 - 0.02, 0.03, 70))  # crushed onto the next note: a grace note
    score = make_score(notes, key=0, program=0)
    report, back = export_and_read(score, tmp_path, program=42)
    assert not report.exact and report.max_voices == 1 and report.trimmed_notes >= 14
    durations = {d for _, d, _ in back.notes}
    assert Fraction(0) in durations  # the grace note
    assert min(d for d in durations if d > 0) >= Fraction(1, 4)  # no 1/128th-note debris
    assert [o for o, d, _ in back.notes if d > 0] == [Fraction(i, 2) for i in range(16)]
    assert back.not_full == []


def test_swing_eighths_are_written_straight_with_a_swing_mark(tmp_path):
    notes = []
    for beat in range(16):  # long-short pairs, 2:1, slightly humanised
        notes.append((beat + 0.01, 0.62, 60 + beat % 7))
        notes.append((beat + 2 / 3 - 0.01, 0.3, 62 + beat % 5))
    score = make_score(notes, key=0, program=65)
    report, back = export_and_read(score, tmp_path)
    assert report.swing
    assert {o % 1 for o, _, _ in back.notes} == {0, Fraction(1, 2)}
    assert "Swing" in (tmp_path / "out.musicxml").read_text()
    straight, straight_back = export_and_read(score, tmp_path, swing=False)
    assert not straight.swing and any(o % 1 == Fraction(2, 3) for o, _, _ in straight_back.notes)


def test_real_jazz_solo_is_quantized_swung_and_every_bar_full(jazz_dir, tmp_path):
    path = jazz_dir / "CharlieParker_DonnaLee_FINAL.mid"
    if not path.exists():
        pytest.skip(f"{path.name} not in the jazz data")
    score = symusic.Score(str(path))
    report, back = export_and_read(score, tmp_path, corpus_name="Weimar Jazz Database")
    assert not report.exact and report.swing and report.max_voices == 1
    assert back.notes == written_notes(score, NotationOptions())
    assert len(back.notes) >= 0.95 * len(score.tracks[0].notes)
    grid = {Fraction(k, 4) for k in range(4)} | {Fraction(k, 3) for k in range(3)}
    assert all(o % 1 in grid for o, _, _ in back.notes)
    assert back.not_full == []


def test_cello_clefs_follow_the_range():
    low, middle, high = [43, 45, 48, 50], [60, 62, 64, 65, 67, 69], [72, 74, 76, 77, 79]
    bars = [low] * 4 + [middle] * 4 + [low] * 4 + [high] * 4 + [low] * 4
    clefs = choose_clefs(bars, ("bass", "tenor", "treble"))
    assert clefs == ["bass"] * 4 + ["tenor"] * 4 + ["bass"] * 4 + ["treble"] * 4 + ["bass"] * 4
    # one high note does not flip the clef back and forth
    assert choose_clefs([low, low + [64], low], ("bass", "tenor", "treble")) == ["bass"] * 3


def test_treble_instruments_never_switch_to_bass_clef(tmp_path):
    low_phrase = [(i / 2, 0.5, 49 + i % 3) for i in range(16)]  # an alto sax's low D flat and around
    report, _ = export_and_read(make_score(low_phrase, program=65), tmp_path)
    assert report.clefs == ("treble",)
    report, _ = export_and_read(make_score(low_phrase, program=0), tmp_path / "piano")
    assert "bass" in report.clefs  # a piano part still reads bass clef down there
    viola = [(i / 2, 0.5, 55 + i % 5) for i in range(8)] + [(4 + i / 2, 0.5, 81 + i % 3) for i in range(8)]
    report, _ = export_and_read(make_score(viola, program=41), tmp_path / "viola")
    assert report.clefs == ("alto", "treble")  # its own clef, treble for the high bar
    assert "<sign>C</sign>" in (tmp_path / "viola" / "out.musicxml").read_text()


def test_key_is_analysed_when_the_score_has_none(tmp_path):
    d_major = [62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62, 57, 62]
    assert estimate_key([(p, 1.0) for p in d_major]).sharps == 2
    score = make_score([(i, 1, p) for i, p in enumerate(d_major)])
    report, back = export_and_read(score, tmp_path)
    assert report.key_from_analysis and back.key_sharps == [2]


def test_instrument_override_names_the_part_violoncello(tmp_path):
    score = make_score([(0, 4, 48)], program=0)
    score.tracks[0].name = "Piano"
    _, back = export_and_read(score, tmp_path, program=42, title="T", corpus_name="Bach")
    assert back.part_names == ["Violoncello"]
    text = (tmp_path / "out.musicxml").read_text()
    assert "after Bach" in text and "<midi-program>43</midi-program>" in text


def test_polyphony_becomes_voices_and_reads_back_exactly(tmp_path):
    # a held bass under a running line, and a double stop of unequal lengths
    notes = [(0, 4, 43)] + [(i * 0.25, 0.25, 62 + i % 4) for i in range(16)] + [(4, 2, 50), (4, 1, 57)]
    score = make_score(notes, key=1)
    report, back = export_and_read(score, tmp_path)
    assert report.exact and report.max_voices == 2
    assert back.notes == sorted((q(o), q(d), p) for o, d, p in notes)
    assert back.not_full == []


@pytest.mark.parametrize("bass", [False, True], ids=["one voice", "two voices"])
def test_continuation_marker_is_printed_where_the_seed_ends(tmp_path, bass):
    """In time order among the notes: MuseScore 3 ignores a direction's <offset> and would print
    the mark at the bar line."""
    notes = [(i / 2, 0.5, 60 + i % 5) for i in range(16)] + ([(0, 4, 40), (4, 4, 43)] if bass else [])
    path = tmp_path / "take.musicxml"
    export_musicxml(make_score(notes, key=0), path, seed_end_tick=3 * TPQ // 2)
    text = path.read_text()
    mark = text.index("<words>continuation</words>")
    direction = text[text.rindex("<direction", 0, mark):text.index("</direction>", mark)]
    assert "<offset>" not in direction
    assert text.count("<note", text.rindex("<measure", 0, mark), mark) == 3  # the eighths before beat 2.5


def test_take_end_marker_keeps_a_final_bar_of_rests(tmp_path):
    score = make_score([(0, 1, 48)], key=0)
    score.markers.append(symusic.TextMeta(8 * TPQ, "end"))  # two bars of 4/4
    report, back = export_and_read(score, tmp_path)
    assert report.measures == 2 and back.measures == 2 and back.not_full == []


def test_a_short_leading_rest_is_not_a_pickup(tmp_path):
    notes = [(0.25 + i * 0.25, 0.25, 60 + i % 8) for i in range(31)]  # like Invention No. 1
    report, back = export_and_read(make_score(notes, key=0), tmp_path)
    assert report.pickup == 0 and back.measures == 2
    assert back.notes[0][0] == Fraction(1, 4) and back.not_full == []


def test_continuation_mark_goes_to_the_voice_that_moves_there(tmp_path):
    """A voice holding a whole note across the mark would write it with an <offset>."""
    notes = [(0, 4, 79)] + [(i, 1, p) for i, p in enumerate([60, 62, 64, 65])]
    path = tmp_path / "held.musicxml"
    export_musicxml(make_score(notes, key=0), path, seed_end_tick=TPQ)
    text = path.read_text()
    mark = text.index("<words>continuation</words>")
    assert "<offset>" not in text[mark:text.index("</direction>", mark)]
    assert "<step>D</step>" in text[mark:text.index("</note>", mark)]  # right before the second quarter


def test_chord_symbols_of_a_jazz_take_are_written_over_the_staff(tmp_path):
    """A take's `chord:` markers (a chord-aware model's changes, WJazzD's spelling or the usual)
    become MusicXML harmony at their beats; a restatement of the chord sounding is not repeated,
    NC is no chord, and the notes read back unchanged."""
    import music21

    score = make_score([(i * 1.0, 1.0, 65 + i % 5) for i in range(8)], key=-1, program=56)
    for quarter, text in ((0, "chord:F7"), (2, "chord:Bb7"), (3, "chord:Bb7"), (4, "chord:C-7"), (6, "chord:NC")):
        score.markers.append(symusic.TextMeta(quarter * TPQ, text))
    _, back = export_and_read(score, tmp_path)
    assert [n[2] for n in back.notes] == [65 + i % 5 for i in range(8)] and back.not_full == []
    parsed = music21.converter.parse(tmp_path / "out.musicxml")
    symbols = [(float(h.getOffsetInHierarchy(parsed)), h.figure)
               for h in parsed.recurse().getElementsByClass(music21.harmony.Harmony)]
    assert [offset for offset, _ in symbols] == [0.0, 2.0, 4.0, 6.0]
    assert [figure.replace("-", "b") for _, figure in symbols[:3]] == ["F7", "Bb7", "Cm7"]
    assert isinstance(parsed.recurse().getElementsByClass(music21.harmony.Harmony)[3], music21.harmony.NoChord)


def test_the_take_markers_are_matched_whole_in_any_case():
    """Notation, export and generation read a take's markers one way: the whole text, so a
    capitalised "Continuation" is the marker and a text that only contains the word is not."""
    from core.composing.generation import seed_end_of
    from core.music.export import with_continuation_marker
    from core.music.markers import CONTINUATION_MARKER

    score = make_score([(i * 1.0, 1.0, 60 + i) for i in range(8)])
    score.markers.append(symusic.TextMeta(4 * TPQ, "no continuation here"))
    assert seed_end_of(score) is None
    marked = with_continuation_marker(score, 2 * TPQ)  # the other text is not a marker: one is added
    assert seed_end_of(marked) == 2 * TPQ
    assert len([m for m in marked.markers if m.text == CONTINUATION_MARKER]) == 1
    score.markers.append(symusic.TextMeta(3 * TPQ, " Continuation"))
    assert seed_end_of(score) == 3 * TPQ
    assert len(with_continuation_marker(score, 2 * TPQ).markers) == 2  # already marked: none added
