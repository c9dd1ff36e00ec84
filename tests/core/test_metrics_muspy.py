"""MusPy's per-piece metrics on hand-made scores whose values are worked out by hand.

Each expected value is derived in a comment from MusPy's definition
(muspy/metrics/metrics.py), including its quirks (note counts, ticks as time steps,
``>`` threshold in polyphony_rate, inclusive beat ends in empty_beat_rate).
"""

from __future__ import annotations

import math

import pytest
import symusic

from core.judging.metrics import muspy_metrics as mm


def make_score(notes: list[tuple[int, int, int]], tpq: int = 4, time_signature=(4, 4),
               drums: list[tuple[int, int, int]] | None = None) -> symusic.Score:
    """A score from (onset, duration, pitch) triples, in ticks at `tpq`."""
    score = symusic.Score(tpq)
    score.time_signatures.append(symusic.TimeSignature(0, *time_signature))
    track = symusic.Track(program=0)
    for onset, duration, pitch in notes:
        track.notes.append(symusic.Note(onset, duration, pitch, 80))
    score.tracks.append(track)
    if drums:
        drum = symusic.Track(program=0, is_drum=True)
        for onset, duration, pitch in drums:
            drum.notes.append(symusic.Note(onset, duration, pitch, 80))
        score.tracks.append(drum)
    return score


# C4 and E4 together, then G4 over the held C4, a silent beat, then C5. tpq = 4, length 12 ticks.
TRIAD = [(0, 4, 60), (0, 2, 64), (2, 2, 67), (8, 4, 72)]


def test_pitch_counts_and_range_count_distinct_pitches():
    score = make_score(TRIAD)
    assert mm.pitch_range(score) == 12  # 72 - 60
    assert mm.n_pitches_used(score) == 4
    assert mm.n_pitch_classes_used(score) == 3  # C, E, G


def test_entropies_use_note_counts_in_bits():
    score = make_score(TRIAD)
    assert mm.pitch_entropy(score) == pytest.approx(2.0)  # four pitches once each: log2(4)
    # pitch classes C, C, E, G -> p = 1/2, 1/4, 1/4 -> 0.5*1 + 2*0.25*2 = 1.5 bits
    assert mm.pitch_class_entropy(score) == pytest.approx(1.5)


def test_entropy_counts_notes_not_durations():
    # one long C and one short D: equal counts, so 1 bit whatever the durations
    score = make_score([(0, 100, 60), (100, 1, 62)])
    assert mm.pitch_entropy(score) == pytest.approx(1.0)


def test_polyphony_averages_sounding_pitches_over_non_silent_ticks():
    score = make_score(TRIAD)
    # ticks 0-1: C+E (2), ticks 2-3: C+G (2), ticks 4-7 silent, ticks 8-11: C5 (1)
    # polyphony = (2*2 + 2*2 + 4*1) / 8 sounding ticks = 12/8
    assert mm.polyphony(score) == pytest.approx(1.5)
    # MusPy counts ticks with MORE than `threshold` pitches: none has three
    assert mm.polyphony_rate(score) == 0.0
    assert mm.polyphony_rate(score, threshold=1) == pytest.approx(4 / 12)


def test_overlapping_notes_of_one_pitch_count_once_in_polyphony():
    score = make_score([(0, 4, 60), (2, 4, 60)])  # binary piano roll: pitch 60 on for ticks 0-5
    assert mm.polyphony(score) == pytest.approx(1.0)


def test_empty_beat_rate_counts_a_note_end_on_a_beat_line_as_filling_that_beat():
    # TRIAD: beats 0..3 (length 12 // 4 + 1 = 4). Ticks 4-7 are silent, but the notes that
    # end at tick 4 mark beat 1 in MusPy (range(start // 4, end // 4 + 1)): rate 0, not 1/4.
    assert mm.empty_beat_rate(make_score(TRIAD)) == 0.0
    # notes on beats 0 and 3 only (length 14 -> 4 beats): beats 1 and 2 empty -> 2/4
    assert mm.empty_beat_rate(make_score([(0, 2, 60), (12, 2, 62)])) == pytest.approx(0.5)


def test_scale_consistency_is_the_best_major_or_minor_scale():
    score = make_score([(0, 1, 60), (1, 1, 61), (2, 1, 62), (3, 1, 63)])  # C C# D Eb
    assert mm.pitch_in_scale_rate(score, 0, "major") == pytest.approx(0.5)  # C, D
    assert mm.pitch_in_scale_rate(score, 0, "minor") == pytest.approx(0.75)  # C, D, Eb
    # no diatonic scale holds three of four notes spanning three semitones plus C#
    assert mm.scale_consistency(score) == pytest.approx(0.75)
    assert mm.scale_consistency(make_score([(0, 1, 60), (1, 1, 62), (2, 1, 64), (3, 1, 66)])) == 1.0  # G major


def test_groove_consistency_compares_onset_vectors_of_neighbouring_bars():
    # tpq 4, 4/4: 16 ticks per bar. Bars 0 and 1: onsets 0,4,8,12. Bar 2: onsets 0 and 8.
    notes = [(bar * 16 + pos, 4, 60) for bar in (0, 1) for pos in (0, 4, 8, 12)]
    notes += [(32, 4, 60), (40, 4, 60)]  # length 44 -> 44 // 16 + 1 = 3 measures
    # Hamming: bar0/bar1 = 0, bar1/bar2 = 2 (positions 4, 12) -> 1 - 2 / (16 * 2)
    assert mm.groove_consistency(make_score(notes)) == pytest.approx(1 - 2 / 32)
    assert mm.groove_consistency(make_score(notes), measure_resolution=16) == pytest.approx(1 - 2 / 32)


def test_groove_consistency_counts_the_bar_after_a_final_bar_line():
    # two identical bars ending exactly at tick 32: MusPy still makes 32 // 16 + 1 = 3 measures,
    # the last empty, so 4 onsets differ: 1 - 4 / 32
    notes = [(bar * 16 + pos, 4, 60) for bar in (0, 1) for pos in (0, 4, 8, 12)]
    assert mm.groove_consistency(make_score(notes)) == pytest.approx(1 - 4 / 32)


def test_groove_consistency_uses_the_time_signature_for_bar_length():
    # 3/4 at tpq 4: 12 ticks per bar; a waltz pattern repeated exactly, ending mid-bar
    notes = [(bar * 12 + pos, 2, 60) for bar in range(3) for pos in (0, 4, 8)]
    assert mm.groove_consistency(make_score(notes, time_signature=(3, 4))) == 1.0


def test_drums_are_ignored_by_pitch_metrics_but_counted_for_beats_and_groove():
    score = make_score([(0, 2, 60)], drums=[(12, 2, 36)])
    assert mm.n_pitches_used(score) == 1
    assert mm.pitch_range(score) == 0
    # the drum note fills beat 3 and sets the length: beats 0 and 3 of 4 filled
    assert mm.empty_beat_rate(score) == pytest.approx(0.5)


def test_empty_scores_give_nan_or_zero_like_muspy():
    score = make_score([])
    assert mm.pitch_range(score) == 0
    assert mm.n_pitches_used(score) == 0
    assert math.isnan(mm.pitch_entropy(score))
    assert math.isnan(mm.scale_consistency(score))
    assert math.isnan(mm.polyphony(score))
    assert math.isnan(mm.empty_beat_rate(score))
    assert math.isnan(mm.groove_consistency(score))


def test_muspy_metrics_returns_all_ten_by_name():
    values = mm.muspy_metrics(make_score(TRIAD))
    assert set(values) == {
        "pitch_range", "n_pitches_used", "n_pitch_classes_used", "polyphony", "polyphony_rate",
        "pitch_entropy", "pitch_class_entropy", "scale_consistency", "empty_beat_rate", "groove_consistency",
    }
