"""`partita evaluate` end to end: a tiny model trained for a few steps on four cello movements,
judged by the CLI, with report.json and a self-contained report.html written."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from core.cli import main

MOVEMENTS = ("BWV1007_04_Sarabande", "BWV1007_05_MenuetI", "BWV1007_06_MenuetII", "BWV1008_05_MenuetI")
TINY = {"n_layer": 1, "n_head": 2, "n_embd": 64, "block_size": 128}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, cello_xml_dir):
    from core.learning.training import TrainConfig, train

    mp = pytest.MonkeyPatch()
    mp.setenv("PARTITA_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    data = tmp_path_factory.mktemp("four")
    for name in MOVEMENTS:
        shutil.copy(cello_xml_dir / f"{name}.mxl", data)
    run = tmp_path_factory.mktemp("run")
    config = TrainConfig(data=str(data), out=str(run), model_overrides=TINY, steps=25, batch_size=8,
                         eval_every=25, warmup_steps=5, learning_rate=3e-3)
    list(train(config))
    yield run, data
    mp.undo()


def test_evaluate_writes_a_report_with_every_section(tiny_run, tmp_path, capsys):
    run, data = tiny_run
    out = tmp_path / "report"
    code = main(["evaluate", "--model", str(run), "--data", str(data), "--out", str(out), "--generate", "2",
                 "--bars", "2", "--sweep", "0.7,1.3", "--variations", "4", "--no-music21"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Style distance to training" in printed and "wrote" in printed
    report = json.loads((out / "report.json").read_text())
    assert set(report["sets"]) == {"generated", "held-out real", "real continuations", "n-gram baseline",
                                   "pitch-shuffled", "rhythm-shuffled", "random notes"}
    learning = report["learning"]
    split = json.loads((run / "config.json").read_text())["corpus"]["split"]
    assert learning["pieces"] == split["validation"] + split["test"]  # the last weights: every held-out piece
    assert math.isfinite(learning["model"]["loss"]) and math.isfinite(learning["baseline"]["loss"])
    for figures in (learning["model"], learning["baseline"]):  # REMI spends 2-4 tokens on a note
        assert 2 * figures["loss"] < figures["loss_per_note"] < 5 * figures["loss"]
    assert learning["model"]["perplexity"] == pytest.approx(math.exp(learning["model"]["loss"]), rel=1e-6)
    assert {"Pitch", "Duration", "Position", "Bar"} <= set(learning["model"]["per_type"])
    assert set(learning["model"]["per_type"]) <= set(learning["baseline"]["per_type"]) | {"EOS", "TimeSig"}
    assert learning["beats_baseline"] == (learning["model"]["loss"] < learning["baseline"]["loss"])
    assert [p["temperature"] for p in report["sweep"]] == [0.7, 1.3]
    assert report["uniqueness"] is not None
    headline = {row["label"]: row["values"] for row in report["headline"]}
    style = headline["Style distance to training (JS, mean)"]
    assert style["held-out real"] < style["random notes"]
    assert "quantized_groove_consistency" in report["quantization"]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5
    assert 'src="http' not in page and "<link" not in page  # self-contained


def test_evaluate_flags_a_transposed_copy_among_generated_files(tiny_run, tmp_path, capsys):
    from core.judging.evaluation import split_like_run
    from core.learning.checkpoint import read_config
    from core.music.corpus import import_corpus

    run, data = tiny_run
    train, _ = split_like_run(import_corpus(str(data)).pieces, read_config(run))
    source = train[0]
    generated = tmp_path / "generated"
    generated.mkdir()
    (generated / "suspicious.mid").write_bytes(source.score.shift_pitch(3).dumps_midi())
    (generated / "noise.mid").write_bytes(_random_midi(source.score))
    (generated / "broken.mid").write_bytes(b"MThd\x00")
    out = tmp_path / "report"
    code = main(["evaluate", "--model", str(run), "--data", str(data), "--out", str(out),
                 "--generated", str(generated), "--sweep", "", "--no-music21"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    copies = report["copies"]
    assert [c["piece"] for c in copies] == ["suspicious.mid"]
    assert source.name in copies[0]["description"] and "transposed +3" in copies[0]["description"]
    assert "suspicious.mid" in (out / "report.html").read_text()
    said = capsys.readouterr()
    assert "flagged as copies" in said.out
    assert "skipped broken.mid: " in said.err  # with its reason


def test_evaluate_names_a_wrong_generated_folder_before_the_long_work(tiny_run, tmp_path, capsys):
    run, data = tiny_run
    code = main(["evaluate", "--model", str(run), "--data", str(data), "--out", str(tmp_path / "report"),
                 "--generated", str(tmp_path / "nowhere")])
    assert code == 2
    said = capsys.readouterr().err
    assert "nowhere: not a folder of generated pieces" in said and "learning figures" not in said


def _random_midi(like) -> bytes:
    from core.judging.metrics.references import random_notes

    return random_notes(like, seed=5).dumps_midi()


def test_evaluate_names_a_missing_run_folder(tmp_path, cello_xml_dir, capsys):
    code = main(["evaluate", "--model", str(tmp_path / "nowhere"), "--data", str(cello_xml_dir),
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert "nowhere" in capsys.readouterr().err


def test_weights_chosen_on_every_held_out_piece_are_scored_with_a_warning():
    from types import SimpleNamespace

    from core.judging.evaluation import unbiased_pieces

    held = [SimpleNamespace(name="a"), SimpleNamespace(name="b")]
    config = {"files": {"weights": "model-000020.safetensors", "best": "model-000010.safetensors"},
              "corpus": {"split": {"train": ["c"], "validation": ["a", "b"], "test": []}}}
    best = SimpleNamespace(config=config, by_validation=True)
    assert unbiased_pieces(held, best) == (held, ["a", "b"])
    last = SimpleNamespace(config=config, by_validation=False)
    assert unbiased_pieces(held, last) == (held, [])
    config["corpus"]["split"]["validation"] = ["a"]
    assert unbiased_pieces(held, best) == ([held[1]], [])


def test_evaluate_best_scores_the_chosen_weights_on_the_test_pieces_only(tiny_run, tmp_path, capsys):
    run, data = tiny_run
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(run), "--data", str(data), "--out", str(out), "--generate", "1",
                 "--bars", "1", "--sweep", "", "--no-music21", "--best"]) == 0
    split = json.loads((run / "config.json").read_text())["corpus"]["split"]
    assert json.loads((out / "report.json").read_text())["learning"]["pieces"] == split["test"]


def test_judging_a_model_on_another_corpus_is_said_up_front(tiny_run, tmp_path, capsys):
    run, data = tiny_run
    other = tmp_path / "other-corpus"
    shutil.copytree(data, other)
    assert main(["evaluate", "--model", str(run), "--data", str(other), "--out", str(tmp_path / "report"),
                 "--generate", "1", "--bars", "1", "--sweep", "", "--no-music21"]) == 0
    warnings = json.loads((tmp_path / "report" / "report.json").read_text())["warnings"]
    # (beside others a 20-step model earns, such as doing worse than the 4-gram)
    assert (f"The model learned from {data.name}, not from other-corpus: the figures say how it "
            "does on music it was not trained on.") in warnings


@pytest.mark.parametrize("order", ["100000", "0"])
def test_evaluate_refuses_an_ngram_order_past_the_cap_in_one_line(tmp_path, capsys, order):
    code = main(["evaluate", "--model", str(tmp_path / "run"), "--data", str(tmp_path), "--out",
                 str(tmp_path / "out"), "--ngram-order", order])
    said = capsys.readouterr()
    assert code == 2
    assert said.err.count("\n") == 1 and "--ngram-order must be between 1 and 8" in said.err
    assert "Traceback" not in said.err + said.out and not (tmp_path / "out").exists()
