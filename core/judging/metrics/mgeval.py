"""Yang & Lerch (2018) "On the evaluation of generative models in music" (mgeval), in numpy.

For each feature, every piece of a set becomes a vector; the method compares distributions of
*distances*, not the features themselves:

* intra-set distances: between pieces of one set (every pair);
* inter-set distances: between each piece of the candidate set and each reference piece;
* above `pairs.MAX_PAIRS` pairs (a set of more than 200 pieces), a seeded sample of that many
  pairs stands in for all of them, and each `FeatureComparison` says how many of how many it
  used: the pairs grow as the square of the pieces, the memory used here only linearly;
* each distance sample is smoothed by a Gaussian kernel density estimate (Scott's bandwidth,
  as scipy's default); the overlap area (OA, 0..1, higher = closer) and the KL divergence
  (bits, lower = closer) of the reference's intra-set density against the inter-set density
  say how well the candidate set blends into the reference.

Features follow mgeval's list. Pitch-class features count from each piece's estimated tonic
(mgeval uses absolute pitch classes; a corpus in several keys needs key-relative ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import symusic

from core.judging.metrics.notes import NoteArrays, melody, note_arrays
from core.judging.metrics.pairs import PairSample, between, within
from core.judging.metrics.transitions import (
    duration_histogram,
    duration_transitions,
    pitch_class_histogram,
    pitch_class_transitions,
    row_normalise,
)

DISTANCE_CHUNK = 4096  # pairs whose difference vectors are held at once (169 dims: 5.5 MB)
KDE_CHUNK = 1024  # distances whose kernels are summed at once on the 1,000-point grid (8 MB)


def _share(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def _avg_ioi_beats(notes: NoteArrays) -> float:
    onsets = np.unique(notes.onset)
    return float(np.mean(np.diff(onsets)) / notes.tpq) if len(onsets) > 1 else 0.0


def _avg_pitch_shift(notes: NoteArrays) -> float:
    line = melody(notes)
    return float(np.mean(np.abs(np.diff(line.pitch)))) if len(line) > 1 else 0.0


FEATURES: dict[str, Callable[[NoteArrays], np.ndarray | float]] = {
    "total_used_pitch": lambda n: float(len(np.unique(n.pitch))),
    "pitch_range": lambda n: float(n.pitch.max() - n.pitch.min()) if len(n) else 0.0,
    "avg_pitch_shift": _avg_pitch_shift,  # semitones between successive notes of the top line
    "total_used_note": lambda n: float(len(n)),
    "avg_ioi": _avg_ioi_beats,  # quarters between successive onsets
    "pitch_class_histogram": lambda n: _share(pitch_class_histogram(n)),
    "pitch_class_transition_matrix": lambda n: row_normalise(pitch_class_transitions(n)).ravel(),
    "note_length_histogram": lambda n: _share(duration_histogram(n)),
    "note_length_transition_matrix": lambda n: row_normalise(duration_transitions(n)).ravel(),
}
# features that depend on a piece's length: comparable only between excerpts of equal length
LENGTH_DEPENDENT = ("total_used_note", "total_used_pitch", "pitch_range")


def feature_vectors(scores: Sequence[symusic.Score]) -> dict[str, np.ndarray]:
    """{feature: (n_pieces, dim) array}."""
    notes = [note_arrays(score) for score in scores]
    return {name: np.array([np.atleast_1d(fn(n)) for n in notes], dtype=float) for name, fn in FEATURES.items()}


def _distances(a: np.ndarray, b: np.ndarray, pairs: PairSample) -> np.ndarray:
    """Euclidean distance of each pair (a[first], b[second]), a chunk of pairs at a time."""
    out = np.empty(pairs.used)
    for lo in range(0, pairs.used, DISTANCE_CHUNK):
        hi = lo + DISTANCE_CHUNK
        out[lo:hi] = np.sqrt(((a[pairs.first[lo:hi]] - b[pairs.second[lo:hi]]) ** 2).sum(-1))
    return out


def intra_set_distances(vectors: np.ndarray, pairs: PairSample | None = None) -> np.ndarray:
    """Euclidean distances between pairs of distinct pieces of one set: every pair, or the
    seeded sample `pairs.within` draws above `MAX_PAIRS`."""
    return _distances(vectors, vectors, pairs or within(len(vectors)))


def inter_set_distances(a: np.ndarray, b: np.ndarray, pairs: PairSample | None = None) -> np.ndarray:
    """Euclidean distances between pieces of `a` and pieces of `b`: every pair, or a seeded sample."""
    return _distances(a, b, pairs or between(len(a), len(b)))


def gaussian_kde(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of 1-D samples on `grid`, Scott's bandwidth (scipy's default),
    summed `KDE_CHUNK` samples at a time: memory grid x KDE_CHUNK, whatever the samples."""
    samples = np.asarray(samples, float)
    std = samples.std(ddof=1) if len(samples) > 1 else 0.0
    bandwidth = max(std * len(samples) ** (-1 / 5), 1e-6 * max(1.0, abs(samples.mean()) if len(samples) else 1.0))
    density = np.zeros(len(grid))
    for lo in range(0, len(samples), KDE_CHUNK):
        z = (grid[:, None] - samples[None, lo:lo + KDE_CHUNK]) / bandwidth  # (grid, chunk)
        density += np.exp(-0.5 * z**2).sum(1)
    return density / (len(samples) * bandwidth * np.sqrt(2 * np.pi))


def overlap_and_kl(p_samples: np.ndarray, q_samples: np.ndarray, points: int = 1000) -> tuple[float, float]:
    """(overlap area, KL(P || Q) in bits) of the two samples' kernel densities."""
    if len(p_samples) < 2 or len(q_samples) < 2:  # no spread to estimate a density from
        return float("nan"), float("nan")
    both = np.r_[p_samples, q_samples]
    spread = both.std() or 1.0
    grid = np.linspace(both.min() - 3 * spread, both.max() + 3 * spread, points)
    step = grid[1] - grid[0]
    p, q = gaussian_kde(p_samples, grid), gaussian_kde(q_samples, grid)
    overlap = float(np.minimum(p, q).sum() * step)
    eps = 1e-12
    kl = float(np.sum(p * np.log2((p + eps) / (q + eps))) * step)
    return min(overlap, 1.0), max(kl, 0.0)


@dataclass(frozen=True)
class FeatureComparison:
    """One feature's distance distributions between a candidate set and a reference set."""

    feature: str
    intra_candidate: float  # mean distance between candidate pieces
    intra_reference: float  # mean distance between reference pieces
    inter: float  # mean distance from candidate to reference pieces
    overlap: float  # OA of reference-intra and inter densities (1 = indistinguishable)
    kl: float  # KL(reference-intra || inter) in bits (0 = indistinguishable)
    # distances -> [pairs used, pairs there are], for "intra_candidate", "intra_reference", "inter"
    pairs: dict[str, list[int]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


class ReferenceSet:
    """The reference pieces' feature vectors and intra-set distances, computed once and compared
    with any number of candidate sets (the training set of an evaluation is compared with seven)."""

    def __init__(self, scores: Sequence[symusic.Score]):
        self.vectors = feature_vectors(scores)
        self.size = len(scores)
        self.pairs = within(self.size)
        self.intra = {name: intra_set_distances(v, self.pairs) for name, v in self.vectors.items()}


def _mean(distances: np.ndarray) -> float:
    return float(distances.mean()) if len(distances) else float("nan")


def compare_sets(candidate: Sequence[symusic.Score], reference: Sequence[symusic.Score] | ReferenceSet,
                 features: Sequence[str] | None = None) -> dict[str, FeatureComparison]:
    """mgeval's comparison of `candidate` against `reference`, feature by feature."""
    ref = reference if isinstance(reference, ReferenceSet) else ReferenceSet(reference)
    cand = feature_vectors(candidate)
    own, across = within(len(candidate)), between(len(candidate), ref.size)
    counts = {"intra_candidate": [own.used, own.total], "intra_reference": [ref.pairs.used, ref.pairs.total],
              "inter": [across.used, across.total]}
    result = {}
    for name in features or FEATURES:
        intra_c, intra_r = intra_set_distances(cand[name], own), ref.intra[name]
        inter = inter_set_distances(cand[name], ref.vectors[name], across)
        overlap, kl = overlap_and_kl(intra_r, inter)
        result[name] = FeatureComparison(name, _mean(intra_c), _mean(intra_r), _mean(inter), overlap, kl,
                                         {key: list(value) for key, value in counts.items()})
    return result


def sampling_note(comparisons: dict[str, FeatureComparison]) -> str | None:
    """Which of a candidate set's distances came from a sample of pairs, as a phrase
    ("intra-set distances from 20,000 of 79,800 pairs"); None when every pair was used.
    The reference's own sample is `ReferenceSet.pairs`."""
    first = next(iter(comparisons.values()), None)
    labels = {"intra_candidate": "intra-set distances", "inter": "distances to the reference"}
    parts = [f"{label} from {first.pairs[key][0]:,} of {first.pairs[key][1]:,} pairs"
             for key, label in labels.items() if first and first.pairs[key][0] < first.pairs[key][1]]
    return ", ".join(parts) or None


def summary(comparisons: dict[str, FeatureComparison]) -> dict[str, float]:
    """Mean overlap and KL over the length-independent features."""
    chosen = [c for name, c in comparisons.items() if name not in LENGTH_DEPENDENT and not np.isnan(c.overlap)]
    if not chosen:  # too few pieces for any density
        return {"mean_overlap": float("nan"), "mean_kl": float("nan")}
    return {
        "mean_overlap": float(np.mean([c.overlap for c in chosen])),
        "mean_kl": float(np.mean([c.kl for c in chosen])),
    }
