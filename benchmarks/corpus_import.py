"""Corpus import + tokenization speed, cold and warm, beside a music21-only parse of the same files.

For the 453 jazz solos (MIDI) and the 42 cello-suite movements (MusicXML) from ../shared/data:
* cold: `import_corpus` + `tokenize_pieces` with an empty cache folder (PARTITA_CACHE_DIR):
  every file is parsed, checked, described (notes, bars, key ...), cached, and tokenized;
* warm: the same again over the filled cache (what reopening a project costs);
* music21: `music21.converter.parse(forceSource=True)` per file (music21 would otherwise reuse
  pickles of files it parsed before), the parse alone (no tokenization), on the
  first files in name order for at most `--music21-budget` seconds per corpus, extrapolated
  to the whole corpus: music21 takes seconds per file, and the full run would take many minutes.

    .venv/bin/python benchmarks/corpus_import.py [--music21-budget 80]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

from _common import CELLO_XML, JAZZ, machine, median, require, table

from core.learning.dataset import tokenize_pieces
from core.learning.tokenizer import PartitaTokenizer, settings_for
from core.music.corpus import import_corpus, resolve_source


def import_and_tokenize(folder: Path) -> tuple[float, int, int]:
    """Seconds to import and tokenize a folder; pieces and tokens."""
    start = time.perf_counter()
    corpus = import_corpus(folder)
    tokenizer = PartitaTokenizer.create(settings_for([p.score for p in corpus.pieces]))
    pieces = tokenize_pieces(corpus.pieces, tokenizer, corpus.pitch_range)
    return time.perf_counter() - start, len(corpus.pieces), sum(len(p.ids) for p in pieces)


def music21_rate(files: list[Path], budget_s: float) -> tuple[float, int]:
    """Files per second of music21.converter.parse over the first files, within the budget."""
    import music21

    done, spent = 0, 0.0
    for path in files:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            music21.converter.parse(str(path), forceSource=True)  # no pickled copy from an earlier run
        spent += time.perf_counter() - start
        done += 1
        if spent >= budget_s and done >= 3:
            break
    return done / spent, done


def run(budget_s: float, repeats: int) -> str:
    rows = []
    import music21  # noqa: F401  (imported before timing: its import costs seconds, once)

    for label, folder in (("jazz solos (MIDI)", require(JAZZ)), ("cello suites (MusicXML)", require(CELLO_XML))):
        files = resolve_source(folder)[1]
        with tempfile.TemporaryDirectory(prefix="partita-bench-cache-") as cache:
            os.environ["PARTITA_CACHE_DIR"] = cache
            cold, pieces, tokens = import_and_tokenize(folder)
            warm = median([import_and_tokenize(folder)[0] for _ in range(repeats)])
        os.environ.pop("PARTITA_CACHE_DIR", None)
        m21_rate, m21_files = music21_rate(files, budget_s)
        n = len(files)
        rows.append([label, n, pieces, tokens, cold, n / cold, warm, n / warm,
                     f"{m21_rate:.2f} ({m21_files} files)", n / m21_rate,
                     f"{(n / cold) / m21_rate:.1f}x", f"{(n / warm) / m21_rate:.0f}x"])
    caption = (f"Machine: {machine()}, load average {os.getloadavg()[0]:.1f}. Cold: empty cache folder; "
               f"warm: median of {repeats} reopenings in the same process. music21: converter.parse(forceSource=True) alone "
               f"(no tokenization), timed on the first files for about {budget_s:.0f} s and extrapolated "
               "to the whole corpus.")
    return caption + "\n\n" + table(
        ["corpus", "files", "pieces", "tokens", "cold s", "cold files/s", "warm s", "warm files/s",
         "music21 files/s", "music21 s (extrapolated)", "cold vs music21", "warm vs music21"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music21-budget", type=float, default=80.0, help="seconds per corpus")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("## Corpus: import + tokenize\n")
    print(run(args.music21_budget, args.repeats))


if __name__ == "__main__":
    main()
