"""Logit filters composed in order (temperature, grammar mask, top-k, top-p), then a draw.

Each filter is a pure function `(logits (B, V), ...) -> logits`; masked entries become -inf.
"""

from __future__ import annotations

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    return logits if temperature == 1.0 else logits / temperature


def apply_mask(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Keep only the allowed tokens; `allowed` is a bool (B, V) or (V,) mask."""
    return torch.where(allowed, logits, float("-inf"))  # one kernel; masked_fill(~allowed) is two


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    if k <= 0 or k >= logits.size(-1):
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: the smallest set of tokens whose probability adds up to at least p."""
    if p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
    probs = torch.softmax(sorted_logits, dim=-1)
    remove = probs.cumsum(dim=-1) - probs >= p  # keeps the first token always
    sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
    return torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)


def sample_next_token(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    allowed: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row from logits (B, V); returns (B,) ids.

    The same distribution as `top_p_filter(top_k_filter(apply_mask(apply_temperature(...))))`
    followed by a softmax draw, computed over the candidates only: the top k in order (from
    `topk`), or all tokens in order when only top-p is asked for. That is half the operations
    of filtering the whole vocabulary and scattering it back (per token, vocabulary 581: with
    top-k 32 and top-p 0.95, 156 -> 73 us; top-p alone, 74 -> 62 us).
    """
    # Draw where the generator lives (generation keeps it on the CPU, where the grammar needs the
    # id anyway); logits from a GPU model come across, 581 floats per row.
    device = generator.device if generator is not None else logits.device
    logits = apply_temperature(logits.to(device, torch.float32), temperature)
    if allowed is not None:
        logits = apply_mask(logits, allowed.to(device))
    if 0 < top_k < logits.size(-1):
        candidates, order = torch.topk(logits, top_k, dim=-1)  # descending
    elif top_p < 1.0:
        candidates, order = torch.sort(logits, descending=True, dim=-1)
    else:
        return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(-1)
    probs = torch.softmax(candidates, dim=-1)
    if top_p < 1.0:  # nucleus: drop candidates once the ones before them reach p (the first stays)
        probs = probs.masked_fill(probs.cumsum(dim=-1) - probs >= top_p, 0.0)
    choice = torch.multinomial(probs, 1, generator=generator)  # weights need not sum to one
    return order.gather(-1, choice).squeeze(-1)
