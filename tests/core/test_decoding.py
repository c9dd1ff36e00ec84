"""The one-token decode step (core.learning.decoding): cached decoding must equal a full forward pass."""

from __future__ import annotations

import pytest
import torch

import core.learning.decoding as decoding
from core.learning.model import ModelConfig, Transformer


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


def assert_decoding_matches_a_full_pass(model: Transformer, idx: torch.Tensor, prefix: int) -> None:
    with torch.inference_mode():
        full, _ = model(idx)
        cache = model.new_cache(batch=idx.size(0))
        model(idx[:, :prefix], cache=cache)
        for t in range(prefix, idx.size(1)):
            step, _ = model(idx[:, t:t + 1], cache=cache)
            torch.testing.assert_close(step[:, -1], full[:, t], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("bias", [False, True])
def test_decoding_follows_the_weights_when_they_change(bias):
    """The decode step reads its own (transposed, on a CPU copied) weights: whatever changes the
    parameters must reach the next cache."""
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=40, block_size=24, n_layer=2, n_head=2, n_embd=16, dropout=0.0, bias=bias)
    model = Transformer(config).eval()
    assert model.new_cache().weights.layers[0][2].is_contiguous()  # on a CPU, copies in (in, out) order
    idx = torch.randint(0, 40, (2, 16))
    assert_decoding_matches_a_full_pass(model, idx, prefix=10)

    optimizer = model.adamw(learning_rate=0.05, weight_decay=0.1)
    model.train()
    for _ in range(2):
        _, loss = model(idx[:, :-1], idx[:, 1:])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    assert_decoding_matches_a_full_pass(model, idx, prefix=10)

    model.load_state_dict(Transformer(config).state_dict())
    assert_decoding_matches_a_full_pass(model, idx, prefix=10)

    model.blocks[0].mlp.fc.weight.data.mul_(2.0)  # bumps no version counter
    assert_decoding_matches_a_full_pass(model, idx, prefix=10)
    model.blocks[1].attn.qkv.weight = torch.nn.Parameter(torch.randn_like(model.blocks[1].attn.qkv.weight))
    assert_decoding_matches_a_full_pass(model, idx, prefix=10)


def test_a_model_too_big_to_copy_decodes_from_views(monkeypatch):
    """Past `DECODE_COPY_LIMIT` (and on GPUs) the decode step reads transposed views."""
    monkeypatch.setattr(decoding, "DECODE_COPY_LIMIT", 0)
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=30, block_size=16, n_layer=2, n_head=2, n_embd=16, bias=True)).eval()
    assert not model.new_cache().weights.layers[0][2].is_contiguous()
    assert_decoding_matches_a_full_pass(model, torch.randint(0, 30, (2, 12)), prefix=6)


def test_a_model_built_in_inference_mode_decodes():
    """Its parameters are inference tensors (no autograd, no version counters)."""
    torch.manual_seed(0)
    with torch.inference_mode():
        model = Transformer(ModelConfig(vocab_size=30, block_size=16, n_layer=1, n_head=2, n_embd=16)).eval()
    assert_decoding_matches_a_full_pass(model, torch.randint(0, 30, (1, 12)), prefix=6)
