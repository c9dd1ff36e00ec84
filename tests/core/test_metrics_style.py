"""Style figures (core.judging.metrics.style): exact on small hand-made passages, sensible on the cello suites."""

from __future__ import annotations

import numpy as np
import pytest
import symusic

from core.judging.evaluation import EvaluationSettings, real_continuation
from core.judging.metrics import style
from core.judging.metrics.key import Key, estimate_key
from core.judging.metrics.references import pitch_shuffled

Q = 480  # ticks per quarter of the hand-made passages
BAR = 4 * Q  # 4/4


def score_of(notes: list[tuple[int, int, int]], *signatures: tuple[int, int, int]) -> symusic.Score:
    """A one-track score of (time, duration, pitch) notes with (time, numerator, denominator) meters."""
    score = symusic.Score(Q)
    track = symusic.Track()
    track.notes.extend([symusic.Note(t, d, p, 80) for t, d, p in notes])
    score.tracks.append(track)
    score.time_signatures.extend([symusic.TimeSignature(t, n, d) for t, n, d in signatures])
    return score


def test_time_shares_count_overlaps_and_gaps_within_the_span():
    notes = [(0, 2 * Q, 60), (Q, 2 * Q, 64)]  # two notes sound together for one quarter, then silence
    span = (0, BAR)
    assert style.polyphonic_time_share(notes, span) == pytest.approx(0.25)
    assert style.silent_time_share(notes, span) == pytest.approx(0.25)  # the last quarter
    # without a span: first onset to last end (3 quarters), no silence
    assert style.polyphonic_time_share(notes) == pytest.approx(1 / 3)
    assert style.silent_time_share(notes) == 0.0
    assert style.silent_time_share([], span) == 1.0  # an empty bar is all silence


def test_a_note_held_into_the_span_counts_only_inside_it():
    notes = [(-Q, 2 * Q, 60), (0, Q, 64)]  # the first starts a quarter before the span
    assert style.polyphonic_time_share(notes, (0, 2 * Q)) == pytest.approx(0.5)
    assert style.silent_time_share(notes, (0, 2 * Q)) == pytest.approx(0.5)


def test_chord_onsets_are_onsets_where_two_notes_start_together():
    notes = [(0, Q, 60), (0, Q, 64), (Q, Q, 62), (2 * Q, Q, 65), (2 * Q, Q, 69), (2 * Q, Q, 72)]
    assert style.chord_onset_share(notes) == pytest.approx(2 / 3)
    held = [(0, 4 * Q, 48), (Q, Q, 64)]  # a held bass under a new note is not a chord onset
    assert style.chord_onset_share(held) == 0.0


def test_melodic_intervals_follow_the_highest_note_of_each_onset():
    notes = [(0, Q, 60), (0, Q, 64),  # a double stop: 64 stands for it
             (Q, Q, 67), (2 * Q, Q, 55), (3 * Q, Q, 70), (4 * Q, Q, 71), (5 * Q, Q, 73), (6 * Q, Q, 73)]
    assert style.melodic_intervals(notes).tolist() == [3, -12, 15, 1, 2, 0]
    assert style.leap_share(notes) == pytest.approx(1 / 6)  # 15 only: an octave exactly is no leap over one
    assert style.stepwise_share(notes) == pytest.approx(2 / 6)  # 1 and 2; the repeated note counts as neither
    assert np.isnan(style.leap_share([(0, Q, 60)]))


def test_in_key_share_counts_raised_sixth_and_seventh_of_minor_as_in_key():
    c_major = Key(0, "major")
    assert style.in_key_share([(0, Q, 60), (Q, Q, 62), (2 * Q, Q, 61), (3 * Q, Q, 66)], c_major) == 0.5
    a_minor = Key(9, "minor")
    assert style.in_key_share([(0, Q, 69), (Q, Q, 66), (2 * Q, Q, 68), (3 * Q, Q, 63)], a_minor) == 0.75


def test_bar_lines_follow_the_time_signatures_past_the_last_note():
    score = score_of([(0, Q, 60)], (0, 3, 4), (2 * 3 * Q, 4, 4))  # two bars of 3/4, then 4/4
    assert style.bar_lines(score, 3).tolist() == [0, 3 * Q, 6 * Q, 10 * Q]
    assert style.bar_lines(score).tolist() == [0, 3 * Q]  # every bar up to the one closing the last note
    assert style.bar_lines(score_of([(0, 5 * Q, 60)]), None).tolist() == [0, BAR, 2 * BAR]  # 4/4 by default


def bars_of(*pitches: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """One bar of 4/4 per tuple, its notes a quarter apart."""
    return [(b * BAR + i * Q, Q, p) for b, bar in enumerate(pitches) for i, p in enumerate(bar)]


SEQUENCES = bars_of(
    (60, 62, 64),  # 0: +2 +2 (scale steps of C major: +1 +1)
    (62, 64, 66),  # 1: +2 +2, the same figure a tone higher: an exact repeat of bar 0
    (64, 65, 67),  # 2: +1 +2, a diatonic repeat (+1 +1) but not an exact one
    (60, 72),  # 3: two notes: no pattern
    (72, 71, 69),  # 4: -1 -2 (-1 -1 in steps)
    (65, 64, 62),  # 5: -1 -2: repeats bar 4
    (50, 52, 54),  # 6: +2 +2: repeats bar 0 or 1, but not one of the 4 bars before it
)
LINES = [b * BAR for b in range(8)]


def test_interval_patterns_per_bar_in_semitones_scale_steps_and_directions():
    patterns = style.bar_interval_patterns(SEQUENCES, LINES)
    assert patterns[:3] == [(2, 2), (2, 2), (1, 2)] and patterns[3] is None
    diatonic = style.bar_interval_patterns(SEQUENCES, LINES, "diatonic", Key(0, "major"))
    assert diatonic[:3] == [(1, 1), (1, 1), (1, 1)] and diatonic[4:6] == [(-1, -1), (-1, -1)]
    assert style.bar_interval_patterns(SEQUENCES, LINES, "contour")[4] == (-1, -1)
    with pytest.raises(ValueError):
        style.bar_interval_patterns(SEQUENCES, LINES, "diatonic")  # needs the key


def test_sequence_share_counts_bars_that_repeat_an_earlier_bars_intervals():
    # six bars have a pattern; near (4 bars): bars 1 and 5 repeat exactly, bar 6 only a distant one
    assert style.sequence_share(SEQUENCES, LINES) == pytest.approx(2 / 6)
    assert style.sequence_share(SEQUENCES, LINES, near=None) == pytest.approx(3 / 6)
    # in scale steps bar 2 repeats bars 0-1 too, and bar 6 (+1 +1) repeats bar 2, 4 bars before it
    assert style.sequence_share(SEQUENCES, LINES, unit="diatonic", key=Key(0, "major")) == pytest.approx(4 / 6)
    assert np.isnan(style.sequence_share(bars_of((60,), (62,)), LINES[:3]))


def test_longest_copied_notes_finds_a_transposed_copy_of_a_reference_passage():
    melody = [60, 62, 64, 65, 67, 65, 64, 62, 60, 59, 57, 59]
    reference = score_of([(i * Q, Q, p) for i, p in enumerate(melody)])
    index = style.copy_index([("reference", reference)])
    copied = [(i * Q, Q, p + 5) for i, p in enumerate(melody[2:10])]  # 8 notes, a fourth higher
    around = [(-2 * Q, Q, 80), (-Q, Q, 50)] + copied + [(8 * Q, Q, 90)]
    assert style.longest_copied_notes([(t + 2 * Q, d, p) for t, d, p in around], index) == 8
    rhythm_changed = [(2 * t, Q, p) for t, _, p in copied]  # the same pitches, other onsets: no copy
    assert style.longest_copied_notes(rhythm_changed, index) == 0


def test_style_figures_of_a_passage_on_bar_lines():
    figures = style.style_figures(score_of(SEQUENCES[:6]), Key(0, "major"), bars=3)  # bars 0-1 only
    assert set(figures) == set(style.FIGURES) - {"copied_notes"}
    assert figures["near_sequences"] == 0.5
    assert figures["silence"] == pytest.approx(1 - 6 / 12)  # 6 quarter notes in 3 bars
    assert figures["polyphonic_time"] == 0.0 and figures["chord_onsets"] == 0.0
    assert figures["onsets_per_bar"] == pytest.approx(6 / 3)


def test_onsets_per_bar_counts_a_chord_once_and_only_inside_the_bar_lines():
    chord_then_line = [(0, Q, 48), (0, Q, 55), (0, Q, 64), (Q, Q, 62), (2 * Q, 2 * Q, 60), (4 * Q, Q, 59)]
    assert style.onsets_per_bar(chord_then_line, np.array([0, 4 * Q])) == 3  # the note on the next bar line is out
    assert style.onsets_per_bar(chord_then_line, np.array([0, 4 * Q, 8 * Q])) == 2


@pytest.fixture(scope="module")
def cello_passages(cello_midi_dir):
    """(bars 5-12, whole movement) of each Mutopia cello-suite movement."""
    settings = EvaluationSettings(prompt_bars=4, bars=8)
    movements = [symusic.Score(str(path)) for path in sorted(cello_midi_dir.glob("*.mid"))]
    assert len(movements) == 41
    return [(real_continuation(score, settings), score) for score in movements]


def test_the_cello_suites_bars_5_to_12_look_like_the_suites(cello_passages):
    """Near issue 17's independent analysis of six movements: 18 % / 9 % / 3.6 % / 39 % / 0.915 / 0 %."""
    figures = [style.style_figures(part, estimate_key(whole), bars=8) for part, whole in cello_passages]
    mean = {name: float(np.nanmean([f[name] for f in figures])) for name in figures[0]}
    assert 0.10 <= mean["polyphonic_time"] <= 0.25
    assert 0.04 <= mean["chord_onsets"] <= 0.14
    assert mean["leaps_over_octave"] <= 0.06
    assert 0.35 <= mean["stepwise"] <= 0.65
    assert 0.88 <= mean["in_key"] <= 0.98
    assert mean["silence"] <= 0.02
    assert mean["near_sequences"] < mean["near_diatonic_sequences"] < mean["near_contour_sequences"]


def test_shuffled_pitches_lose_the_cellos_steps_and_gain_leaps(cello_passages):
    real = [(style.stepwise_share(part), style.leap_share(part)) for part, _ in cello_passages]
    shuffled = [(style.stepwise_share(p), style.leap_share(p))
                for p in (pitch_shuffled(part, seed=i) for i, (part, _) in enumerate(cello_passages))]
    assert np.mean([s for s, _ in shuffled]) < 0.6 * np.mean([s for s, _ in real])
    assert np.mean([leap for _, leap in shuffled]) > 2 * np.mean([leap for _, leap in real])
