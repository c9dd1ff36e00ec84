"""Peak memory and wall time of `evaluate`'s metric pipeline on corpora of 100, 1,000 and 2,000 pieces.

Issue 22: `partita evaluate` on a ~1,000-piece corpus asked mgeval's kernel density for 9.6 GiB
(every pair of training pieces x 1,000 grid points), and 2,000 pieces reached 24 GB. Memory must
grow at most linearly with the corpus. Each size runs in a fresh subprocess that reports its own
peak resident set (`getrusage(RUSAGE_SELF).ru_maxrss`), so one size's peak cannot hide another's:

* the corpus: synthetic pieces built at run time (16 bars of 4/4, a seeded random walk of
  eighths to halves in one key), split 80/20 into training and held-out pieces as `split_by_piece`
  does; importing a real 2,000-piece corpus would time the importer, not the metrics;
* the pipeline: what `core.judging.evaluation.evaluate_run` runs after generating, on the same seven
  sets (8 "generated" and 8 "n-gram" pieces, the held-out pieces, their real continuations,
  pitch-shuffled, rhythm-shuffled and random versions): `compare_sets_to_training` (per-piece
  metrics without music21, transition distances, mgeval, the copy index), then a 4-gram fitted
  on three tokens a note of every training piece and scored on the held-out pieces' tokens.
  No model, no generation: those do not grow with the corpus.

"before pipeline" is the resident set once the pieces are built; "peak" the most the process
ever held. `--limit-gib` caps each subprocess's address space, so a pipeline that would eat the
machine fails with MemoryError instead (the row says so).

    .venv/bin/python benchmarks/evaluate_memory.py [--sizes 100,1000,2000] [--limit-gib 8]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from _common import REPO, machine, table

BARS, TPQ = 16, 480
DURATIONS = (240, 480, 720, 960)  # eighth, quarter, dotted quarter, half (ticks)


def synthetic_piece(index: int):
    """A 16-bar 4/4 melody: a seeded random walk on one major scale."""
    import numpy as np
    import symusic

    rng = np.random.default_rng(index)
    score = symusic.Score(TPQ)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track(program=0)
    tonic = 60 + int(rng.integers(-5, 7))
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    degree, time_ = 7, 0
    while time_ < BARS * 4 * TPQ:
        duration = int(rng.choice(DURATIONS))
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 20))
        pitch = tonic + 12 * (degree // 7) + int(scale[degree % 7]) - 12
        track.notes.append(symusic.Note(time_, duration, pitch, 80))
        time_ += duration
    score.tracks.append(track)
    return score


def note_tokens(score) -> list[int]:
    """Three ids a note (position in the bar, pitch, duration class), as a REMI-like stream."""
    bar = 4 * TPQ
    ids = []
    for note in score.tracks[0].notes:
        ids += [note.time % bar // (TPQ // 4), 16 + note.pitch, 144 + min(note.duration // (TPQ // 4), 15)]
    return ids


def child(size: int) -> None:
    """Build `size` pieces, run the pipeline, print one JSON line of figures."""
    from core.judging.evaluation import EvaluationSettings, real_continuation
    from core.judging.metrics.ngram import NGramModel
    from core.judging.metrics.references import pitch_shuffled, random_notes, rhythm_shuffled
    from core.judging.report.data import (
        BASELINE,
        GENERATED,
        HELD_OUT,
        PITCH_SHUFFLED,
        RANDOM,
        REAL_CONTINUATIONS,
        RHYTHM_SHUFFLED,
        compare_sets_to_training,
    )

    pieces = [(f"piece-{i}", synthetic_piece(i)) for i in range(size)]
    extra = [synthetic_piece(size + i) for i in range(16)]
    held_count = max(2, round(size * 0.2))
    held, training = pieces[:held_count], pieces[held_count:]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    settings = EvaluationSettings()
    sets = {
        GENERATED: [(f"generated-{i}", s) for i, s in enumerate(extra[:8])],
        HELD_OUT: held,
        REAL_CONTINUATIONS: [(n, real_continuation(s, settings)) for n, s in held],
        BASELINE: [(f"n-gram-{i}", s) for i, s in enumerate(extra[8:])],
        PITCH_SHUFFLED: [(n, pitch_shuffled(s, seed=i)) for i, (n, s) in enumerate(held)],
        RHYTHM_SHUFFLED: [(n, rhythm_shuffled(s, seed=i)) for i, (n, s) in enumerate(held)],
        RANDOM: [(n, random_notes(s, seed=i)) for i, (n, s) in enumerate(held)],
    }
    report = compare_sets_to_training(sets, training, use_music21=False)
    ngram = NGramModel(4, 160).fit([note_tokens(s) for _, s in training])
    scores = ngram.evaluate([note_tokens(s) for _, s in held])
    pairs = report.sets[HELD_OUT].mgeval["pitch_class_histogram"].get("pairs", {})  # absent before issue 22
    print(json.dumps({
        "size": size, "training": len(training), "held": len(held),
        "before_kib": before, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "seconds": time.perf_counter() - start, "reference_pairs": pairs.get("intra_reference"),
        "inter_pairs": pairs.get("inter"), "ngram_tokens": scores.tokens, "notes": getattr(report, "notes", []),
    }))


def run_size(size: int, limit_gib: float) -> dict:
    def cap() -> None:
        limit = int(limit_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True,
                          preexec_fn=cap, env=env, cwd=REPO)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"size": size, "failed": f"exit {done.returncode}: {last[:80]}"}
    return json.loads(lines[-1])


def _pairs(counts: list[int] | None) -> str:
    return f"{counts[0]:,} of {counts[1]:,}" if counts else "all (not reported)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,2000", help="corpus sizes (pieces), comma-separated")
    parser.add_argument("--limit-gib", type=float, default=8.0, help="address-space cap of each subprocess")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    rows, notes = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        result = run_size(size, args.limit_gib)
        if "failed" in result:
            rows.append([size, "", "", "", "", "", "", result["failed"]])
            continue
        mib = 1024
        rows.append([size, result["training"], result["held"], _pairs(result["reference_pairs"]),
                     _pairs(result["inter_pairs"]), round(result["before_kib"] / mib),
                     round(result["peak_kib"] / mib), round(result["seconds"], 1)])
        notes = result["notes"] or notes
    print(f"## evaluate: peak memory by corpus size ({machine()})\n")
    print(f"Synthetic 16-bar pieces (built at run time, not imported), 80/20 split, seven sets as `evaluate` "
          f"measures them, per-piece metrics without music21, a 4-gram on three tokens a note; one subprocess "
          f"per size, address space capped at {args.limit_gib:g} GiB. RSS in MiB.\n")
    print(table(["pieces", "training", "held-out", "training pairs (mgeval)", "held-out x training pairs",
                 "RSS before pipeline", "peak RSS", "wall s"], rows))
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
