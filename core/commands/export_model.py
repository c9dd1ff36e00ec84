"""`partita export-model --hf DIR [--model RUN_DIR_OR_NAME] [--best]`: a model in the Hugging Face layout."""

from __future__ import annotations

from pathlib import Path

from core.commands import add_model_arguments

# The most the logits of transformers' GPT-2 may differ from Partita's (tests/core/test_hf.py: 0 on a CPU).
TOLERANCE = 1e-4


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export-model", help="write a model as a transformers GPT-2 (Hugging Face layout) with its tokenizer")
    parser.add_argument("--hf", type=Path, required=True, metavar="DIR",
                        help="new or empty folder (or an earlier export) for config.json, model.safetensors "
                             "and the tokenizer")
    add_model_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.cli import UserError, check_output
    from core.commands import load_cli_model

    try:
        from transformers.utils import logging as transformers_logging

        from core.learning.hf import check_export_folder, export_hf, verify_hf
    except ModuleNotFoundError as error:
        raise UserError(f"the Hugging Face layout needs {error.name} (pip install 'transformers>=4.40')") from None
    try:
        check_export_folder(args.hf)  # before loading the model, and never over a run folder
    except FileExistsError as error:
        raise UserError(f"--hf {args.hf}: {error.strerror}") from None
    check_output(args.hf, "--hf", folder=True)
    loaded = load_cli_model(args)
    export_hf(loaded, args.hf)
    transformers_logging.disable_progress_bar()  # its "Loading weights" bar says nothing here
    difference = verify_hf(args.hf, loaded)
    if not difference <= TOLERANCE:
        raise UserError(f"--hf {args.hf}: transformers computes other logits than Partita "
                        f"(largest difference {difference:.3g}); please report this")
    print(f"{args.hf}: GPT-2 of {loaded.model.num_parameters() / 1e6:.1f} M parameters ({loaded.describe()}), "
          f"{len(loaded.tokenizer)} tokens; AutoModelForCausalLM.from_pretrained gives Partita's logits "
          f"(largest difference {difference:.1g})")
    return 0
