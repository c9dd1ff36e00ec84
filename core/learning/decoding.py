"""The key/value cache, and the one-token decode step sampling runs at every new token.

`Transformer.forward` with a cache fills it (a prompt, or a window after it slides) through the
blocks; for one new token per row in eval mode it calls `decode_one` instead: the same
arithmetic as the blocks, written as the fewest and cheapest tensor calls, over weights gathered
once per cache (`decode_weights`). tests/core/test_decoding.py holds it to a full forward pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from core.learning.model import ModelConfig, Transformer

# The most bytes of weight matrices the decode step copies into its faster layout on a CPU (see
# `decode_weights`): tiny (3.4 MB), small (19.5 MB) and base (76 MB) are copied; large (605 MB)
# is not, rather than hold its weights twice.
DECODE_COPY_LIMIT = 128 * 2**20


class DecodeWeights(NamedTuple):
    """What a decode step reads, gathered once per cache (see `decode_weights`)."""

    wte: torch.Tensor  # token embeddings (vocab, C)
    wpe: torch.Tensor  # position embeddings (block, C)
    layers: list[tuple]  # per block: ln_1 w, b; qkv (in, out), b; proj; ln_2 w, b; fc; out proj
    ln_f: tuple[torch.Tensor, torch.Tensor | None]
    head_t: torch.Tensor  # the output projection as (C, vocab)


class KVCache:
    """Keys and values of every layer for the tokens seen so far, pre-allocated once, and the
    weights its one-token steps read (see `Transformer.new_cache`)."""

    def __init__(self, config: ModelConfig, batch: int, device, dtype, weights: DecodeWeights):
        # Per layer and row, keys then values: a one-token step stores both with one copy.
        shape = (config.n_layer, batch, 2, config.n_head, config.block_size, config.n_embd // config.n_head)
        # Never read beyond `length`, so left uninitialised (zeroing cost ~2 ms a take).
        self.kv = torch.empty(shape, device=device, dtype=dtype)
        # per layer: both (B, 2, nh, block, hs), keys and values (B, nh, block, hs)
        self.layers = [(self.kv[i], self.kv[i, :, 0], self.kv[i, :, 1]) for i in range(config.n_layer)]
        self.length = 0  # tokens filled
        self.weights = weights

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v (B, nh, T, hs) after the cached ones; return all keys and values so far."""
        _, keys, values = self.layers[layer]
        start, end = self.length, self.length + k.size(2)
        keys[:, :, start:end] = k
        values[:, :, start:end] = v
        return keys[:, :, :end], values[:, :, :end]


def _project(x: torch.Tensor, weight_t: torch.Tensor, bias: torch.Tensor | None,
             residual: torch.Tensor | None = None) -> torch.Tensor:
    """(residual +) x @ weight_t (+ bias) for 2-D rows, in one BLAS call where it can be."""
    if residual is None:
        return torch.mm(x, weight_t) if bias is None else torch.addmm(bias, x, weight_t)
    out = torch.addmm(residual, x, weight_t)
    return out if bias is None else out.add_(bias)


def decode_one(config: ModelConfig, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """`Transformer.forward` for one new token per row (B, 1) with a cache, in eval mode -> logits
    (B, 1, vocab).

    The same arithmetic as the blocks, written as the fewest and cheapest tensor calls: at
    sampling sizes the cost is per call and per byte of weights read, not per FLOP. Rows stay
    2-D (B, C), so each projection is one `mm`/`addmm` with the residual add inside it; the
    cache is written (keys and values in one copy) and read through `narrow` views (Python
    indexing costs several times more per call). The weights are the ones the cache carries.
    """
    pos = cache.length
    if pos + 1 > config.block_size:
        raise ValueError(f"sequence of {pos + 1} tokens exceeds block_size {config.block_size}")
    B, C, nh = idx.size(0), config.n_embd, config.n_head
    weights = cache.weights
    x = torch.embedding(weights.wte, idx.view(B)).add_(weights.wpe.select(0, pos))  # (B, C)
    for (kv, keys, values), (ln1_w, ln1_b, qkv_t, qkv_b, proj_t, proj_b, ln2_w, ln2_b, fc_t, fc_b, out_t, out_b) \
            in zip(cache.layers, weights.layers, strict=True):
        qkv = _project(torch.layer_norm(x, (C,), ln1_w, ln1_b), qkv_t, qkv_b).view(B, 3, nh, 1, C // nh)
        kv.narrow(3, pos, 1).copy_(qkv.narrow(1, 1, 2))  # kv: (B, 2, nh, block, hs)
        y = F.scaled_dot_product_attention(qkv.select(1, 0), keys.narrow(2, 0, pos + 1),
                                           values.narrow(2, 0, pos + 1))
        x = _project(y.view(B, C), proj_t, proj_b, residual=x)
        h = F.gelu(_project(torch.layer_norm(x, (C,), ln2_w, ln2_b), fc_t, fc_b), approximate="tanh")
        x = _project(h, out_t, out_b, residual=x)
    cache.length = pos + 1
    return torch.mm(torch.layer_norm(x, (C,), *weights.ln_f), weights.head_t).view(B, 1, -1)


def decode_weights(model: Transformer) -> DecodeWeights:
    """The parameters `decode_one` reads, gathered once per cache (module attribute lookups are
    slow), with each matrix as its transpose (in, out), ready for `mm`.

    On a CPU the transposes are contiguous copies, up to `DECODE_COPY_LIMIT` bytes of them:
    MKL's matrix-vector product is 1.3x (tiny's matrices, held in cache) to 1.5x (small's,
    streamed from memory) faster on an (in, out) matrix than on the transposed view of
    nn.Linear's (out, in) one, which makes a whole decode step 1.09x (tiny) and 1.15x (small)
    faster. Elsewhere, and for bigger models, they are views of the parameters. The copies
    cost 1.2 ms (tiny), 7 ms (small) or 26 ms (base) per cache, and are made afresh for every
    cache rather than kept: then no change to the weights (optimizer steps, fused ones
    included, `load_state_dict`, replaced parameters, `.data` edits) can leave them stale.
    """
    copy = model.wte.weight.device.type == "cpu" and sum(
        m.weight.numel() * m.weight.element_size() for m in _matrices(model)) <= DECODE_COPY_LIMIT

    def t(weight: torch.Tensor) -> torch.Tensor:
        return weight.detach().t().contiguous() if copy else weight.detach().t()

    def d(tensor: torch.Tensor | None) -> torch.Tensor | None:
        return None if tensor is None else tensor.detach()

    layers = [(d(b.ln_1.weight), d(b.ln_1.bias), t(b.attn.qkv.weight), d(b.attn.qkv.bias),
               t(b.attn.proj.weight), d(b.attn.proj.bias), d(b.ln_2.weight), d(b.ln_2.bias),
               t(b.mlp.fc.weight), d(b.mlp.fc.bias), t(b.mlp.proj.weight), d(b.mlp.proj.bias))
              for b in model.blocks]
    return DecodeWeights(wte=d(model.wte.weight), wpe=d(model.wpe.weight), layers=layers,
                         ln_f=(d(model.ln_f.weight), d(model.ln_f.bias)), head_t=t(model.lm_head.weight))


def _matrices(model: Transformer) -> list[torch.nn.Linear]:
    """Every projection a token passes through (the output one tied to the embedding)."""
    return [model.lm_head] + [m for b in model.blocks for m in (b.attn.qkv, b.attn.proj, b.mlp.fc, b.mlp.proj)]
