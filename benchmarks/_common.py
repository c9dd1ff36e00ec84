"""Shared pieces of the benchmarks: paths, the real cello batches, timing, tables.

Timings on a shared machine are noisy, so every comparison runs its two sides interleaved
(A, B, A, B, ...) in one process and reports medians and the ratio of medians.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data"
CELLO_XML = DATA / "bach-cello-suites"
JAZZ = DATA / "wjazzd-jazz-solos"
CELLO_SEED = CELLO_XML / "BWV1007_01_Prelude.mxl"


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"{path}: benchmark data missing (expected ../shared/data beside the repository)")
    return path


def machine() -> str:
    """CPU model and core count, for the table captions."""
    name = platform.processor() or "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                name = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    import torch

    return f"{name}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def interleaved(sides: dict[str, Callable[[], float]], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run each side's measurement `warmup` times untimed, then `repeats` rounds A, B, A, B ...

    Each callable returns its own figure (e.g. tokens/s); the lists keep every round.
    """
    for _ in range(warmup):
        for measure in sides.values():
            measure()
    results: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, measure in sides.items():
            results[name].append(measure())
    return results


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rates(work: Callable[[], float]) -> tuple[float, float]:
    """(units per wall second, units per process-CPU second) of `work()`, which returns its units.

    CPU time counts only this process's own cycles, so it is far less disturbed by other work on
    a shared machine than the wall clock (with several threads it also counts their waiting).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    units = work()
    return units / (time.perf_counter() - wall), units / max(time.process_time() - cpu, 1e-9)


def medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return median([p[0] for p in pairs]), median([p[1] for p in pairs])


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """This machine's fp32 matmul throughput right now: median over `repeats` torch.mm calls."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    seconds = [timed(lambda: torch.mm(a, b)) for _ in range(repeats)]
    return 2 * size**3 / median(seconds) / 1e9


def read_seconds(nbytes: int, repeats: int = 7) -> float:
    """The least time one thread takes to read `nbytes` of fp32 (`sum` over a buffer that size,
    read again and again, so it stays in the caches where it fits, as a decode step's weights do)."""
    import torch

    from core.threads import torch_threads

    with torch_threads(1):
        data = torch.rand(nbytes // 4)
        data.sum()
        return min(timed(data.sum) for _ in range(repeats))


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A markdown table; floats get 3 significant figures (or thousands separators when large)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            if value != value:
                return "n/a"
            if abs(value) >= 1000:
                return f"{value:,.0f}"
            return f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def cello_tokens():
    """(tokenizer, tokenized training pieces) of the 42 cello-suite movements, as training sees them."""
    from core.learning.dataset import tokenize_pieces
    from core.learning.tokenizer import PartitaTokenizer, settings_for
    from core.music.corpus import import_corpus

    corpus = import_corpus(require(CELLO_XML))
    tokenizer = PartitaTokenizer.create(settings_for([p.score for p in corpus.pieces]))
    return tokenizer, tokenize_pieces(corpus.pieces, tokenizer, corpus.pitch_range)
