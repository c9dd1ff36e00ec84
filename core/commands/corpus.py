"""`partita corpus inspect PATH`: import a corpus and print the per-file report."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("corpus", help="import a corpus and report on every file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    inspect = actions.add_parser("inspect", help="print the report table (and save it as JSON)")
    inspect.add_argument("path", help="folder, file, or builtin:bach-chorales / builtin:oneills-1850")
    inspect.add_argument("--json", type=Path, help="also save the report as JSON here")
    inspect.add_argument("--expand-repeats", action="store_true", help="play notated repeats (default: once)")
    inspect.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation/test split")
    inspect.add_argument("--model", help="check the meters against this model's vocabulary (a run folder or a "
                                         "shipped model's name, as for train --init); default: a new model's")
    inspect.set_defaults(func=run_inspect)
    builtins = actions.add_parser("builtins", help="list the corpora that ship with music21")
    builtins.set_defaults(func=run_builtins)


def run_inspect(args) -> int:
    from tqdm import tqdm

    from core.atomic import atomic_write_text
    from core.cli import UserError
    from core.learning.kept_meters import pieces_by_unkept_meter
    from core.music.corpus import import_corpus, split_by_piece, unkept_meter_warnings
    from core.terminal import printable

    vocabulary = model_vocabulary(args.model) if args.model else None  # a wrong --model: said before importing
    bar = tqdm(unit="file", desc="importing", leave=False)

    def progress(done: int, total: int, name: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(printable(name)[:30])
        bar.refresh()

    try:
        corpus = import_corpus(args.path, expand_repeats=args.expand_repeats, progress=progress)
    except FileNotFoundError as error:
        raise UserError(str(error)) from None
    finally:
        bar.close()
    if not corpus.report:
        from core.music.scores import SUPPORTED_SUFFIXES

        raise UserError(f"{args.path}: no music files there ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
    print(corpus.report_table())
    if not corpus.pieces:
        print(f"partita corpus: no piece of {printable(args.path)} could be imported (reasons above)", file=sys.stderr)
        return 1
    split = split_by_piece(corpus.pieces, seed=args.split_seed)
    print(f"split (seed {args.split_seed}): {len(split.train)} train, {len(split.validation)} validation, "
          f"{len(split.test)} test pieces")
    unkept = pieces_by_unkept_meter(corpus.pieces, vocabulary.kept_meters() if vocabulary else None)
    whose = f"the vocabulary of {printable(args.model)}" if args.model else "a new model's vocabulary"
    for line in unkept_meter_warnings(unkept, whose):
        print(f"partita corpus: warning: {line}", file=sys.stderr)
    if args.json:
        data = {"corpus": corpus.name, "stats": corpus.stats(), "split": split.names(),
                "unkept_meters": unkept, "files": [entry.to_json() for entry in corpus.report]}
        atomic_write_text(args.json, json.dumps(data, indent=1))
        print(f"report saved to {args.json}")
    return 0


def model_vocabulary(name: str):
    """The `TokenizerSettings` of a model folder or shipped model (UserError naming it otherwise)."""
    from core.cli import UserError
    from core.learning.checkpoint import CheckpointError, read_config, resolve_model_dir
    from core.learning.tokenizer import TokenizerSettings

    try:
        folder = resolve_model_dir(name)
        return TokenizerSettings.from_json(read_config(folder)["tokenizer"])
    except CheckpointError as error:
        raise UserError(f"--model {error}") from None
    except (ValueError, TypeError, KeyError) as error:
        raise UserError(f"--model {name}: its tokenizer settings cannot be read ({error})") from None


def run_builtins(args) -> int:
    from core.music.corpus import BUILTINS

    for name, description in BUILTINS.items():
        print(f"builtin:{name:16} {description}")
    return 0
