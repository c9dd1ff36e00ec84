"""Seeds whose meter, tempo or resolution cannot be counted in beats are refused on the way in,
with the file and the problem (issue 22, class 1). The hostile files are made here, at run time."""

from __future__ import annotations

import struct

import pytest

from core.cli import main
from core.music.scores import ScoreError, load_score, meter_problem, resolution_problem, tempo_problem


def tiny_midi(numerator: int = 4, denominator_byte: int = 2, division: int = 96,
              tempo_us: int | None = None) -> bytes:
    """A one-note MIDI file with one time signature (43 bytes without a tempo): the numerator and
    the power of two of the denominator as MIDI writes them, so byte 8 reads as x/0."""
    events = bytes([0x00, 0xFF, 0x58, 0x04, numerator, denominator_byte, 24, 8])
    if tempo_us is not None:
        events += bytes([0x00, 0xFF, 0x51, 0x03]) + tempo_us.to_bytes(3, "big")
    events += bytes([0x00, 0x90, 60, 64, 0x81, 0x00, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00])
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, division) + b"MTrk" + struct.pack(">I", len(events)) + events


HOSTILE = {  # file name: (bytes, what the refusal says)
    "over-zero.mid": (tiny_midi(4, 8), "time signature 4/0 at tick 0 is impossible"),
    "over-zero-255.mid": (tiny_midi(3, 255), "time signature 3/0 at tick 0 is impossible"),
    "zero-beats.mid": (tiny_midi(0, 2), "time signature 0/4 at tick 0 is impossible"),
    "no-division.mid": (tiny_midi(division=0), "0 ticks per quarter note is impossible"),
    "tempo-zero.mid": (tiny_midi(tempo_us=0), "tempo inf at tick 0 is impossible"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_seed_whose_beat_cannot_be_counted_is_refused_naming_the_file_and_the_problem(tmp_path, name):
    data, problem = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ScoreError) as refused:
        load_score(path)
    assert str(refused.value).startswith(f"{name}: {problem}")


def test_the_43_byte_midi_of_the_report_is_43_bytes_and_a_sound_one_still_loads(tmp_path):
    assert len(tiny_midi(4, 8)) == 43
    path = tmp_path / "six-eight.mid"
    path.write_bytes(tiny_midi(6, 3, tempo_us=500_000))
    score = load_score(path)
    assert [(t.numerator, t.denominator) for t in score.time_signatures] == [(6, 8)]
    assert round(score.tempos[0].qpm) == 120


def test_the_cli_refuses_such_a_seed_in_one_line(tmp_path, capsys):
    path = tmp_path / "over-zero.mid"
    path.write_bytes(tiny_midi(4, 8))
    assert main(["export", str(path), "--midi", str(tmp_path / "out.mid")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("partita export: over-zero.mid: time signature 4/0 at tick 0 is impossible")
    assert not (tmp_path / "out.mid").exists()


def test_impossible_meters_tempos_and_resolutions_are_named_and_possible_ones_pass():
    for ticks in (0, -480, 10**9, "480", 480.0):
        assert "is impossible" in resolution_problem(ticks)
    for numerator, denominator in ((0, 4), (4, 0), (4, 3), (10**6, 4), (True, 4), (4, -4), (4, 256)):
        assert "is impossible" in meter_problem(numerator, denominator)
    for qpm in (0.0, -60, float("nan"), float("inf"), "fast", 10**6):
        assert "is impossible" in tempo_problem(qpm)
    assert resolution_problem(480) is None and resolution_problem(1) is None
    assert meter_problem(7, 8) is None and meter_problem(1, 1) is None and meter_problem(13, 16) is None
    assert tempo_problem(100) is None and tempo_problem(52.5) is None
