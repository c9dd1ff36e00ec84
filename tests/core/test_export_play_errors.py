"""`partita export` and `partita play` say which file failed and how, in one line (issue 22, class
6): a reader or an exporter failing in a way no check foresaw said only "failed (IndexError: ...)",
naming no file; a file without notes was exported or rendered as an empty page or silence. The
failures are made here at run time (hostile files, or a reader made to fail)."""

from __future__ import annotations

import pytest
import symusic

from core.cli import main
from core.userdata import LOG_FILE, user_dirs


def line_of(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def midi(path, notes=((0, 480, 60),)):
    score = symusic.Score(480)
    track = symusic.Track(program=42)
    for time, duration, pitch in notes:
        track.notes.append(symusic.Note(time, duration, pitch, 80))
    score.tracks.append(track)
    score.dump_midi(str(path))
    return path


EXPORT = ["export", "{file}", "--midi", "{tmp}/out.mid", "--musicxml", "{tmp}/out.musicxml"]
PLAY = ["play", "{file}", "--wav", "{tmp}/out.wav"]


def run(command, file, tmp_path) -> int:
    return main([part.format(file=file, tmp=tmp_path) for part in command])


@pytest.mark.parametrize("command", [EXPORT, PLAY], ids=["export", "play"])
def test_a_reader_failing_unforeseen_names_the_file_and_logs_the_traceback(capsys, tmp_path, monkeypatch, command):
    def fails(path, **_):
        raise IndexError("list index out of range")

    monkeypatch.setattr("core.music.scores.load_score", fails)
    assert run(command, midi(tmp_path / "piece.mid"), tmp_path) == 2
    line = line_of(capsys)
    assert line.startswith(f"partita {command[0]}: piece.mid: unreadable (IndexError: list index out of range; "
                           "the details are in "), line
    assert "Traceback" in (user_dirs().logs / LOG_FILE).read_text()  # the details are where it says
    assert not any(tmp_path.glob("out.*"))


@pytest.mark.parametrize("exporter, kind", [("export_musicxml", "MusicXML"), ("export_midi", "MIDI")])
def test_an_exporter_failing_unforeseen_names_the_file_and_what_it_was_written_as(capsys, tmp_path, monkeypatch,
                                                                                 exporter, kind):
    def fails(*args, **kwargs):
        raise KeyError("voice")

    monkeypatch.setattr(f"core.music.export.{exporter}", fails)
    assert run(EXPORT, midi(tmp_path / "piece.mid"), tmp_path) == 2
    line = line_of(capsys)
    target = tmp_path / ("out.musicxml" if kind == "MusicXML" else "out.mid")
    assert line.startswith(f"partita export: piece.mid: could not be written as {kind} to {target} (KeyError: "), line


def test_a_renderer_failing_unforeseen_names_the_file(capsys, tmp_path, monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("bad sample rate")

    monkeypatch.setattr("core.midi.synth.render_wav", fails)
    assert run(PLAY, midi(tmp_path / "piece.mid"), tmp_path) == 2
    assert line_of(capsys).startswith(f"partita play: piece.mid: not rendered to {tmp_path / 'out.wav'} "
                                      "(ValueError: bad sample rate; the details are in ")


@pytest.mark.parametrize("command", [EXPORT, PLAY], ids=["export", "play"])
def test_a_file_without_notes_is_refused_not_exported_or_played_as_nothing(capsys, tmp_path, command):
    silent = midi(tmp_path / "silent.mid", notes=())
    assert run(command, silent, tmp_path) == 2
    doing = "export" if command is EXPORT else "play"
    assert line_of(capsys) == f"partita {command[0]}: silent.mid: holds no notes: nothing to {doing}"
    assert not any(tmp_path.glob("out.*"))


@pytest.mark.parametrize("command", [EXPORT, PLAY], ids=["export", "play"])
def test_hostile_files_are_one_line_naming_them(capsys, tmp_path, command):
    files = {"garbage.mid": b"MThd" + b"\xff" * 40, "cut.musicxml": b"<score-partwise><part-list>",
             "tempo-zero.abc": b"X:1\nT:t\nM:4/4\nL:1/4\nQ:1/4=0\nK:C\nCDEF|\n", "empty.abc": b""}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        assert run(command, tmp_path / name, tmp_path) == 2
        assert line_of(capsys).startswith(f"partita {command[0]}: {name}: ")


def test_drum_notes_the_notation_leaves_out_are_said(capsys, tmp_path):
    """A drum track has no pitches to engrave: MusicXML export writes the pitched parts and says how
    many drum notes it left out, instead of dropping them silently."""
    score = symusic.Score(480)
    melody, drums = symusic.Track(program=0), symusic.Track(program=0, is_drum=True)
    melody.notes.extend(symusic.Note(i * 480, 480, 60 + i, 80) for i in range(4))
    drums.notes.extend(symusic.Note(i * 240, 120, 36, 100) for i in range(8))
    score.tracks.extend([melody, drums])
    score.dump_midi(str(tmp_path / "band.mid"))
    assert main(["export", str(tmp_path / "band.mid"), "--musicxml", str(tmp_path / "band.musicxml")]) == 0
    err = capsys.readouterr().err
    assert ("partita export: warning: band.mid: 8 drum notes left out (the notation writes pitched parts only; "
            "--midi keeps them)") in err
    assert main(["export", str(tmp_path / "band.mid"), "--midi", str(tmp_path / "copy.mid")]) == 0
    assert "drum" not in capsys.readouterr().err
