"""What token healing costs: the mask of one re-spelling step, per BPE vocabulary.

With BPE, generation spells a seed's last bar again before it continues (`core.composing.generation.
seed_for_model`): each step's mask (`RemiState.respelling`) says which tokens spell the start of
what is left of that bar, or all of it and go on. Seeds: the first three bars and nine tokens of the
fourth of the 42 cello movements (a cut inside a bar, as a duet call or Continue from here makes).
Times one mask per seed, the state as generation has it; the first call also builds the
grammar's index of tokens by their first base token (counted in "max").

    .venv/bin/python benchmarks/bpe_healing.py [--sizes 1000 2000 4000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import CELLO_XML, machine, require, table

from core.composing.generation import seed_for_model
from core.composing.grammar import RemiGrammar
from core.learning.dataset import tokenize_pieces
from core.learning.tokenizer import PartitaTokenizer, settings_for
from core.music.corpus import import_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    args = parser.parse_args()
    corpus = import_corpus(str(require(CELLO_XML)))
    base = PartitaTokenizer.create(settings_for([p.score for p in corpus.pieces]))
    pieces = tokenize_pieces(corpus.pieces, base, corpus.pitch_range, 0)
    bar = base.inner.vocab["Bar_None"]
    seeds = []
    for piece in pieces:
        ids = piece.ids.tolist()
        bar_lines = [i for i, token in enumerate(ids) if token == bar]
        if len(bar_lines) > 4:
            seeds.append(ids[:bar_lines[3] + 9])
    rows = []
    for size in args.sizes:
        bpe = base.train_bpe(size, [p.ids[1:-1] for p in pieces])
        grammar = RemiGrammar(bpe)
        times, pending = [], []
        for seed in seeds:
            _, respell = seed_for_model(bpe, seed)
            state = grammar.new_state()
            for token in seed[:len(seed) - len(respell)]:
                state.feed(token)
            start = time.perf_counter()
            state.respelling(respell, min_bars=10)
            times.append(1000 * (time.perf_counter() - start))
            pending.append(len(respell))
        rows.append([f"BPE {len(bpe)}", len(seeds), statistics.median(pending), f"{statistics.median(times):.2f}",
                     f"{max(times):.2f}"])
    print(f"## Token healing: one re-spelling mask\n\nMachine: {machine()}.\n")
    print(table(["vocabulary", "seeds", "tokens to spell again (median)", "median ms", "max ms"], rows))


if __name__ == "__main__":
    main()
