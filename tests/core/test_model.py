"""The transformer: cached decoding must equal a full forward pass."""

from __future__ import annotations

import pytest
import torch

from core.model import PRESETS, ModelConfig, Transformer


def test_kv_cache_gives_the_same_logits_as_a_full_pass():
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=50, block_size=32, n_layer=2, n_head=2, n_embd=32, dropout=0.0)).eval()
    idx = torch.randint(0, 50, (3, 20))
    full, _ = model(idx)
    cache = model.new_cache(batch=3)
    prefill, _ = model(idx[:, :12], cache=cache)
    torch.testing.assert_close(prefill[:, -1], full[:, 11], atol=1e-5, rtol=1e-4)
    for t in range(12, 20):
        step, _ = model(idx[:, t:t + 1], cache=cache)
        torch.testing.assert_close(step[:, -1], full[:, t], atol=1e-5, rtol=1e-4)
    # a multi-token chunk after a prefix sees the prefix and itself causally
    cache = model.new_cache(batch=3)
    model(idx[:, :5], cache=cache)
    chunk, _ = model(idx[:, 5:9], cache=cache)
    torch.testing.assert_close(chunk[:, -1], full[:, 8], atol=1e-5, rtol=1e-4)


def test_context_longer_than_the_block_is_refused():
    model = Transformer(ModelConfig(vocab_size=10, block_size=8, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 9, dtype=torch.long))


def test_presets_have_the_documented_shapes():
    assert (PRESETS["base"].n_layer, PRESETS["base"].n_head, PRESETS["base"].n_embd, PRESETS["base"].dropout) == (6, 8, 512, 0.1)
    assert (PRESETS["large"].n_layer, PRESETS["large"].n_head, PRESETS["large"].n_embd, PRESETS["large"].dropout) == (12, 8, 1024, 0.3)
    tiny = Transformer(PRESETS["tiny"])
    assert tiny.lm_head.weight is tiny.wte.weight  # tied


def test_the_cli_lists_every_preset():
    from core.commands.train import PRESET_NAMES

    assert set(PRESET_NAMES) == set(PRESETS)
