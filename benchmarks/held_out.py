"""Held-out cross-entropy of style models against each other and against a 4-gram, per note and on
Pitch tokens alone: which training recipe learns the composer best (issue 17's "Done when").

Each run is scored on its split's test pieces (which neither trained it nor chose its weights, so
`--best` weights compare fairly) with `core.judging.evaluation.held_out_figures`: the model and a 4-gram
(absolute discounting) fitted on the same run's training tokens, both on the same windows. Runs
compared with each other must share their split (the same corpus and seed). The first run is the
reference of the ratio column.

    .venv/bin/python benchmarks/held_out.py LABEL=RUN_OR_NAME ... [--data PATH] [--best] [--split test]
"""

from __future__ import annotations

import argparse

from _common import machine, table

from core.judging.evaluation import held_out_figures
from core.learning.checkpoint import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR_OR_NAME")
    parser.add_argument("--data", help="the corpus, where the runs' own path is not here")
    parser.add_argument("--best", action="store_true", help="the weights of each run's lowest validation loss")
    parser.add_argument("--split", default="test", choices=("test", "validation"))
    args = parser.parse_args()
    print(machine())
    rows, reference = [], None
    for item in args.runs:
        label, _, run = item.partition("=")
        loaded = load_model(run or label, best=args.best)
        figures = held_out_figures(loaded, args.data, args.split)
        model, ngram = figures["model"], figures["baseline"]
        reference = reference or model["loss_per_note"]
        rows.append([label, loaded.describe(), loaded.config["train"].get("key_mode") or "transpose",
                     model["loss_per_note"], model["loss_per_note"] / reference,
                     model["per_type"]["Pitch"]["loss"], model["per_type"]["Pitch"]["accuracy"],
                     ngram["loss_per_note"], ngram["per_type"]["Pitch"]["loss"],
                     1 - model["per_type"]["Pitch"]["loss"] / ngram["per_type"]["Pitch"]["loss"]])
    print(f"{args.split} pieces: {', '.join(figures['pieces'])}")
    print(table(["run", "weights", "keys", "loss/note", "vs first", "Pitch loss", "Pitch acc.", "4-gram loss/note",
                 "4-gram Pitch loss", "Pitch: below 4-gram by"], rows))


if __name__ == "__main__":
    main()
