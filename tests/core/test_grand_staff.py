"""A chorale or keyboard texture is engraved on a grand staff: upper voices above, lower below."""

from __future__ import annotations

from fractions import Fraction

from core.music.notation import NotationOptions
from core.music.notation.build import _plan, written_notes
from core.music.notation.quantize import QNote
from core.music.notation.staves import split_staves, wants_grand_staff
from tests.core.test_export_notation import export_and_read, make_score

# Four voices in quarter notes: the tenor rises to E4 and the alto falls to B3, so a split at
# middle C would send them across; by their rank among the notes sounding they stay on their staff.
SOPRANO = [72, 71, 72, 74, 76, 74, 72, 71]
ALTO = [67, 67, 64, 65, 67, 65, 59, 62]
TENOR = [64, 62, 60, 59, 60, 62, 55, 55]
BASS = [48, 43, 45, 41, 48, 47, 45, 43]


def chorale(program: int = 0):
    notes = [(beat, 1, voice[beat]) for voice in (SOPRANO, ALTO, TENOR, BASS) for beat in range(8)]
    return make_score(notes, key=0, program=program)


def qnotes(score) -> tuple[QNote, ...]:
    tpq = score.ticks_per_quarter
    notes = (QNote(Fraction(n.time, tpq), Fraction(n.time + n.duration, tpq), n.pitch, n.velocity)
             for n in score.tracks[0].notes)
    return tuple(sorted(notes, key=lambda n: (n.onset, n.pitch)))


def written_staves(score) -> bool:
    """Whether the score's part goes on a grand staff, as a performance (overlaps tidied) is written."""
    _, _, staves, _ = _plan(score, NotationOptions(overlaps="trim"))
    return len(staves[0]) > 1


def test_four_voices_go_two_above_and_two_below_whatever_their_pitch():
    notes = qnotes(chorale())
    assert wants_grand_staff(notes, ("treble", "bass"))
    upper, lower = split_staves(notes)
    assert sorted(n.pitch for n in upper) == sorted(SOPRANO + ALTO)
    assert sorted(n.pitch for n in lower) == sorted(TENOR + BASS)


def test_a_held_note_counts_among_the_voices_where_the_others_move():
    # the soprano holds a whole note while the three voices below move in quarters
    notes = [(0, 4, 72)] + [(beat, 1, pitch) for beat in range(4) for pitch in (ALTO[beat], TENOR[beat], BASS[beat])]
    upper, lower = split_staves(qnotes(make_score(notes, program=0)))
    assert sorted(n.pitch for n in upper) == sorted([72] + ALTO[:4])
    assert sorted(n.pitch for n in lower) == sorted(TENOR[:4] + BASS[:4])


def test_a_grace_note_goes_with_the_note_struck_beside_it():
    # at beat 2 the tenor plays C4, on the lower staff: a grace C sharp before it goes there too,
    # though by its pitch alone (above middle C) it would go up
    notes = qnotes(chorale()) + (QNote(Fraction(2), Fraction(2), 61, 80, grace=True),)
    upper, lower = split_staves(notes)
    assert any(n.grace for n in lower) and not any(n.grace for n in upper)


def test_two_voices_in_unison_go_one_above_and_one_below():
    unison = [(0, 1, 72), (0, 1, 64), (0, 1, 64), (0, 1, 45)] * 1 + [(1, 1, 71), (1, 1, 62), (1, 1, 55), (1, 1, 43)]
    notes = qnotes(make_score(unison, program=0))
    upper, lower = split_staves(notes)
    assert sorted(n.pitch for n in upper) == [62, 64, 71, 72] and sorted(n.pitch for n in lower) == [43, 45, 55, 64]


def test_a_single_line_played_legato_on_a_keyboard_stays_on_one_staff():
    # eighths that ring on into the next note, up and down two octaves: one line, not two staves
    pitches = [48, 50, 52, 53, 55, 57, 59, 60, 62, 64, 65, 67, 69, 67, 65, 64, 62, 60, 59, 57, 55, 53, 52, 50, 48] * 2
    score = make_score([(i * 0.5, 0.625, pitch) for i, pitch in enumerate(pitches)], program=0)
    assert not written_staves(score)


def test_one_staff_for_a_line_for_a_cello_and_for_a_narrow_texture():
    line = [(i * 0.5, 0.5, pitch) for i, pitch in enumerate([40, 47, 55, 62, 69, 76, 69, 62, 55, 47] * 2)]
    assert not wants_grand_staff(qnotes(make_score(line, program=0)), ("treble", "bass"))  # one note at a time
    assert not wants_grand_staff(qnotes(chorale(program=42)), ("bass", "tenor", "treble"))  # a cello's clefs
    high = [(beat, 1, pitch) for beat in range(8) for pitch in (SOPRANO[beat], ALTO[beat])]
    assert not wants_grand_staff(qnotes(make_score(high, program=0)), ("treble", "bass"))  # all on the treble staff


def test_a_chorale_is_written_as_one_part_on_two_staves_and_reads_back_exactly(tmp_path):
    score = chorale()
    report, back = export_and_read(score, tmp_path)
    assert report.grand_staff and report.parts == 1 and report.clefs == ("treble", "bass")
    text = (tmp_path / "out.musicxml").read_text()
    assert text.count("<part id=") == 1 and "<staves>2</staves>" in text  # one piano part: MuseScore braces it
    assert back.notes == written_notes(score)
    assert len(back.notes) == 32 and back.not_full == []


def test_a_cello_part_keeps_one_staff(tmp_path):
    report, _ = export_and_read(chorale(program=42), tmp_path)
    assert not report.grand_staff


def test_a_fifth_line_cut_to_fit_four_voices_is_counted_with_the_legato_tidied():
    from core.music.notation.build import to_music21

    lines = [(beat, 8, 48 + 2 * beat) for beat in range(5)]  # five held notes overlapping: one line too many
    _, report = to_music21(make_score(lines, key=0, program=42), NotationOptions(overlaps="voices"))
    assert report.trimmed_notes == 1
