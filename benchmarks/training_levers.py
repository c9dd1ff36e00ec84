"""What each training lever buys: variants of one training step, interleaved, beside HF GPT-2.

Every variant trains its own copy of the same model on the same cello-suite batches. Rows:
* ours: `core.learning.model.Transformer` as `partita train` runs it (fp32, AdamW foreach);
* torch's attention and dropout: the same model with `F.scaled_dot_product_attention(dropout_p=p)`
  and `F.dropout` instead of `core.learning.cpu_dropout_attention` (what it trained with before that module);
* fused AdamW: `torch.optim.AdamW(fused=True)` (CPU fused kernel);
* no attention dropout: dropout on the attention probabilities off (residual and embedding
  dropout kept), which lets SDPA use its fused kernel in training; changes the regulariser;
* bf16 autocast: matrix products in bfloat16 (`torch.autocast("cpu")`), weights and optimizer
  in fp32; changes numerics;
* both of the last two;
* torch.compile (only with --compile; its first step compiles for minutes on 2 cores).
A second table gives what packing windows (instead of padding them) buys in real tokens per step.
Figures: median tokens per second of process CPU time (robust on a shared machine) and of
wall time, and the speed-up over HF GPT-2 of identical dimensions.

    .venv/bin/python benchmarks/training_levers.py [--preset tiny] [--repeats 4] [--compile]
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace

import torch
import torch.nn.functional as F
from _common import cello_tokens, interleaved, machine, medians, rates, table
from _pair import (
    LEARNING_RATE,
    WEIGHT_DECAY,
    build_pair,
    hf_loss,
    hf_optimizer,
    ours_loss,
    ours_optimizer,
    training_step,
)
from model_vs_hf import BATCH

import core.learning.model
from core.learning.dataset import IGNORE, BatchSampler
from core.learning.model import PRESETS, Transformer
from core.threads import torch_threads


def bf16_loss(model, x, y):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return model(x, y)[1]


def torch_attention_loss(model, x, y):
    """The forward with torch's own dropout kernels (the backward follows the graph it builds)."""
    ours = core.learning.model.causal_attention, core.learning.model.dropout
    core.learning.model.causal_attention = lambda q, k, v, p: F.scaled_dot_product_attention(q, k, v, dropout_p=p,
                                                                                    is_causal=True)
    core.learning.model.dropout = F.dropout
    try:
        return model(x, y)[1]
    finally:
        core.learning.model.causal_attention, core.learning.model.dropout = ours


def variants(config, tokenizer, compile_too: bool) -> dict:
    def fresh(attention_dropout: bool = True) -> Transformer:
        torch.manual_seed(0)
        model = Transformer(config).train()
        if not attention_dropout:
            for block in model.blocks:
                block.attn.dropout = 0.0
        return model

    ours = fresh()
    torch_kernels = fresh()
    fused = fresh()
    no_attn = fresh(False)
    bf16 = fresh()
    both = fresh(False)
    hf = build_pair(config, tokenizer)[1].train()
    table_ = {
        "ours (as trained)": (ours, ours_loss, ours_optimizer(ours)),
        "torch's attention + dropout (before)": (torch_kernels, torch_attention_loss,
                                                  ours_optimizer(torch_kernels)),
        "fused AdamW": (fused, ours_loss, torch.optim.AdamW(fused.parameters(), lr=LEARNING_RATE,
                                                             betas=(0.9, 0.95), weight_decay=WEIGHT_DECAY,
                                                             fused=True)),
        "no attention dropout": (no_attn, ours_loss, ours_optimizer(no_attn)),
        "bf16 autocast": (bf16, bf16_loss, ours_optimizer(bf16)),
        "no attention dropout + bf16": (both, bf16_loss, ours_optimizer(both)),
        "HF GPT-2": (hf, hf_loss, hf_optimizer(hf)),
    }
    if compile_too:
        compiled = fresh()
        table_["torch.compile"] = (torch.compile(compiled), ours_loss, ours_optimizer(compiled))
    return table_


def run(preset: str, repeats: int, compile_too: bool) -> str:
    tokenizer, pieces = cello_tokens()
    config = replace(PRESETS[preset], vocab_size=len(tokenizer))
    sampler = BatchSampler(pieces, tokenizer, config.block_size, BATCH, seed=0)
    def side(model, loss_fn, optimizer):
        counter = iter(range(10**9))  # each variant sees the same batches in the same order

        def measure():
            x, y = sampler.batch(next(counter))

            def work() -> int:
                training_step(model, loss_fn, optimizer, x, y)
                return int((y != IGNORE).sum())
            return rates(work)
        return measure

    sides = {name: side(*parts) for name, parts in variants(config, tokenizer, compile_too).items()}
    measured = {name: medians(values) for name, values in interleaved(sides, repeats).items()}
    hf_wall, hf_cpu = measured["HF GPT-2"]
    base_wall, base_cpu = measured["ours (as trained)"]
    rows = [[name, wall, cpu, f"{cpu / base_cpu:.2f}x", f"{cpu / hf_cpu:.2f}x", f"{wall / hf_wall:.2f}x"]
            for name, (wall, cpu) in measured.items()]
    caption = (f"Preset `{preset}`, batch {BATCH} x {config.block_size} cello-suite tokens, one step per round, "
               f"median of {repeats} interleaved rounds. Machine: {machine()}, load average "
               f"{os.getloadavg()[0]:.1f}.")
    return caption + "\n\n" + table(
        ["variant", "tok/s (wall)", "tok/s (CPU time)", "vs ours (CPU)", "vs HF (CPU)", "vs HF (wall)"], rows)


def packing(steps: int = 50) -> str:
    """Share of real (non-padding) target tokens per batch, padded vs packed, per corpus and window.

    A step costs the same either way (same tensor shapes), so the ratio of the two shares is the
    gain in real tokens learned per second of training."""
    from core.learning.dataset import tokenize_pieces
    from core.learning.tokenizer import PartitaTokenizer, settings_for
    from core.music.corpus import import_corpus

    corpora = {"cello suites": cello_tokens()}
    chorales = import_corpus("builtin:bach-chorales")
    tokenizer = PartitaTokenizer.create(settings_for([p.score for p in chorales.pieces]))
    corpora["Bach chorales"] = (tokenizer, tokenize_pieces(chorales.pieces, tokenizer, chorales.pitch_range))
    rows = []
    for name, (tokenizer, pieces) in corpora.items():
        for block in (256, 512, 1024):
            shares = []
            for pack in (False, True):
                sampler = BatchSampler(pieces, tokenizer, block, BATCH, seed=0, pack=pack)
                real = sum(int((sampler.batch(i)[1] != IGNORE).sum()) for i in range(steps))
                shares.append(real / (steps * BATCH * block))
            rows.append([name, block, f"{100 * shares[0]:.0f} %", f"{100 * shares[1]:.1f} %",
                         f"{shares[1] / shares[0]:.2f}x"])
    return (f"Real target tokens per batch ({BATCH} rows, {steps} batches), `BatchSampler` padded vs packed "
            "(`partita train --pack`, the default; packed rows ignore only each EOS's target).\n\n" + table(
                ["corpus", "window", "real tokens, padded", "real tokens, packed", "real tokens/s gain"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--packing-only", action="store_true", help="only the padded-vs-packed table")
    args = parser.parse_args()
    if args.packing_only:
        print(packing())
        return
    with torch_threads(args.threads or torch.get_num_threads()):
        print("## Training levers\n")
        print(run(args.preset, args.repeats, args.compile))
        print()
        print(packing())


if __name__ == "__main__":
    main()
