"""`core.music.export.export`: one entry point writes every kind of `FORMATS`, and says why it cannot."""

from __future__ import annotations

import pytest
import symusic

from core.music.export import FORMATS, export


def two_bars(program: int = 0) -> symusic.Score:
    score = symusic.Score(480)
    track = symusic.Track(name="", program=program)
    for i, pitch in enumerate([60, 62, 64, 65, 67, 69, 71, 72]):
        track.notes.append(symusic.Note(i * 480, 480, pitch, 80))
    score.tracks.append(track)
    return score


def test_midi_export_keeps_the_notes_and_marks_the_seed_end(tmp_path):
    (written,) = export(two_bars(), tmp_path / "take.mid", "midi", program=42, seed_end_tick=1920)
    back = symusic.Score(str(written))
    assert [n.pitch for n in back.tracks[0].notes] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert back.tracks[0].program == 42
    assert [(m.time, m.text) for m in back.markers] == [(1920, "continuation")]


def test_musicxml_export_writes_the_notation(tmp_path):
    (written,) = export(two_bars(), tmp_path / "take.musicxml", "musicxml")
    text = written.read_text()
    assert text.count("<measure ") == 2 and text.count("<pitch>") == 8


def test_an_unknown_kind_is_refused_naming_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'mp3'.*midi"):
        export(two_bars(), tmp_path / "take.mp3", "mp3")
    assert not list(tmp_path.iterdir())


def test_every_format_accepts_its_own_suffix_and_names_its_filter():
    for form in FORMATS.values():
        assert form.suffix in form.accepted
        assert form.file_filter == f"{form.label} (*{form.suffix})"
