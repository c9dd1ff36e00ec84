"""Our transformer beside Hugging Face's GPT-2 with identical dimensions: training and generation.

Both models are built from the same preset (layers, heads, width, context, dropout, tied
embeddings, vocabulary of the cello-suite tokenizer), trained on the same batches
(`core.learning.dataset.BatchSampler` over the 42 real cello-suite movements) with the same AdamW
settings and gradient clipping, and asked to sample with the same temperature, top-k and
top-p. The two sides run interleaved (ours, HF, ours, HF, ...) in one process, so load from
other work on the machine hits both alike; figures are medians over the repeats.

What the columns count:
* training tokens/s: target tokens (not padding) per second of a whole optimizer step
  (forward, loss, backward, clip, AdamW).
* model FLOPs per token = 6 x N + 12 x n_layer x n_embd x block_size (the PaLM/nanoGPT
  estimate: N = parameters taking part in matrix products, i.e. every parameter except
  position embeddings, LayerNorms and biases, with the tied embedding counted once, as the
  output projection; attention counted over the full T x T square). "% of matmul peak" is
  that rate over the fp32 `torch.mm` throughput of 2048x2048 matrices measured in this run.
* generation tokens/s at batch 1 and 8: new tokens per second after a 64-token seed from the
  Prelude of BWV 1007, KV cache on both sides. "ours (stream)" is `stream_generation` end to
  end (tokenizing the seed, grammar mask, bar counting, notes as they complete); "ours (raw)"
  is the bare model + `sample_next_token` loop, the work HF `generate` does. All three run on
  one intra-op thread (what `stream_generation` uses; HF is given the same).
* the batch-1 floor: every new token reads all the weight matrices (fp32, 4 bytes per matmul
  parameter) and the cached keys and values so far (on average the seed plus half the new
  tokens). "read" is the time one thread takes to read that many bytes (`read_seconds`: a sum,
  repeated, so the bytes stay in the caches where they fit, as a decode step's weights do);
  "matrix products" is one pass of `torch.mm` of a single row over the decode step's own weight
  matrices (best of 7, warm), i.e. what torch's fp32 BLAS (MKL) takes for the products alone, with
  nothing else of a token; "products GB/s" counts the matrices' bytes only. "HF / products" bounds
  the speed-up over HF that an fp32 implementation on torch's BLAS can reach.
* peak memory: growth of the process's peak RSS (Linux VmHWM, reset through
  /proc/self/clear_refs after loading the data and building the model) during 5 training steps
  or one batch-8 generation, each in a fresh subprocess. torch allocations are counted;
  tracemalloc would not see them.

    .venv/bin/python benchmarks/model_vs_hf.py [--presets tiny,small] [--repeats 5] [--no-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch
from _common import (
    CELLO_SEED,
    cello_tokens,
    interleaved,
    machine,
    matmul_peak_gflops,
    median,
    medians,
    rates,
    read_seconds,
    table,
    timed,
)
from _pair import (
    GRAD_CLIP,
    LEARNING_RATE,
    WEIGHT_DECAY,
    build_pair,
    flops_per_token,
    hf_loss,
    hf_optimizer,
    matmul_parameters,
    ours_loss,
    ours_optimizer,
    training_step,
)

from core.learning.dataset import IGNORE, BatchSampler
from core.learning.model import PRESETS, Transformer
from core.learning.run_config import TrainConfig
from core.threads import torch_threads

BATCH = 16  # training batch, as `partita train` uses by default
SEED_TOKENS = 64  # generation seed length
NEW_TOKENS = 96  # tokens sampled per generation run
TEMPERATURE, TOP_K, TOP_P = 1.0, 32, 0.95
TRAIN = TrainConfig(data="", out="")  # the optimizer settings `partita train` uses
assert (TRAIN.learning_rate, TRAIN.weight_decay, TRAIN.grad_clip) == (LEARNING_RATE, WEIGHT_DECAY, GRAD_CLIP)


# --- training --------------------------------------------------------------------------
def training_rates(ours, hf, sampler: BatchSampler, repeats: int, steps: int = 2) -> dict[str, list[float]]:
    ours.train()
    hf.train()
    ours_opt = ours_optimizer(ours)
    hf_opt = hf_optimizer(hf)
    counter = iter(range(10**9))

    def side(model, loss_fn, optimizer):
        def measure() -> tuple[float, float]:
            batches = [sampler.batch(next(counter)) for _ in range(steps)]

            def work() -> int:
                for x, y in batches:
                    training_step(model, loss_fn, optimizer, x, y)
                return sum(int((y != IGNORE).sum()) for _, y in batches)
            return rates(work)
        return measure

    return interleaved({"ours": side(ours, ours_loss, ours_opt), "hf": side(hf, hf_loss, hf_opt),
                        "peak": matmul_peak_gflops}, repeats, warmup=2)


# --- generation ------------------------------------------------------------------------
def seed_ids(tokenizer) -> list[int]:
    from core.music.scores import load_score

    return [tokenizer.bos_id, *tokenizer.encode(load_score(CELLO_SEED))][:SEED_TOKENS]


@torch.inference_mode()
def ours_raw(model: Transformer, seed: list[int], batch: int) -> int:
    """The bare loop: prefill the cache, then one token at a time through the model and sampler
    (on one intra-op thread, as `stream_generation` runs it)."""
    with torch_threads(1):
        return _ours_raw(model, seed, batch)


def _ours_raw(model: Transformer, seed: list[int], batch: int) -> int:
    from core.composing.sampling import sample_next_token

    generator = torch.Generator().manual_seed(0)
    cache = model.new_cache(batch)
    logits, _ = model(torch.tensor([seed] * batch), cache=cache)
    for _ in range(NEW_TOKENS):
        token = sample_next_token(logits[:, -1, :], temperature=TEMPERATURE, top_k=TOP_K, top_p=TOP_P,
                                  generator=generator)
        logits, _ = model(token.view(-1, 1), cache=cache)
    return batch * NEW_TOKENS


def ours_stream(loaded, prompt, batch: int) -> int:
    """`stream_generation` end to end; returns the tokens it wrote."""
    from core.composing.generation import GenerationSettings, stream_generation

    settings = GenerationSettings(bars=1000, temperature=TEMPERATURE, top_k=TOP_K, top_p=TOP_P, random_seed=0,
                                  max_tokens=NEW_TOKENS)
    return sum(1 for _ in stream_generation(loaded, prompt, settings, variations=batch))


@torch.inference_mode()
def hf_generate(hf, seed: list[int], batch: int) -> int:
    """HF `generate`, given the one intra-op thread our generation uses (see core.composing.generation):
    with two threads on a loaded 2-core machine it is many times slower, which would flatter us."""
    torch.manual_seed(0)
    with torch_threads(1):
        out = _hf_generate(hf, seed, batch)
    return batch * (out.shape[1] - len(seed))


def _hf_generate(hf, seed: list[int], batch: int) -> torch.Tensor:
    return hf.generate(torch.tensor([seed] * batch), attention_mask=torch.ones(batch, len(seed), dtype=torch.long),
                      do_sample=True, temperature=TEMPERATURE, top_k=TOP_K, top_p=TOP_P, use_cache=True,
                      max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)


def generation_rates(ours, hf, tokenizer, batch: int, repeats: int) -> dict[str, list[float]]:
    from core.learning.checkpoint import LoadedModel
    from core.music.scores import load_score

    ours.eval()
    hf.eval()
    seed = seed_ids(tokenizer)
    loaded = LoadedModel(ours, tokenizer, {}, CELLO_SEED.parent)
    # A prompt whose encoding is the same 64-token seed: cut the Prelude where the seed ends.
    prompt = load_score(CELLO_SEED)

    def rate(fn):
        return lambda: rates(fn)

    stream_prompt = _prompt_of_about(prompt, tokenizer, SEED_TOKENS)
    return interleaved({
        "ours (stream)": rate(lambda: ours_stream(loaded, stream_prompt, batch)),
        "ours (raw)": rate(lambda: ours_raw(ours, seed, batch)),
        "hf": rate(lambda: hf_generate(hf, seed, batch)),
    }, repeats)


def batch1_floor(preset: str, model: Transformer, ours_rate: float, hf_rate: float, repeats: int = 7) -> list[object]:
    """A row of the batch-1 floor table: the bytes each new token reads, the time one thread takes
    to read them, and the time of the bare matrix products over the decode step's own matrices."""
    config = model.config
    weights = model.new_cache(1).weights  # the matrices `core.learning.decoding.decode_one` multiplies by, as it holds them
    matrices = [t for layer in weights.layers for t in layer if t is not None and t.dim() == 2] + [weights.head_t]
    rows = {t.size(0): torch.randn(1, t.size(0)) for t in matrices}
    mean_context = SEED_TOKENS + NEW_TOKENS / 2
    kv_bytes = 2 * config.n_layer * mean_context * config.n_embd * 4
    matrix_bytes = sum(t.numel() * 4 for t in matrices)
    read = matrix_bytes + kv_bytes

    def products() -> None:
        for matrix in matrices:
            torch.mm(rows[matrix.size(0)], matrix)

    with torch_threads(1):
        products()
        products_us = min(timed(products) for _ in range(repeats)) * 1e6
    read_us = read_seconds(int(read)) * 1e6
    ours_us, hf_us = 1e6 / ours_rate, 1e6 / hf_rate
    return [preset, read / 1e6, read_us, read / read_us / 1e3, products_us, matrix_bytes / products_us / 1e3, ours_us,
            hf_us, f"{products_us / ours_us:.0%}", f"{hf_us / products_us:.1f}x"]


def _prompt_of_about(score, tokenizer, tokens: int):
    """The longest opening of `score` (whole beats) whose encoding has at most `tokens` ids."""
    beat = score.tpq
    best = score.clip(0, beat, clip_end=True)
    for beats in range(1, 64):
        part = score.clip(0, beats * beat, clip_end=True)
        if len(tokenizer.encode(part)) + 1 > tokens:
            break
        best = part
    return best


# --- memory (fresh subprocesses) -------------------------------------------------------
def memory_probe(side: str, task: str, preset: str) -> None:
    """Run in a subprocess: print the max-RSS growth (MiB) of one task."""
    tokenizer, pieces = cello_tokens()
    config = replace(PRESETS[preset], vocab_size=len(tokenizer))
    if side == "ours":
        torch.manual_seed(0)
        model = Transformer(config)
        loss_fn, optimizer = ours_loss, ours_optimizer(model)
    else:
        model = build_pair(config, tokenizer)[1]
        loss_fn, optimizer = hf_loss, hf_optimizer(model)
    sampler = BatchSampler(pieces, tokenizer, config.block_size, BATCH, seed=0)
    batches = [sampler.batch(i) for i in range(5)]
    seed = seed_ids(tokenizer)
    before = _reset_peak_rss()
    if task == "train":
        model.train()
        for x, y in batches:
            training_step(model, loss_fn, optimizer, x, y)
    else:
        model.eval()
        ours_raw(model, seed, 8) if side == "ours" else hf_generate(model, seed, 8)
    print(json.dumps({"mib": (_status_kib("VmHWM") - before) / 1024}))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def _reset_peak_rss() -> int:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux); returns that RSS in KiB.

    Loading the corpus peaks higher than a small model's work, so the peak is reset after it."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS")


def measure_memory(side: str, task: str, preset: str) -> float:
    out = subprocess.run([sys.executable, __file__, "--memory-probe", side, task, preset],
                         capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return float(json.loads(line)["mib"])
    print(out.stderr[-2000:], file=sys.stderr)
    return float("nan")


# --- the report ------------------------------------------------------------------------
def run(presets: list[str], repeats: int, memory: bool) -> str:
    tokenizer, pieces = cello_tokens()
    sections = [f"Machine: {machine()}, load average {os.getloadavg()[0]:.1f} at the start. Batches from the 42 "
                f"cello-suite movements (vocabulary {len(tokenizer)}); medians of {repeats} interleaved rounds. "
                "Ratios are given by wall clock and by process CPU time (robust to other work on the machine)."]
    train_rows, gen_rows, floor_rows, mem_rows = [], [], [], []
    for preset in presets:
        config = replace(PRESETS[preset], vocab_size=len(tokenizer))
        ours, hf = build_pair(config, tokenizer)
        n = matmul_parameters(ours)
        per_token = flops_per_token(config, n)
        sampler = BatchSampler(pieces, tokenizer, config.block_size, BATCH, seed=0)
        measured = training_rates(ours, hf, sampler, repeats)
        peak = median(measured["peak"])
        (ours_rate, ours_cpu), (hf_rate, hf_cpu) = medians(measured["ours"]), medians(measured["hf"])
        train_rows.append([preset, f"{n / 1e6:.2f} M", f"{per_token / 1e6:.2f} M", ours_rate, hf_rate,
                           f"{ours_rate / hf_rate:.2f}x", f"{ours_cpu / hf_cpu:.2f}x", peak,
                           f"{100 * ours_rate * per_token / 1e9 / peak:.0f} %",
                           f"{100 * hf_rate * per_token / 1e9 / peak:.0f} %"])
        for batch in (1, 8):
            g = generation_rates(ours, hf, tokenizer, batch, repeats)
            (stream, stream_cpu), (raw, raw_cpu), (ref, ref_cpu) = (
                medians(g["ours (stream)"]), medians(g["ours (raw)"]), medians(g["hf"]))
            gen_rows.append([preset, batch, stream, raw, ref, f"{stream / ref:.2f}x", f"{raw / ref:.2f}x",
                             f"{stream_cpu / ref_cpu:.2f}x", f"{raw_cpu / ref_cpu:.2f}x"])
            if batch == 1:
                floor_rows.append(batch1_floor(preset, ours, raw, ref))
        if memory:
            for task in ("train", "generate"):
                a, b = measure_memory("ours", task, preset), measure_memory("hf", task, preset)
                label = f"{BATCH}x{config.block_size} training, 5 steps" if task == "train" else \
                    f"batch 8, {SEED_TOKENS}+{NEW_TOKENS} tokens"
                mem_rows.append([preset, label, a, b, f"{a / b:.2f}x" if b else "n/a"])
        del ours, hf
    sections.append("### Training (fp32, CPU)\n\n" + table(
        ["preset", "params N", "FLOPs/token", "ours tok/s", "HF tok/s", "ours/HF", "ours/HF (CPU time)",
         "matmul peak GFLOP/s", "ours % of peak", "HF % of peak"], train_rows))
    sections.append(f"### Generation with KV cache ({SEED_TOKENS}-token cello seed, {NEW_TOKENS} new tokens, "
                    f"temperature {TEMPERATURE}, top-k {TOP_K}, top-p {TOP_P})\n\n" + table(
                        ["preset", "batch", "ours stream tok/s", "ours raw tok/s", "HF generate tok/s",
                         "stream/HF", "raw/HF", "stream/HF (CPU time)", "raw/HF (CPU time)"], gen_rows))
    sections.append("### Batch 1 against its floor (one thread)\n\n" + table(
        ["preset", "MB read per token", "read us", "read GB/s", "matrix products us", "products GB/s",
         "ours raw us/token", "HF us/token", "products / ours", "HF / products"], floor_rows))
    if mem_rows:
        sections.append("### Peak memory (peak-RSS growth in a fresh process, MiB)\n\n" + table(
            ["preset", "work", "ours", "HF", "ours/HF"], mem_rows))
    return "\n\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,small")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--memory-probe", nargs=3, metavar=("SIDE", "TASK", "PRESET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    with torch_threads(args.threads or torch.get_num_threads()):
        if args.memory_probe:
            memory_probe(*args.memory_probe)
            return
        print("## Model: ours vs Hugging Face GPT-2\n")
        print(run(args.presets.split(","), args.repeats, not args.no_memory))


if __name__ == "__main__":
    main()
