"""The evaluation report as plain data: what `report.json` holds and the GUI's tab shows.

`compare_sets_to_training` measures every set of pieces (generated, held-out real, n-gram
baseline, shuffled, random) against the training pieces; `Report` gathers those figures,
the learning figures, the temperature sweep and the flagged copies. No plotting, no HTML,
no torch here: `core.judging.report.html` renders a `Report`, `core.judging.evaluation` fills one from a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import symusic

from core.judging.metrics import mgeval, pairs, transitions
from core.judging.metrics.notes import quantize_performance
from core.judging.metrics.originality import TrainingIndex
from core.judging.metrics.piece import NEEDS_QUANTIZATION, is_performed, piece_metrics

NamedScores = Sequence[tuple[str, symusic.Score]]
ProgressFn = Callable[[str], None]

# Set names in the order of the headline table's columns.
GENERATED, HELD_OUT, BASELINE = "generated", "held-out real", "n-gram baseline"
REAL_CONTINUATIONS = "real continuations"  # the bars that really follow each seed: same length as generated
PITCH_SHUFFLED, RHYTHM_SHUFFLED, RANDOM = "pitch-shuffled", "rhythm-shuffled", "random notes"
SET_ORDER = (GENERATED, HELD_OUT, REAL_CONTINUATIONS, BASELINE, PITCH_SHUFFLED, RHYTHM_SHUFFLED, RANDOM)

# (label, where the figure lives in SetResult, which way is better: "low", "high", or "near real")
HEADLINE_ROWS = (
    ("Style distance to training (JS, mean)", "distances.style", "low"),
    ("Interval transitions JS", "distances.js_interval_transitions", "low"),
    ("Scale-degree transitions JS", "distances.js_pitch_class_transitions", "low"),
    ("Duration transitions JS", "distances.js_duration_transitions", "low"),
    ("Metric position JS", "distances.js_metric_position_histogram", "low"),
    ("mgeval overlap with training (mean OA)", "mgeval_summary.mean_overlap", "high"),
    ("mgeval KL to training (mean, bits)", "mgeval_summary.mean_kl", "low"),
    ("Scale consistency", "metrics.scale_consistency", "near real"),
    ("Notes in the estimated key", "metrics.in_key_rate", "near real"),  # music21's, or ours with --no-music21
    ("Groove consistency (16th grid)", "metrics.quantized_groove_consistency", "near real"),
    ("Pitch-class entropy (bits)", "metrics.pitch_class_entropy", "near real"),
    ("Duration entropy (bits)", "metrics.duration_entropy", "near real"),
    ("Implied-chord fit", "metrics.chord_fit", "near real"),
    ("Varied bar repeats", "metrics.varied_repeat_rate", "near real"),
    ("Copied 8-step n-grams (share)", "originality.ngram_copy_rate", "low"),
    ("Longest copied run (notes)", "originality.longest_run_notes", "low"),
    ("Pieces flagged as copies", "originality.flagged", "low"),
)


@dataclass
class SetResult:
    """Every figure of one set of pieces, measured against the training set."""

    name: str
    pieces: int
    performed: bool  # quantized before the timing metrics (unquantized performance)
    metrics: dict[str, float]  # mean over pieces of each per-piece metric
    metrics_std: dict[str, float]
    distances: dict[str, float]  # JS/KL of set-level transition counts from the training set's
    mgeval: dict[str, dict]  # feature -> FeatureComparison as a dict
    mgeval_summary: dict[str, float]
    originality: dict[str, float]  # mean copy rates, longest run, number flagged
    # the longest copied run's piece and passage (`CopiedPassage` as a dict, with "piece"): what
    # originality.longest_run_notes counts, named; None when no n-gram of the set matched
    longest_copy: dict | None = None

    def figure(self, path: str) -> float:
        section, key = path.split(".", 1)
        value = getattr(self, section).get(key, math.nan)
        return float(value) if value is not None else math.nan


@dataclass(frozen=True)
class CopyFlag:
    set: str
    piece: str
    description: str  # e.g. "bars 1-16 copy BWV1007_04_Sarabande.mxl bars 1-16 (134 notes)"
    ngram_copy_rate: float
    longest_run_notes: int


@dataclass(frozen=True)
class TokenFigures:
    """Cross-entropy (nats/token), perplexity and next-token accuracy on held-out tokens."""

    loss: float
    perplexity: float
    accuracy: float
    tokens: int
    per_type: dict[str, dict[str, float]]  # token type -> {"loss", "accuracy"}
    loss_per_note: float = float("nan")  # nats per note written: compares vocabularies (BPE or not)


@dataclass(frozen=True)
class LearningFigures:
    model: TokenFigures
    baseline: TokenFigures  # the n-gram on the same tokens and split
    baseline_name: str  # e.g. "4-gram, absolute discounting"
    pieces: list[str]  # the held-out pieces scored

    @property
    def beats_baseline(self) -> bool:
        return self.model.loss < self.baseline.loss

    @property
    def margin_nats(self) -> float:
        return self.baseline.loss - self.model.loss


@dataclass(frozen=True)
class SweepPoint:
    """Figures of the continuations sampled at one temperature."""

    temperature: float
    pitch_entropy: float
    pitch_class_entropy: float
    uniqueness: float
    copy_rate: float
    style_distance: float
    pieces: int


@dataclass
class Report:
    title: str
    training_pieces: list[str]
    sets: dict[str, SetResult]
    learning: LearningFigures | None = None
    sweep: list[SweepPoint] = field(default_factory=list)
    uniqueness: float | None = None  # of the variations of one seed at the default temperature
    copies: list[CopyFlag] = field(default_factory=list)
    matrices: dict[str, dict[str, list]] = field(default_factory=dict)  # set -> name -> (n, n) share of transitions
    histograms: dict[str, dict[str, list]] = field(default_factory=dict)  # set -> name -> shares
    piece_values: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # set -> metric -> per piece
    quantization: dict[str, str] = field(default_factory=lambda: dict(NEEDS_QUANTIZATION))
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how figures were computed, e.g. which pairs were sampled

    def columns(self) -> list[str]:
        """The sets of the headline table, in `SET_ORDER` (then any others)."""
        present = set(self.sets) | ({GENERATED, BASELINE} if self.learning is not None else set())
        return [name for name in SET_ORDER if name in present] + [n for n in self.sets if n not in SET_ORDER]

    def headline(self) -> list[dict]:
        """Rows of the headline table: label, which way is better, one value per set, and a key that
        names the figure whatever its label (`HEADLINE_ROWS`' path, or learning.<figure>)."""
        names = [name for name in self.columns() if name in self.sets]
        rows = []
        if self.learning is not None:
            rows.append({"label": "Held-out cross-entropy (nats/token)", "better": "low", "key": "learning.loss",
                         "values": {GENERATED: self.learning.model.loss, BASELINE: self.learning.baseline.loss}})
            rows.append({"label": "Held-out cross-entropy (nats/note)", "better": "low",
                         "key": "learning.loss_per_note",
                         "values": {GENERATED: self.learning.model.loss_per_note,
                                    BASELINE: self.learning.baseline.loss_per_note}})
            rows.append({"label": "Held-out next-token accuracy", "better": "high", "key": "learning.accuracy",
                         "values": {GENERATED: self.learning.model.accuracy, BASELINE: self.learning.baseline.accuracy}})
        for label, path, better in HEADLINE_ROWS:
            rows.append({"label": label, "better": better, "key": path,
                         "values": {name: self.sets[name].figure(path) for name in names}})
        return rows

    def to_json(self) -> dict:
        data = asdict(self)
        data["headline"] = self.headline()
        if self.learning is not None:
            data["learning"]["beats_baseline"] = self.learning.beats_baseline
            data["learning"]["margin_nats"] = self.learning.margin_nats
        return _json_safe(data)


def _json_safe(value):
    """NaN and infinities become None; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    return value


def compare_sets_to_training(
    sets: dict[str, NamedScores],
    training: NamedScores,
    *,
    use_music21: bool = True,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    index: TrainingIndex | None = None,
) -> Report:
    """Measure every set against the training pieces; returns a `Report` without learning figures."""
    say = progress or (lambda message: None)
    performed = any(is_performed(score) for _, score in list(training)[:5])
    timed = (lambda s: quantize_performance(s)) if performed else (lambda s: s)
    say(f"indexing {len(training)} training pieces")
    training_timed = [timed(score) for _, score in training]
    reference_counts = transitions.set_counts(training_timed)
    index = index or TrainingIndex(list(training))
    reference = mgeval.ReferenceSet([score for _, score in training])  # once, not once per set
    report = Report(title="", training_pieces=[name for name, _ in training], sets={})
    report.matrices["training"], report.histograms["training"] = _plot_data(reference_counts)
    for set_name, pieces in sets.items():
        if cancel and cancel():
            break
        pieces = [(name, score) for name, score in pieces if score.note_num() > 0]
        if not pieces:
            report.warnings.append(f"{set_name}: no piece with notes")
            continue
        per_piece = []
        for number, (_, score) in enumerate(pieces, 1):  # seconds a piece with music21: say each one
            if cancel and cancel():
                return report
            say(f"measuring {set_name}: piece {number} of {len(pieces)}")
            per_piece.append(piece_metrics(score, use_music21=use_music21, performed=performed))
        names = sorted(per_piece[0])
        values = {m: [p[m] for p in per_piece] for m in names}
        counts = transitions.set_counts([timed(score) for _, score in pieces])
        comparisons = mgeval.compare_sets([score for _, score in pieces], reference)
        if note := mgeval.sampling_note(comparisons):
            report.notes.append(f"mgeval, {set_name}: {note} (a seeded sample).")
        checks = [index.check(score) for _, score in pieces]
        longest = max(zip(pieces, checks, strict=True), key=lambda pair: pair[1].longest_run_notes)
        for (piece_name, _), check in zip(pieces, checks, strict=True):
            if check.flagged and check.passage is not None:
                report.copies.append(CopyFlag(set_name, piece_name, check.passage.describe(),
                                              check.ngram_copy_rate, check.longest_run_notes))
        report.sets[set_name] = SetResult(
            name=set_name,
            pieces=len(pieces),
            performed=performed,
            metrics={m: float(np.nanmean(v)) if not all(map(math.isnan, v)) else math.nan for m, v in values.items()},
            metrics_std={m: float(np.nanstd(v)) if not all(map(math.isnan, v)) else math.nan for m, v in values.items()},
            distances=transitions.style_distances(counts, reference_counts),
            mgeval={name: c.to_json() for name, c in comparisons.items()},
            mgeval_summary=mgeval.summary(comparisons),
            originality={
                "ngram_copy_rate": float(np.mean([c.ngram_copy_rate for c in checks])),
                "bar_copy_rate": float(np.mean([c.bar_copy_rate for c in checks])),
                "longest_run_notes": float(max(c.longest_run_notes for c in checks)),
                "flagged": float(sum(c.flagged for c in checks)),
            },
            longest_copy=None if longest[1].passage is None else {"piece": longest[0][0],
                                                                  **asdict(longest[1].passage)},
        )
        report.piece_values[set_name] = values
        report.matrices[set_name], report.histograms[set_name] = _plot_data(counts)
    if reference.pairs.sampled:
        report.notes.insert(0, f"mgeval: the training set's intra-set distances from {reference.pairs.describe()} "
                               f"(a seeded sample; at most {pairs.MAX_PAIRS:,} pairs per distribution, so memory grows "
                               "linearly with the corpus).")
    if performed:
        report.warnings.append("The training music is unquantized performance: the metrics listed under "
                               "'Quantization' ran on inter-onset-quantized copies (16ths and eighth triplets).")
    return report


def _plot_data(counts: dict[str, np.ndarray]) -> tuple[dict[str, list], dict[str, list]]:
    matrices = {name: (counts[name] / max(counts[name].sum(), 1)).tolist() for name in transitions.MATRICES}
    histograms = {name: (counts[name] / max(counts[name].sum(), 1)).tolist() for name in transitions.HISTOGRAMS}
    return matrices, histograms
