"""Issue 22, classes 6 and 7: damaged run folders, seeds and options end in one line naming the
file or option (never a traceback), and nothing is quietly changed: a seed is kept as it is or
refused, weights that cannot compose are refused, a short take says so, file names cannot forge
a line. Every hostile input is made here, in tmp folders."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import symusic
import torch
from safetensors.torch import load_file, save_file

from core.cli import main
from core.composing.generation import GenerationSettings, SeedError, generate
from core.learning.checkpoint import load_model
from core.learning.training_log import read_metrics
from core.terminal import printable


def one_line_error(capsys, *argv, names: str, progress: bool = False) -> str:
    """Run `partita argv`: it must fail with exactly one line on stderr, naming `names` (with
    `progress`, after the indented progress lines `evaluate` writes as it goes)."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code != 0, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not (progress and line.startswith("  "))]
    assert len(lines) == 1, err
    assert names in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def run(trained_run, tmp_path) -> Path:
    """A copy of the tiny trained run to damage; without its best step, so that no note about
    the best weights joins the error on stderr."""
    folder = tmp_path / "run"
    shutil.copytree(trained_run[0], folder)
    config = json.loads((folder / "config.json").read_text())
    config.get("training", {}).pop("best", None)
    config["files"].pop("best", None)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def edit_config(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


def data_file(folder: Path, role: str) -> Path:
    return folder / json.loads((folder / "config.json").read_text())["files"][role]


def midi_seed(path: Path, *, meter=(4, 4), pitches=(60, 62, 64, 65, 67, 65, 64, 62), duration=240) -> Path:
    score = symusic.Score(480)
    track = symusic.Track(program=42)
    for i, pitch in enumerate(pitches):
        track.notes.append(symusic.Note(i * 240, duration, pitch, 80))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, *meter))
    score.tempos.append(symusic.Tempo(0, 90.0))
    score.dump_midi(str(path))
    return path


# --- class 6: resume --------------------------------------------------------------------
def _no_steps(scalars, tensors):
    del scalars["steps"]


def _unknown_parameter(scalars, tensors):
    scalars["steps"]["blocks.9.no_such.weight"] = 3.0


def _step_not_a_number(scalars, tensors):
    scalars["steps"][next(iter(scalars["steps"]))] = "many"


def _json_a_list(scalars, tensors):
    scalars.clear()


def _wrong_shape(scalars, tensors):
    tensors[next(iter(tensors))] = torch.zeros(3, 3)


def _missing_moment(scalars, tensors):
    del tensors[next(iter(tensors))]


@pytest.mark.parametrize("damage, file_role", [
    (_no_steps, "optimizer_state"), (_unknown_parameter, "optimizer_state"), (_step_not_a_number, "optimizer_state"),
    (_json_a_list, "optimizer_state"), (_wrong_shape, "optimizer"), (_missing_moment, "optimizer"),
])
def test_resume_with_damaged_optimizer_state_is_one_line_naming_the_file(run, capsys, damage, file_role):
    scalars_path, tensors_path = data_file(run, "optimizer_state"), data_file(run, "optimizer")
    scalars, tensors = json.loads(scalars_path.read_text()), load_file(str(tensors_path))
    damage(scalars, tensors)
    scalars_path.write_text(json.dumps(scalars if scalars else []))
    save_file(tensors, str(tensors_path))
    one_line_error(capsys, "train", "--out", run, "--resume", "--steps", 45, names=data_file(run, file_role).name)


@pytest.mark.parametrize("train", [None, [1], {"steps": 40}, {"data": 5}])
def test_resume_without_a_train_section_is_one_line(run, capsys, train):
    edit_config(run, lambda c: c.pop("train") if train is None else c.update(train=train))
    one_line_error(capsys, "train", "--out", run, "--resume", "--steps", 45, names="config.json")


def test_metrics_lines_that_are_not_events_are_skipped_not_fatal(run):
    path = run / "metrics.jsonl"
    path.write_text(path.read_text() + '[1, 2]\n5\n"text"\n' + "[" * 50_000 + "\n" + '{"step": "x"}\n')
    records = read_metrics(run)
    assert records and all(isinstance(record, dict) for record in records)
    from core.learning.training_log import MetricsLog

    MetricsLog(path, enabled=True, truncate_after=20)  # resume truncates the log: the damaged lines go
    assert all(isinstance(json.loads(line), dict) for line in path.read_text().splitlines())


# --- class 6: generate / evaluate on a damaged config.json ------------------------------
@pytest.mark.parametrize("section, value", [
    ("train", []), ("training", 7), ("corpus", "x"), ("instrument", [1]), ("generation", "often"),
    ("corpus", {"program": 999}), ("corpus", {"program": "violin"}), ("training", {"best": 3}),
    ("training", {"step": "last"}), ("generation", {"sequences": "lots"}), ("generation", {"join": -1}), ("instrument", {"lowest": 90, "highest": 20}),
])
def test_config_sections_of_the_wrong_type_are_refused_before_composing(run, capsys, tmp_path, section, value):
    edit_config(run, lambda c: c.update({section: value}))
    line = one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "o.mid", "--bars", 1,
                          names="config.json")
    assert section in line
    assert not (tmp_path / "o.mid").exists()


def test_evaluate_refuses_a_program_out_of_range_before_composing(run, capsys, tmp_path, cello_trio):
    edit_config(run, lambda c: c["corpus"].update(program=999))
    one_line_error(capsys, "evaluate", "--model", run, "--data", cello_trio, "--out", tmp_path / "report",
                   "--generate", 1, "--bars", 1, "--sweep", "", "--no-music21", names="corpus.program", progress=True)


@pytest.mark.parametrize("where", ["whole", "inside"])
def test_deeply_nested_config_is_one_line_naming_it(run, capsys, tmp_path, where):
    deep = "[" * 100_000 + "]" * 100_000
    text = deep if where == "whole" else (run / "config.json").read_text().rstrip()[:-1] + f', "x": {deep}}}'
    (run / "config.json").write_text(text)
    one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "o.mid", names="config.json")


# --- class 6: seeds and options ----------------------------------------------------------
SEEDS = {
    "tempo0.abc": "X:1\nT:t\nM:4/4\nL:1/4\nQ:1/4=0\nK:C\nCDEF|\n",
    "endless.abc": "X:1\nT:t\nM:4/4\nL:1/4\nK:C\nC99999999|\n",
    "meter.abc": "X:1\nT:t\nM:1000/4\nL:1/4\nK:C\nCDEF|\n",
    "tuneless.abc": "X:1\nT:t\nK:C\n",
    "rests.musicxml": '<?xml version="1.0"?><score-partwise version="3.1"><part-list><score-part id="P1">'
                      '<part-name>x</part-name></score-part></part-list><part id="P1"><measure number="1">'
                      '<attributes><divisions>1</divisions></attributes><note><rest/><duration>4</duration></note>'
                      '</measure></part></score-partwise>',
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_a_seed_that_cannot_be_read_or_holds_no_notes_is_one_line_naming_it(run, capsys, tmp_path, name):
    seed = tmp_path / name
    seed.write_text(SEEDS[name])
    one_line_error(capsys, "generate", "--model", run, "--prompt", seed, "--out", tmp_path / "o.mid", "--bars", 1,
                   names=name)
    assert not (tmp_path / "o.mid").exists()  # never a take composed from nothing instead


def test_a_midi_seed_without_notes_does_not_compose_from_nothing(run, capsys, tmp_path):
    seed = tmp_path / "silent.mid"
    score = symusic.Score(480)
    score.tracks.append(symusic.Track())
    score.dump_midi(str(seed))
    line = one_line_error(capsys, "generate", "--model", run, "--prompt", seed, "--out", tmp_path / "o.mid",
                          names="silent.mid")
    assert "no notes" in line


def test_a_seed_held_for_thousands_of_bars_is_refused(run, capsys, tmp_path):
    seed = midi_seed(tmp_path / "held.mid", pitches=(60,), duration=480 * 100_000)
    one_line_error(capsys, "generate", "--model", run, "--prompt", seed, "--out", tmp_path / "o.mid", "--bars", 1,
                   names="held.mid")


@pytest.mark.parametrize("argv, option", [
    (["train", "--data", "{data}", "--out", "{tmp}/big", "--batch-size", "100000"], "--batch-size"),
    (["generate", "--model", "{run}", "--out", "{tmp}/o.mid", "--variations", "100000"], "--variations"),
    (["generate", "--model", "{run}", "--out", "{tmp}/o.mid", "--bars", "100000"], "--bars"),
])
def test_absurd_options_are_one_line_naming_the_option(run, capsys, tmp_path, cello_trio, argv, option):
    argv = [a.format(data=cello_trio, tmp=tmp_path, run=run) for a in argv]
    one_line_error(capsys, *argv, names=option)


def test_a_model_too_big_for_memory_is_one_line(capsys, tmp_path, cello_trio):
    one_line_error(capsys, "train", "--data", cello_trio, "--out", tmp_path / "huge", "--steps", 1,
                   "--set", "n_embd=16384", "--set", "n_layer=96", names="memory")


def test_an_unforeseen_failure_is_one_line_pointing_at_the_log(run, capsys, tmp_path, monkeypatch):
    import core.composing.generation

    def broken(*args, **kwargs):
        raise RuntimeError("something no check foresaw\nsecond line")

    monkeypatch.setattr(core.composing.generation, "generate_variations", broken)
    line = one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "o.mid", "--bars", 1,
                          names="something no check foresaw")
    assert "log" in line


# --- class 7: weights ---------------------------------------------------------------------
@pytest.mark.parametrize("spoil, says", [(lambda t: t.to(torch.int64), "int64"),
                                         (lambda t: t * float("nan"), "NaN")])
def test_weights_that_cannot_compose_are_refused(run, capsys, tmp_path, spoil, says):
    weights = data_file(run, "weights")
    save_file({name: spoil(t) for name, t in load_file(str(weights)).items()}, str(weights))
    line = one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "o.mid", "--bars", 1,
                          names=weights.name)
    assert says in line and not (tmp_path / "o.mid").exists()


def test_unreadable_weights_are_not_called_missing(run, capsys, tmp_path, monkeypatch):
    weights = data_file(run, "weights")
    if os.geteuid() == 0:  # root reads any file: refuse the open as the kernel would
        import builtins

        import core.learning.checkpoint

        def no_permission(path, *args, **kwargs):
            if Path(path) == weights:
                raise PermissionError(13, "Permission denied", str(path))
            return builtins.open(path, *args, **kwargs)

        monkeypatch.setattr(core.learning.checkpoint, "open", no_permission, raising=False)
    else:
        weights.chmod(0)
    line = one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "o.mid", "--bars", 1,
                          names=weights.name)
    assert "missing" not in line and "ermission" in line


# --- class 7: a take that stops short ------------------------------------------------------
def test_a_take_cut_short_by_the_token_budget_says_so_and_fails(run, capsys, tmp_path, monkeypatch):
    import core.commands.generate

    monkeypatch.setattr(core.commands.generate, "TOKENS_PER_BAR", 1)
    monkeypatch.setattr(GenerationSettings, "max_tokens", 12)  # the floor the command keeps
    out = tmp_path / "short.mid"
    code = main(["generate", "--model", str(run), "--out", str(out), "--bars", "20", "--seed", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "stopped before --bars 20" in err.strip().splitlines()[-1]
    assert out.exists()  # what was composed is kept


# --- class 7: seeds kept as they are, or refused ------------------------------------------
def test_seed_notes_outside_the_pitch_range_are_refused_not_dropped(run, capsys, tmp_path):
    seed = midi_seed(tmp_path / "wide.mid", pitches=(5, 60, 62, 120))
    line = one_line_error(capsys, "generate", "--model", run, "--prompt", seed, "--out", tmp_path / "o.mid",
                          names="wide.mid")
    assert "F-1" in line and "C9" in line


def test_a_new_model_keeps_a_seed_in_seven_eight(trained_run, tmp_path):
    loaded = load_model(trained_run[0])
    assert "7/8" in loaded.tokenizer.settings.meters
    seed = symusic.Score(str(midi_seed(tmp_path / "seven.mid", meter=(7, 8), pitches=tuple(range(60, 74)))))
    take = generate(loaded, seed, GenerationSettings(bars=2, random_seed=3))
    assert {(ts.numerator, ts.denominator) for ts in take.score.time_signatures} == {(7, 8)}
    bar = take.score.tpq * 7 // 2  # a 7/8 bar in quarter-note ticks
    assert list(take.score.get_downbeats()[:4]) == [0, bar, 2 * bar, 3 * bar]


@pytest.mark.parametrize("meter", [(7, 8), (7, 4), (13, 16), (5, 8)])
def test_a_shipped_model_refuses_a_meter_its_vocabulary_lacks(tmp_path, meter):
    loaded = load_model("bach-cello-suites")  # (a vocabulary of before odd meters)
    assert len(loaded.tokenizer) == loaded.model.config.vocab_size  # its saved vocabulary, unchanged
    seed = symusic.Score(str(midi_seed(tmp_path / "odd.mid", meter=meter)))
    with pytest.raises(SeedError, match=f"{meter[0]}/{meter[1]}"):
        generate(loaded, seed, GenerationSettings(bars=1, random_seed=1))


def test_a_new_model_refuses_a_meter_no_vocabulary_has(trained_run, tmp_path):
    loaded = load_model(trained_run[0])
    seed = symusic.Score(str(midi_seed(tmp_path / "odd.mid", meter=(13, 16))))
    with pytest.raises(SeedError, match="13/16"):
        generate(loaded, seed, GenerationSettings(bars=1, random_seed=1))


def test_a_seed_in_three_two_comes_back_in_three_two(tmp_path):
    loaded = load_model("bach-chorales")
    seed = symusic.Score(str(midi_seed(tmp_path / "broad.mid", meter=(3, 2))))
    take = generate(loaded, seed, GenerationSettings(bars=1, random_seed=1))
    assert {(ts.numerator, ts.denominator) for ts in take.score.time_signatures} == {(3, 2)}


# --- class 7: file names -------------------------------------------------------------------
def test_printable_escapes_control_characters_only():
    assert printable("Suite I — Prélude 無.mid") == "Suite I — Prélude 無.mid"
    assert printable("a\nb\x1b[2Jc\rd") == "a\\nb\\x1b[2Jc\\rd"


def test_corpus_inspect_cannot_be_forged_by_file_names(capsys, tmp_path, cello_trio):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sources = sorted(cello_trio.iterdir())
    shutil.copy(sources[0], corpus / "evil\n100 pieces imported, 0 skipped.mxl")
    shutil.copy(sources[1], corpus / "esc\x1b[2J\x1b[31mred.mxl")
    (corpus / "bad\rname.mid").write_bytes(b"MThd damaged")
    assert main(["corpus", "inspect", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    summaries = [line for line in out.splitlines() if re.match(r"\d+ pieces imported", line)]
    assert len(summaries) == 1 and summaries[0].startswith("2 pieces imported, 1 skipped")
