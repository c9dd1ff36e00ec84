"""Fit a style model's join guide: how hard should an infill's last bar be drawn to the notes after it?

The join guide (core.composing.joining) adds to the model's logits through a span's last bar a
pull towards the pitches of the first onset after the span. Pulled too little, lines leave a span
with a leap where the composer would step; too hard, they step where he leaps. Its fit to the
composer is the likelihood of his own notes: for spans of `--span` bars of the model's
*validation* pieces (spans from bar 5, every span + 4 bars, as `benchmarks/infill.py`), the real
notes are scored in nats per note given both sides, by the model's logits with the guide's bias
added at each token as the writer's state then stands (no grammar mask, and no sequence guide
where the model has one: the model's own distribution, pulled), for each pull of `--pulls`,
beside the same notes given the bars before only. A pull clearly likelier than the default is
the model's to ship (`scripts/ship_model.py --join`).

    .venv/bin/python benchmarks/join_fit.py [--models NAME_OR_RUN ...] [--pieces 16] [--span 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import table
from infill import TAIL_NOTES, spans_of
from style_fidelity import model_folders, pieces_of

from core.composing.generation import GenerationSettings, grammar_for
from core.composing.infill import InfillError, join_guide, join_pull, plan_infill, span_writer
from core.learning.checkpoint import load_model
from core.threads import torch_threads

PULLS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)


def nats(logits: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    return -torch.log_softmax(logits, -1)[torch.arange(len(targets)), targets].numpy()


def fit(loaded, args) -> dict:
    """Per pull: (nats over the spans' notes, over their last bars, over their last TAIL_NOTES
    notes), the same given the bars before only, and the notes counted."""
    tokenizer, model = loaded.tokenizer, loaded.model
    grammar = grammar_for(tokenizer)
    block = model.config.block_size
    pulled = np.zeros((len(args.pulls), 3))
    before_only = np.zeros(3)
    notes = spans = 0
    for piece in pieces_of(loaded, args.pieces, args.data, part="validation")[1]:
        for first in spans_of(piece.score, args.span):
            try:
                plan = plan_infill(loaded, piece.score, first, first + args.span - 1, GenerationSettings())
            except InfillError:
                continue
            span = tokenizer.to_model_ids(plan.middle).tolist()
            room = block - len(plan.head) - len(span)
            guides = [join_guide(loaded, grammar, piece.score, plan, pull) for pull in args.pulls]
            if room < 0 or not any(guides):  # outgrows the context, or nothing after it to join
                continue
            context = plan.read[-room:] if room else []
            with torch.inference_mode():
                both = model(torch.tensor([(plan.head + context + span)[:-1]]))[0][0, -len(span):].float()
                alone = model(torch.tensor([((context or [tokenizer.bos_id]) + span)[:-1]]))[0][0, -len(span):].float()
            writer, biases = span_writer(grammar, plan), []
            for token in span:  # each guide's bias at each token, as the writer's state stands before it
                biases.append([guide.bias(writer.state, None) if guide else None for guide in guides])
                writer.write(token)
            per_note = tokenizer.notes_per_token[np.asarray(span)]
            count = int(per_note.sum())
            opens = np.flatnonzero(tokenizer.opens_bar[np.asarray(span)])
            parts = [np.ones(len(span), bool), np.arange(len(span)) >= opens[-1],
                     np.cumsum(per_note) > count - TAIL_NOTES]
            targets = torch.tensor(span)
            for row in range(len(args.pulls)):
                logits = both.clone()
                for at, bias in enumerate(biases):
                    if bias[row] is not None:
                        logits[at, bias[row][0]] += bias[row][1]
                pulled[row] += [nats(logits, targets)[part].sum() for part in parts]
            before_only += [nats(alone, targets)[part].sum() for part in parts]
            notes += count
            spans += 1
    return {"model": loaded.config.get("name") or args.model, "spans": spans, "notes": notes, "pulled": pulled,
            "before_only": before_only, "shipped": join_pull(loaded, GenerationSettings())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", help="shipped model names or run folders (default: all shipped)")
    parser.add_argument("--data", help="the corpus the models learned from, where their config.json's is not here")
    parser.add_argument("--pieces", type=int, default=16, help="validation pieces")
    parser.add_argument("--span", type=int, default=2, help="bars of each span")
    parser.add_argument("--pulls", type=float, nargs="+", default=PULLS, help="the pulls tried, nats a semitone")
    args = parser.parse_args()
    rows = []
    for folder in model_folders(args.models):
        loaded = load_model(str(folder))
        if not loaded.tokenizer.settings.use_infill:
            print(f"{folder.name}: skipped (trained before infill)")
            continue
        args.model = folder.name
        with torch_threads(1):
            result = fit(loaded, args)
        if not result["spans"]:
            print(f"{folder.name}: no validation span to score")
            continue
        whole = result["pulled"][:, 0]
        best = int(np.argmin(whole))
        for row, pull in enumerate(args.pulls):
            lower = 1 - result["pulled"][row] / result["before_only"]
            mark = " (lowest)" if row == best else ""
            mark += " (its own now)" if abs(pull - result["shipped"]) < 1e-9 else ""
            rows.append([folder.name, f"{pull:g}{mark}", f"{whole[row] / result['notes']:.3f}",
                         *(f"{share:.1%}" for share in lower)])
        rows.append([folder.name, "bars before only", f"{result['before_only'][0] / result['notes']:.3f}", "", "", ""])
        print(f"{folder.name}: {result['spans']} spans, {result['notes']} notes", flush=True)
    print(f"\n## The join guide's pull: nats per note of {args.span}-bar spans of validation pieces, given both sides\n")
    print(table(["model", "pull (nats a semitone)", "nats per note", "lower than before only",
                 "its last bar", f"its last {TAIL_NOTES} notes"], rows))


if __name__ == "__main__":
    main()
