"""Our transformer and its Hugging Face GPT-2 twin, and one training step for either.

Only torch, transformers and `core.learning.model` are imported here (no corpus or tokenizer stack), so
the GPU benchmark can run on a machine that has nothing but PyTorch and transformers.
"""

from __future__ import annotations

import _common  # noqa: F401  (puts the repository on sys.path)
import torch
import torch.nn.functional as F

from core.learning.model import ModelConfig, Transformer

IGNORE = -100  # the target id cross-entropy skips (core.learning.dataset.IGNORE)
# The optimizer settings `partita train` uses (core.learning.training.TrainConfig's defaults;
# model_vs_hf.py checks that they still agree).
LEARNING_RATE, WEIGHT_DECAY, GRAD_CLIP = 1e-3, 0.1, 1.0


def build_pair(config: ModelConfig, tokenizer=None) -> tuple[Transformer, torch.nn.Module]:
    """Ours and `GPT2LMHeadModel` of identical dimensions (layers, heads, width, context,
    vocabulary, dropout on embeddings, residuals and attention, tied embeddings), seeded alike.

    The tokenizer only supplies the special ids that HF `generate` needs."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    ours = Transformer(config)
    special = {"bos_token_id": None, "eos_token_id": None} if tokenizer is None else {
        "bos_token_id": tokenizer.bos_id, "eos_token_id": tokenizer.eos_id, "pad_token_id": tokenizer.pad_id}
    hf_config = GPT2Config(
        n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd, n_positions=config.block_size,
        vocab_size=config.vocab_size, resid_pdrop=config.dropout, embd_pdrop=config.dropout,
        attn_pdrop=config.dropout, tie_word_embeddings=True, **special,
    )
    return ours, GPT2LMHeadModel(hf_config)


def matmul_parameters(model: torch.nn.Module) -> int:
    """Parameters that take part in matrix products: every 2-D parameter except position
    embeddings (the tied embedding is listed once, and counted as the output projection)."""
    return sum(p.numel() for name, p in model.named_parameters() if p.dim() == 2 and "wpe" not in name)


def flops_per_token(config: ModelConfig, parameters: int) -> float:
    """Training FLOPs per token, PaLM/nanoGPT style: 6 N + attention over the full T x T square."""
    return 6 * parameters + 12 * config.n_layer * config.n_embd * config.block_size


def ours_loss(model: Transformer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model(x, y)[1]


def hf_loss(hf: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The same loss as ours: cross-entropy of every position against its own target."""
    logits = hf(input_ids=x).logits
    return F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1), ignore_index=IGNORE)


def ours_optimizer(model: Transformer, fused: bool = False) -> torch.optim.AdamW:
    return model.adamw(LEARNING_RATE, WEIGHT_DECAY, fused=fused)


def hf_optimizer(hf: torch.nn.Module, fused: bool = False) -> torch.optim.AdamW:
    """AdamW as the usual recipe builds it, with our settings (decay on matrices only)."""
    decay = [p for p in hf.parameters() if p.dim() >= 2]
    no_decay = [p for p in hf.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=LEARNING_RATE, betas=(0.9, 0.95), fused=fused)


def training_step(model, loss_fn, optimizer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One optimizer step as `core.learning.training.train` takes it: loss, backward, clip, AdamW."""
    loss = loss_fn(model, x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
    optimizer.step()
    return loss
