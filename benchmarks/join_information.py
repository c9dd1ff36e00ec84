"""How much can the bars after a span tell about the span's last notes? A ceiling from the music.

`benchmarks/infill.py` finds the shipped models' spans only a little more likely given the bars
after them than given the bars before alone. This measures how much the music itself says at the
join, with no model of ours: for every bar line of every line of a corpus (each voice of Bach's
four-part chorales; the top line of the cello suites and of Miles Davis's solos), the last note
before the bar line is predicted from the interval between the two notes before it, with and
without the first note after the bar line, by counts (add-alpha; with the note after, smoothed
towards the former), scored on pieces left out (five folds by piece). The smoothing is fixed
(ALPHA, BETA), not chosen on the pieces scored. The difference, in nats per last note, is what knowing
the next bar's first note gives a predictor of the last note that sees as much as this one;
a model that sees the whole piece gains less where the bars before already tell it.

    .venv/bin/python benchmarks/join_information.py [--corpora chorales cello miles]
"""

from __future__ import annotations

import argparse
import bisect
import math
from collections import Counter, defaultdict

from _common import DATA, table

from core.judging.metrics.notes import melody, note_arrays
from core.music.scores import load_score

WIDTH = 12  # intervals clipped to an octave either way
ALPHA = 0.3  # add-alpha of the counts given the intervals before
BETA = 10.0  # weight of those counts in the counts given the note after too
FOLDS = 5

# (semitones between the two notes before the last, from the one before it to the last, from the
# one before it to the next bar's first): the last note is the one predicted, so all are measured
# from the note before it
Sample = tuple[int, int, int]


def joins(line: list[tuple[int, int]], bar_lines: list[int]) -> list[Sample]:
    """The samples of one line of (onset, pitch), in time order, at each of `bar_lines` (ticks)."""
    onsets = [onset for onset, _ in line]
    out = []
    for bar_line in bar_lines:
        at = bisect.bisect_left(onsets, bar_line)  # the first note at or after the bar line
        if at < 3 or at >= len(line):
            continue
        before2, before, last, after = (line[i][1] for i in (at - 3, at - 2, at - 1, at))
        out.append(tuple(max(-WIDTH, min(WIDTH, step)) for step in (before - before2, last - before, after - before)))
    return out


def top_line(score) -> list[tuple[int, int]]:
    """(onset, pitch) of the highest note at each onset of a score."""
    line = melody(note_arrays(score))
    return list(zip(line.onset.tolist(), line.pitch.tolist(), strict=True))


def midi_pieces(pattern: str) -> list[list[Sample]]:
    out = []
    for path in sorted(DATA.glob(pattern)):
        score = load_score(path)
        out.append(joins(top_line(score), [int(d) for d in score.get_downbeats()[1:]]))
    return out


def chorale_pieces() -> list[list[Sample]]:
    """Each four-part chorale of music21's corpus: the samples of its four voices."""
    import music21

    out = []
    for path in music21.corpus.getComposer("bach"):
        try:
            score = music21.corpus.parse(path)
        except Exception:  # (a few corpus files music21 itself cannot read)
            continue
        if len(score.parts) != 4:
            continue
        samples: list[Sample] = []
        for part in score.parts:
            flat = part.flatten()
            line = [(round(n.offset * 48), n.pitch.midi) for n in flat.notes if n.isNote]
            bar_lines = [round(m.offset * 48) for m in part.getElementsByClass("Measure")][1:]
            samples += joins(line, bar_lines)
        out.append(samples)
    return out


def held_out_loss(pieces: list[list[Sample]], with_after: bool) -> float:
    """Nats per last note on pieces left out, predicting the last note from the interval between
    the two before it (add-ALPHA), and `with_after` from the next bar's first note as well (counts
    smoothed towards the former with weight BETA, so that few samples cannot make it much worse)."""
    total = count = 0
    for fold in range(FOLDS):
        before: dict[int, Counter] = defaultdict(Counter)
        both: dict[tuple[int, int], Counter] = defaultdict(Counter)
        for index, piece in enumerate(pieces):
            if index % FOLDS != fold:
                for into, last, after in piece:
                    before[into][last] += 1
                    both[into, after][last] += 1
        for index, piece in enumerate(pieces):
            if index % FOLDS == fold:
                for into, last, after in piece:
                    seen = before[into]
                    p = (seen[last] + ALPHA) / (sum(seen.values()) + ALPHA * (2 * WIDTH + 1))
                    if with_after:
                        seen = both[into, after]
                        p = (seen[last] + BETA * p) / (sum(seen.values()) + BETA)
                    total -= math.log(p)
                    count += 1
    return total / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", nargs="+", default=["chorales", "cello", "miles"],
                        choices=["chorales", "cello", "miles"])
    args = parser.parse_args()
    sources = {"chorales": ("Bach's chorales, each voice (music21)", chorale_pieces),
               "cello": ("cello suites, top line (Mutopia MIDI)",
                         lambda: midi_pieces("mutopia-bach-midi/cello-suites/*.mid")),
               "miles": ("Miles Davis's solos (WJazzD, on their bars)", lambda: midi_pieces("wjazzd-beats/MilesDavis_*.mid"))}
    rows = []
    for name in args.corpora:
        about, read = sources[name]
        pieces = [p for p in read() if p]
        before = held_out_loss(pieces, False)
        both = held_out_loss(pieces, True)
        rows.append([about, len(pieces), sum(map(len, pieces)), before, both, before - both,
                     f"{100 * (1 - both / before):.1f} %"])
    print("## The last note before a bar line, given the interval into it, and given the next bar's first note too\n")
    print(table(["corpus", "pieces", "lines crossing a bar line", "nats per last note: interval before", "and the note after",
                 "the note after gives (nats)", "lower by"], rows))


if __name__ == "__main__":
    main()
