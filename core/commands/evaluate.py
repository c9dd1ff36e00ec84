"""`partita evaluate --model RUN_DIR --data PATH --out REPORT_DIR [--generate N | --generated DIR]`."""

from __future__ import annotations

from pathlib import Path

from core.commands import add_model_arguments, seed_number


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="judge a model: learning figures, metrics, copies, report")
    add_model_arguments(parser)
    parser.add_argument("--data", required=True, help="the corpus the model was trained on (folder, file, builtin:NAME)")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json and report.html")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--generate", type=int, default=8, metavar="N", help="generate N pieces to judge (default 8)")
    source.add_argument("--generated", type=Path, metavar="DIR", help="judge the music files in DIR instead")
    parser.add_argument("--bars", type=int, default=8, help="bars per generated piece")
    parser.add_argument("--prompt-bars", type=int, default=2, help="bars of each held-out piece used as the seed")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--sweep", default="0.5,0.75,1,1.25,1.5",
                        help="temperatures of the sweep, comma-separated ('' for none)")
    parser.add_argument("--variations", type=int, default=4, help="variations of one seed per sweep temperature")
    parser.add_argument("--ngram-order", type=int, default=4, help="order of the n-gram baseline (default 4, at most 8)")
    parser.add_argument("--seed", type=seed_number, default=0)
    parser.add_argument("--no-music21", action="store_true", help="estimate keys without music21 (faster)")
    parser.set_defaults(func=run)


def run(args) -> int:
    import sys

    from core.cli import UserError, check_output
    from core.judging.evaluation import EvaluationError, EvaluationSettings, evaluate_run
    from core.judging.metrics.ngram import MAX_ORDER
    from core.judging.report import headline_text, write_report
    from core.learning.checkpoint import CheckpointError

    try:
        sweep = tuple(float(t) for t in args.sweep.split(",") if t.strip())
    except ValueError:
        raise UserError(f"--sweep: not a list of temperatures: {args.sweep!r}") from None
    if args.generated is None and args.generate < 1:
        raise UserError("--generate must be at least 1")
    if args.bars < 1 or args.prompt_bars < 0:
        raise UserError("--bars must be at least 1, --prompt-bars at least 0")
    if not 1 <= args.ngram_order <= MAX_ORDER:
        raise UserError(f"--ngram-order must be between 1 and {MAX_ORDER} (got {args.ngram_order}): "
                        "each longer context costs memory for every training token")
    if not 0 < args.temperature <= 5 or any(not 0 < t <= 5 for t in sweep):
        raise UserError("temperatures must be in (0, 5]")
    if args.variations < 1:
        raise UserError("--variations must be at least 1")
    check_output(args.out, "--out", folder=True)  # before the evaluation, not after it
    settings = EvaluationSettings(
        generate=args.generate if args.generated is None else 0, bars=args.bars, prompt_bars=args.prompt_bars,
        temperature=args.temperature, sweep=sweep, sweep_variations=args.variations,
        ngram_order=args.ngram_order, seed=args.seed, use_music21=not args.no_music21,
    )
    try:
        report = evaluate_run(args.model, args.data, generated_dir=args.generated, settings=settings, best=args.best,
                              progress=lambda message: print(f"  {message}", file=sys.stderr))
    except (CheckpointError, EvaluationError, FileNotFoundError) as error:
        raise UserError(str(error)) from None  # FileNotFoundError: --data names nothing (as `train` says)
    json_path, html_path = write_report(report, args.out)
    print(headline_text(report))
    for warning in report.warnings:
        print(f"! {warning}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"wrote {json_path} and {html_path}")
    return 0

