"""Judge takes, the engine half of the window's Evaluation panel: each take's continuation after its
seed against the corpus, beside random notes, and the bar of the take where the judged part begins."""

from __future__ import annotations

import symusic

from core.judging.evaluation import continuation_first_bar, judge_takes
from core.judging.report.data import GENERATED, RANDOM
from core.judging.report.figures import report_figures


def line(pitches: list[int], start: int = 0) -> symusic.Score:
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track(program=42)
    track.notes.extend(symusic.Note(start + i * 240, 240, p, 80) for i, p in enumerate(pitches))
    score.tracks.append(track)
    return score


def test_takes_are_judged_after_their_seeds_beside_random_notes():
    scale = [48, 50, 52, 53, 55, 57, 59, 60]
    training = [(f"piece-{i}.mid", line([p + i for p in scale * 4])) for i in range(3)]
    takes = [("Take 1", line(scale * 4), 1920 * 2), ("Take 2", line(list(reversed(scale)) * 4), 960)]
    progress = []
    report, first_bars = judge_takes(takes, training, progress=progress.append)
    assert report.title == "2 take(s) against 3 corpus pieces"
    assert set(report.sets) >= {GENERATED, RANDOM}
    assert first_bars == (("Take 1", 3), ("Take 2", 1))  # the bar of the first note at or after the seed's end
    assert progress  # it says where it is
    titles = [title for title, png in report_figures(report)]
    assert titles[:2] == ["Scale degrees, note values, metric positions", "Per-piece metrics"]
    assert all(png.startswith(b"\x89PNG") for _, png in report_figures(report))


def test_the_judged_part_starts_at_the_bar_of_the_first_new_note():
    take = line([60, 62, 64], start=0)
    take.tracks[0].notes.append(symusic.Note(1920 * 2 + 480, 240, 65, 80))  # bar 3, after a seed of 2.5 beats
    assert continuation_first_bar(take, 1200) == 3
    assert continuation_first_bar(take, 0) == 1
