"""Originality: does generated music copy the training set, and if so, which passage?

Melodies are compared as sequences of (interval, inter-onset interval) steps along the top
line, so a copy transposed to another key is still a copy. Two figures per piece:

* n-gram copy rate: the share of the generated piece's `n`-step windows that also stand
  somewhere in the training set (short figures such as scales are shared by all real music,
  so the held-out real pieces give the baseline to compare with);
* the longest copied run: the longest stretch that follows one training piece step by step,
  with where it comes from (piece, bars) and where it lands (bars), to name the passage.

A piece is flagged as a copy when its longest run reaches `CopyThresholds.run_notes` notes or
its copy rate reaches `CopyThresholds.rate`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import symusic

from core.judging.metrics.notes import NoteArrays, bar_length_ticks, melody, note_arrays

IOI_STEPS_PER_QUARTER = 12  # inter-onset intervals rounded to 16ths and eighth triplets


@dataclass(frozen=True)
class CopyThresholds:
    n: int = 8  # steps per n-gram (n + 1 notes)
    run_notes: int = 24  # a copied run this long (notes) flags the piece
    rate: float = 0.5  # so does this share of copied n-grams


@dataclass(frozen=True)
class CopiedPassage:
    """The longest stretch of a generated piece that follows one training piece."""

    source: str  # training piece name
    source_bars: tuple[int, int]  # first and last bar (1-based) in the training piece
    generated_bars: tuple[int, int]  # first and last bar (1-based) in the generated piece
    notes: int  # length of the copied run, in notes of the top line
    transposition: int  # semitones from the source to the copy

    def describe(self) -> str:
        shift = f", transposed {self.transposition:+d}" if self.transposition else ""
        return (f"bars {self.generated_bars[0]}-{self.generated_bars[1]} copy {self.source} "
                f"bars {self.source_bars[0]}-{self.source_bars[1]} ({self.notes} notes{shift})")


@dataclass(frozen=True)
class OriginalityResult:
    ngram_copy_rate: float  # share of n-grams found in the training set
    bar_copy_rate: float  # share of bars (3+ notes) whose rhythm and intervals stand in the training set
    longest_run_notes: int
    passage: CopiedPassage | None  # the longest run, when at least one n-gram matched
    flagged: bool

    def to_json(self) -> dict:
        return asdict(self)


def _steps(line: NoteArrays) -> list[tuple[int, int]]:
    """(interval in semitones, IOI in grid steps) from each note to the next."""
    intervals = np.diff(line.pitch)
    ioi = np.round(np.diff(line.onset) * IOI_STEPS_PER_QUARTER / line.tpq).astype(np.int64)
    return list(zip(intervals.tolist(), ioi.tolist(), strict=True))


def _bar_signatures(line: NoteArrays, bar: int) -> list[tuple | None]:
    """Per bar: (onset positions, intervals from the bar's first note), None under 3 notes."""
    if len(line) == 0:
        return []
    bars = line.onset // bar
    signatures: list[tuple | None] = []
    for index in range(int(bars.max()) + 1):
        mask = bars == index
        if mask.sum() < 3:
            signatures.append(None)
            continue
        positions = tuple(np.round((line.onset[mask] % bar) * IOI_STEPS_PER_QUARTER / line.tpq).astype(int).tolist())
        pitches = line.pitch[mask]
        signatures.append((positions, tuple((pitches - pitches[0]).tolist())))
    return signatures


class TrainingIndex:
    """The training set's n-grams and bars, built once and queried for every generated piece."""

    def __init__(self, named_scores: Sequence[tuple[str, symusic.Score]], thresholds: CopyThresholds = CopyThresholds()):
        self.thresholds = thresholds
        self.names: list[str] = []
        self.lines: list[NoteArrays] = []
        self.bar_lengths: list[int] = []
        self.ngrams: dict[tuple, list[tuple[int, int]]] = defaultdict(list)  # n-gram -> [(piece, start step)]
        self.bars: set[tuple] = set()
        n = thresholds.n
        for name, score in named_scores:
            piece = len(self.names)
            line = melody(note_arrays(score))
            self.names.append(name)
            self.lines.append(line)
            self.bar_lengths.append(bar_length_ticks(score))
            steps = _steps(line)
            for start in range(len(steps) - n + 1):
                self.ngrams[tuple(steps[start:start + n])].append((piece, start))
            self.bars.update(s for s in _bar_signatures(line, bar_length_ticks(score)) if s is not None)

    def check(self, score: symusic.Score) -> OriginalityResult:
        """How much of `score` stands in the training set, and its longest copied passage."""
        n = self.thresholds.n
        line = melody(note_arrays(score))
        steps = _steps(line)
        starts = range(len(steps) - n + 1)
        matched = 0
        runs: dict[tuple[int, int], int] = {}  # (piece, source start) -> run length ending here, in n-grams
        best = (0, -1, -1, -1)  # (run, generated start of last n-gram, piece, source start of last n-gram)
        for start in starts:
            hits = self.ngrams.get(tuple(steps[start:start + n]), [])
            matched += bool(hits)
            current = {}
            for piece, source in hits:
                run = runs.get((piece, source - 1), 0) + 1
                current[(piece, source)] = run
                if run > best[0]:
                    best = (run, start, piece, source)
            runs = current
        bar = bar_length_ticks(score)
        signatures = [s for s in _bar_signatures(line, bar) if s is not None]
        bar_rate = float(np.mean([s in self.bars for s in signatures])) if signatures else 0.0
        rate = matched / len(starts) if len(starts) else 0.0
        passage, longest = None, 0
        if best[0]:
            run, end_start, piece, end_source = best
            longest = run + n  # n-grams of n steps overlapping by n-1: run + n - 1 steps, + 1 notes
            first_gen, first_src = end_start - run + 1, end_source - run + 1
            last_gen, last_src = first_gen + longest - 1, first_src + longest - 1
            source_line, source_bar = self.lines[piece], self.bar_lengths[piece]
            passage = CopiedPassage(
                source=self.names[piece],
                source_bars=(int(source_line.onset[first_src] // source_bar) + 1,
                             int(source_line.onset[last_src] // source_bar) + 1),
                generated_bars=(int(line.onset[first_gen] // bar) + 1, int(line.onset[last_gen] // bar) + 1),
                notes=longest,
                transposition=int(line.pitch[first_gen] - source_line.pitch[first_src]),
            )
        flagged = longest >= self.thresholds.run_notes or rate >= self.thresholds.rate
        return OriginalityResult(rate, bar_rate, longest, passage, flagged)
