"""Every per-piece figure in one dict, with performed MIDI quantized where a metric needs it.

Which metrics need quantization (`NEEDS_QUANTIZATION`): those that compare onset positions
across bars or round durations to note values. They run on `quantize_performance` output
when a piece is performed (most onsets off the notation grid); pitch metrics never need it.
MusPy's own tick-level figures are always reported on the unquantized score, as MusPy would.
"""

from __future__ import annotations

import math

import symusic

from core.judging.metrics.harmony import harmony_stats
from core.judging.metrics.key import Key, estimate_key, in_key_rate
from core.judging.metrics.muspy_metrics import muspy_metrics
from core.judging.metrics.notes import quantize_performance
from core.judging.metrics.rhythm import onset_on_grid_rate, rhythm_metrics
from core.judging.metrics.structure import structure_metrics

PERFORMED_BELOW = 0.9  # a piece with fewer onsets on the notation grid than this is performed

# metric -> why it needs quantized onsets (shown in the report)
NEEDS_QUANTIZATION = {
    "quantized_groove_consistency": "compares per-bar onset vectors on a 16th/triplet grid",
    "duration_entropy": "histogram of note values",
    "ioi_entropy": "histogram of inter-onset note values",
    "chord_fit": "implied harmony per bar needs bar lines that do not drift",
    "chord_change_rate": "implied harmony per bar",
    "fifth_motion_rate": "implied harmony per bar",
    "exact_repeat_rate": "bar-by-bar comparison of onsets",
    "varied_repeat_rate": "bar-by-bar comparison of onsets",
    "motif_recurrence": "per-bar onset patterns",
    "distinct_patterns": "per-bar onset patterns",
    "balanced_phrase_rate": "phrase lengths in bars",
    "mean_phrase_bars": "phrase lengths in bars",
    "js_duration_transitions": "duration classes",
    "js_metric_position_histogram": "onset position in the bar",
}


def is_performed(score: symusic.Score) -> bool:
    rate = onset_on_grid_rate(score)
    return not math.isnan(rate) and rate < PERFORMED_BELOW


def piece_metrics(score: symusic.Score, *, use_music21: bool = True, performed: bool | None = None) -> dict[str, float]:
    """All per-piece metrics by name; `performed=None` detects unquantized performance."""
    if performed is None:
        performed = is_performed(score)
    timed = quantize_performance(score) if performed else score
    figures = dict(muspy_metrics(score))
    figures["in_key_rate"] = in_key_rate(score) if use_music21 else in_key_rate(score, _estimated(score))
    figures.update(rhythm_metrics(timed))
    figures["onset_on_grid_rate"] = onset_on_grid_rate(score)  # of the music as given
    figures.update(harmony_stats(timed).figures())
    figures.update(structure_metrics(timed))
    return {name: float(value) for name, value in figures.items()}


def _estimated(score: symusic.Score) -> Key:
    return estimate_key(score)
