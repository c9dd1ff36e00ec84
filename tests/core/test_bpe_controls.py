"""Bar controls with a BPE vocabulary: merges never join a bar's line and meter to its notes (where the
controls are written), training windows carry each bar's controls in the key of the copy they come
from, and a take keeps the density asked of its bars."""

from __future__ import annotations

import numpy as np
import pytest

from core.composing.generation import GenerationSettings, generate
from core.learning.checkpoint import load_model
from core.learning.dataset import BatchSampler, ControlWriter, tokenize_pieces
from core.learning.tokenizer import PartitaTokenizer, settings_for
from core.learning.training import TrainConfig, train
from core.music.controls import BarControls, density_notes
from core.music.corpus import import_corpus
from core.music.scores import load_score
from tests.core.conftest import TINY, assert_density_kept


@pytest.fixture(scope="module")
def bpe_trio(cello_trio):
    corpus = import_corpus(cello_trio)
    base = PartitaTokenizer.create(settings_for([p.score for p in corpus.pieces]))
    assert base.settings.use_controls
    pieces = tokenize_pieces(corpus.pieces, base, corpus.pitch_range, 2)
    bodies = [base.transpose_ids(p.ids, s)[1:-1] for p in pieces for s in p.shifts]
    tokenizer = base.train_bpe(len(base) + 150, bodies)
    return tokenizer, tokenize_pieces(corpus.pieces, tokenizer, corpus.pitch_range, 2)


def test_merges_keep_a_bars_line_and_meter_apart_from_its_notes(bpe_trio):
    tokenizer, pieces = bpe_trio
    assert tokenizer.bpe and tokenizer.settings.use_controls
    merged = [e for e in tokenizer.expansions if len(e) > 1]
    assert len(merged) > 100
    for expansion in merged:
        kinds = [tokenizer.token_types[i] for i in expansion]
        if "Bar" in kinds or "TimeSig" in kinds:
            assert kinds in (["Bar", "TimeSig"],), kinds  # a bar's head merges with nothing else
    for piece in pieces:
        base = tokenizer.expand(piece.ids)
        assert np.array_equal(tokenizer.to_model_ids(base), piece.ids)  # the same words whole or in parts
        assert len(piece.ids) < len(base)


def test_bpe_windows_write_each_bars_controls_after_its_head_in_the_copys_key(bpe_trio):
    tokenizer, pieces = bpe_trio
    writer = ControlWriter(tokenizer)
    kinds = ("density", "voices", "range")
    piece = pieces[0]
    shift = max(piece.variants)
    assert shift > 0
    variant = piece.variants[shift][0]
    written = writer.write(piece, variant, 0, kinds, shift)
    # as if written into the transposed base ids, then encoded: controls between a bar's head and its notes
    base = tokenizer.transpose_ids(np.asarray(tokenizer.expand(piece.ids)), shift)
    expected = writer.write(piece, base, 0, kinds, shift)
    assert tokenizer.expand(written) == expected.tolist()
    assert np.array_equal(tokenizer.to_model_ids(expected), written)
    lows = [token for token in (tokenizer.model_tokens[i] for i in written) if token.startswith("Low_")]
    assert lows[0] == f"Low_{int(piece.bar_attributes[0][2]) + shift}"
    # a window from the middle of a copy counts its bars from the piece's start
    starts = piece.variants[shift][1]
    a = int(starts[3])
    middle = writer.write(piece, variant[a:], int(tokenizer.opens_bar[variant[:a]].sum()), kinds, shift)
    assert middle.tolist() == written[len(written) - len(middle):].tolist()
    x, _ = BatchSampler(pieces, tokenizer, 128, 32, seed=0).batch(0)
    assert 0 < sum(any(tokenizer.model_tokens[int(i)].startswith("Density_") for i in row) for row in x) < len(x)


@pytest.fixture(scope="module")
def bpe_run(tmp_path_factory, cello_trio):
    out = tmp_path_factory.mktemp("bpe-run")
    config = TrainConfig(data=str(cello_trio), out=str(out), model_overrides=TINY, steps=30, batch_size=8,
                         eval_every=30, warmup_steps=5, learning_rate=3e-3, bpe_vocab_size=900)
    list(train(config))
    return load_model(out)


@pytest.mark.parametrize("level", [1, 3, 4])
def test_a_bpe_model_keeps_the_density_asked_of_a_bar(bpe_run, cello_xml_dir, level):
    assert bpe_run.tokenizer.bpe and bpe_run.tokenizer.settings.use_controls
    prelude = load_score(cello_xml_dir / "BWV1007_01_Prelude.mxl")
    take = generate(bpe_run, prelude, GenerationSettings(bars=3, prompt_bars=2, random_seed=level,
                                                         controls=BarControls(density=level)))
    assert_density_kept(take, level)


def test_a_bpe_model_rewrites_a_span_with_the_controls_asked(bpe_run, cello_xml_dir):
    from core.composing.infill import infill_variations

    prelude = load_score(cello_xml_dir / "BWV1007_01_Prelude.mxl")
    controls = BarControls(density=3, voices=1, lowest=48, highest=60)
    take = infill_variations(bpe_run, prelude, 3, 4, GenerationSettings(random_seed=5, controls=controls))[0]
    downbeats = prelude.get_downbeats()
    start, end = int(downbeats[2]), int(downbeats[4])
    outside = [(n.time, n.duration, n.pitch) for t in take.score.tracks for n in t.notes if not start <= n.time < end]
    assert outside == [(n.time, n.duration, n.pitch) for t in prelude.tracks for n in t.notes if not start <= n.time < end]
    assert take.notes and all(48 <= n.pitch <= 60 for n in take.notes)
    fewest, most = density_notes(3, 4)
    for a, b in ((start, int(downbeats[3])), (int(downbeats[3]), end)):
        assert fewest <= sum(a <= n.time < b for n in take.notes) <= most
