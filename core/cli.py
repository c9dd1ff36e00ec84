"""The `partita` command line: one subcommand per module in `core.commands`.

Each command module defines ``add_parser(subparsers)`` (which registers its options and sets
``func``) so that commands stay small, independent and importable without side effects.
Heavy libraries (torch, music21) are imported inside the commands, so `partita --help` is fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from pathlib import Path

from core.terminal import printable

# Order is the order of `partita --help`.
COMMAND_MODULES = (
    "corpus",
    "train",
    "generate",
    "infill",
    "evaluate",
    "export",
    "export_model",
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

    log_path = setup_logging()
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
        print(f"partita {args.command}: {printable(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:  # disk full, read-only folder, ...: say which file, keep the traceback in the log
        import logging

        where = f"{error.filename}: " if error.filename else ""
        print(f"partita {args.command}: {printable(f'{where}{error.strerror or error}')}", file=sys.stderr)
        if _names_a_path_given(error, args):
            return 2  # a path the user gave that cannot be written or read: a user mistake, no traceback
        logging.getLogger("partita").exception("partita %s failed", args.command)
        return 1
    except Exception as error:  # noqa: BLE001 (a fault no check foresaw: one line here, the traceback in the log)
        import logging

        logging.getLogger("partita").exception("partita %s failed", args.command)
        text = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {text[0][:160]}" if text else type(error).__name__
        print(f"partita {args.command}: failed ({printable(reason)}); the details are in {printable(str(log_path))}",
              file=sys.stderr)
        return 1



class UserError(Exception):
    """A problem the user can fix (bad path, bad option); printed without a traceback."""


# errors that say the path itself is wrong (missing folder, no permission, a file in the way), not
# that the machine failed (disk full, I/O error)
_PATH_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EROFS,
                errno.EEXIST, errno.ENAMETOOLONG}


def _names_a_path_given(error: OSError, args: argparse.Namespace) -> bool:
    """Whether `error` is about a path the user gave on the command line: that path, a file in it
    (a report folder), or a sibling named after it (OUT-1.mid for --out OUT.mid)."""
    if error.errno not in _PATH_ERRNOS or not error.filename:
        return False
    failed = Path(error.filename)
    for value in vars(args).values():
        if not isinstance(value, (str, Path)) or not str(value):
            continue
        given = Path(value)
        if given == Path("."):  # the working folder holds everything relative: it says nothing
            continue
        if failed == given or given in failed.parents:
            return True
        if failed.parent == given.parent and failed.name.startswith(given.stem + "-"):
            return True
    return False


def check_output(path: Path, option: str, *, folder: bool = False) -> None:
    """Refuse, before any work, an output the user named that cannot be written (see
    `core.atomic.check_writable`); the missing folders are created."""
    from core.atomic import check_writable

    try:
        check_writable(path, folder=folder)
    except OSError as error:
        raise UserError(f"{option} {path}: cannot write there ({error.strerror or error})") from None


if __name__ == "__main__":
    sys.exit(main())
