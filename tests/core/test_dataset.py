"""Training batches: windows from bar lines, padding or packing, reproducible from (seed, step, rank)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.learning.dataset import IGNORE, BatchSampler, tokenize_pieces
from core.learning.tokenizer import PartitaTokenizer, settings_for
from core.music.corpus import import_corpus


@pytest.fixture(scope="module")
def trio(cello_trio):
    corpus = import_corpus(cello_trio)
    tokenizer = PartitaTokenizer.create(settings_for([p.score for p in corpus.pieces]))
    return tokenizer, tokenize_pieces(corpus.pieces, tokenizer, corpus.pitch_range)


def test_padded_windows_start_on_a_bar_and_ignore_the_padding(trio):
    tokenizer, pieces = trio
    block = max(len(p.ids) for p in pieces)  # longer than any window that starts after the BOS
    x, y = BatchSampler(pieces, tokenizer, block, 8, seed=1, augment=False).batch(0)
    bar = tokenizer.inner.vocab["Bar_None"]
    infills = {tokenizer.infill_ids[f"Infill_{n}"] for n in range(1, 9)}  # an infill example (tests/core/test_infill.py)
    assert all(int(row[0]) in {tokenizer.bos_id, bar} | infills for row in x)
    padding = x == tokenizer.pad_id
    assert padding.any() and (y[padding] == IGNORE).all()
    assert torch.equal(y[:, :-1][~padding[:, 1:]], x[:, 1:][~padding[:, 1:]])  # y is x shifted by one


def test_packed_windows_have_no_padding_and_continue_with_whole_pieces(trio):
    tokenizer, pieces = trio
    block = 2 * max(len(p.ids) for p in pieces)  # every row needs at least one more piece
    x, y = BatchSampler(pieces, tokenizer, block, 8, seed=1, augment=False, pack=True).batch(0)
    assert not (x == tokenizer.pad_id).any()
    openings = {tuple(p.ids[:16]) for p in pieces}
    for row_x, row_y in zip(x.numpy(), y.numpy(), strict=True):
        ends = np.flatnonzero(row_x == tokenizer.eos_id)
        assert len(ends) >= 1
        assert (row_y[ends] == IGNORE).all()  # a piece's end does not predict the next piece's start
        for end in ends:
            following = tuple(row_x[end + 1:end + 17])
            # (an infill example's EOS says the piece ends after the span: its bars before follow)
            if len(following) == 16 and following[0] != tokenizer.infill_ids["Infill_Before"]:
                assert following in openings  # the next piece from its BOS
        targets = row_y != IGNORE
        assert targets.sum() == block - len(ends)
        assert (row_y[:-1][targets[:-1]] == row_x[1:][targets[:-1]]).all()


def test_batches_depend_only_on_seed_step_and_rank(trio):
    tokenizer, pieces = trio
    sampler = BatchSampler(pieces, tokenizer, 128, 4, seed=3, pack=True)
    again = BatchSampler(pieces, tokenizer, 128, 4, seed=3, pack=True)
    assert torch.equal(sampler.batch(5)[0], again.batch(5)[0])
    assert torch.equal(sampler.batch(5, rank=1)[0], again.batch(5, rank=1)[0])
    assert not torch.equal(sampler.batch(5)[0], sampler.batch(5, rank=1)[0])
    assert not torch.equal(sampler.batch(5)[0], sampler.batch(6)[0])
