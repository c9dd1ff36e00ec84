"""The report as data and as a page, without a model: sets vs training, flags, JSON safety."""

from __future__ import annotations

import json

import symusic

from core.judging.metrics.references import random_notes
from core.judging.report import headline_text, read_report, write_report
from core.judging.report.data import (
    GENERATED,
    HELD_OUT,
    RANDOM,
    LearningFigures,
    TokenFigures,
    compare_sets_to_training,
)


def scale_piece(offset: int, bars: int = 8) -> symusic.Score:
    """A little 3/4 tune in C major: eighth-note scale fragments, shifted by `offset` steps."""
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 3, 4))
    track = symusic.Track(program=42)
    steps = [0, 2, 4, 5, 7, 9, 11, 12]
    for i in range(bars * 6):
        pitch = 48 + steps[(i + offset) % 8] + 12 * ((i // 12) % 2)
        track.notes.append(symusic.Note(i * 240, 240, pitch, 80))
    score.tracks.append(track)
    return score


def make_report():
    training = [(f"train-{i}", scale_piece(i)) for i in range(4)]
    held = [(f"held-{i}", scale_piece(i + 4, bars=6)) for i in range(3)]
    sets = {GENERATED: [("copy", training[1][1].shift_pitch(2))], HELD_OUT: held,
            RANDOM: [(n, random_notes(s, seed=i)) for i, (n, s) in enumerate(held)]}
    return compare_sets_to_training(sets, training, use_music21=False)


def test_sets_are_measured_against_training_and_copies_are_listed():
    report = make_report()
    assert report.columns() == [GENERATED, HELD_OUT, RANDOM]
    style = {row["label"]: row["values"] for row in report.headline()}["Style distance to training (JS, mean)"]
    assert style[HELD_OUT] < style[RANDOM]
    assert [c.piece for c in report.copies] == ["copy"]
    text = headline_text(report)
    assert all(name in text for name in report.columns()) and "Style distance" in text
    assert "copy train-1" in report.copies[0].description and "transposed +2" in report.copies[0].description
    # the longest copied run, named: the piece it is in and the passage it follows (for the window)
    longest = report.sets[GENERATED].longest_copy
    assert (longest["piece"], longest["source"], longest["transposition"]) == ("copy", "train-1", 2)
    assert longest["notes"] == report.sets[GENERATED].originality["longest_run_notes"]
    assert longest["source_bars"][0] <= longest["source_bars"][1] and longest["generated_bars"][0] >= 1
    assert [row["key"] for row in report.headline()][:2] == ["distances.style", "distances.js_interval_transitions"]


def test_report_json_has_no_nan_and_reads_back(tmp_path):
    report = make_report()
    report.title = "test"
    write_report(report, tmp_path)
    text = (tmp_path / "report.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = read_report(tmp_path)
    assert data["title"] == "test" and data["headline"][0]["label"].startswith("Style distance")
    json.loads(text)


def test_a_model_that_does_not_beat_the_ngram_is_flagged_on_the_page(tmp_path):
    report = make_report()
    worse = TokenFigures(3.0, 20.1, 0.2, 100, {"Pitch": {"loss": 3.5, "accuracy": 0.1}})
    better = TokenFigures(2.0, 7.4, 0.4, 100, {"Pitch": {"loss": 2.5, "accuracy": 0.3}})
    report.learning = LearningFigures(worse, better, "4-gram", ["held-0"])
    assert not report.learning.beats_baseline and report.learning.margin_nats == -1.0
    _, page = write_report(report, tmp_path)
    assert "does not beat" in page.read_text()
    assert read_report(tmp_path)["learning"]["beats_baseline"] is False
    report.learning = LearningFigures(better, worse, "4-gram", ["held-0"])
    _, page = write_report(report, tmp_path)
    assert "beats the 4-gram" in page.read_text()
