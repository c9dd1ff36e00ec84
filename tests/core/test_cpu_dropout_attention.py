"""Training-time attention and dropout on the CPU: the same function as torch's, drawn faster."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from core.learning.cpu_dropout_attention import QUERY_BLOCK, causal_attention, dropout, keep_mask


def reference_attention(q, k, v, keep):
    """softmax(q k^T / sqrt(hs), causal) * keep, times v: the textbook formula, all in the open."""
    T, hs = q.size(-2), q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(hs)
    scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    return (scores.softmax(-1) * keep) @ v


def replayed_masks(seed, B, nh, T, p):
    """The multipliers `causal_attention` drew after `manual_seed(seed)`, as one (B, nh, T, T) tensor."""
    torch.manual_seed(seed)
    keep = torch.zeros(B * nh, T, T, dtype=torch.float64)
    for start in range(0, T, QUERY_BLOCK):
        end = min(start + QUERY_BLOCK, T)
        keep[:, start:end, :end] = keep_mask((B * nh, end - start, end), p, torch.float64)
    return keep.view(B, nh, T, T)


@pytest.mark.parametrize("T", [QUERY_BLOCK - 3, 2 * QUERY_BLOCK + 17])
def test_causal_attention_matches_the_formula_and_its_gradients(T):
    B, nh, hs, p = 2, 3, 8, 0.25
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, nh, T, hs, dtype=torch.float64, requires_grad=True) for _ in range(3))
    grad = torch.randn(B, nh, T, hs, dtype=torch.float64)

    torch.manual_seed(7)
    ours = causal_attention(q, k, v, p)
    ours.backward(grad)
    our_grads = [t.grad.clone() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None

    expected = reference_attention(q, k, v, replayed_masks(7, B, nh, T, p))
    expected.backward(grad)
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    for mine, t in zip(our_grads, (q, k, v), strict=True):
        torch.testing.assert_close(mine, t.grad, rtol=1e-10, atol=1e-12)


def test_causal_attention_without_dropout_is_torchs():
    q, k, v = (torch.randn(2, 4, 100, 16) for _ in range(3))
    torch.testing.assert_close(causal_attention(q, k, v, 0.0), F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_attention_rows_still_sum_to_one_on_average_after_dropout():
    """Dropped-out probabilities are rescaled, so each row's weights sum to 1 in expectation."""
    T, hs = 128, 4
    q = torch.zeros(64, 4, T, hs)  # equal scores: row i spreads 1/(i+1) over its i+1 keys
    v = torch.ones(64, 4, T, hs)
    rows = causal_attention(q, q, v, 0.3)[..., 0]  # each output = sum of the row's kept weights
    assert rows.mean().item() == pytest.approx(1.0, abs=0.01)
    assert (rows[..., 0] == 0).float().mean().item() == pytest.approx(0.3, abs=0.03)  # row 0: one key, kept or not


@pytest.mark.parametrize("p", [0.1, 0.3])
def test_keep_mask_drops_with_probability_p_and_rescales(p):
    mask = keep_mask((1000, 1000), p, torch.float32)
    assert (mask == 0).float().mean().item() == pytest.approx(p, abs=0.002)
    assert mask.unique().tolist() == [0.0, pytest.approx(1 / (1 - p))]


def test_dropout_keeps_the_gradient_of_what_it_kept_and_is_identity_in_eval():
    x = torch.randn(50, 40, requires_grad=True)
    torch.manual_seed(3)
    y = dropout(x, 0.2, training=True)
    y.sum().backward()
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.8)
    torch.testing.assert_close(x.grad, kept.float() / 0.8)
    assert dropout(x, 0.2, training=False) is x
    torch.manual_seed(3)
    assert torch.equal(dropout(x, 0.2, training=True), y)  # the same draws under the same seed


def test_causal_attention_under_cpu_autocast_computes_in_float32():
    q, k, v = (torch.randn(2, 2, 70, 8, requires_grad=True) for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.manual_seed(1)
        y = causal_attention(q.bfloat16(), k.bfloat16(), v.bfloat16(), 0.1)
    assert y.dtype == torch.float32
    y.sum().backward()
    assert q.grad is not None and q.grad.isfinite().all()
