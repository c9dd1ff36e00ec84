"""Copy what composing needs from a run folder into resources/models/NAME: config.json (with a line
on what the model learned from, its data's licence and its measured figures), the weights file it
names, the tokenizer, metrics and corpus report; never the optimizer state.

    .venv/bin/python scripts/ship_model.py RUN_DIR NAME --about "..." --licence "..." [--best]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # core, when run as a script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("--about", required=True, help="one line: what the model learned from")
    parser.add_argument("--licence", required=True, help="the training data's licence")
    parser.add_argument("--best", action="store_true", help="ship the weights of the lowest validation loss")
    parser.add_argument("--base", action="store_true", help="a base model: for fine-tuning, never proposed for a seed")
    parser.add_argument("--sequences", type=float,
                        help="the share of bars its takes offer the bar before's figure by default (core.composing.sequencing)")
    parser.add_argument("--join", type=float,
                        help="its infills' pull towards the notes after the span, nats a semitone, by default "
                             "(core.composing.joining; fit it with benchmarks/join_fit.py)")
    parser.add_argument("--data", help="the corpus, where the run's own path is not here (for its figures)")
    args = parser.parse_args()
    config = json.loads((args.run / "config.json").read_text())
    weights = config["files"].get("best" if args.best else "weights", config["files"]["weights"])
    config["files"] = {"weights": weights}  # the optimizer state stays behind
    if args.best and "best" in config.get("training", {}):  # the shipped weights are that step's
        best = config["training"]["best"]
        config["training"] = {**config["training"], "step": best["step"], "validation": best, "last_step": config["training"]["step"]}
    config["about"] = args.about
    config["licence"] = args.licence
    if args.base:
        config["base_model"] = True
    for name in ("sequences", "join"):
        if getattr(args, name) is not None:
            config["generation"] = {**config.get("generation", {}), name: getattr(args, name)}
    if not args.base:  # held-out figures against the 4-gram, on the test pieces
        from core.judging.evaluation import held_out_figures
        from core.learning.checkpoint import load_model

        config["figures"] = held_out_figures(load_model(args.run, best=args.best), args.data)
    dest = ROOT / "resources" / "models" / args.name
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("model*.safetensors"):  # an earlier version's weights
        old.unlink()
    for name in (weights, "tokenizer.json", "corpus.json"):
        shutil.copy(args.run / name, dest / name)
    # the validation passes and checkpoints, not a line for every step
    events = [line for line in (args.run / "metrics.jsonl").read_text().splitlines() if '"TrainStep"' not in line]
    (dest / "metrics.jsonl").write_text("".join(line + "\n" for line in events))
    write_licence(dest, args.name, config)
    temporary = dest / ".config.json.tmp"
    temporary.write_text(json.dumps(config, indent=2))
    temporary.replace(dest / "config.json")  # last: it names the weights
    print(f"{args.name}: written to {dest}")


def write_licence(dest: Path, name: str, config: dict) -> None:
    """LICENCE.md beside the weights: what they learned from and under which licence, for anyone who
    copies the folder alone (ODbL, CC BY-SA: the licence travels with what was made from the data)."""
    text = (f"# {name}\n\n{config['about']}.\n\nThese weights were trained on data under this licence, which "
            f"applies to them as a work made from that data:\n\n{config['licence']}\n")
    (dest / "LICENCE.md").write_text(text)


if __name__ == "__main__":
    main()
