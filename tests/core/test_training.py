"""Training: loss falls, a short piece can be learnt by heart, cancel + resume is exact,
and checkpoints are safe to load."""

from __future__ import annotations

import json
import math
import pickle
import re
import shutil
from dataclasses import replace

import pytest
import torch
from conftest import TINY
from safetensors.torch import load_file

from core.learning.checkpoint import CheckpointError, load_model, weights_path
from core.learning.training import (
    CheckpointSaved,
    EvalResult,
    TrainConfig,
    TrainDone,
    TrainStarted,
    TrainStep,
    train,
)
from core.learning.training_log import read_metrics


def steps(events):
    return [e for e in events if isinstance(e, TrainStep)]


def test_training_loss_falls_and_events_come_in_order(trained_run):
    run, events = trained_run
    assert isinstance(events[0], TrainStarted) and isinstance(events[-1], TrainDone)
    losses = [e.loss for e in steps(events)]
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    evals = [e for e in events if isinstance(e, EvalResult)]
    assert [e.step for e in evals] == [20, 40]
    vocab = json.loads((run / "config.json").read_text())["model"]["vocab_size"]
    assert evals[-1].loss < 0.95 * math.log(vocab) and 0 < evals[-1].accuracy < 1  # beats a uniform guess
    assert evals[-1].perplexity == pytest.approx(2.718281828 ** evals[-1].loss, rel=1e-6)
    assert {"Pitch", "Duration", "Position", "Bar"} <= set(evals[-1].per_type)
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [20, 40]
    logged = read_metrics(run)
    assert [r["event"] for r in logged].count("TrainStep") == 40
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["step"] == 40 and config["corpus"]["split"]["validation"]


def test_a_short_piece_can_be_learnt_by_heart(tmp_path, cello_xml_dir, monkeypatch):
    # continuation alone: infill examples and control tokens are other tasks (tests/core/test_infill.py)
    monkeypatch.setattr("core.learning.dataset.INFILL_SHARE", 0.0)
    monkeypatch.setattr("core.learning.dataset.CONTROLS_SHARE", 0.0)
    from core.learning.dataset import evaluation_windows
    from core.learning.training import evaluate, prepare_data
    from core.music.scores import load_score

    menuet = load_score(cello_xml_dir / "BWV1007_05_MenuetI.mxl")
    eight_bars = menuet.clip(0, int(menuet.get_downbeats()[8]), clip_end=True)
    (tmp_path / "eight.mid").write_bytes(eight_bars.dumps_midi())
    config = TrainConfig(data=str(tmp_path / "eight.mid"), out=str(tmp_path / "run"),
                         model_overrides={**TINY, "block_size": 256, "dropout": 0.0}, steps=150, batch_size=8,
                         eval_every=1000, warmup_steps=10, learning_rate=5e-3, max_transpose=0,
                         pack=False)  # every window at the piece's own positions, as evaluation sees it
    list(train(config))
    loaded = load_model(tmp_path / "run")
    data = prepare_data(config, loaded.tokenizer.settings)
    x, y = evaluation_windows(data.train, loaded.tokenizer, loaded.model.config.block_size)
    result = evaluate(loaded.model, loaded.tokenizer, x, y)
    assert result.loss < 0.1 and result.accuracy > 0.97, result


def test_cancel_and_resume_give_the_same_weights_as_one_run(tmp_path, cello_trio):
    def config(out):
        return TrainConfig(data=str(cello_trio), out=str(out), model_overrides=TINY, steps=16, batch_size=4,
                           eval_every=8, warmup_steps=4)

    list(train(config(tmp_path / "whole")))
    done = []
    stopped = list(train(config(tmp_path / "parts"), should_stop=lambda: len(done) >= 6 or done.append(1)))
    assert stopped[-1].cancelled and stopped[-1].step == 6
    resumed = list(train(config(tmp_path / "parts"), resume=True))
    assert resumed[0].start_step == 6 and steps(resumed)[0].step == 7
    whole = load_file(str(weights_path(tmp_path / "whole")))
    parts = load_file(str(weights_path(tmp_path / "parts")))
    assert whole.keys() == parts.keys()
    if resumed[0].device.startswith("cuda"):
        # CUDA's backward kernels add in a varying order (atomics), so two whole runs already differ
        # in the last bits; a resume that lost the optimizer state or the batch order differs by far more.
        for name in whole:
            error = (whole[name] - parts[name]).norm() / whole[name].norm()
            assert error < 1e-3, f"{name}: relative difference {error:.2e}"
        return
    for name in whole:
        assert torch.equal(whole[name], parts[name]), name


def test_a_run_with_averaged_weights_saves_the_average_and_resumes_exactly(tmp_path, cello_trio):
    """`ema`: validation, checkpoints and composing see the moving average of the weights; the
    trained weights ride beside the optimizer state, so a cancelled run resumes bit for bit."""
    from core.learning.checkpoint import TRAINED, optimizer_path

    def config(out, ema=0.9):
        return TrainConfig(data=str(cello_trio), out=str(out), model_overrides=TINY, steps=12, batch_size=4,
                           eval_every=6, warmup_steps=2, ema=ema)

    plain = list(train(config(tmp_path / "plain", 0.0)))
    whole = list(train(config(tmp_path / "whole")))
    # the same batches and steps: the trained weights are the plain run's, the saved ones their average
    trained = {k[len(TRAINED):]: v for k, v in load_file(str(optimizer_path(tmp_path / "whole"))).items()
               if k.startswith(TRAINED)}
    plain_weights = load_file(str(weights_path(tmp_path / "plain")))
    saved = load_file(str(weights_path(tmp_path / "whole")))
    assert trained.keys() <= plain_weights.keys() and all(torch.equal(trained[k], plain_weights[k]) for k in trained)
    assert not torch.equal(saved["wte.weight"], plain_weights["wte.weight"])
    from core.learning.training import prepare_run
    initial = prepare_run(config(tmp_path / "unstarted")).model.state_dict()["wte.weight"]
    # the average moved from the initial weights towards the trained ones, and is neither
    assert (saved["wte.weight"] - plain_weights["wte.weight"]).norm() < (initial - plain_weights["wte.weight"]).norm()
    assert not torch.equal(saved["wte.weight"], initial)
    evals = [e.loss for e in whole if isinstance(e, EvalResult)]
    assert evals != [e.loss for e in plain if isinstance(e, EvalResult)]  # validation saw the average
    done = []
    stopped = list(train(config(tmp_path / "parts"), should_stop=lambda: len(done) >= 8 or done.append(1)))
    assert stopped[-1].cancelled and stopped[-1].step == 8
    list(train(config(tmp_path / "parts"), resume=True))
    parts = load_file(str(weights_path(tmp_path / "parts")))
    if whole[0].device.startswith("cuda"):
        return  # (see the test above: CUDA's atomics)
    assert all(torch.equal(saved[name], parts[name]) for name in saved)
    with pytest.raises(ValueError, match="ema"):
        config(tmp_path / "bad", 1.0)


def test_a_replayed_corpus_trains_in_its_share_of_the_windows_and_never_validates(tmp_path, cello_trio):
    import numpy as np

    from core.learning.dataset import BatchSampler
    from core.learning.training import prepare_run

    # replaying a corpus that holds the run's own pieces (as all the jazz solos hold one soloist's):
    # the pieces it holds out are left out of the mix, the ones it trains on are mixed in
    config = TrainConfig(data=str(cello_trio), out=str(tmp_path / "run"), model_overrides=TINY, steps=4,
                         batch_size=4, eval_every=4, mix=str(cello_trio), mix_share=0.25)
    run = prepare_run(config)
    split = run.meta["corpus"]["split"]
    assert split["validation"] and run.started.train_pieces == len(split["train"]) == 2
    mixed = run.sampler.pieces[run.started.train_pieces:]
    assert sorted(p.name for p in mixed) == sorted(split["train"]) == sorted(p.name for p in run.sampler.pieces[:2])
    assert run.started.mixed_pieces == 2 and len(run.eval_x)
    assert sum(run.sampler.weights[2:]) == pytest.approx(0.25) and run.sampler.weights.sum() == pytest.approx(1)
    drawn = np.random.default_rng(0).choice(len(run.sampler.pieces), 4000, p=run.sampler.weights)
    assert abs((drawn >= 2).mean() - 0.25) < 0.03
    events = list(train(replace(config, out=str(tmp_path / "trained"))))
    assert isinstance(events[-1], TrainDone) and events[-1].step == 4
    plain = BatchSampler(run.sampler.pieces[:2], run.tokenizer, 64, 2, 0)
    assert plain.weights.sum() == pytest.approx(1) and len(plain.pieces) == 2
    for share in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="mix_share"):
            replace(config, mix_share=share)


def test_an_early_validation_pass_shows_on_the_curves_and_changes_nothing_else(tmp_path, cello_trio):
    """first_eval adds one validation event early in a run (issue 20, item 12), and nothing else:
    no checkpoint, the same weights, also for a run stopped before it and resumed across it."""
    def config(out, first_eval):
        return TrainConfig(data=str(cello_trio), out=str(out), model_overrides=TINY, steps=16, batch_size=4,
                           eval_every=8, warmup_steps=4, first_eval=first_eval)

    plain = list(train(config(tmp_path / "plain", 0)))
    early = list(train(config(tmp_path / "early", 3)))
    assert [e.step for e in early if isinstance(e, EvalResult)] == [3, 8, 16]
    assert [e.step for e in early if isinstance(e, CheckpointSaved)] == [8, 16]
    assert [r["step"] for r in read_metrics(tmp_path / "early") if r["event"] == "EvalResult"] == [3, 8, 16]
    assert [e.loss for e in steps(early)] == [e.loss for e in steps(plain)]
    done = []
    stopped = list(train(config(tmp_path / "parts", 3), should_stop=lambda: len(done) >= 2 or done.append(1)))
    assert stopped[-1].step == 2 and not [e for e in stopped if isinstance(e, EvalResult)]
    resumed = list(train(config(tmp_path / "parts", 3), resume=True))
    assert [e.step for e in resumed if isinstance(e, EvalResult)] == [3, 8, 16]
    assert [r["step"] for r in read_metrics(tmp_path / "parts") if r["event"] == "EvalResult"] == [3, 8, 16]
    reference = load_file(str(weights_path(tmp_path / "plain")))
    for run in ("early", "parts"):
        weights = load_file(str(weights_path(tmp_path / run)))
        for name in reference:
            if resumed[0].device.startswith("cuda"):  # see test_cancel_and_resume_give_the_same_weights_as_one_run
                assert (weights[name] - reference[name]).norm() / reference[name].norm() < 1e-3, name
            else:
                assert torch.equal(weights[name], reference[name]), (run, name)


def test_closing_the_generator_keeps_a_checkpoint(tmp_path, cello_trio):
    config = TrainConfig(data=str(cello_trio), out=str(tmp_path), model_overrides=TINY, steps=50, batch_size=4,
                         eval_every=100)
    events = train(config)
    for event in events:
        if isinstance(event, TrainStep) and event.step == 3:
            break
    events.close()
    assert json.loads((tmp_path / "config.json").read_text())["training"]["step"] == 3


class _Exploit:
    def __reduce__(self):
        import os

        return (os.mkdir, ("/tmp/partita-pwned-by-checkpoint",))


def test_tampered_checkpoints_give_clear_errors_and_run_no_code(tmp_path, trained_run):
    run, _ = trained_run
    assert load_model(run).model.config.n_layer == 1

    truncated = tmp_path / "truncated"
    shutil.copytree(run, truncated)
    weights = weights_path(truncated)
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=weights.name):
        load_model(truncated)

    reshaped = tmp_path / "reshaped"
    shutil.copytree(run, reshaped)
    config = json.loads((reshaped / "config.json").read_text())
    config["model"]["n_embd"] = 32
    (reshaped / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="shape"):
        load_model(reshaped)

    pickled = tmp_path / "pickled"
    shutil.copytree(run, pickled)
    weights_path(pickled).write_bytes(pickle.dumps({"wte.weight": _Exploit()}))
    with pytest.raises(CheckpointError, match="not valid safetensors"):
        load_model(pickled)
    import os

    assert not os.path.exists("/tmp/partita-pwned-by-checkpoint")

    with pytest.raises(CheckpointError, match="no config.json"):
        load_model(tmp_path / "nowhere")


def test_a_new_run_never_overwrites_an_earlier_one_or_other_files(tmp_path, trained_run, cello_trio):
    run, _ = trained_run
    earlier = tmp_path / "earlier"
    shutil.copytree(run, earlier)
    before = {p.name: p.read_bytes() for p in earlier.iterdir()}
    with pytest.raises(ValueError, match="already holds a run \\(at step 40\\)"):
        next(train(TrainConfig(data=str(cello_trio), out=str(earlier), model_overrides=TINY, steps=2)))
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == before
    with pytest.raises(ValueError, match="not an empty folder"):  # e.g. the folder of music itself
        next(train(TrainConfig(data=str(cello_trio), out=str(cello_trio), model_overrides=TINY, steps=2)))
    assert sorted(p.suffix for p in cello_trio.iterdir()) == [".mxl"] * 3
    # what a run stopped before its first checkpoint leaves behind may be started over
    stopped_early = tmp_path / "stopped-early"
    stopped_early.mkdir()
    for name in ("corpus.json", "metrics.jsonl"):
        shutil.copy(earlier / name, stopped_early / name)
    config = TrainConfig(data=str(cello_trio), out=str(stopped_early), model_overrides=TINY, steps=2, batch_size=4,
                         eval_every=2, warmup_steps=1)
    assert isinstance(list(train(config))[-1], TrainDone)
    # a peak learning rate below the schedule's default minimum is allowed: the minimum follows it
    assert TrainConfig(data="x", out="y", learning_rate=5e-5).learning_rate == 5e-5


@pytest.mark.parametrize("settings, named", [
    ({"steps": 0}, "steps"), ({"batch_size": -2}, "batch_size"), ({"eval_every": 0}, "eval_every"),
    ({"warmup_steps": -4}, "warmup_steps"), ({"max_transpose": -4}, "max_transpose"), ({"first_eval": -1}, "first_eval"),
    ({"learning_rate": -1.0}, "learning rate"), ({"model_overrides": {"dropout": 2}}, "dropout"),
    ({"model_overrides": {"n_layer": 0}}, "n_layer"),
])
def test_settings_that_cannot_train_are_refused_by_name(settings, named):
    with pytest.raises(ValueError, match=named):
        TrainConfig(data="x", out="y", **settings)


def _scripted_validation(monkeypatch, losses: dict[int, float]) -> None:
    """Validation passes that report `losses` by step, as a run that overfits would."""
    def evaluate(model, tokenizer, x, y, batch_size=16, step=0):
        return EvalResult(step, losses[step], 0.5, math.exp(losses[step]), 100, {})

    monkeypatch.setattr("core.learning.training.evaluate", evaluate)


def _same_weights(model, path) -> bool:
    saved = load_file(str(path))
    return all(torch.equal(model.state_dict()[name], tensor) for name, tensor in saved.items())


def _short_run(data, out, **settings):
    return TrainConfig(data=str(data), out=str(out), model_overrides=TINY, batch_size=4, eval_every=2,
                       warmup_steps=1, **{"steps": 10, **settings})


def test_the_weights_of_the_lowest_validation_loss_are_kept_beside_the_last(tmp_path, cello_trio, monkeypatch):
    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6, 10: 2.7})
    events = list(train(_short_run(cello_trio, tmp_path / "run")))
    assert [(e.step, e.best) for e in events if isinstance(e, CheckpointSaved)] == [
        (2, True), (4, True), (6, False), (8, False), (10, False)]
    done = events[-1]
    assert (done.step, done.best_step, done.best_loss, done.stopped_early) == (10, 4, 2.0, False)
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["files"]["best"] == "model-000004.safetensors"
    assert config["training"]["best"]["step"] == 4 and config["training"]["best"]["loss"] == 2.0
    assert sorted(p.name for p in run.glob("model-*")) == ["model-000004.safetensors", "model-000010.safetensors"]

    best, last = load_model(run, best=True), load_model(run)
    assert _same_weights(best.model, run / "model-000004.safetensors")
    assert _same_weights(last.model, run / "model-000010.safetensors")
    assert not _same_weights(best.model, run / "model-000010.safetensors")
    assert (best.step, last.step) == (4, 10)
    assert best.describe() == "step 4, lowest validation loss 2.000 (last step 10)" and last.describe() == "step 10"


def test_patience_stops_a_run_that_no_longer_improves(tmp_path, cello_trio, monkeypatch):
    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6, 10: 2.7})
    done = list(train(_short_run(cello_trio, tmp_path / "run", patience=2)))[-1]
    assert (done.step, done.cancelled, done.stopped_early, done.best_step) == (8, True, True, 4)
    assert load_model(tmp_path / "run", best=True).step == 4 and load_model(tmp_path / "run").step == 8


def test_a_resumed_run_keeps_its_best_weights_until_it_beats_them(tmp_path, cello_trio, monkeypatch):
    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6, 10: 1.5})
    run = tmp_path / "run"
    list(train(_short_run(cello_trio, run, steps=6)))
    best_at = {}
    for event in train(_short_run(cello_trio, run), resume=True):
        if isinstance(event, CheckpointSaved):
            best_at[event.step] = json.loads((run / "config.json").read_text())["files"]["best"]
    assert best_at == {8: "model-000004.safetensors", 10: "model-000010.safetensors"}
    assert not (run / "model-000004.safetensors").exists()  # no longer named: deleted
    assert load_model(run, best=True).step == 10


def test_runs_without_validation_figures_compose_with_their_last_weights(trained_run, tmp_path):
    run, _ = trained_run
    older = tmp_path / "older"  # as saved before runs kept their best weights
    shutil.copytree(run, older)
    config = json.loads((older / "config.json").read_text())
    config["files"].pop("best", None)
    config["training"].pop("best", None)
    (older / "config.json").write_text(json.dumps(config))
    loaded = load_model(older, best=True)
    assert loaded.weights == weights_path(older) and loaded.describe() == "step 40"


def test_the_command_line_says_which_weights_it_composes_with(tmp_path, cello_trio, monkeypatch, capsys):
    from core.cli import main

    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6, 10: 2.7})
    run = tmp_path / "run"
    tiny = [f"--set={name}={value}" for name, value in TINY.items()]
    assert main(["train", "--data", str(cello_trio), "--out", str(run), "--steps", "10", "--eval-every", "2",
                 "--batch-size", "4", "--patience", "2", *tiny]) == 0
    said = capsys.readouterr().out
    assert re.search(r"M parameters, \d+ tokens on cpu", said), said  # the vocabulary, said up front
    assert "step 4: checkpoint saved (lowest validation loss so far)" in said
    assert "the lowest validation loss, 2.000, was at step 4: --best composes with those weights" in said
    assert "stopped at step 8: 2 validation passes without a lower loss" in said
    for best, expected in ((True, "using the weights of step 4, lowest validation loss 2.000 (last step 8)"),
                           (False, "note: the validation loss was lowest at step 4 (2.000); --best uses those weights")):
        assert main(["generate", "--model", str(run), "--bars", "1", "--seed", "0",
                     "--out", str(tmp_path / "take.mid"), *(["--best"] if best else [])]) == 0
        assert expected in capsys.readouterr().err


def test_patience_running_out_at_the_last_step_is_a_finished_run(tmp_path, cello_trio, monkeypatch):
    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6, 10: 2.7})
    done = list(train(_short_run(cello_trio, tmp_path / "run", patience=3)))[-1]
    assert (done.step, done.cancelled, done.stopped_early) == (10, False, False)


def test_a_run_ended_by_patience_is_not_offered_for_resuming(tmp_path, cello_trio, monkeypatch):
    from core.userdata import resumable_runs

    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6, 10: 2.7})
    list(train(_short_run(cello_trio, tmp_path / "runs" / "patient", patience=2)))
    stopped = []
    list(train(_short_run(cello_trio, tmp_path / "runs" / "stopped"), should_stop=lambda: len(stopped) > 4
               or stopped.append(1)))
    assert json.loads((tmp_path / "runs" / "patient" / "config.json").read_text())["training"]["stopped_early"]
    assert resumable_runs(tmp_path / "runs") == [tmp_path / "runs" / "stopped"]


def test_a_nan_validation_loss_is_never_the_best(tmp_path, cello_trio, monkeypatch):
    _scripted_validation(monkeypatch, {2: math.nan, 4: 2.0, 6: math.nan, 8: 2.5, 10: 1.9})
    saved = [(e.step, e.best) for e in train(_short_run(cello_trio, tmp_path / "run")) if isinstance(e, CheckpointSaved)]
    assert saved == [(2, False), (4, True), (6, False), (8, False), (10, True)]


def test_resuming_a_run_saved_before_runs_kept_their_best_keeps_its_weights_as_the_best(
        tmp_path, cello_trio, monkeypatch):
    _scripted_validation(monkeypatch, {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.6})
    run = tmp_path / "run"
    list(train(_short_run(cello_trio, run, steps=4)))
    config = json.loads((run / "config.json").read_text())  # as an older version saved it
    del config["files"]["best"], config["training"]["best"]
    (run / "config.json").write_text(json.dumps(config))
    list(train(_short_run(cello_trio, run, steps=8), resume=True))
    config = json.loads((run / "config.json").read_text())
    assert config["files"]["best"] == "model-000004.safetensors" and config["training"]["best"]["loss"] == 2.0
    assert load_model(run, best=True).describe() == "step 4, lowest validation loss 2.000 (last step 8)"


@pytest.mark.parametrize("settings, message", [({"tokenization": "TSD"}, "never compose"),
                                                ({"model_overrides": {"block_size": 1}}, "at least 32")])
def test_settings_that_would_train_a_model_that_cannot_compose_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(data="x", out="y", **settings)


def test_the_resume_check_is_one_for_the_cli_and_the_window(tmp_path):
    """core.learning.run_config.check_resume: what `partita train --resume` and the Train panel's Resume both ask."""
    from core.learning.run_config import RUN_FIELDS, check_resume

    assert set(RUN_FIELDS) == {"preset", "model_overrides", "batch_size", "learning_rate", "min_learning_rate",
                               "warmup_steps", "weight_decay", "grad_clip", "seed", "max_transpose", "pack",
                               "tokenization", "use_velocities", "program", "bpe_vocab_size", "key_mode", "init",
                               "exclude", "mix", "mix_share", "ema", "infill_share", "controls", "controls_share",
                               "control_kinds"}  # marked once, on TrainConfig's fields
    with pytest.raises(ValueError, match="cannot resume: .*not a Partita run folder"):
        check_resume(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model": {}, "tokenizer": {}}))
    with pytest.raises(ValueError, match='has no "train" section naming its corpus'):
        check_resume(tmp_path)
    saved = {"data": "builtin:bach-chorales", "batch_size": 16}
    (tmp_path / "config.json").write_text(json.dumps({"model": {}, "tokenizer": {}, "train": saved}))
    assert check_resume(tmp_path) == saved
    assert check_resume(tmp_path, data="builtin:bach-chorales", given={"batch_size": 16, "steps": 99}) == saved
    with pytest.raises(ValueError, match="on builtin:other: the run was started on builtin:bach-chorales"):
        check_resume(tmp_path, data="builtin:other")
    with pytest.raises(ValueError, match="with batch_size = 32: the run was started with 16"):
        check_resume(tmp_path, given={"batch_size": 32})
    with pytest.raises(ValueError, match="with pack = True: the run was started with False"):
        check_resume(tmp_path, given={"pack": True})  # a run saved before packing did not pack
