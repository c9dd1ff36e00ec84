"""The logit filters and the draw: the candidates-only sampler must draw from the filtered distribution."""

from __future__ import annotations

import pytest
import torch

from core.sampling import apply_mask, apply_temperature, draw, sample_next_token, top_k_filter, top_p_filter

LOGITS = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -3.0])


def filtered_probs(logits, temperature=1.0, top_k=0, top_p=1.0, allowed=None):
    """The reference: every filter over the whole vocabulary, then a softmax."""
    logits = apply_temperature(logits, temperature)
    if allowed is not None:
        logits = apply_mask(logits, allowed)
    return torch.softmax(top_p_filter(top_k_filter(logits, top_k), top_p), dim=-1)


def draw_frequencies(rows: int = 40_000, **settings) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    chosen = sample_next_token(LOGITS.expand(rows, -1), generator=generator, **settings)
    return torch.bincount(chosen, minlength=LOGITS.numel()).float() / rows


@pytest.mark.parametrize("settings", [
    {},
    {"temperature": 0.7},
    {"top_k": 3},
    {"top_p": 0.8},
    {"top_k": 4, "top_p": 0.9, "temperature": 1.3},
    {"allowed": torch.tensor([False, True, True, False, True, True]), "top_p": 0.95},
])
def test_draws_follow_the_filtered_distribution(settings):
    expected = filtered_probs(LOGITS, **settings)
    observed = draw_frequencies(**settings)
    assert torch.all(observed[expected == 0] == 0)  # a filtered-out token is never drawn
    torch.testing.assert_close(observed, expected, atol=0.01, rtol=0)


def test_mask_removes_disallowed_tokens_row_by_row():
    allowed = torch.tensor([[True, False, True, True, True, True], [False, False, False, True, False, False]])
    masked = apply_mask(LOGITS.expand(2, -1), allowed)
    assert torch.equal(masked[0].isinf(), ~allowed[0])
    assert torch.equal(masked[allowed], LOGITS.expand(2, -1)[allowed])
    chosen = sample_next_token(LOGITS.expand(2, -1), allowed=allowed, generator=torch.Generator().manual_seed(1))
    assert chosen[1].item() == 3  # the only allowed token


def test_top_p_always_keeps_the_most_likely_token():
    peaked = torch.tensor([[10.0, 0.0, 0.0]])
    assert top_p_filter(peaked, 0.1).isfinite().tolist() == [[True, False, False]]
    assert sample_next_token(peaked, top_p=0.01, generator=torch.Generator().manual_seed(0)).item() == 0


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature"):
        sample_next_token(LOGITS.view(1, -1), temperature=0.0)


def test_draw_follows_the_weights_and_never_picks_a_zero_one():
    weights = torch.tensor([[0.0, 1.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0, 2.5]])
    rows = 20_000
    chosen = draw(weights.repeat(rows, 1), torch.Generator().manual_seed(0)).view(rows, 2)
    first = torch.bincount(chosen[:, 0], minlength=5).float() / rows
    torch.testing.assert_close(first, torch.tensor([0.0, 0.25, 0.0, 0.75, 0.0]), atol=0.01, rtol=0)
    assert first[[0, 2, 4]].eq(0).all()  # zero weights before, between and after the others
    assert chosen[:, 1].eq(4).all()  # the only weight, at the end


def test_draw_keeps_small_half_precision_weights():
    weights = torch.full((20_000, 400), 1 / 400, dtype=torch.bfloat16)  # bf16 running totals would stall
    chosen = draw(weights, torch.Generator().manual_seed(0)).view(-1)
    assert chosen.unique().numel() == 400  # each drawn ~50 times


@pytest.mark.parametrize("logits", [torch.full((2, 6), float("nan")), torch.tensor([[0.0, float("inf"), 1.0]])])
def test_non_finite_logits_are_refused_with_a_reason(logits):
    with pytest.raises(ValueError, match="not finite"):
        sample_next_token(logits, generator=torch.Generator().manual_seed(0))
