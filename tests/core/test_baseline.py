"""The 4-gram a run must beat is scored on the very windows the run's validation passes score."""

from __future__ import annotations

import math
import shutil

import pytest

from core.learning.baseline import ngram_baseline
from core.learning.training import EvalResult, TrainConfig, train

TINY = {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 64}


@pytest.fixture(scope="module")
def cello_four(tmp_path_factory, cello_midi_dir):
    folder = tmp_path_factory.mktemp("four")
    for path in sorted(cello_midi_dir.glob("BWV1007_*.mid"))[:4]:
        shutil.copy(path, folder)
    return folder


def _first_validation(config: TrainConfig) -> EvalResult:
    return next(event for event in train(config) if isinstance(event, EvalResult))


def test_the_4gram_is_scored_on_the_runs_validation_windows_from_scratch_and_fine_tuning(cello_four, tmp_path):
    scratch = TrainConfig(data=str(cello_four), out=str(tmp_path / "scratch"), model_overrides=TINY, steps=2,
                          eval_every=2, warmup_steps=1, batch_size=4, bpe_vocab_size=900, device="cpu")
    baseline = ngram_baseline(scratch)
    validation = _first_validation(scratch)
    assert baseline.tokens == validation.tokens > 0  # the same targets (BPE tokens, as the run's)
    assert baseline.loss_per_note * baseline.notes == pytest.approx(baseline.loss * baseline.tokens)
    assert "Pitch" in baseline.per_type and all(math.isfinite(v) for v in baseline.per_type.values())
    # fine-tuning from that run: its tokenizer (BPE) and block size, not a REMI one of the preset's
    tuned = TrainConfig(data=str(cello_four), out=str(tmp_path / "tuned"), init=str(tmp_path / "scratch"), steps=2,
                        eval_every=2, warmup_steps=1, batch_size=4, device="cpu")
    tuned_baseline = ngram_baseline(tuned)
    assert tuned_baseline.tokens == _first_validation(tuned).tokens == baseline.tokens
    assert tuned_baseline.loss == pytest.approx(baseline.loss)
    # a resumed run: its own saved settings, whatever the form says now
    resumed = ngram_baseline(TrainConfig(data=str(cello_four), out=str(tmp_path / "scratch"), steps=4), resume=True)
    assert resumed.tokens == baseline.tokens and resumed.loss == pytest.approx(baseline.loss)
