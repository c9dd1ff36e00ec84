"""Dropout and causal attention with dropout for training on the CPU, without the slow paths.

On a CPU, `F.scaled_dot_product_attention` has no fused kernel once `dropout_p > 0`: it falls
back to the unfused math path over the whole T x T square (mask, softmax, `bernoulli_`, scale,
plus checks for fully masked rows), and that path was most of a `tiny` training step. HF GPT-2
trains through the same path; it is the cost that kept us from beating it.

`causal_attention` computes the same thing, attention probabilities dropped with probability p
and the kept ones scaled by 1 / (1 - p), in blocks of query rows: a block only looks at the keys
up to its last row (causality skips the upper triangle, about 40 % of the work at 256 tokens),
and its backward is written out (the flash-attention row sums instead of a softmax backward over
the stored square). `dropout` is `F.dropout` with the same cheaper draws.

The draws: 16-bit integers, four cut from each 64-bit word of torch's default generator, kept
when >= round(p * 2^16) - 2^15. That is p to within 2^-17, bit-identical under
`torch.manual_seed`; the whole mask costs about a third of `bernoulli_` alone (which draws a
double per element). On CUDA the model uses torch's fused kernels, which drop out inside.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

DRAW_RANGE = 1 << 16  # int16 draws are uniform over [-2^15, 2^15)
QUERY_BLOCK = 64  # query rows per block: fewer wastes the diagonal, more loses the skipped triangle


def keep_mask(shape: tuple[int, ...], p: float, dtype: torch.dtype, device=None) -> torch.Tensor:
    """Dropout's multiplier: 1 / (1 - p) with probability 1 - p, else 0."""
    count = math.prod(shape)
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_(-(1 << 63), None)
    draws = words.view(torch.int16)[:count].view(shape)  # uniform over all 64 bits: 4 uniform int16
    return (draws >= round(p * DRAW_RANGE) - DRAW_RANGE // 2).to(dtype).mul_(1.0 / (1.0 - p))


class _Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, p: float) -> torch.Tensor:
        mask = keep_mask(x.shape, p, x.dtype, x.device)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (mask,) = ctx.saved_tensors
        return grad * mask, None


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """`F.dropout(x, p, training)`, drawn as described above."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, training)
    return _Dropout.apply(x, p)


class _CausalAttention(torch.autograd.Function):
    """softmax(q k^T / sqrt(hs) + causal mask), dropped out, times v; q, k, v (N, T, hs) contiguous.

    Under CPU autocast it runs in float32, as torch keeps softmax there.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)
    def forward(ctx, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: float) -> torch.Tensor:
        N, T, hs = q.shape
        scale = 1.0 / math.sqrt(hs)
        future = torch.full((QUERY_BLOCK, QUERY_BLOCK), float("-inf"), dtype=q.dtype, device=q.device).triu_(1)
        out = torch.empty_like(q)
        probs, dropped = [], []  # per block of query rows [start, end): (N, end - start, end)
        for start in range(0, T, QUERY_BLOCK):
            end = min(start + QUERY_BLOCK, T)
            rows = end - start
            scores = torch.baddbmm(q.new_empty(()), q[:, start:end], k[:, :end].transpose(1, 2),
                                   beta=0.0, alpha=scale)  # (N, rows, end)
            scores[:, :, start:].add_(future[:rows, :rows])  # the block's own keys: no peeking ahead
            prob = torch.softmax(scores, dim=-1)
            del scores
            prob_dropped = prob * keep_mask(prob.shape, p, q.dtype, q.device)
            out[:, start:end] = torch.bmm(prob_dropped, v[:, :end])
            probs.append(prob)
            dropped.append(prob_dropped)
        ctx.save_for_backward(q, k, v, out, *probs, *dropped)
        ctx.scale = scale
        return out

    @staticmethod
    @once_differentiable
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad: torch.Tensor):
        q, k, v, out, *saved = ctx.saved_tensors
        blocks = len(saved) // 2
        probs, dropped = saved[:blocks], saved[blocks:]
        grad = grad.contiguous()
        T = q.size(1)
        dq, dk, dv = torch.empty_like(q), torch.zeros_like(k), torch.zeros_like(v)
        # With d = d(dropped prob) = grad v^T and mask m: d(scores) = prob * (d m - rowdot), where
        # rowdot = sum_j prob_ij d_ij m_ij = grad_i . out_i needs no pass over the square.
        rowdot = (grad * out).sum(-1, keepdim=True)  # (N, T, 1)
        for start, prob, prob_dropped in zip(range(0, T, QUERY_BLOCK), probs, dropped, strict=True):
            end = min(start + QUERY_BLOCK, T)
            g = grad[:, start:end]  # (N, rows, hs)
            dv[:, :end] += torch.bmm(prob_dropped.transpose(1, 2), g)  # (a slice: baddbmm_ would loop)
            dscores = torch.bmm(g, v[:, :end].transpose(1, 2)).mul_(prob_dropped)  # prob * d m
            dscores.addcmul_(prob, rowdot[:, start:end], value=-1.0)
            dq[:, start:end] = torch.bmm(dscores, k[:, :end]).mul_(ctx.scale)
            dk[:, :end] += torch.bmm(dscores.transpose(1, 2), q[:, start:end]).mul_(ctx.scale)
        return dq, dk, dv, None


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: float) -> torch.Tensor:
    """Causal self-attention with dropout p on the probabilities; q, k, v, result (B, nh, T, hs).

    The same as `F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)`, which
    it is on other devices (their fused kernels drop out inside).
    """
    if q.device.type != "cpu" or p == 0.0:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
    B, nh, T, hs = q.shape
    q, k, v = (t.reshape(B * nh, T, hs) for t in (q, k, v))  # (B*nh, T, hs), contiguous copies
    return _CausalAttention.apply(q, k, v, p).view(B, nh, T, hs)
