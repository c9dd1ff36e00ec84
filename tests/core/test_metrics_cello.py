"""The metrics mean something on Bach's cello suites: they order real and broken music rightly.

Training movements: suites 1 and 2 (BWV 1007-1008). Held-out movements: suite 3 (BWV 1009).
Broken references are made from the held-out movements themselves: pitches shuffled (rhythm
kept), rhythm shuffled (pitch order kept), and random notes.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.judging.metrics import mgeval, transitions
from core.judging.metrics.key import in_key_rate
from core.judging.metrics.muspy_metrics import scale_consistency
from core.judging.metrics.notes import NoteArrays, note_arrays, notes_to_score
from core.judging.metrics.originality import TrainingIndex
from core.judging.metrics.references import pitch_shuffled, random_notes, rhythm_shuffled
from core.judging.metrics.rhythm import quantized_groove_consistency
from core.music.scores import load_score

TRAIN_SUITES = ("BWV1007", "BWV1008")
HELD_OUT_SUITE = "BWV1009"


@pytest.fixture(scope="module")
def cello(cello_xml_dir):
    files = sorted(cello_xml_dir.glob("*.mxl"))
    train = [(f.name, load_score(f)) for f in files if f.name.startswith(TRAIN_SUITES)]
    held_out = [(f.name, load_score(f)) for f in files if f.name.startswith(HELD_OUT_SUITE)]
    assert len(train) == 14 and len(held_out) == 7
    return train, held_out


@pytest.fixture(scope="module")
def training_counts(cello):
    return transitions.set_counts([s for _, s in cello[0]])


def _distances(scores, reference_counts):
    return transitions.style_distances(transitions.set_counts(scores), reference_counts)


def test_held_out_movements_are_closer_to_training_than_pitch_shuffled_ones(cello, training_counts):
    held = [s for _, s in cello[1]]
    real = _distances(held, training_counts)
    shuffled = _distances([pitch_shuffled(s, seed=i) for i, s in enumerate(held)], training_counts)
    assert real["js_interval_transitions"] < shuffled["js_interval_transitions"] - 0.1
    assert real["js_pitch_class_transitions"] < shuffled["js_pitch_class_transitions"]
    assert real["style"] < shuffled["style"]


def test_held_out_movements_are_closer_to_training_than_rhythm_shuffled_ones(cello, training_counts):
    held = [s for _, s in cello[1]]
    real = _distances(held, training_counts)
    shuffled = _distances([rhythm_shuffled(s, seed=i) for i, s in enumerate(held)], training_counts)
    assert real["js_duration_transitions"] < shuffled["js_duration_transitions"]
    assert real["js_metric_position_histogram"] < shuffled["js_metric_position_histogram"]
    assert real["style"] < shuffled["style"]


def test_random_notes_are_farthest_of_all(cello, training_counts):
    held = [s for _, s in cello[1]]
    real = _distances(held, training_counts)
    noise = _distances([random_notes(s, seed=i) for i, s in enumerate(held)], training_counts)
    assert noise["style"] > 2 * real["style"]


def test_mgeval_overlap_ranks_real_above_pitch_shuffled_and_random(cello):
    train = [s for _, s in cello[0]]
    held = [s for _, s in cello[1]]
    real = mgeval.summary(mgeval.compare_sets(held, train))
    shuffled = mgeval.summary(mgeval.compare_sets([pitch_shuffled(s) for s in held], train))
    noise = mgeval.summary(mgeval.compare_sets([random_notes(s) for s in held], train))
    assert real["mean_overlap"] > shuffled["mean_overlap"] > noise["mean_overlap"]
    assert real["mean_kl"] < shuffled["mean_kl"] < noise["mean_kl"]


def test_random_notes_score_low_on_scale_and_groove_consistency_and_the_suites_high(cello):
    pieces = [s for _, s in cello[0] + cello[1]]
    real_scale = [scale_consistency(s) for s in pieces]
    real_groove = [quantized_groove_consistency(s) for s in pieces]
    noise = [random_notes(s, seed=i) for i, s in enumerate(pieces)]
    noise_scale = [scale_consistency(s) for s in noise]
    noise_groove = [quantized_groove_consistency(s) for s in noise]
    assert np.median(real_scale) > 0.9 and max(noise_scale) < min(real_scale)
    assert np.median(real_groove) > 0.9 and np.median(noise_groove) < 0.8
    assert max(noise_groove) < np.median(real_groove)


def test_music21_key_holds_most_notes_of_a_suite_but_not_of_random_notes(cello):
    name, prelude = cello[1][0]
    assert in_key_rate(prelude) > 0.85, name
    assert in_key_rate(random_notes(prelude)) < 0.75


def _transposed(score, semitones):
    notes = note_arrays(score)
    return notes_to_score(NoteArrays(notes.onset, notes.duration, notes.pitch + semitones, notes.tpq), like=score)


@pytest.fixture(scope="module")
def index(cello):
    return TrainingIndex(cello[0])


def test_a_copy_of_a_training_movement_is_caught_and_named(cello, index):
    name, gigue = cello[0][6]  # BWV1007_07_Gigue
    result = index.check(gigue)
    assert result.flagged
    assert result.passage.source == name
    assert result.passage.transposition == 0
    assert result.passage.source_bars[0] == result.passage.generated_bars[0]


def test_a_transposed_copy_is_caught_naming_the_passage_and_the_shift(cello, index):
    name, minuet = cello[0][4]  # BWV1007_05_MenuetI
    result = index.check(_transposed(minuet, 5))
    assert result.flagged
    assert result.passage.source == name
    assert result.passage.transposition == 5
    assert name in result.passage.describe()


def test_an_excerpt_pasted_into_new_material_is_named_by_its_bars(cello, index):
    name, prelude = cello[0][7]  # BWV1008_01_Prelude, 3/4
    notes = note_arrays(prelude)
    bar = 3 * notes.tpq
    keep = (notes.onset >= 8 * bar) & (notes.onset < 16 * bar)  # bars 9-16 of the source
    noise = note_arrays(random_notes(prelude, seed=3))
    noise_part = noise.onset < 8 * bar
    pasted = NoteArrays(np.r_[noise.onset[noise_part], notes.onset[keep]],
                        np.r_[noise.duration[noise_part], notes.duration[keep]],
                        np.r_[noise.pitch[noise_part], notes.pitch[keep] - 2], notes.tpq)
    result = index.check(notes_to_score(pasted, like=prelude))
    assert result.flagged
    assert result.passage.source == name
    assert result.passage.transposition == -2
    assert result.passage.source_bars[0] in (9, 10) and result.passage.source_bars[1] in (15, 16)
    assert result.passage.generated_bars[0] in (9, 10)


def test_held_out_movements_are_not_flagged_as_copies(cello, index):
    for name, score in cello[1]:
        result = index.check(score)
        assert not result.flagged, (name, result.passage)
        assert result.ngram_copy_rate < 0.1
