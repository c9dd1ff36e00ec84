"""`partita version`: versions of Partita and the libraries it stands on."""

from __future__ import annotations

from importlib import metadata


def versions() -> dict[str, str]:
    found = {}
    for dist in ("partita", "torch", "miditok", "symusic", "music21", "mido", "python-rtmidi", "PySide6"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def print_versions() -> None:
    for name, version in versions().items():
        print(f"{name:14} {version}")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("version", help="print versions of Partita and its libraries")
    parser.set_defaults(func=lambda args: print_versions())
