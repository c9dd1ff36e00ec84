"""A decoder-only transformer over music tokens, in the spirit of nanoGPT.

Pre-LayerNorm blocks, causal self-attention through `F.scaled_dot_product_attention`,
learned absolute positions, tied input/output embeddings, dropout, and a pre-allocated
key/value cache so that sampling costs one token's work per step (the cache and the one-token
decode step are in core.learning.decoding).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from core.learning.cpu_dropout_attention import causal_attention, dropout
from core.learning.decoding import KVCache, decode_one, decode_weights
from core.reading import out_of_bounds


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 400  # set from the tokenizer
    block_size: int = 256  # longest context in tokens
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128  # width; must divide by n_head
    dropout: float = 0.1
    bias: bool = False  # biases in Linear and LayerNorm (False: a little faster, as good)

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")

    def to_json(self) -> dict:
        return asdict(self)

    def parameter_count(self) -> int:
        """The number of weights `Transformer(self)` holds (the output layer is the embedding),
        computed in Python integers: right for sizes no machine could build."""
        width = self.n_embd
        per_layer = 12 * width * width + 2 * width  # qkv 3C², proj C², MLP 8C²; two LayerNorms
        if self.bias:
            per_layer += 3 * width + width + 4 * width + width + 2 * width
        return (self.vocab_size + self.block_size) * width + self.n_layer * per_layer + width * (2 if self.bias else 1)

    def weight_bytes(self) -> int:
        """Bytes of its weights in float32."""
        return 4 * self.parameter_count()

    @classmethod
    def from_json(cls, data: dict) -> ModelConfig:
        """A config from its JSON form; unknown keys are ignored (newer files). Raises TypeError or
        ValueError naming the field for a value of the wrong type or out of range (a hand-edited file)."""
        if not isinstance(data, dict):
            raise TypeError(f"model settings must be an object, not {type(data).__name__}")
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name, value in values.items():
            kind = type(getattr(cls, name))  # int, float or bool, from the default
            ok = isinstance(value, bool) if kind is bool else (
                isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool))
            if not ok:
                raise TypeError(f"{name} must be {kind.__name__}, not {value!r}")
            if kind is int and not MODEL_BOUNDS[name][0] <= value <= MODEL_BOUNDS[name][1]:
                # checked before anything is allocated: n_layer 10**400 once built layers until memory ran out
                raise ValueError(out_of_bounds(name, value, MODEL_BOUNDS[name], "a model size"))
        if "dropout" in values and not 0 <= values["dropout"] < 1:
            raise ValueError(f"dropout must be in [0, 1), not {values['dropout']}")
        return cls(**values)


# What each size may be, inclusive: beyond these a config.json is damaged or hostile (the largest
# preset is 12 layers of 1,024; GPT-3 had 96 layers of 12,288 and 96 heads).
MODEL_BOUNDS: dict[str, tuple[int, int]] = {
    "vocab_size": (1, 2**20), "block_size": (1, 65_536), "n_layer": (1, 96), "n_head": (1, 128), "n_embd": (1, 16_384),
}


# Named presets; vocab_size comes from the tokenizer at training time.
PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(block_size=256, n_layer=4, n_head=4, n_embd=128, dropout=0.1),  # 2 CPU cores
    "small": ModelConfig(block_size=512, n_layer=6, n_head=8, n_embd=256, dropout=0.1),
    "base": ModelConfig(block_size=1024, n_layer=6, n_head=8, n_embd=512, dropout=0.1),
    "large": ModelConfig(block_size=1024, n_layer=12, n_head=8, n_embd=1024, dropout=0.3),
}


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.n_head = config.n_head
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if cache is not None:
            past = cache.length
            k, v = cache.update(layer, k, v)  # (B, nh, past + T, hs)
            if T == 1:
                mask, causal = None, False  # one new token sees everything before it
            else:
                # New tokens see all cached ones and the earlier new ones.
                mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
                causal = False
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
        elif self.training and self.dropout > 0.0:
            y = causal_attention(q, k, v, self.dropout)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble heads
        return dropout(self.proj(y), self.dropout, self.training)


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(self.proj(F.gelu(self.fc(x), approximate="tanh")), self.dropout, self.training)


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def adamw(self, learning_rate: float, weight_decay: float, *, fused: bool = False) -> torch.optim.AdamW:
        """AdamW as training uses it: weight decay on matrices only (not LayerNorms or biases).

        `fused` selects the one-kernel update (worth it on CUDA; ~2 % of a CPU step).
        """
        decay = [p for p in self.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=(0.9, 0.95), fused=fused)

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        *,
        cache: KVCache | None = None,
        ignore_index: int = -100,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx (B, T) token ids -> logits (B, T, vocab), and the mean loss when targets are given.

        With a cache, positions continue after the cached tokens and only the last position's
        logits are computed (B, 1, vocab).
        """
        B, T = idx.shape
        if cache is not None and T == 1 and not self.training:
            return decode_one(self.config, idx, cache), None
        start = cache.length if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds block_size {self.config.block_size}")
        pos = torch.arange(start, start + T, device=idx.device)
        x = dropout(self.wte(idx) + self.wpe(pos), self.config.dropout, self.training)  # (B, T, C)
        for layer, block in enumerate(self.blocks):
            x = block(x, cache, layer)
        if cache is not None:
            cache.length += T
            return self.lm_head(self.ln_f(x[:, -1:, :])), None
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=ignore_index)
        return logits, loss

    def new_cache(self, batch: int = 1) -> KVCache:
        """An empty cache for `batch` rows, carrying the weights its one-token steps read: copies
        of the weights as they are now (on a CPU, up to `core.learning.decoding.DECODE_COPY_LIMIT`), otherwise views of
        the live parameters."""
        weight = self.wte.weight
        return KVCache(self.config, batch, weight.device, weight.dtype, decode_weights(self))
