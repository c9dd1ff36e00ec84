"""Notation whose meter or note lengths no music has is refused quickly, naming the file (found by a
hostile run, issue 22): ABC's M:1000/4 took music21 40 s to parse and then failed with symusic's
"incompatible function arguments"; MusicXML's <beats>1000</beats> the same; a note held 99,999,999
quarter notes the same TypeError. The meters are read from the raw text before parsing, as the
measure count and <sound tempo> are. Every file of music21's corpus still passes. Made at run time."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from core.music.scores import MAX_TICK, ScoreError, _raw_meter_problem, _sound_tempo_problem, load_score
from tests.core.test_tempo_marks import abc, musicxml

IMPOSSIBLE = "is impossible (a numerator is 1 to 255, a denominator a power of two from 1 to 128)"


@pytest.mark.parametrize("name, content, says", [
    ("thousand.abc", abc("1/4=100").replace("M:4/4", "M:1000/4"), f"time signature 1000/4 {IMPOSSIBLE}"),
    ("inline.abc", abc("1/4=100").replace("CDEF|", "CD[M:999/8]EF|"), f"time signature 999/8 {IMPOSSIBLE}"),
    ("zero.abc", abc("1/4=100").replace("M:4/4", "M:0/4"), f"time signature 0/4 {IMPOSSIBLE}"),
    ("thirds.abc", abc("1/4=100").replace("M:4/4", "M:4/3"), f"time signature 4/3 {IMPOSSIBLE}"),
    ("digits.abc", abc("1/4=100").replace("M:4/4", "M:" + "9" * 5000 + "/4"),
     f"a time signature of a 5,000-digit number {IMPOSSIBLE}"),
    ("thousand.musicxml", musicxml().replace("<beats>4</beats>", "<beats>1000</beats>"),
     f"time signature 1000/4 {IMPOSSIBLE}"),
    ("composite.musicxml", musicxml().replace("<beats>4</beats>", "<beats>200+100</beats>"),
     f"time signature 300/4 {IMPOSSIBLE}"),
    ("thousand.krn", "**kern\n*M1000/4\n=1\n4c\n*-\n", f"time signature 1000/4 {IMPOSSIBLE}"),
])
def test_a_meter_no_music_has_is_refused_before_parsing(tmp_path, name, content, says):
    (tmp_path / name).write_text(content)
    started = time.monotonic()
    with pytest.raises(ScoreError) as refused:
        load_score(tmp_path / name)
    assert str(refused.value).startswith(f"{name}: {says}"), str(refused.value)
    assert time.monotonic() - started < 5  # not music21's 40 s


def test_a_meter_in_an_mxl_is_read_from_the_score_it_holds(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/container.xml", '<container><rootfiles><rootfile full-path="s.xml"/></rootfiles>'
                                                   "</container>")
        archive.writestr("s.xml", musicxml().replace("<beats>4</beats>", "<beats>1000</beats>"))
    (tmp_path / "packed.mxl").write_bytes(buffer.getvalue())
    with pytest.raises(ScoreError, match=r"packed.mxl: time signature 1000/4 is impossible"):
        load_score(tmp_path / "packed.mxl")


def test_a_note_longer_than_a_score_can_be_is_refused_naming_it(tmp_path):
    (tmp_path / "held.abc").write_text(abc("1/4=100").replace("CDEF|GABc|", "C99999999|"))
    with pytest.raises(ScoreError) as refused:
        load_score(tmp_path / "held.abc")
    assert str(refused.value) == ("held.abc: a note at the start lasts 99,999,999 quarter notes, longer than a score "
                                  "may be (4,473,924 quarter notes)")
    assert MAX_TICK == 2**31 - 1


def test_meters_music_has_pass_the_raw_checks(tmp_path):
    for meter in ("4/4", "3/8", "13/16", "7/4", "2/2", "12/8", "255/4", "3+2/8"):
        (tmp_path / "ok.abc").write_text(abc("1/4=100").replace("M:4/4", f"M:{meter}"))
        assert _raw_meter_problem((tmp_path / "ok.abc").read_bytes(), ".abc") is None, meter
    for text in ("M:C", "M:C|", "M:none", "M:(2+3)/8"):  # music21 reads these its own way
        assert _raw_meter_problem(abc("1/4=100").replace("M:4/4", text).encode(), ".abc") is None


def test_every_notated_file_of_music21s_corpus_passes_the_raw_checks():
    """The oracle against refusing real music: 3,000 files of the corpora Partita ships with."""
    import music21

    checked = 0
    for path in (Path(music21.__file__).parent / "corpus").rglob("*"):
        suffix = path.suffix.lower()
        if suffix not in (".abc", ".krn", ".xml", ".mxl", ".musicxml"):
            continue
        data = path.read_bytes()
        if suffix == ".mxl":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = archive.read(next(i for i in archive.infolist() if "META-INF" not in i.filename))
        kind = ".musicxml" if suffix in (".xml", ".mxl", ".musicxml") else suffix
        assert _raw_meter_problem(data, kind) is None, path
        assert kind != ".musicxml" or _sound_tempo_problem(data) is None, path
        checked += 1
    assert checked > 2000
