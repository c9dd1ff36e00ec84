"""The same ordering checks on the Weimar Jazz Database solos (unquantized performance).

Which metrics need quantization, and how it is applied, is part of what is tested: the
transition and metric-position statistics run on `quantize_performance` output (inter-onset
intervals rounded to 16ths and eighth triplets, which removes tempo drift), groove consistency
on its own 12-per-quarter grid; pitch metrics need none.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.judging.metrics import mgeval, transitions
from core.judging.metrics.muspy_metrics import groove_consistency, scale_consistency
from core.judging.metrics.notes import note_arrays, quantize_performance
from core.judging.metrics.originality import TrainingIndex
from core.judging.metrics.references import pitch_shuffled, random_notes, rhythm_shuffled
from core.judging.metrics.rhythm import onset_on_grid_rate, quantized_groove_consistency
from core.music.scores import load_score


@pytest.fixture(scope="module")
def jazz(jazz_dir):
    files = sorted(jazz_dir.glob("*.mid"))[::6]  # 76 solos spread over the alphabet of players
    scores = [(f.name, load_score(f)) for f in files]
    held_out = scores[::5]
    train = [item for i, item in enumerate(scores) if i % 5]
    return train, held_out


@pytest.fixture(scope="module")
def training_counts(jazz):
    return transitions.set_counts([quantize_performance(s) for _, s in jazz[0]])


def _distances(scores, reference):
    return transitions.style_distances(transitions.set_counts([quantize_performance(s) for s in scores]), reference)


def test_solos_are_unquantized_so_quantization_is_needed(jazz):
    _, solo = jazz[1][0]
    assert onset_on_grid_rate(solo) < 0.6  # performed onsets miss the notation grid
    assert onset_on_grid_rate(quantize_performance(solo)) == 1.0
    quantized = note_arrays(quantize_performance(solo))
    assert np.array_equal(quantized.pitch, note_arrays(solo).pitch)  # only timing changes


def test_tick_level_groove_is_meaningless_on_performance_but_the_grid_version_is_not(jazz):
    _, solo = jazz[1][0]
    # at tick level nearly every tick of a bar is empty, so any two bars look alike
    assert groove_consistency(solo) > 0.95
    assert quantized_groove_consistency(solo) < 0.9


def test_held_out_solos_are_closer_to_training_than_pitch_shuffled_ones(jazz, training_counts):
    held = [s for _, s in jazz[1]]
    real = _distances(held, training_counts)
    shuffled = _distances([pitch_shuffled(s, seed=i) for i, s in enumerate(held)], training_counts)
    assert real["js_interval_transitions"] < shuffled["js_interval_transitions"] - 0.1
    assert real["style"] < shuffled["style"]


def test_held_out_solos_are_closer_to_training_than_rhythm_shuffled_ones(jazz, training_counts):
    held = [s for _, s in jazz[1]]
    real = _distances(held, training_counts)
    shuffled = _distances([rhythm_shuffled(s, seed=i) for i, s in enumerate(held)], training_counts)
    assert real["js_duration_transitions"] < shuffled["js_duration_transitions"]
    assert real["style"] < shuffled["style"]


def test_mgeval_overlap_ranks_real_solos_above_pitch_shuffled_and_random(jazz):
    train = [s for _, s in jazz[0]]
    held = [s for _, s in jazz[1]]
    real = mgeval.summary(mgeval.compare_sets(held, train))
    shuffled = mgeval.summary(mgeval.compare_sets([pitch_shuffled(s) for s in held], train))
    noise = mgeval.summary(mgeval.compare_sets([random_notes(s) for s in held], train))
    assert real["mean_overlap"] > shuffled["mean_overlap"] > noise["mean_overlap"]


def test_random_notes_score_lower_than_solos_on_scale_and_groove_consistency(jazz):
    pieces = [s for _, s in jazz[1]]
    noise = [random_notes(s, seed=i) for i, s in enumerate(pieces)]
    real_scale, noise_scale = [scale_consistency(s) for s in pieces], [scale_consistency(s) for s in noise]
    assert np.mean(real_scale) > np.mean(noise_scale) + 0.1
    assert sum(r > n for r, n in zip(real_scale, noise_scale, strict=True)) >= 0.9 * len(pieces)
    real_groove = [quantized_groove_consistency(s) for s in pieces]
    noise_groove = [quantized_groove_consistency(s) for s in noise]
    assert np.mean(real_groove) > np.mean(noise_groove)


def test_a_transposed_solo_from_training_is_caught_as_a_copy(jazz):
    index = TrainingIndex(jazz[0])
    name, solo = jazz[0][3]
    copy = solo.shift_pitch(-3)
    result = index.check(copy)
    assert result.flagged and result.passage.source == name and result.passage.transposition == -3
    for held_name, held in jazz[1]:
        assert not index.check(held).flagged, held_name


def test_the_report_quantizes_performed_solos_and_says_so(jazz):
    from core.judging.report.data import HELD_OUT, RANDOM, compare_sets_to_training

    train, held = jazz[0][:12], jazz[1][:4]
    sets = {HELD_OUT: held, RANDOM: [(n, random_notes(s, seed=i)) for i, (n, s) in enumerate(held)]}
    report = compare_sets_to_training(sets, train, use_music21=False)
    assert report.sets[HELD_OUT].performed
    assert any("unquantized performance" in w for w in report.warnings)
    assert "quantized_groove_consistency" in report.quantization
    assert report.sets[HELD_OUT].distances["style"] < report.sets[RANDOM].distances["style"]
