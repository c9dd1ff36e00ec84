"""Command-line mistakes are refused up front, as one line and exit 2, before any work is done;
a take whose save fails is kept; a malformed run folder is a CheckpointError, not a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.atomic import check_writable
from core.cli import main


def no_work(monkeypatch) -> None:
    """Make loading a model, opening a MIDI input or evaluating fail loudly: a refused command does none."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the command started its work before refusing")

    import core.judging.evaluation
    import core.learning.checkpoint
    import core.midi.ports

    monkeypatch.setattr(core.learning.checkpoint, "load_model", forbidden)
    monkeypatch.setattr(core.midi.ports, "open_input", forbidden)
    monkeypatch.setattr(core.judging.evaluation, "evaluate_run", forbidden)


@pytest.fixture
def file_in_the_way(tmp_path) -> Path:
    """A regular file where an output folder would have to be."""
    path = tmp_path / "fake.mid"
    path.write_bytes(b"")
    return path


def refused(capsys, *argv: str) -> str:
    """Run `partita argv`, assert it ends in a one-line user error (exit 2) and return that line."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]  # after progress lines, if any
    assert line.startswith(f"partita {argv[0]}: ") and "Traceback" not in err
    return line


def test_check_writable_creates_the_folders_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "new" / "deeper" / "take.mid"
    check_writable(target)
    assert target.parent.is_dir() and list(target.parent.iterdir()) == []


def test_check_writable_says_a_file_is_in_the_way(file_in_the_way):
    with pytest.raises(NotADirectoryError, match="fake.mid is a file, not a folder"):
        check_writable(file_in_the_way / "sub" / "x.mid")
    with pytest.raises(IsADirectoryError):
        check_writable(file_in_the_way.parent)


def test_record_refuses_an_unwritable_out_before_recording(capsys, monkeypatch, file_in_the_way):
    no_work(monkeypatch)
    err = refused(capsys, "record", "--port", "virtual", "--out", str(file_in_the_way / "r.mid"))
    assert "--out" in err and "is a file, not a folder" in err


def test_a_take_that_cannot_be_saved_goes_to_the_temp_folder(capsys, monkeypatch, tmp_path, file_in_the_way):
    import tempfile

    import symusic

    from core.commands import save_take

    spare = tmp_path / "spare"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    score = symusic.Score(480)
    score.tracks.append(symusic.Track(program=42))
    score.tracks[0].notes.append(symusic.Note(0, 480, 60, 80))
    assert not save_take(score, file_in_the_way / "x.mid", "record")
    saved = list(spare.glob("partita-record-*.mid"))
    assert len(saved) == 1 and symusic.Score(saved[0]).note_num() == 1
    assert str(saved[0]) in capsys.readouterr().err


@pytest.mark.parametrize("option, value", [("--temperature", "0"), ("--bpm", "0"), ("--seconds", "-1"),
                                           ("--top-p", "2"), ("--top-p", "0")])
def test_duet_refuses_nonsense_numbers(capsys, monkeypatch, option, value):
    no_work(monkeypatch)
    assert option in refused(capsys, "duet", "--input", "virtual", "--output", "virtual", option, value)


def test_duet_refuses_an_unwritable_out_before_the_conversation(capsys, monkeypatch, file_in_the_way):
    no_work(monkeypatch)
    err = refused(capsys, "duet", "--input", "virtual", "--output", "virtual", "--out", str(file_in_the_way / "d.mid"))
    assert "--out" in err and "is a file, not a folder" in err


@pytest.mark.parametrize("args, option", [
    (["--top-p", "2"], "--top-p"), (["--top-p", "0"], "--top-p"), (["--top-k", "-5"], "--top-k"),
    (["--prompt-bars", "-1"], "--prompt-bars"), (["--prompt-bars", "0"], "--prompt-bars"),
])
def test_generate_refuses_nonsense_numbers(capsys, monkeypatch, tmp_path, args, option):
    no_work(monkeypatch)
    assert option in refused(capsys, "generate", "--out", str(tmp_path / "g.mid"), *args)


@pytest.mark.parametrize("name", ["g.musicxml", "g.mxl", "g.pdf"])
def test_generate_writes_only_midi_and_points_to_export(capsys, monkeypatch, tmp_path, name):
    no_work(monkeypatch)
    err = refused(capsys, "generate", "--out", str(tmp_path / name))
    assert "partita export" in err and not (tmp_path / name).exists()


def test_generate_refuses_an_unwritable_out_before_composing(capsys, monkeypatch, file_in_the_way):
    no_work(monkeypatch)
    err = refused(capsys, "generate", "--out", str(file_in_the_way / "g.mid"), "--variations", "2")
    assert f"{file_in_the_way}/g-1.mid" in err and "is a file, not a folder" in err


def test_evaluate_refuses_bad_variations_and_unwritable_out(capsys, monkeypatch, tmp_path, file_in_the_way):
    no_work(monkeypatch)
    assert "--variations" in refused(capsys, "evaluate", "--data", "x", "--out", str(tmp_path), "--variations", "0")
    err = refused(capsys, "evaluate", "--data", "x", "--out", str(file_in_the_way / "report"))
    assert "--out" in err and "is a file, not a folder" in err


def test_evaluate_of_missing_data_is_a_user_error(capsys, tmp_path):
    err = refused(capsys, "evaluate", "--data", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "ev"),
                  "--generate", "1", "--sweep", "")
    assert "nonexistent: no such folder or file" in err


@pytest.mark.parametrize("args, option", [
    (["--midi", "o.mid", "--seed-end-tick", "-5"], "--seed-end-tick"),
    (["--pdf", "o.pdf", "--musescore", "/nonexistent/mscore"], "--musescore"),
])
def test_export_refuses_nonsense_options(capsys, monkeypatch, tmp_path, args, option):
    monkeypatch.chdir(tmp_path)
    assert option in refused(capsys, "export", "missing-input.mid", *args)


def test_export_refuses_an_unwritable_output_before_reading(capsys, tmp_path, file_in_the_way):
    err = refused(capsys, "export", str(tmp_path / "missing-input.mid"), "--midi", str(file_in_the_way / "o.mid"))
    assert "--midi" in err and "is a file, not a folder" in err


def test_play_renders_only_wav_files(capsys, tmp_path, file_in_the_way):
    assert "--wav" in refused(capsys, "play", str(tmp_path / "missing.mid"), "--wav", str(tmp_path / "o.mp3"))
    err = refused(capsys, "play", str(tmp_path / "missing.mid"), "--wav", str(file_in_the_way / "o.wav"))
    assert "is a file, not a folder" in err


def test_an_unwritable_path_the_user_gave_exits_2_not_1(capsys, cello_midi_dir, tmp_path, file_in_the_way):
    piece = tmp_path / "piece.mid"
    shutil.copy(next(iter(sorted(cello_midi_dir.glob("*.mid")))), piece)
    err = refused(capsys, "corpus", "inspect", str(piece), "--json", str(file_in_the_way / "r.json"))
    assert "is a file, not a folder" in err


@pytest.fixture
def default_run_copy(tmp_path) -> Path:
    from core.learning.checkpoint import DEFAULT_MODEL_DIR

    run = tmp_path / "run"
    run.mkdir()
    for path in DEFAULT_MODEL_DIR.iterdir():
        (run / path.name).symlink_to(path)
    (run / "config.json").unlink()
    shutil.copy(DEFAULT_MODEL_DIR / "config.json", run / "config.json")
    return run


@pytest.mark.parametrize("edit, problem", [
    (lambda c: c["model"].update(n_layer="four"), "n_layer"),
    (lambda c: c.update(model=[1, 2]), "must be an object"),
    (lambda c: c["model"].update(n_head=3), "multiple of n_head"),
    (lambda c: c["model"].update(n_embd=-8), "n_embd"),
    (lambda c: c.update(tokenizer="REMI"), "\"tokenizer\" must be an object"),
    (lambda c: c["model"].update(block_size=10**13), "block_size 10\\*\\*13 is not a model size"),  # before allocating
    (lambda c: c["model"].update(n_layer=96, n_embd=16_384), "does not fit in this machine.s memory: its "
                                                           "weights need"),  # 1.2 TB
])
def test_a_malformed_config_is_a_checkpoint_error_naming_the_file(default_run_copy, edit, problem):
    from core.learning.checkpoint import CheckpointError, load_model

    path = default_run_copy / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=problem) as caught:
        load_model(default_run_copy)
    assert str(path) in str(caught.value)


def test_decoded_tracks_are_named_after_their_program():
    from core.learning.checkpoint import DEFAULT_MODEL_DIR
    from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings

    config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    tokenizer = PartitaTokenizer.create(TokenizerSettings.from_json(config["tokenizer"]))
    ids = tokenizer.encode(_one_note_score())
    assert [t.name for t in tokenizer.decode(ids, program=42).tracks] == ["Violoncello"]
    assert [t.name for t in tokenizer.decode([], program=40).tracks] == ["Violin"]


@pytest.mark.parametrize("program, name", [(42, "Violoncello"), (24, "Acoustic Guitar (nylon)")])
def test_a_take_names_its_instrument_alike_in_midi_and_in_the_score(tmp_path, program, name):
    """One name per instrument: the take's MIDI track, its MusicXML part (also with the program
    given anew, as `export --instrument` does) and a MIDI export of it."""
    from core.learning.tokenizer import PartitaTokenizer
    from core.music.export import prepare_midi
    from core.music.notation import NotationOptions, write_musicxml
    from core.music.notation.verify import read_notes

    tokenizer = PartitaTokenizer.create()
    take = tokenizer.decode(tokenizer.encode(_one_note_score()), program=program)
    assert [t.name for t in take.tracks] == [name]
    for options in (NotationOptions(), NotationOptions(program=program)):
        write_musicxml(take, tmp_path / "take.musicxml", options)
        assert read_notes(tmp_path / "take.musicxml").part_names == [name]
    assert [t.name for t in prepare_midi(take, program=program).tracks] == [name]


def _one_note_score():
    import symusic

    score = symusic.Score(480)
    score.tracks.append(symusic.Track(program=0))
    score.tracks[0].notes.append(symusic.Note(0, 480, 60, 80))
    return score


def test_ports_exits_1_when_the_one_backend_asked_for_is_unavailable(monkeypatch, capsys):
    from core.midi import ports as midi_ports

    listing = midi_ports.PortListing()
    listing.problems["alsa"] = "no ALSA sequencer"
    monkeypatch.setattr(midi_ports, "list_ports", lambda backend=None: listing)
    assert main(["ports", "--backend", "alsa"]) == 1
    assert "alsa: unavailable: no ALSA sequencer" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["generate", "--out", "{tmp}/x.mid"], ["evaluate", "--data", "{tmp}", "--out", "{tmp}/r"],
                                     ["duet", "--input", "virtual", "--output", "virtual"]])
@pytest.mark.parametrize("best", [False, True])
def test_composing_commands_load_the_last_weights_unless_told_best(monkeypatch, capsys, tmp_path, command, best):
    import core.learning.checkpoint
    from core.learning.checkpoint import CheckpointError

    asked = []

    def load_model(run_dir=None, device="cpu", *, best=False):
        asked.append(best)
        raise CheckpointError("stop here")

    monkeypatch.setattr(core.learning.checkpoint, "load_model", load_model)
    argv = [part.format(tmp=tmp_path) for part in command] + (["--best"] if best else [])
    assert main(argv) == 2 and "stop here" in capsys.readouterr().err
    assert asked == [best]


@pytest.mark.parametrize("command", ["generate", "infill", "duet", "evaluate", "train"])
@pytest.mark.parametrize("seed", [str(2**70), "-1", "seven"])
def test_a_seed_torch_cannot_take_is_refused_up_front(capsys, monkeypatch, command, seed):
    """2**70 used to compose half a bar and then fail inside torch with 'Overflow when unpacking long long'."""
    no_work(monkeypatch)
    with pytest.raises(SystemExit) as exit_:
        main([command, "--seed", seed])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed" in err and ("outside 0 to 9223372036854775807" in err or "not a whole number" in err)
