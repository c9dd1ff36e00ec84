"""A training corpus's pieces in a meter the vocabulary lacks are read in 4/4 bars, their bar lines
moved (core.learning.kept_meters.normalise_time_signatures): that is said, never done silently (issue 22, class
7). `partita corpus inspect` names each such meter and its pieces, for a new model's vocabulary or
the one of the model a fine-tune starts from (--model), and --json lists them all. The corpora are
made here, at run time."""

from __future__ import annotations

import json

import pytest
import symusic

from core.cli import main
from core.learning.kept_meters import CLASSIC_METERS, pieces_by_unkept_meter
from core.learning.tokenizer import TokenizerSettings
from core.music.corpus import import_corpus, unkept_meter_warnings


def piece(path, numerator: int, denominator: int, bars: int = 2):
    """A MIDI file of `bars` bars in numerator/denominator, a note on each beat (its pitches from
    its name: no two files the same, which a corpus imports once)."""
    score = symusic.Score(480)
    track = symusic.Track(program=42)
    beat = 480 * 4 // denominator
    for index in range(numerator * bars):
        track.notes.append(symusic.Note(index * beat, beat, 48 + (index + sum(path.name.encode())) % 24, 80))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, numerator, denominator))
    score.tempos.append(symusic.Tempo(0, 100.0))
    score.dump_midi(str(path))


@pytest.fixture
def corpus_folder(tmp_path):
    """Pieces in 4/4, 3/4, 7/8 and 7/4 (a new model's vocabulary holds them), 5/2 and 13/16 twice
    each, and one that changes from 4/4 to 15/16 halfway (none holds those)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, meter in (("common.mid", (4, 4)), ("waltz.mid", (3, 4)), ("balkan.mid", (7, 8)), ("seven.mid", (7, 4)),
                        ("broad-1.mid", (5, 2)), ("broad-2.mid", (5, 2)), ("odd-1.mid", (13, 16)),
                        ("odd-2.mid", (13, 16))):
        piece(folder / name, *meter)
    piece(folder / "changing.mid", 4, 4)
    changing = symusic.Score(str(folder / "changing.mid"))
    changing.time_signatures.append(symusic.TimeSignature(480 * 4, 15, 16))
    changing.dump_midi(str(folder / "changing.mid"))
    return folder


def test_the_pieces_of_each_unkept_meter_are_named(corpus_folder):
    corpus = import_corpus(corpus_folder)
    assert len(corpus.pieces) == 9
    assert pieces_by_unkept_meter(corpus.pieces) == {"5/2": ["broad-1.mid", "broad-2.mid"],
                                                    "13/16": ["odd-1.mid", "odd-2.mid"], "15/16": ["changing.mid"]}
    classic = TokenizerSettings(meters=CLASSIC_METERS)  # the shipped models' vocabulary, before odd meters
    assert set(pieces_by_unkept_meter(corpus.pieces, classic.kept_meters())) == {"5/2", "13/16", "15/16", "7/8", "7/4"}
    no_meters = TokenizerSettings(use_time_signatures=False)  # every bar a 4/4 bar
    assert set(pieces_by_unkept_meter(corpus.pieces, no_meters.kept_meters())) == {"5/2", "13/16", "15/16", "7/8", "7/4", "3/4"}


def test_a_line_per_meter_names_its_pieces_and_counts_the_rest():
    lines = unkept_meter_warnings({"5/2": ["a.mid"], "13/16": [f"{n}.mid" for n in range(20)]}, shown=3)
    assert lines == [
        "20 pieces are in 13/16, a meter the vocabulary lacks, so training reads them in 4/4 bars (bar lines moved): "
        "0.mid, 1.mid, 2.mid and 17 more",
        "1 piece is in 5/2, a meter the vocabulary lacks, so training reads it in 4/4 bars (bar lines moved): a.mid"]
    assert "\n" not in unkept_meter_warnings({"5/2": ["forged\nsummary.mid"]})[0]


def test_corpus_inspect_warns_of_each_unkept_meter_listing_its_files(corpus_folder, capsys, tmp_path):
    assert main(["corpus", "inspect", str(corpus_folder), "--json", str(tmp_path / "report.json")]) == 0
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if line.startswith("partita corpus: warning: ")]
    assert warnings == [
        "partita corpus: warning: 2 pieces are in 13/16, a meter a new model's vocabulary lacks, so training reads "
        "them in 4/4 bars (bar lines moved): odd-1.mid, odd-2.mid",
        "partita corpus: warning: 2 pieces are in 5/2, a meter a new model's vocabulary lacks, so training reads "
        "them in 4/4 bars (bar lines moved): broad-1.mid, broad-2.mid",
        "partita corpus: warning: 1 piece is in 15/16, a meter a new model's vocabulary lacks, so training reads "
        "it in 4/4 bars (bar lines moved): changing.mid"]
    assert "9 pieces imported" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["unkept_meters"]["5/2"] == ["broad-1.mid", "broad-2.mid"]


def test_corpus_inspect_checks_the_vocabulary_of_the_model_a_fine_tune_starts_from(corpus_folder, capsys):
    assert main(["corpus", "inspect", str(corpus_folder), "--model", "bach-cello-suites"]) == 0
    err = capsys.readouterr().err
    assert "1 piece is in 7/8, a meter the vocabulary of bach-cello-suites lacks" in err and "balkan.mid" in err
    assert main(["corpus", "inspect", str(corpus_folder), "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("partita corpus: --model no-such-model: not a Partita run folder") and "\n" not in err


def test_a_corpus_in_kept_meters_says_nothing_of_meters(tmp_path, capsys):
    for name, meter in (("a.mid", (4, 4)), ("b.mid", (6, 8)), ("c.mid", (2, 2))):  # 2/2 is written as 4/4
        piece(tmp_path / name, *meter)
    assert main(["corpus", "inspect", str(tmp_path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_training_names_the_pieces_it_reads_in_moved_bars(corpus_folder, tmp_path, capsys):
    """The same lines as `corpus inspect`, where training starts (the CLI prints them; the window's
    Train panel shows TrainStarted.meter_warnings)."""
    run = tmp_path / "run"
    assert main(["train", "--data", str(corpus_folder), "--out", str(run), "--steps", "1", "--eval-every", "1",
                 "--set", "n_layer=1", "--set", "n_embd=32", "--set", "n_head=2", "--set", "block_size=64"]) == 0
    captured = capsys.readouterr()
    said = [line for line in (captured.out + captured.err).splitlines() if line.startswith("warning: ")]
    assert said == [
        "warning: 2 pieces are in 13/16, a meter the vocabulary lacks, so training reads them in 4/4 bars "
        "(bar lines moved): odd-1.mid, odd-2.mid",
        "warning: 2 pieces are in 5/2, a meter the vocabulary lacks, so training reads them in 4/4 bars "
        "(bar lines moved): broad-1.mid, broad-2.mid",
        "warning: 1 piece is in 15/16, a meter the vocabulary lacks, so training reads it in 4/4 bars "
        "(bar lines moved): changing.mid"]
    started = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert started["event"] == "TrainStarted" and len(started["meter_warnings"]) == 3
