"""MusPy's per-piece metrics, reproduced exactly on `symusic.Score`.

Definitions follow `muspy/metrics/metrics.py` (MusPy 0.5) line by line, quirks included, so
that our figures can be compared with papers that report MusPy numbers:

* histograms count notes (not durations);
* time steps are ticks (MusPy's ``resolution`` is ticks per quarter, our ``score.tpq``);
* ``polyphony_rate`` counts time steps with *more than* ``threshold`` pitches on (MusPy
  uses ``>``, so the default threshold 2 counts three or more sounding pitches);
* ``empty_beat_rate`` and ``groove_consistency`` also count drum notes, the others ignore
  drums; a note ending exactly on a beat line also fills the beat that starts there;
* ``groove_consistency`` compares binary onset vectors of neighbouring measures, one entry
  per tick of the measure.
"""

from __future__ import annotations

import math

import numpy as np
import symusic

from core.judging.metrics.notes import bar_length_ticks

MAJOR_SCALE = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)  # C major
MINOR_SCALE = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)  # C natural minor


def _pitches(score: symusic.Score, include_drums: bool = False) -> np.ndarray:
    parts = [t.notes.numpy()["pitch"] for t in score.tracks if len(t.notes) and (include_drums or not t.is_drum)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _all_notes(score: symusic.Score, include_drums: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, pitch) arrays in ticks for the chosen tracks."""
    starts, ends, pitches = [], [], []
    for track in score.tracks:
        if not len(track.notes) or (track.is_drum and not include_drums):
            continue
        data = track.notes.numpy()
        starts.append(data["time"].astype(np.int64))
        ends.append(data["time"].astype(np.int64) + data["duration"].astype(np.int64))
        pitches.append(data["pitch"].astype(np.int64))
    if not starts:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(pitches)


def _length(score: symusic.Score) -> int:
    """MusPy's song length: the latest note end over every track (drums included), in ticks."""
    _, ends, _ = _all_notes(score, include_drums=True)
    return int(ends.max()) if len(ends) else 0


def n_pitches_used(score: symusic.Score) -> int:
    """Number of distinct MIDI pitches (drums ignored)."""
    return len(np.unique(_pitches(score)))


def n_pitch_classes_used(score: symusic.Score) -> int:
    """Number of distinct pitch classes (drums ignored)."""
    return len(np.unique(_pitches(score) % 12))


def pitch_range(score: symusic.Score) -> int:
    """Highest minus lowest pitch in semitones (drums ignored); 0 without notes."""
    if not any(len(t.notes) for t in score.tracks):
        return 0
    pitches = _pitches(score)
    highest = int(pitches.max()) if len(pitches) else 0  # MusPy starts from highest=0, lowest=127
    lowest = int(pitches.min()) if len(pitches) else 127
    return highest - lowest


def _entropy(prob: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.nansum(prob * np.log2(prob)))


def pitch_entropy(score: symusic.Score) -> float:
    """Shannon entropy (bits) of the note-count pitch histogram; NaN without notes."""
    counter = np.bincount(_pitches(score), minlength=128).astype(float)
    if counter.sum() < 1:
        return math.nan
    return _entropy(counter / counter.sum())


def pitch_class_entropy(score: symusic.Score) -> float:
    """Shannon entropy (bits) of the note-count pitch-class histogram; NaN without notes."""
    counter = np.bincount(_pitches(score) % 12, minlength=12).astype(float)
    if counter.sum() < 1:
        return math.nan
    return _entropy(counter / counter.sum())


def pitch_in_scale_rate(score: symusic.Score, root: int, mode: str) -> float:
    """Share of notes whose pitch class lies in the (root, "major"|"minor") scale."""
    if mode == "major":
        scale = np.roll(MAJOR_SCALE, root)
    elif mode == "minor":
        scale = np.roll(MINOR_SCALE, root)
    else:
        raise ValueError("`mode` must be either 'major' or 'minor'.")
    pitches = _pitches(score)
    if len(pitches) < 1:
        return math.nan
    return float(np.count_nonzero(scale[pitches % 12]) / len(pitches))


def scale_consistency(score: symusic.Score) -> float:
    """The largest pitch-in-scale rate over the 24 major and natural-minor scales."""
    if len(_pitches(score)) < 1:
        return math.nan
    return max(pitch_in_scale_rate(score, root, mode) for mode in ("major", "minor") for root in range(12))


def _sounding_counts(score: symusic.Score) -> np.ndarray:
    """Per tick, how many distinct pitches sound: MusPy's binary piano roll summed over pitch.

    Built pitch by pitch with difference arrays instead of a (length, 128) matrix; two notes
    of the same pitch that overlap count once, as in the binary piano roll.
    """
    length = _length(score)
    starts, ends, pitches = _all_notes(score, include_drums=False)
    counts = np.zeros(length, np.int64)
    for pitch in np.unique(pitches):
        mask = pitches == pitch
        diff = np.zeros(length + 1, np.int64)
        np.add.at(diff, starts[mask], 1)
        np.add.at(diff, ends[mask], -1)
        counts += np.cumsum(diff[:-1]) > 0
    return counts


def polyphony(score: symusic.Score) -> float:
    """Mean number of sounding pitches over the ticks where at least one sounds; NaN if none."""
    counts = _sounding_counts(score)
    denominator = np.count_nonzero(counts > 0)
    if denominator < 1:
        return math.nan
    return float(counts.sum() / denominator)


def polyphony_rate(score: symusic.Score, threshold: int = 2) -> float:
    """Share of ticks with more than `threshold` pitches sounding (MusPy's ``>``); NaN if empty."""
    counts = _sounding_counts(score)
    if len(counts) < 1:
        return math.nan
    return float(np.count_nonzero(counts > threshold) / len(counts))


def empty_beat_rate(score: symusic.Score) -> float:
    """Share of beats (quarter notes from tick 0) in which no note sounds; NaN if empty.

    Beats run to ``length // tpq + 1``; a note marks every beat from ``start // tpq`` to
    ``end // tpq`` inclusive, as in MusPy.
    """
    length = _length(score)
    if length < 1:
        return math.nan
    resolution = score.tpq
    n_beats = length // resolution + 1
    starts, ends, _ = _all_notes(score, include_drums=True)
    diff = np.zeros(n_beats + 1, np.int64)
    np.add.at(diff, starts // resolution, 1)
    np.add.at(diff, ends // resolution + 1, -1)
    filled = np.count_nonzero(np.cumsum(diff[:-1]) > 0)
    return 1 - filled / n_beats


def groove_consistency(score: symusic.Score, measure_resolution: int | None = None) -> float:
    """One minus the mean Hamming distance between onset vectors of neighbouring measures.

    `measure_resolution` is ticks per measure; by default the length of a bar of the first time
    signature. Measures are counted from tick 0 (a constant meter is assumed, as in MusPy).
    NaN with fewer than two measures.
    """
    if measure_resolution is None:
        measure_resolution = bar_length_ticks(score)
    if measure_resolution < 1:
        raise ValueError("Measure resolution must be a positive integer.")
    length = _length(score)
    n_measures = length // measure_resolution + 1
    if n_measures < 2:
        return math.nan
    starts, _, _ = _all_notes(score, include_drums=True)
    patterns = np.zeros((n_measures, measure_resolution), bool)
    measure, position = np.divmod(starts, measure_resolution)
    patterns[measure, position] = True
    hamming = np.count_nonzero(patterns[:-1] != patterns[1:])
    return 1 - hamming / (measure_resolution * (n_measures - 1))


MUSPY_METRICS = {
    "pitch_range": pitch_range,
    "n_pitches_used": n_pitches_used,
    "n_pitch_classes_used": n_pitch_classes_used,
    "polyphony": polyphony,
    "polyphony_rate": polyphony_rate,
    "pitch_entropy": pitch_entropy,
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "empty_beat_rate": empty_beat_rate,
    "groove_consistency": groove_consistency,
}


def muspy_metrics(score: symusic.Score) -> dict[str, float]:
    """All ten MusPy metrics of one score, by MusPy's names."""
    return {name: float(fn(score)) for name, fn in MUSPY_METRICS.items()}
