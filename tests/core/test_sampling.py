"""The logit filters and the draw: the candidates-only sampler must draw from the filtered distribution."""

from __future__ import annotations

import pytest
import torch

from core.composing.sampling import (
    apply_mask,
    apply_temperature,
    sample_next_token,
    top_k_filter,
    top_p_filter,
)

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
