"""Transition matrices, distances, mgeval, n-gram baseline, uniqueness, harmony and structure
on small hand-made scores whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import symusic

from core.judging.metrics import mgeval, transitions
from core.judging.metrics.harmony import harmony_stats, implied_chords
from core.judging.metrics.ngram import NGramModel
from core.judging.metrics.notes import melody, note_arrays, quantize_performance
from core.judging.metrics.references import pitch_shuffled, rhythm_shuffled
from core.judging.metrics.structure import phrase_lengths, repetition_stats, self_similarity
from core.judging.metrics.uniqueness import uniqueness

TPQ = 480


def line(pitches, durations=None, tpq=TPQ, time_signature=(4, 4)) -> symusic.Score:
    """A one-track melody; durations in quarters (default all quarters), no rests."""
    durations = durations or [1.0] * len(pitches)
    score = symusic.Score(tpq)
    score.time_signatures.append(symusic.TimeSignature(0, *time_signature))
    track = symusic.Track()
    t = 0
    for pitch, quarters in zip(pitches, durations, strict=True):
        length = round(quarters * tpq)
        if pitch is not None:
            track.notes.append(symusic.Note(t, length, pitch, 80))
        t += length
    score.tracks.append(track)
    return score


C_MAJOR_UP = [60, 62, 64, 65, 67, 69, 71, 72]


def test_melody_keeps_the_top_note_of_each_chord():
    score = line([60, 64])
    score.tracks[0].notes.append(symusic.Note(0, TPQ, 67, 80))
    assert melody(note_arrays(score)).pitch.tolist() == [67, 64]


def test_interval_transitions_count_steps_between_successive_intervals():
    counts = transitions.interval_transitions(line(C_MAJOR_UP))
    # intervals 2 2 1 2 2 2 1 -> transitions (2,2) x3, (2,1) x2, (1,2) x1 ... index = interval + 12
    assert counts.sum() == 6
    assert counts[14, 14] == 3 and counts[14, 13] == 2 and counts[13, 14] == 1


def test_pitch_class_transitions_are_key_relative():
    up_c = transitions.pitch_class_transitions(line(C_MAJOR_UP))
    up_g = transitions.pitch_class_transitions(line([p + 7 for p in C_MAJOR_UP]))
    assert np.array_equal(up_c, up_g)


def test_js_divergence_is_zero_for_equal_and_one_for_disjoint_distributions():
    a = np.array([1.0, 0, 0, 0])
    assert transitions.js_divergence(a, a * 5) == pytest.approx(0, abs=1e-6)
    assert transitions.js_divergence(a, np.array([0, 0, 0, 1.0])) == pytest.approx(1, abs=1e-4)
    assert transitions.kl_divergence(a, np.array([0.5, 0.5, 0, 0])) == pytest.approx(1, abs=1e-4)


def test_shuffles_keep_what_they_promise():
    score = line([60, 62, 64, 65, 67, 65, 64, 62], [1, 0.5, 0.5, 2, 1, 0.5, 0.5, 2])
    by_pitch = note_arrays(pitch_shuffled(score, seed=1))
    original = note_arrays(score)
    assert np.array_equal(by_pitch.onset, original.onset)
    assert sorted(by_pitch.pitch) == sorted(original.pitch)
    by_rhythm = note_arrays(rhythm_shuffled(score, seed=1))
    assert np.array_equal(by_rhythm.pitch, original.pitch)
    assert sorted(by_rhythm.duration) == sorted(original.duration)


def test_kde_overlap_is_one_for_the_same_sample_and_small_for_far_apart_ones():
    rng = np.random.default_rng(0)
    sample = rng.normal(0, 1, 200)
    overlap, kl = mgeval.overlap_and_kl(sample, sample)
    assert overlap == pytest.approx(1, abs=1e-6) and kl == pytest.approx(0, abs=1e-6)
    far_overlap, far_kl = mgeval.overlap_and_kl(sample, sample + 10)
    assert far_overlap < 0.01 and far_kl > 5


def test_mgeval_intra_and_inter_distances():
    a = np.array([[0.0], [1.0], [3.0]])
    assert sorted(mgeval.intra_set_distances(a)) == [1.0, 2.0, 3.0]
    assert sorted(mgeval.inter_set_distances(a[:1], a)) == [0.0, 1.0, 3.0]


def test_ngram_model_learns_a_repeating_pattern_and_beats_a_uniform_guess():
    sequences = [[1, 2, 3, 4] * 30, [1, 2, 3, 4] * 20]
    model = NGramModel(order=3, vocab_size=8).fit(sequences)
    scores = model.evaluate([[1, 2, 3, 4] * 5], token_type=lambda t: "even" if t % 2 == 0 else "odd")
    assert scores.accuracy == 1.0
    assert scores.loss < 0.3 < math.log(8)
    assert scores.perplexity == pytest.approx(math.exp(scores.loss))
    assert set(scores.per_type) == {"even", "odd"}
    assert model.distribution([1, 2]).sum() == pytest.approx(1.0)
    assert model.distribution([7, 7]).min() > 0  # unseen context: backs off, never zero


def test_uniqueness_is_zero_for_identical_variations_and_grows_with_difference():
    a = line(C_MAJOR_UP)
    b = line([60, 64, 62, 65, 64, 67, 65, 69])
    assert uniqueness([a, a, a]) == 0.0
    assert uniqueness([a, b]) == pytest.approx(1.0)
    assert math.isnan(uniqueness([a]))


def test_implied_harmony_names_the_arpeggiated_triads_and_their_fifth_motion():
    # bar 1 outlines C major, bar 2 G major, bar 3 C major: two changes, both by a fifth
    score = line([60, 64, 67, 72, 55, 59, 62, 67, 60, 64, 67, 72], [1] * 12)
    labels, fits = implied_chords(score)
    assert labels == ["C:maj", "G:maj", "C:maj"]
    assert fits == [1.0, 1.0, 1.0]
    stats = harmony_stats(score)
    assert stats.chord_change_rate == 1.0 and stats.fifth_motion_rate == 1.0 and stats.distinct_chords == 2


def test_self_similarity_finds_exact_and_varied_repeats():
    motif = [60, 62, 64, 65]
    varied = [60, 62, 64, 67]  # last note changed
    score = line(motif + [67, 65, 64, 62] + motif + varied)
    matrix = self_similarity(score)
    assert matrix.shape == (4, 4)
    assert matrix[0, 2] == 1.0 and 0.6 <= matrix[0, 3] < 1.0
    stats = repetition_stats(score)
    assert stats["exact_repeat_rate"] == pytest.approx(1 / 3)
    assert stats["varied_repeat_rate"] >= 1 / 3


def test_phrases_end_at_rests():
    # two 4-bar phrases separated by a half-note rest (the rest ends the first phrase)
    first = [60, 62, 64, 65] * 3 + [67, 65, 64]
    score = line(first + [None] + first + [60], [1] * 15 + [1] + [1] * 15 + [1])
    lengths = phrase_lengths(score)
    assert len(lengths) == 2
    assert lengths[0] == pytest.approx(15 / 4)


def test_quantize_performance_rounds_inter_onset_intervals_and_removes_drift():
    score = symusic.Score(192)
    track = symusic.Track()
    # eighth notes (96 ticks) played 5% slow: a fixed grid drifts by a 16th after 5 notes
    for i in range(20):
        track.notes.append(symusic.Note(round(i * 101), 90, 60 + i % 5, 80))
    score.tracks.append(track)
    onsets = note_arrays(quantize_performance(score)).onset
    assert set(np.diff(onsets).tolist()) == {96}
