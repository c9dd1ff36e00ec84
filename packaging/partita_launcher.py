"""The bundle's one executable: the desktop app, or the command line when given a command.

  partita                      open the window
  partita song.mid score.mxl   open the window with these files (what the desktop's "Open with" runs)
  partita --version | COMMAND  the command line (`partita generate ...`, `partita train ...`)
  partita-gui [FILE...]        always the window (a link to this executable, for the .desktop file)

One executable keeps one copy of torch and Qt in the bundle; pip installs get the same two names
from pyproject's `partita` and `partita-gui` scripts.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def wants_cli(argv: list[str]) -> bool:
    """True when the arguments are a CLI command or option rather than files to open."""
    if os.path.basename(argv[0]).removesuffix(".exe") == "partita-gui" or len(argv) < 2:
        return False
    from core.cli import COMMAND_MODULES

    first = argv[1]
    return first.startswith("-") or (first in COMMAND_MODULES and not os.path.exists(first))


def main() -> int:
    if wants_cli(sys.argv):
        from core.cli import main as cli_main

        return cli_main(sys.argv[1:])
    from app.main import main as gui_main

    return gui_main(sys.argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch's DataLoader workers and torchrun re-enter the executable
    sys.exit(main())
