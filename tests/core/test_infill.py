"""Infill and bar controls: the training examples, the measured bar attributes, and rewriting a span
that leaves every other note as it was, with the controls asked for kept."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import symusic

from core.composing.generation import GenerationSettings, generate
from core.composing.infill import InfillError, infill_variations, parse_span
from core.learning.checkpoint import load_model
from core.learning.dataset import BatchSampler, ControlWriter, infill_example, tokenize_pieces
from core.learning.tokenizer import PartitaTokenizer, settings_for
from core.music.controls import BarControls, bar_attributes, density_level, parse_density
from core.music.corpus import import_corpus
from core.music.scores import load_score
from tests.core.conftest import assert_density_kept


@pytest.fixture(scope="module")
def loaded(trained_run):
    return load_model(trained_run[0])


@pytest.fixture(scope="module")
def prelude(cello_xml_dir):
    return load_score(cello_xml_dir / "BWV1007_01_Prelude.mxl")


@pytest.fixture(scope="module")
def trio(cello_trio):
    corpus = import_corpus(cello_trio)
    tokenizer = PartitaTokenizer.create(settings_for([p.score for p in corpus.pieces]))
    return tokenizer, tokenize_pieces(corpus.pieces, tokenizer, corpus.pitch_range)


def notes_of(score: symusic.Score, outside: tuple[int, int] | None = None) -> list[tuple]:
    return sorted((n.time, n.duration, n.pitch, n.velocity) for t in score.tracks for n in t.notes
                  if outside is None or not outside[0] <= n.time < outside[1])


def test_an_infill_example_is_the_bars_after_then_before_then_the_span(trio):
    tokenizer, pieces = trio
    before_id, rng = tokenizer.infill_ids["Infill_Before"], np.random.default_rng(0)
    spans = set()
    for _ in range(40):
        piece = pieces[int(rng.integers(len(pieces)))]
        ids = piece.ids
        window = infill_example(rng, ids, piece.bar_starts, tokenizer, 513, 512, lambda a, b, ids=ids: ids[a:b])
        n = int(tokenizer.tokens[window[0]].split("_")[1])
        spans.add(n)
        cut = int(np.flatnonzero(window == before_id)[0])
        after, rest = window[1:cut], window[cut + 1:]
        text = ids.tobytes()
        assert rest.tobytes() in text  # the bars before, the span and the token after it: the piece as it goes
        end = text.index(rest.tobytes()) // 8 + len(rest) - 1  # where the token after the span lies
        assert tokenizer.tokens[ids[end]] in ("Bar_None", "EOS_None")
        assert np.array_equal(after, ids[end:end + len(after)])  # the bars after the span, up to the EOS
        assert int(tokenizer.opens_bar[rest[:-1]].sum()) >= n
        assert len(window) <= 513
    assert len(spans) > 3  # spans of many lengths are learned


def test_bar_attributes_count_density_voices_and_range():
    note = symusic.Note
    notes = [note(0, 960, 48, 80), note(0, 240, 60, 80), note(240, 240, 62, 80), note(480, 240, 64, 80),
             note(1920, 1920, 55, 80)]  # bar 1 (4/4 at 480): a held C3 under three notes; bar 2: one long G3
    attributes = bar_attributes(notes, [0, 1920, 3840], [1920, 1920, 1920], 480)
    assert attributes.tolist() == [[density_level(4, 4), 2, 48, 64], [density_level(1, 4), 1, 55, 55], [0, 0, -1, -1]]
    assert [density_level(n, 3) for n in (0, 1, 3, 6, 12)] == [0, 1, 2, 4, 6]  # 3/4: silent ... sixteenths
    assert parse_density("busy") == 5 and parse_density("2") == 2
    with pytest.raises(ValueError, match="density"):
        parse_density("11")


def test_controls_are_written_after_each_meter_as_measured(trio):
    tokenizer, pieces = trio
    writer = ControlWriter(tokenizer)
    piece = pieces[0]
    written = writer.write(piece, piece.ids, 0, ("density", "voices", "range"))
    tokens = [tokenizer.tokens[i] for i in written]
    bar = 0
    for index, token in enumerate(tokens):
        if token == "Bar_None":
            density, voices, low, high = piece.bar_attributes[bar]
            expected = [f"Density_{density}", f"Voices_{voices}"] + ([f"Low_{low}", f"High_{high}"] if low >= 0 else [])
            assert tokens[index + 2:index + 2 + len(expected)] == expected, (bar, tokens[index:index + 8])
            bar += 1
    assert bar == len(piece.bar_attributes)
    # transposing moves a bar's range with its notes
    shifted = tokenizer.transpose_ids(written, 2)
    lows = [t for t in (tokenizer.tokens[i] for i in shifted) if t.startswith("Low_")]
    assert lows[0] == f"Low_{int(piece.bar_attributes[0][2]) + 2}"


def test_training_batches_mix_continuation_infill_and_controls(trio):
    tokenizer, pieces = trio
    x, _ = BatchSampler(pieces, tokenizer, 256, 32, seed=0).batch(0)
    first = {tokenizer.tokens[int(row[0])].split("_")[0] for row in x}
    assert {"Infill", "Bar"} <= first or {"Infill", "BOS"} <= first
    has_controls = [any(tokenizer.tokens[int(i)].startswith("Density_") for i in row) for row in x]
    assert 0 < sum(has_controls) < len(x)  # some windows write controls, others none
    x, _ = BatchSampler(pieces, tokenizer, 256, 32, seed=0, infill_share=0).batch(0)  # `--infill-share 0`
    assert not any(tokenizer.tokens[int(i)].startswith("Infill_") for row in x for i in row)
    x, _ = BatchSampler(pieces, tokenizer, 256, 32, seed=0, infill_share=0.9).batch(0)
    assert sum(tokenizer.tokens[int(row[0])].startswith("Infill_") for row in x) > 0.6 * len(x)


def test_the_controls_share_sets_how_many_windows_write_controls(trio):
    tokenizer, pieces = trio
    is_control = np.zeros(len(tokenizer.tokens), dtype=bool)
    is_control[list(tokenizer.control_ids.values())] = True

    def writing(share):
        x, _ = BatchSampler(pieces, tokenizer, 256, 64, seed=0, controls_share=share).batch(0)
        return sum(bool(is_control[row.numpy()].any()) for row in x) / len(x)

    assert writing(0) == 0  # `--controls-share 0`: the vocabulary, never the controls
    assert 0.3 < writing(None) < 0.7  # CONTROLS_SHARE, a half
    assert writing(1) > 0.9  # all but windows that draw no kind (0.3 ** 3) or hold no bar line


def test_a_vocabulary_learns_only_the_control_kinds_asked(trio, cello_trio, tmp_path, capsys):
    import json
    from dataclasses import replace

    from core.cli import main
    from core.learning.tokenizer import TokenizerSettings

    tokenizer, pieces = trio
    some = PartitaTokenizer.create(replace(tokenizer.settings, control_kinds=("density", "voices")))
    assert some.controls == ("density", "voices") and len(some.tokens) < len(tokenizer.tokens)
    assert TokenizerSettings.from_json(json.loads(json.dumps(some.settings.to_json()))) == some.settings
    older = {k: v for k, v in tokenizer.settings.to_json().items() if k != "control_kinds"}
    assert TokenizerSettings.from_json(older).control_kinds == ("density", "voices", "range")  # a model of before
    with pytest.raises(ValueError, match="control_kinds must be some of"):
        TokenizerSettings.from_json({**older, "control_kinds": ["tempo"]})
    x, _ = BatchSampler(tokenize_pieces(import_corpus(cello_trio).pieces, some, (36, 84)), some, 256, 64, seed=0,
                        controls_share=1).batch(0)
    written = {some.tokens[i].split("_")[0] for i in x.flatten().tolist() if i in set(some.control_ids.values())}
    assert written == {"Density", "Voices"}
    out, tiny = tmp_path / "run", ["--set=n_layer=1", "--set=n_head=2", "--set=n_embd=32", "--set=block_size=64"]
    assert main(["train", "--data", str(cello_trio), "--out", str(out), "--steps", "1", "--batch-size", "2",
                 "--control-kinds", "voices,density", *tiny]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["train"]["control_kinds"] == ["density", "voices"] == saved["tokenizer"]["control_kinds"]
    with pytest.raises(SystemExit):  # (argparse's error: usage, then the line)
        main(["train", "--data", str(cello_trio), "--out", str(out), "--steps", "1", "--control-kinds", "tempo"])
    assert "bar controls are some of density, voices, range, not 'tempo'" in capsys.readouterr().err
    tuned = tmp_path / "tuned"  # a fine-tune keeps the kinds of the model it starts from
    assert main(["train", "--data", str(cello_trio), "--out", str(tuned), "--init", str(out), "--steps", "1",
                 "--control-kinds", "density"]) == 2
    assert "--control-kinds are not for a fine-tune: it keeps the bar controls of the model it starts from " \
           "(density, voices)" in capsys.readouterr().err
    assert main(["train", "--data", str(cello_trio), "--out", str(tuned), "--init", str(out), "--steps", "1",
                 "--batch-size", "2"]) == 0
    assert json.loads((tuned / "config.json").read_text())["train"]["control_kinds"] == ["density", "voices"]
    config = json.loads((out / "config.json").read_text())  # a run of before the option: resumed without it
    del config["train"]["control_kinds"]
    (out / "config.json").write_text(json.dumps(config))
    assert main(["train", "--out", str(out), "--resume", "--steps", "2", "--control-kinds", "density"]) == 2
    assert "the run was started with None" in capsys.readouterr().err


def test_the_infill_share_is_checked_and_kept_with_the_run(tmp_path, cello_trio, capsys):
    import json

    from core.cli import main

    out = tmp_path / "run"
    tiny = ["--set=n_layer=1", "--set=n_head=2", "--set=n_embd=32", "--set=block_size=64"]
    assert main(["train", "--data", str(cello_trio), "--out", str(out), "--steps", "1", "--infill-share", "1.5", *tiny]) == 2
    assert "--infill-share is the share of infill windows, 0 (none) to 0.9, not 1.5" in capsys.readouterr().err
    assert main(["train", "--data", str(cello_trio), "--out", str(out), "--steps", "1", "--batch-size", "2",
                 "--infill-share", "0", "--controls-share", "0.2", *tiny]) == 0
    saved = json.loads((out / "config.json").read_text())["train"]
    assert saved["infill_share"] == 0 and saved["controls_share"] == 0.2
    assert main(["train", "--data", str(cello_trio), "--out", str(out), "--steps", "1", "--controls-share", "-1",
                 *tiny]) == 2
    assert "--controls-share is the share of windows that write bar controls, 0 to 1, not -1.0" \
        in capsys.readouterr().err
    plain = tmp_path / "plain"  # `--no-controls`: a vocabulary without them, as the default model's
    assert main(["train", "--data", str(cello_trio), "--out", str(plain), "--steps", "1", "--batch-size", "2",
                 "--no-controls", "--bpe", "700", *tiny]) == 0
    saved = json.loads((plain / "config.json").read_text())
    assert saved["train"]["controls"] is False and not saved["tokenizer"]["use_controls"]
    assert saved["tokenizer"]["use_infill"] and saved["model"]["vocab_size"] == 700


def test_infill_rewrites_only_the_span(loaded, prelude):
    takes = infill_variations(loaded, prelude, 3, 4, GenerationSettings(random_seed=2), n=2)
    downbeats = prelude.get_downbeats()
    start, end = int(downbeats[2]), int(downbeats[4])
    for take in takes:
        assert (take.start_tick, take.end_tick) == (start, end)
        assert notes_of(take.score, (start, end)) == notes_of(prelude, (start, end))  # byte for byte outside
        assert take.notes and all(start <= n.time < end and n.time + n.duration <= end for n in take.notes)
        assert notes_of(take.score) != notes_of(prelude)
        assert take.bars == 2
    assert notes_of(takes[0].score) != notes_of(takes[1].score)


def test_controls_are_kept_in_continuation_and_infill(loaded, prelude):
    controls = BarControls(voices=1, lowest=48, highest=60)
    take = generate(loaded, prelude, GenerationSettings(bars=3, prompt_bars=2, random_seed=3, controls=controls))
    new = [n for t in take.score.tracks for n in t.notes if n.time >= take.seed_end_tick]
    assert new and all(48 <= n.pitch <= 60 for n in new)
    written = [loaded.tokenizer.tokens[i] for i in take.ids[take.seed_tokens:]]
    assert written.count("Voices_1") == 3 and written.count("Low_48") == 3  # asked of every new bar
    filled = infill_variations(loaded, prelude, 2, 2, GenerationSettings(random_seed=4, controls=controls))[0]
    assert all(48 <= n.pitch <= 60 for n in filled.notes)
    ends = sorted((n.time, n.time + n.duration) for n in filled.notes)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ends, ends[1:], strict=False))  # one line


@pytest.mark.parametrize(("bars", "message"), [("50-51", "outside the piece"), ("1-9", "at most 8 bars")])
def test_spans_that_cannot_be_written_are_refused_in_words(loaded, prelude, bars, message):
    with pytest.raises(InfillError, match=message):
        infill_variations(loaded, prelude, *parse_span(bars))


def test_span_syntax_and_a_piece_that_is_all_span(loaded):
    assert parse_span("5-8") == (5, 8) and parse_span(" 3 ") == (3, 3)
    for text, message in (("8-5", "comes after"), ("0-2", "from 1"), ("five", "FIRST-LAST")):
        with pytest.raises(InfillError, match=message):
            parse_span(text)
    score = symusic.Score(480)
    track = symusic.Track()
    track.notes.append(symusic.Note(0, 480, 60, 80))
    score.tracks.append(track)
    with pytest.raises(InfillError, match="nothing around"):
        infill_variations(loaded, score, 1, 1)


def test_a_meter_change_inside_the_span_is_refused(loaded):
    score = symusic.Score(480)
    score.time_signatures = [symusic.TimeSignature(0, 4, 4), symusic.TimeSignature(3 * 1920, 3, 4)]
    track = symusic.Track()
    for beat in range(28):
        track.notes.append(symusic.Note(beat * 480, 480, 50 + beat % 7, 80))
    score.tracks.append(track)
    with pytest.raises(InfillError, match="meter changes at bar 4"):
        infill_variations(loaded, score, 3, 5)


def test_the_infill_command(trained_run, cello_xml_dir, tmp_path):
    out = tmp_path / "take.mid"
    piece = cello_xml_dir / "BWV1007_01_Prelude.mxl"
    command = [sys.executable, "-m", "core.cli", "infill", str(piece), "--model", str(trained_run[0]),
               "--bars", "3-4", "--out", str(out), "--seed", "1", "--density", "busy"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "bars 3-4 rewritten" in done.stdout and out.exists()
    refused = subprocess.run(command[:-4] + ["--bars", "90-91"], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "outside the piece" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize("name", ["base", "a BPE model"])
def test_a_model_from_before_infill_grows_its_vocabulary_keeping_every_weight(name):
    from dataclasses import replace
    from types import SimpleNamespace

    import torch

    from core.learning.model import ModelConfig, Transformer
    from core.learning.tokenizer import TokenizerSettings, with_infill_and_controls
    from core.learning.training import grown_weights

    if name == "base":
        shipped = load_model(name)  # shipped with infill: its vocabulary of before is rebuilt from it
        settings = replace(shipped.tokenizer.settings, use_infill=False, use_controls=False)
        before = PartitaTokenizer.create(settings)
        old_model = Transformer(replace(shipped.model.config, vocab_size=len(before)))
        rows = [shipped.tokenizer.model_tokens.index(t) for t in before.model_tokens]
        old_model.load_state_dict({key: value[rows] if value.shape[:1] == (len(shipped.tokenizer),) else value
                                   for key, value in shipped.model.state_dict().items()})
    else:  # BPE learned before infill and controls, as the default model was until 2026-12
        plain = PartitaTokenizer.create(TokenizerSettings())
        vocab = plain.inner.vocab
        phrase = [vocab[t] for t in ("Bar_None", "TimeSig_4/4", "Position_0", "Pitch_60", "Duration_1.0.24",
                                     "Position_24", "Pitch_62", "Duration_1.0.24")]
        before = plain.train_bpe(len(plain) + 8, [np.array(phrase * 50)])
        settings = before.settings
        old_model = Transformer(ModelConfig(vocab_size=len(before), block_size=64, n_layer=1, n_head=2, n_embd=32))
    old = SimpleNamespace(tokenizer=before, model=old_model)
    tokenizer = PartitaTokenizer.create(with_infill_and_controls(settings))
    assert tokenizer.settings.use_infill and tokenizer.settings.use_controls == (not tokenizer.bpe)
    assert len(tokenizer) > len(before)
    model = Transformer(replace(old_model.config, vocab_size=len(tokenizer)))
    model.load_state_dict(grown_weights(old, tokenizer, model))
    model.eval()
    old_model.eval()
    ids = list(range(1, 41))  # a few old tokens
    new_ids = [tokenizer.model_tokens.index(before.model_tokens[i]) for i in ids]
    with torch.no_grad():
        logits_before, _ = old_model(torch.tensor([ids]))
        logits_after, _ = model(torch.tensor([new_ids]))
    columns = [tokenizer.model_tokens.index(t) for t in before.model_tokens]
    assert torch.allclose(logits_before[0], logits_after[0][:, columns], atol=1e-5)  # every old token scores as it did


@pytest.mark.parametrize("level", [0, 1, 3, 5])
def test_a_density_asked_of_a_bar_is_kept(loaded, prelude, level):
    take = generate(loaded, prelude, GenerationSettings(bars=3, prompt_bars=2, random_seed=level,
                                                        controls=BarControls(density=level)))
    assert_density_kept(take, level)


@pytest.mark.parametrize("level", [4, 6])
def test_a_busy_level_is_kept_whatever_the_model_writes(trained_run, prelude, level):
    """A model of random weights jumps to late positions and holds long notes: the grammar still
    leaves a position free for each note a bar's level still needs."""
    import torch

    noisy = load_model(trained_run[0])
    torch.manual_seed(level)
    with torch.no_grad():
        for parameter in noisy.model.parameters():
            parameter.normal_(0, 0.5)
    take = generate(noisy, prelude, GenerationSettings(bars=3, prompt_bars=2, random_seed=level,
                                                       controls=BarControls(density=level)))
    assert_density_kept(take, level)


def model_of_before_controls(run, out, **settings):
    """`run` as a model trained before infill and controls (or with the tokenizer `settings` given):
    the rows of the weights of tokens it would not have dropped."""
    from dataclasses import replace

    import torch

    from core.learning.checkpoint import save_checkpoint
    from core.learning.model import Transformer

    loaded = load_model(run)
    before = PartitaTokenizer.create(replace(loaded.tokenizer.settings,
                                             **(settings or {"use_infill": False, "use_controls": False})))
    rows = [loaded.tokenizer.model_tokens.index(t) for t in before.model_tokens]
    model = Transformer(replace(loaded.model.config, vocab_size=len(before)))
    model.load_state_dict({key: value[rows] if value.shape[:1] == (len(loaded.tokenizer),) else value
                           for key, value in loaded.model.state_dict().items()})
    meta = {key: value for key, value in loaded.config.items() if key not in ("format", "model", "tokenizer", "files")}
    with torch.no_grad():
        save_checkpoint(out, model, before, meta)
    return out


def test_controls_asked_of_a_model_without_them_are_refused_in_one_line(tmp_path, trained_run, cello_xml_dir):
    old = model_of_before_controls(trained_run[0], tmp_path / "old")
    command = [sys.executable, "-m", "core.cli", "generate", "--model", str(old), "--prompt",
               str(cello_xml_dir / "BWV1007_01_Prelude.mxl"), "--bars", "1", "--out", str(tmp_path / "x.mid"),
               "--density", "sparse"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "--density" in done.stderr and "without the density control" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x.mid").exists()
    done = subprocess.run(command[:-2] + ["--density", "lots"], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "density is 0-6 or one of" in done.stderr
    # it still composes; a polyphony and a range it never learned are kept as limits. Four bars, seeded: this
    # 40-step model leaves one bar in six empty, so a single bar could prove nothing
    command[command.index("--bars") + 1] = "4"
    done = subprocess.run(command[:-2] + ["--polyphony", "1", "--range", "C3-C4", "--seed", "0"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (tmp_path / "x.mid").exists(), done.stderr
    written = load_score(tmp_path / "x.mid")
    new = [n for n in notes_of(written) if n[0] >= int(written.get_downbeats()[-4])]  # the bars written
    assert new and all(48 <= pitch <= 60 for _, _, pitch, _ in new)


def test_a_model_that_learned_some_controls_writes_those_and_keeps_the_others_as_limits(tmp_path, trained_run,
                                                                                         prelude):
    from core.composing.generation import control_plan

    some = load_model(model_of_before_controls(trained_run[0], tmp_path / "some", control_kinds=("density", "voices")))
    assert some.tokenizer.controls == ("density", "voices")
    assert not any(t.startswith(("Low_", "High_")) for t in some.tokenizer.tokens)
    controls = BarControls(density=3, voices=1, lowest=48, highest=60)
    take = generate(some, prelude, GenerationSettings(bars=3, prompt_bars=2, random_seed=3, controls=controls))
    new = [n for t in take.score.tracks for n in t.notes if n.time >= take.seed_end_tick]
    assert new and all(48 <= n.pitch <= 60 for n in new)  # the range: a limit
    written = [some.tokenizer.tokens[i] for i in take.ids[take.seed_tokens:]]
    assert written.count("Density_3") == 3 and written.count("Voices_1") == 3  # the learned kinds: tokens
    assert control_plan(some.tokenizer, [1], BarControls(lowest=48, highest=60)) == {}
    none = load_model(model_of_before_controls(trained_run[0], tmp_path / "none", control_kinds=("range",)))
    with pytest.raises(ValueError, match="without the density control"):
        control_plan(none.tokenizer, [1], BarControls(density=3))


def pickup_piece(path) -> None:
    """MusicXML in 4/4: a one-beat pickup its score numbers 0 (implicit), then bars 1-6 of quarters."""
    def note(step: str, octave: int) -> str:
        return f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch><duration>1</duration><type>quarter</type></note>"

    attributes = ("<attributes><divisions>1</divisions><key><fifths>0</fifths></key><time><beats>4</beats>"
                  "<beat-type>4</beat-type></time><clef><sign>F</sign><line>4</line></clef></attributes>")
    steps = "CDEFGAB"
    measures = [f'<measure number="0" implicit="yes">{attributes}{note("G", 2)}</measure>']
    for number in range(1, 7):
        measures.append(f'<measure number="{number}">'
                        + "".join(note(steps[(number + beat) % 7], 3) for beat in range(4)) + "</measure>")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
                    '<score-part id="P1"><part-name>Cello</part-name></score-part></part-list>'
                    f'<part id="P1">{"".join(measures)}</part></score-partwise>')


def test_bars_are_counted_as_the_score_counts_them_when_it_numbers_its_pickup_0(tmp_path):
    """Issue 19: `--bars` as the user counts them, the pickup bar as the score counts it. The score
    numbers its pickup 0: its bar 2 is the third bar of the file (the pickup fills the first)."""
    from core.music.markers import first_bar_number

    pickup_piece(tmp_path / "pickup.musicxml")
    piece = load_score(tmp_path / "pickup.musicxml")
    assert first_bar_number(piece) == 0
    out = tmp_path / "take.mid"
    command = [sys.executable, "-m", "core.cli", "infill", str(tmp_path / "pickup.musicxml"), "--model",
               "bach-cello-suites", "--bars", "2", "--out", str(out), "--seed", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "bars 2-2 rewritten" in done.stdout, done.stderr
    take = symusic.Score(str(out))
    scale = take.tpq / piece.tpq
    bar = 4 * piece.tpq  # the score's bar 2 is ticks [2 bars, 3 bars) of the file: the pickup's bar comes first
    kept = sorted((n.time, n.pitch) for t in piece.tracks for n in t.notes if not 2 * bar <= n.time < 3 * bar)
    assert sorted((round(n.time / scale), n.pitch) for t in take.tracks for n in t.notes
                  if not 2 * bar <= n.time / scale < 3 * bar) == kept
    refused = subprocess.run(command[:-6] + ["--bars", "7", "--out", str(out)], capture_output=True, text=True,
                             timeout=300)
    assert "bars 7-7 lie outside the piece: its last bar is 6" in refused.stderr, refused.stderr
    assert parse_span("0-1", first_bar_number(piece)) == (0, 1)
