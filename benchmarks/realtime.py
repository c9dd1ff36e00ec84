"""How far ahead of real time the default model writes music, and how soon the first note comes.

Seed: the first 4 bars of the Prelude of BWV 1007 (cello suites). For each repeat,
`stream_generation` continues it by `--bars` bars; we time, from the call:
* the first generated note (the first `TokenEvent` that completes a note: what a player or the
  duet mode can start sounding), and
* the whole take, and divide the music's length in seconds (the generated bars at the seed's
  tempo) by the compute seconds: "x real time", by wall clock and by process CPU time (what
  the take costs without the other work on a shared machine).

    .venv/bin/python benchmarks/realtime.py [--model RUN_DIR] [--bars 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from _common import CELLO_SEED, machine, median, require, table

from core.composing.generation import GenerationSettings, stream_generation
from core.learning.checkpoint import load_model
from core.music.scores import load_score

SEED_BARS = 4


def one_take(loaded, prompt, bars: int, seed: int) -> dict:
    settings = GenerationSettings(bars=bars, prompt_bars=SEED_BARS, random_seed=seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    first_note = None
    notes, tokens = 0, 0
    for event in stream_generation(loaded, prompt, settings):
        tokens += 1  # one model token (a merged one for BPE models); healing the seed yields none
        if event.notes:
            notes += len(event.notes)
            if first_note is None:
                first_note = time.perf_counter() - start
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"seconds": seconds, "cpu": cpu, "first_note": first_note or float("nan"), "tokens": tokens,
            "notes": notes}


def music_seconds(prompt, bars: int) -> float:
    """Length in seconds of `bars` bars of the seed's meter at the seed's tempo."""
    qpm = prompt.tempos[0].qpm if prompt.tempos else 100.0
    ts = prompt.time_signatures[0] if prompt.time_signatures else None
    quarters_per_bar = 4 * ts.numerator / ts.denominator if ts else 4.0
    return bars * quarters_per_bar * 60.0 / qpm


def run(model_dir: str | None, bars: int, repeats: int) -> str:
    loaded = load_model(model_dir)
    prompt = load_score(require(CELLO_SEED))
    one_take(loaded, prompt, 1, seed=0)  # warm-up: first calls allocate and load kernels
    takes = [one_take(loaded, prompt, bars, seed=i) for i in range(repeats)]
    length = music_seconds(prompt, bars)
    compute = median([t["seconds"] for t in takes])
    cpu = median([t["cpu"] for t in takes])
    first = median([t["first_note"] for t in takes])
    tokens = median([t["tokens"] for t in takes])
    notes = median([t["notes"] for t in takes])
    config = loaded.model.config
    caption = (f"Model: {loaded.run_dir.name} ({config.n_layer} layers x {config.n_embd} wide, "
               f"{sum(p.numel() for p in loaded.model.parameters()) / 1e6:.2f} M parameters, context "
               f"{config.block_size}); seed: first {SEED_BARS} bars of {CELLO_SEED.stem} at "
               f"{prompt.tempos[0].qpm if prompt.tempos else 100:.0f} quarter notes per minute; "
               f"{bars} bars generated, median of {repeats}. Machine: {machine()}, load average "
               f"{os.getloadavg()[0]:.1f} during the run.")
    vocabulary = f"{len(loaded.tokenizer)} tokens" + (" (BPE)" if loaded.tokenizer.bpe else "")
    rows = [[f"{bars} bars ({length:.1f} s of music)", vocabulary, tokens, notes, compute, notes / compute,
             length / compute, length / cpu, 1000 * first]]
    return caption + "\n\n" + table(
        ["take", "vocabulary", "tokens", "notes", "wall s", "notes/s", "x real time (wall)",
         "x real time (CPU time)", "first note ms (wall)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="run folder (default: the shipped default model)")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    print("## Real time: the default model on a cello-suite seed\n")
    print(run(args.model, args.bars, args.repeats))


if __name__ == "__main__":
    main()
