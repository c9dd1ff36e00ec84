"""Fine-tuned from a base model against the same model trained from scratch, over several splits.

Four test movements are few: which four a split holds out moves the ratio of two runs more than
most changes of recipe do. Each `--pair SCRATCH FINE` is two runs on one split (one `--seed` of
`partita train`); each is scored on that split's test pieces with its lowest-validation weights
(`core.judging.evaluation.held_out_figures`, as `held_out.py --best` does). The table has a row per
split and the mean over splits, each with the 4-gram of that split's training pieces; with
`--per-piece`, a second table has a row per test movement.

    .venv/bin/python benchmarks/fine_vs_scratch.py --pair SCRATCH_RUN FINE_RUN [--pair ...] [--per-piece] [--data PATH]

The runs of the README's figure (issue 17), for S = 0, 1, 2:

    partita train --data ../shared/data/mutopia-bach-midi/cello-suites --key normalize --ema 0.998 \\
        --steps 3000 --patience 5 --batch-size 16 --eval-every 100 --seed S --out scratch-S
    partita train --data ../shared/data/mutopia-bach-midi/cello-suites --init base --key normalize \\
        --mix builtin:base --mix-share 0.5 --ema 0.998 --steps 2500 --patience 5 --batch-size 16 \\
        --eval-every 100 --seed S --out fine-S

(the second is `scripts/train-bach-cello-suites-model`'s command with `--seed S`).
"""

from __future__ import annotations

import argparse
import statistics

from _common import machine, table

from core.judging.evaluation import EvaluationSettings, held_out_figures, learning_figures
from core.learning.checkpoint import load_model


def figures_of(run: str, data: str | None) -> tuple[dict, dict, list[str], int]:
    loaded = load_model(run, best=True)
    figures = held_out_figures(loaded, data, "test")
    return figures["model"], figures["baseline"], figures["pieces"], loaded.step


def per_piece(scratch_run: str, fine_run: str, data: str | None) -> list[list[object]]:
    """[movement, scratch, fine-tuned, below by] for each test piece of the pair's split."""
    from core.music.corpus import import_corpus

    scratch, fine = load_model(scratch_run, best=True), load_model(fine_run, best=True)
    corpus = import_corpus(data or scratch.config["train"]["data"])
    by_name = {piece.name: piece for piece in corpus.pieces}
    split = scratch.config["corpus"]["split"]
    train = [by_name[name] for name in split["train"]]
    rows = []
    for name in split["test"]:
        losses = [learning_figures(loaded, train, [by_name[name]], corpus.pitch_range, EvaluationSettings())[0]
                  .model.loss_per_note for loaded in (scratch, fine)]
        rows.append([name.removesuffix(".mid"), f"{losses[0]:.2f}", f"{losses[1]:.2f}", f"{100 * (1 - losses[1] / losses[0]):.1f} %"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, action="append", required=True, metavar=("SCRATCH", "FINE"),
                        help="two runs of one split: from scratch, and fine-tuned from the base")
    parser.add_argument("--data", help="the corpus, where the runs' own path is not here")
    parser.add_argument("--per-piece", action="store_true", help="also a row per test movement")
    args = parser.parse_args()
    print(machine())
    rows, below_scratch, below_ngram = [], [], []
    for scratch_run, fine_run in args.pair:
        scratch, ngram, pieces, scratch_step = figures_of(scratch_run, args.data)
        fine, fine_ngram, fine_pieces, fine_step = figures_of(fine_run, args.data)
        if pieces != fine_pieces:
            raise SystemExit(f"{scratch_run} and {fine_run} hold out different pieces: train them with one --seed")
        ratio = 1 - fine["loss_per_note"] / scratch["loss_per_note"]
        pitch = 1 - fine["per_type"]["Pitch"]["loss"] / fine_ngram["per_type"]["Pitch"]["loss"]
        below_scratch.append(ratio)
        below_ngram.append(pitch)
        rows.append([", ".join(p.removesuffix(".mid") for p in pieces), f"{scratch['loss_per_note']:.2f} (step {scratch_step})",
                     f"{fine['loss_per_note']:.2f} (step {fine_step})", f"{100 * ratio:.1f} %",
                     f"{ngram['loss_per_note']:.2f}", f"{fine['per_type']['Pitch']['loss']:.2f} / "
                     f"{fine_ngram['per_type']['Pitch']['loss']:.2f}", f"{100 * pitch:.1f} %"])
    if len(rows) > 1:
        rows.append([f"mean of {len(rows)} splits", "", "", f"{100 * statistics.mean(below_scratch):.1f} %", "", "",
                     f"{100 * statistics.mean(below_ngram):.1f} %"])
    print(table(["test pieces", "scratch: loss/note", "fine-tuned: loss/note", "fine-tuned below scratch",
                 "4-gram loss/note", "Pitch: fine-tuned / 4-gram", "Pitch below the 4-gram"], rows))
    if args.per_piece:
        pieces = [row for scratch_run, fine_run in args.pair for row in per_piece(scratch_run, fine_run, args.data)]
        print()
        print(table(["test movement", "scratch: loss/note", "fine-tuned: loss/note", "fine-tuned below scratch"], pieces))


if __name__ == "__main__":
    main()
