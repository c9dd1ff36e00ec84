"""The `partita` command line: one subcommand per module in `core.commands`.

Each command module defines ``add_parser(subparsers)`` (which registers its options and sets
``func``) so that commands stay small, independent and importable without side effects.
Heavy libraries (torch, music21) are imported inside the commands, so `partita --help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order of `partita --help`.
COMMAND_MODULES = (
    "corpus",
    "train",
    "generate",
    "evaluate",
    "export",
    "ports",
    "play",
    "record",
    "duet",
    "version",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partita",
        description="Partita: learn a composer's style from symbolic music and compose with it.",
    )
    parser.add_argument("--version", action="store_true", help="print versions and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"core.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"core.commands.{name}":
                continue  # a command not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from core.userdata import setup_logging

    setup_logging()
    if args.version:
        from core.commands.version import print_versions

        print_versions()
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UserError as error:
        print(f"partita {args.command}: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # disk full, read-only folder, ...: say which file, keep the traceback in the log
        import logging

        logging.getLogger("partita").exception("partita %s failed", args.command)
        where = f"{error.filename}: " if error.filename else ""
        print(f"partita {args.command}: {where}{error.strerror or error}", file=sys.stderr)
        return 1


class UserError(Exception):
    """A problem the user can fix (bad path, bad option); printed without a traceback."""


if __name__ == "__main__":
    sys.exit(main())
