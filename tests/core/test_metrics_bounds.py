"""Memory bounds of the evaluation's metrics (issue 22, class 2): pairwise figures use at most
`pairs.MAX_PAIRS` pairs and say how many they used, the kernel density sums a chunk of
distances at a time, the n-gram refuses an absurd order and scores with a bounded cache.
Inputs are synthetic, made here; sizes are those that ate the memory before, or budgets
lowered so a small set crosses them."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import symusic

from core.judging.metrics import mgeval, ngram, pairs
from core.judging.metrics.ngram import NGramModel

MIB = 2**20


def walk(seed: int, notes: int = 48) -> symusic.Score:
    """A seeded random-walk melody in 4/4 (eighths to halves)."""
    rng = np.random.default_rng(seed)
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track()
    time, pitch = 0, 60 + int(rng.integers(-5, 7))
    for _ in range(notes):
        duration = int(rng.choice([240, 480, 720, 960]))
        pitch = int(np.clip(pitch + rng.integers(-4, 5), 40, 90))
        track.notes.append(symusic.Note(time, duration, pitch, 80))
        time += duration
    score.tracks.append(track)
    return score


def peak_bytes(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_every_pair_of_a_small_set_is_used_in_upper_triangle_order():
    for n in range(0, 60):
        sample = pairs.within(n)
        first, second = np.triu_indices(n, k=1)
        assert sample.total == n * (n - 1) // 2 and not sample.sampled
        assert np.array_equal(sample.first, first) and np.array_equal(sample.second, second)
    assert pairs.within(10).describe() == "all 45 pairs"


@pytest.mark.parametrize("n", [2000, 100_000])
def test_the_pairs_of_a_large_set_are_a_seeded_sample_of_distinct_pairs_within_the_budget(n):
    sample = pairs.within(n)
    assert sample.total == n * (n - 1) // 2
    assert sample.used == pairs.MAX_PAIRS and sample.sampled
    assert np.all(sample.first < sample.second) and np.all(sample.second < n) and np.all(sample.first >= 0)
    codes = sample.first * n + sample.second
    assert len(np.unique(codes)) == sample.used  # no pair twice
    again, other = pairs.within(n), pairs.within(n, seed=1)
    assert np.array_equal(again.first, sample.first) and np.array_equal(again.second, sample.second)
    assert not np.array_equal(other.first * n + other.second, codes)
    assert sample.describe() == f"{pairs.MAX_PAIRS:,} of {sample.total:,} pairs"


def test_the_pairs_between_two_large_sets_are_a_seeded_sample_within_the_budget():
    sample = pairs.between(400, 1600)
    assert (sample.used, sample.total) == (pairs.MAX_PAIRS, 640_000)
    assert np.all(sample.first < 400) and np.all(sample.second < 1600)
    assert len(np.unique(sample.first * 1600 + sample.second)) == sample.used
    assert pairs.between(3, 4).used == 12


def test_distances_within_and_between_2000_pieces_stay_within_the_pair_budget():
    rng = np.random.default_rng(0)
    vectors, others = rng.normal(size=(2000, 3)), rng.normal(size=(1500, 3))
    within, between = pairs.within(2000), pairs.between(2000, 1500)
    intra = mgeval.intra_set_distances(vectors)
    inter = mgeval.inter_set_distances(vectors, others)
    assert len(intra) == len(inter) == pairs.MAX_PAIRS
    # each distance is that of the pair the sample names
    assert np.allclose(intra, np.linalg.norm(vectors[within.first] - vectors[within.second], axis=1))
    assert np.allclose(inter, np.linalg.norm(vectors[between.first] - others[between.second], axis=1))


def test_the_kernel_density_of_many_distances_holds_a_chunk_of_them_at_a_time():
    samples = np.random.default_rng(0).gamma(2.0, size=20_000)
    grid = np.linspace(-1, 15, 1000)
    density = gaussian = None

    def run():
        nonlocal density
        density = mgeval.gaussian_kde(samples, grid)

    assert peak_bytes(run) < 40 * MIB  # all at once: 1,000 x 20,000 x 8 bytes = 153 MiB an array
    std = samples.std(ddof=1)
    bandwidth = std * len(samples) ** (-1 / 5)
    gaussian = np.array([np.exp(-0.5 * ((g - samples) / bandwidth) ** 2).sum() for g in grid[::50]])
    assert np.allclose(density[::50], gaussian / (len(samples) * bandwidth * np.sqrt(2 * np.pi)))


def test_a_sampled_overlap_stays_close_to_the_one_from_every_pair():
    rng = np.random.default_rng(3)
    reference = rng.dirichlet(np.full(12, 2.0), 220)
    candidate = reference[:60] + rng.normal(0, 0.03, (60, 12))
    every = pairs.within(220, budget=10**9), pairs.between(60, 220, budget=10**9)
    some = pairs.within(220, budget=3000), pairs.between(60, 220, budget=3000)
    exact = mgeval.overlap_and_kl(mgeval.intra_set_distances(reference, every[0]),
                                  mgeval.inter_set_distances(candidate, reference, every[1]))
    sampled = mgeval.overlap_and_kl(mgeval.intra_set_distances(reference, some[0]),
                                    mgeval.inter_set_distances(candidate, reference, some[1]))
    assert sampled[0] == pytest.approx(exact[0], abs=0.03)
    assert sampled[1] == pytest.approx(exact[1], abs=0.05)


def test_compare_sets_and_the_report_say_how_many_pairs_were_sampled(monkeypatch):
    from core.judging.report.data import GENERATED, compare_sets_to_training
    from core.judging.report.html import render_html

    monkeypatch.setattr(pairs, "MAX_PAIRS", 20)
    candidate, reference = [walk(i, 24) for i in range(10)], [walk(100 + i, 24) for i in range(12)]
    comparisons = mgeval.compare_sets(candidate, reference)
    for comparison in comparisons.values():
        assert comparison.pairs == {"intra_candidate": [20, 45], "intra_reference": [20, 66], "inter": [20, 120]}
    assert mgeval.sampling_note(comparisons) == ("intra-set distances from 20 of 45 pairs, "
                                                 "distances to the reference from 20 of 120 pairs")
    report = compare_sets_to_training({GENERATED: [(f"g{i}", s) for i, s in enumerate(candidate)]},
                                      [(f"t{i}", s) for i, s in enumerate(reference)], use_music21=False)
    assert report.notes[0].startswith("mgeval: the training set's intra-set distances from 20 of 66 pairs")
    assert "generated: intra-set distances from 20 of 45 pairs" in report.notes[1]
    assert report.to_json()["notes"] == report.notes
    assert "20 of 66 pairs" in render_html(report)
    assert report.to_json()["sets"][GENERATED]["mgeval"]["avg_ioi"]["pairs"]["inter"] == [20, 120]


def test_compare_sets_under_the_budget_uses_every_pair_and_says_nothing():
    comparisons = mgeval.compare_sets([walk(i) for i in range(4)], [walk(10 + i) for i in range(5)])
    assert comparisons["avg_ioi"].pairs == {"intra_candidate": [6, 6], "intra_reference": [10, 10], "inter": [20, 20]}
    assert mgeval.sampling_note(comparisons) is None


@pytest.mark.parametrize("order", [0, ngram.MAX_ORDER + 1, 100_000])
def test_an_ngram_order_outside_the_cap_is_refused(order):
    with pytest.raises(ValueError, match=f"between 1 and {ngram.MAX_ORDER}"):
        NGramModel(order, vocab_size=8)


def test_ngram_scoring_keeps_a_bounded_cache_and_the_same_figures(monkeypatch):
    rng = np.random.default_rng(0)
    vocab = 3000
    train = [rng.integers(0, vocab, 400).tolist() for _ in range(5)]
    held = [rng.integers(0, vocab, 800).tolist()]  # ~800 distinct contexts of one token
    model = NGramModel(2, vocab).fit(train)
    monkeypatch.setattr(ngram, "CACHED_CONTEXTS", 10**9)
    unbounded = model.evaluate(held)
    monkeypatch.setattr(ngram, "CACHED_CONTEXTS", 32)
    bounded = []
    peak = peak_bytes(lambda: bounded.append(model.evaluate(held)))
    assert peak < 6 * MIB  # unbounded: 800 distributions x 3,000 x 8 bytes = 18 MiB
    assert bounded[0].loss == unbounded.loss and bounded[0].accuracy == unbounded.accuracy
