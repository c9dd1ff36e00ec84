"""How often a model's new notes start while an earlier note of the same pitch still sounds: two
voices of a merged track in unison, which one MIDI channel cannot hold (the first note-off ends
both). The grammar refuses such a note (core.composing.grammar: `RemiState.held`), so every figure
here should be 0; beside it, the same in the real bars after the seeds, where Bach writes them.

For each style model (default: every shipped one), continuations of the first bars of its held-out
pieces, as the style benchmark takes them:

    .venv/bin/python benchmarks/overlap.py [--models NAME_OR_RUN ...] [--pieces 12] [--takes 3]
"""

from __future__ import annotations

import argparse
import time

from _common import machine, table
from style_fidelity import model_folders, pieces_of

from core.composing.generation import GenerationSettings, generate
from core.learning.checkpoint import load_model

SEED_BARS, NEW_BARS = 4, 8


def restruck(notes, after: int) -> tuple[int, int]:
    """(notes starting at or after tick `after`, those of them that start while an earlier note of
    their pitch sounds); `notes` as (start, end, pitch)."""
    notes = sorted(notes)
    total = over = 0
    for k, (start, _, pitch) in enumerate(notes):
        if start < after:
            continue
        total += 1
        over += any(p == pitch and s < start < e for s, e, p in notes[:k])
    return total, over


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="shipped model names or run folders (default: every shipped style model)")
    parser.add_argument("--pieces", type=int, default=12)
    parser.add_argument("--takes", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for folder in model_folders(args.models):
        loaded = load_model(folder)
        _, pieces, _ = pieces_of(loaded, args.pieces)
        started = time.perf_counter()
        model = [0, 0]
        real = [0, 0]
        for piece in pieces:
            score = piece.score
            downbeats = score.get_downbeats()
            if len(downbeats) <= SEED_BARS:
                continue
            seed_end = int(downbeats[SEED_BARS])
            end = int(downbeats[SEED_BARS + NEW_BARS]) if len(downbeats) > SEED_BARS + NEW_BARS else score.end() + 1
            notes = [(n.time, n.time + n.duration, n.pitch) for t in score.tracks for n in t.notes if n.time < end]
            for i, value in enumerate(restruck(notes, seed_end)):
                real[i] += value
            for seed in range(args.takes):
                take = generate(loaded, score, GenerationSettings(bars=NEW_BARS, prompt_bars=SEED_BARS, random_seed=seed))
                notes = [(n.time, n.time + n.duration, n.pitch) for t in take.score.tracks for n in t.notes]
                for i, value in enumerate(restruck(notes, take.seed_end_tick)):
                    model[i] += value
        rows.append([folder.name, f"{model[0]} ({len(pieces) * args.takes} takes)", f"{model[1] / max(model[0], 1):.2%}",
                     f"{real[1] / max(real[0], 1):.2%} of {real[0]}", f"{time.perf_counter() - started:.1f} s"])
    print(f"## New notes over a sounding note of their own pitch ({machine()})\n")
    print(table(["model", "new notes", "over a sounding note of their pitch", "the real bars after the seeds",
                 "time"], rows))


if __name__ == "__main__":
    main()
