"""Training on a CUDA GPU in bf16: ours beside Hugging Face GPT-2 of identical dimensions.

For the `base` and `large` presets (what a user trains on a card), each variant trains its own
fresh copy of the model on the same batches of real cello-suite tokens, under
`torch.autocast("cuda", bfloat16)` with fp32 weights and fused AdamW, exactly as
`core.learning.training.train` runs on CUDA. Variants:
* ours: `core.learning.model.Transformer` eager, as `partita train` runs it;
* ours + torch.compile: the same model through `torch.compile` (default mode);
* HF GPT-2 / HF GPT-2 + torch.compile: `GPT2LMHeadModel` (SDPA attention, transformers'
  default) with the same dimensions, dropout, optimizer, loss and batches.

Figures: target tokens per second over timed steps (after warm-up, which includes compiling),
model FLOPs utilisation (MFU) = tokens/s x FLOPs per token (6 N + attention, as in
model_vs_hf.py) over the card's bf16 matmul throughput measured in the same run (an
8192 x 8192 x 8192 `torch.mm` on random data), also given against the datasheet's dense bf16
peak; peak GPU memory (`torch.cuda.max_memory_allocated`). Time is taken with
`torch.cuda.synchronize()` around the timed steps (and each peak matmul).

The device needs only torch and transformers: the cello tokens travel as a .npy file
(`--dump-tokens` writes it on a machine with the corpus stack; without `--tokens` uniform random
ids of the same vocabulary are used, which costs the same).

    .venv/bin/python benchmarks/gpu_training.py --dump-tokens .gpu/cello.npy      # here
    python3 benchmarks/gpu_training.py --tokens .gpu/cello.npy [--presets base,large]  # on the GPU
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from _common import table
from _pair import (
    build_pair,
    flops_per_token,
    hf_loss,
    hf_optimizer,
    matmul_parameters,
    ours_loss,
    ours_optimizer,
    training_step,
)

from core.learning.model import PRESETS, Transformer

DATASHEET_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense, SXM parts


def dump_tokens(path: Path) -> None:
    """Write the 42 cello-suite movements' training tokens, end to end, as int16 (run here)."""
    import numpy as np
    from _common import cello_tokens

    tokenizer, pieces = cello_tokens()
    ids = np.concatenate([np.asarray(p.ids, dtype=np.int16) for p in pieces])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, ids)
    (path.with_suffix(".json")).write_text(json.dumps({"vocab_size": len(tokenizer), "tokens": int(ids.size)}))
    print(f"{path}: {ids.size} tokens, vocabulary {len(tokenizer)}")


def load_tokens(path: Path | None, vocab_size: int) -> tuple[torch.Tensor, int]:
    if path is None:
        return torch.randint(0, vocab_size, (1_000_000,)), vocab_size
    import numpy as np

    meta = json.loads(path.with_suffix(".json").read_text())
    return torch.from_numpy(np.load(path).astype(np.int64)), int(meta["vocab_size"])


def batches(stream: torch.Tensor, batch: int, block: int, count: int, device) -> list[tuple[torch.Tensor, ...]]:
    """`count` batches of random windows (inputs, next-token targets), the same for every variant."""
    generator = torch.Generator().manual_seed(0)
    out = []
    for _ in range(count):
        starts = torch.randint(0, stream.numel() - block - 1, (batch,), generator=generator)
        window = torch.stack([stream[s:s + block + 1] for s in starts.tolist()])
        out.append((window[:, :-1].to(device), window[:, 1:].to(device)))
    return out


def bf16_peak_tflops(device: torch.device, size: int = 8192, repeats: int = 10) -> float:
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        torch.mm(a, b)
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e12


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(model, loss_fn, optimizer, data, warmup: int, steps: int, sync_each_step: bool,
            device: torch.device) -> dict:
    """Warm up (compiling if the model is compiled), then time `steps` steps; tokens/s and losses."""
    autocast = torch.autocast(device.type, dtype=torch.bfloat16)
    cuda = device.type == "cuda"

    def step(i: int) -> torch.Tensor:
        x, y = data[i % len(data)]
        with autocast:
            loss = training_step(model, loss_fn, optimizer, x, y)
        if sync_each_step:
            loss.item()  # what core.learning.training does to report every step's loss
        return loss

    began = time.perf_counter()
    first = step(0).item()
    for i in range(1, warmup):
        step(i)
    synchronize(device)
    warm_s = time.perf_counter() - began
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(steps):
        last = step(warmup + i)
    synchronize(device)
    seconds = time.perf_counter() - start
    tokens = steps * data[0][1].numel()
    return {"tokens_per_s": tokens / seconds, "step_ms": 1e3 * seconds / steps, "warmup_s": warm_s,
            "first_loss": first, "last_loss": last.item(), "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")}


def run(presets: list[str], tokens_path: Path | None, batch: int, steps: int, warmup: int,
        compile_too: bool, out: Path | None, device: torch.device) -> str:
    torch.manual_seed(0)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU (dry run)"
    peak = bf16_peak_tflops(device, 8192 if device.type == "cuda" else 512)
    datasheet = next((v for k, v in DATASHEET_BF16_TFLOPS.items() if k in name), float("nan"))
    stream, vocab = load_tokens(tokens_path, 581)
    rows, records = [], []
    for preset in presets:
        config = replace(PRESETS[preset], vocab_size=vocab)
        data = batches(stream, batch, config.block_size, 8, device)
        per_token = flops_per_token(config, matmul_parameters(Transformer(config)))
        variants = [("ours", False, False), ("ours, loss read every step", False, True),
                    ("HF GPT-2", False, False)]
        if compile_too:
            variants += [("ours + torch.compile", True, False), ("HF GPT-2 + torch.compile", True, False)]
        for label, compiled, sync in variants:
            ours, hf = build_pair(config)
            model = (hf if label.startswith("HF") else ours).to(device).train()
            del ours, hf
            optimizer = (hf_optimizer if label.startswith("HF") else ours_optimizer)(model, fused=True)
            loss_fn = hf_loss if label.startswith("HF") else ours_loss
            runnable = torch.compile(model) if compiled else model
            try:
                result = measure(runnable, loss_fn, optimizer, data, warmup, steps, sync, device)
            except Exception as error:  # one variant failing (e.g. a compile error) must not lose the rest
                print(f"{preset} {label}: {type(error).__name__}: {error}", file=sys.stderr)
                continue
            finally:
                del model, runnable, optimizer
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            tflops = result["tokens_per_s"] * per_token / 1e12
            record = {"preset": preset, "variant": label, "batch": batch, "block": config.block_size,
                      "flops_per_token": per_token, "tflops": tflops, **result}
            records.append(record)
            print(json.dumps(record), flush=True)
            if out:
                out.write_text("\n".join(json.dumps(r) for r in records) + "\n")
            rows.append([preset, label, result["tokens_per_s"], f"{result['step_ms']:.1f}", f"{tflops:.0f}",
                         f"{100 * tflops / peak:.1f} %", f"{100 * tflops / datasheet:.1f} %",
                         f"{result['peak_gib']:.1f}", f"{result['warmup_s']:.0f}",
                         f"{result['first_loss']:.2f} -> {result['last_loss']:.2f}"])
    caption = (f"{name}, torch {torch.__version__}; measured bf16 matmul peak {peak:.0f} TFLOP/s (datasheet "
               f"{datasheet:.0f}); batch {batch} x block size, {steps} timed steps after {warmup} warm-up steps; "
               f"tokens: {'cello suites' if tokens_path else 'uniform random'} (vocabulary {vocab}).")
    return caption + "\n\n" + table(
        ["preset", "variant", "tok/s", "ms/step", "TFLOP/s", "MFU (measured peak)", "MFU (datasheet)",
         "peak GiB", "warm-up s", "loss first -> last"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump-tokens", type=Path, help="write the cello tokens here and exit (run with the corpus)")
    parser.add_argument("--tokens", type=Path, help="the .npy written by --dump-tokens")
    parser.add_argument("--presets", default="base,large")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--out", type=Path, help="also write one JSON line per variant here")
    parser.add_argument("--device", default="cuda", help="cuda; cpu only to check the script itself")
    args = parser.parse_args()
    if args.dump_tokens:
        dump_tokens(args.dump_tokens)
        return
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_training.py: no CUDA device (this benchmark is for a GPU machine)")
    print("## Training on a GPU (bf16)\n")
    print(run(args.presets.split(","), args.tokens, args.batch, args.steps, args.warmup, not args.no_compile,
              args.out, device))


if __name__ == "__main__":
    main()
