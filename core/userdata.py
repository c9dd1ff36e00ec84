"""Where Partita keeps a user's things, and the log file a user can attach to a bug report.

Places follow the platform's conventions through platformdirs (on Linux the XDG folders):
  runs          trained models, one run folder each           ~/.local/share/partita/runs
  corpus_cache  parsed scores and token caches                ~/.cache/partita/corpus
  sessions      the GUI's autosaved session (session.json)    ~/.local/state/partita
  logs          partita.log and its rotated predecessors      ~/.local/state/partita/log
Settings (window layout, recent files, MIDI port) live in QSettings, not here.

`PARTITA_HOME` puts all four under one folder instead (portable installs, tests); the corpus
cache also honours `PARTITA_CACHE_DIR`, as `core.music.corpus.default_cache_dir` does.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "partita"
LOG_FILE = "partita.log"
LOG_MAX_BYTES = 1_000_000  # per file; with LOG_BACKUPS the logs never take more than ~4 MB
LOG_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"


@dataclass(frozen=True)
class UserDirs:
    runs: Path  # one folder per training run (core.learning.checkpoint's run folders)
    corpus_cache: Path  # parsed-score and token caches; safe to delete
    sessions: Path  # the GUI's autosaved session.json (and session.json.bad after a damaged one)
    logs: Path  # partita.log, partita.log.1, ...

    def ensure(self) -> UserDirs:
        """Create the folders (idempotent) and return self."""
        for path in (self.runs, self.corpus_cache, self.sessions, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        return self


def user_dirs() -> UserDirs:
    """The user's Partita folders (not created; call `.ensure()` before writing)."""
    home = os.environ.get("PARTITA_HOME")
    if home:
        root = Path(home).expanduser()
        return UserDirs(root / "runs", root / "cache" / "corpus", root / "state", root / "log")
    import platformdirs

    cache = os.environ.get("PARTITA_CACHE_DIR")
    return UserDirs(
        runs=Path(platformdirs.user_data_dir(APP_NAME)) / "runs",
        corpus_cache=Path(cache) if cache else Path(platformdirs.user_cache_dir(APP_NAME)) / "corpus",
        sessions=Path(platformdirs.user_state_dir(APP_NAME)),
        logs=Path(platformdirs.user_log_dir(APP_NAME)),
    )


def resumable_runs(runs_dir: Path | None = None) -> list[Path]:
    """Run folders with a complete checkpoint that stopped before their planned steps, newest first
    (not those that `patience` ended: they are done).

    A folder counts only if its config.json (written last, atomically) parses, names a step and
    names a weights file that exists, so a run killed mid-save is found at its previous
    checkpoint, never at a half-written one.
    """
    from core.learning.checkpoint import CheckpointError, weights_path  # imports torch: only when asked
    from core.reading import read_json

    runs_dir = Path(runs_dir) if runs_dir is not None else user_dirs().runs
    found = []
    for config_path in runs_dir.glob("*/config.json"):
        try:
            # within core.reading's bounds: the window asks at start, and a FIFO must not stop it
            config = read_json(config_path, what="a config.json")
            step = int(config["training"]["step"])
            planned = int(config["train"]["steps"])
            weights = weights_path(config_path.parent, config)
            stopped_early = config["training"].get("stopped_early")
            modified = config_path.stat().st_mtime
        except (OSError, ValueError, KeyError, TypeError, AttributeError, CheckpointError):
            continue
        if step < planned and weights.is_file() and not stopped_early:
            found.append((modified, config_path.parent))
    return [folder for _, folder in sorted(found, key=lambda item: item[0], reverse=True)]


_handler_lock = threading.Lock()


def setup_logging(level: int | str = logging.INFO, *, console: bool = False, log_dir: Path | None = None) -> Path:
    """Send Partita's log records to a rotating file (and optionally stderr); return the file.

    Call once at start-up from the CLI's and the app's `main`. Calling again replaces the
    handlers this function installed (it never stacks them), so tests and re-entry are safe.
    Uncaught exceptions, also in threads, are written to the log with their traceback before
    the usual handling, so the file alone tells what went wrong. If the log folder cannot be
    written (read-only home), logging falls back to stderr and the returned path says where it
    would have been.
    """
    log_dir = Path(log_dir) if log_dir is not None else user_dirs().logs
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    with _handler_lock:
        for handler in [h for h in root.handlers if getattr(h, "_partita", False)]:
            root.removeHandler(handler)
            handler.close()
        handlers: list[logging.Handler] = []
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=False))
        except OSError as error:
            console = True
            print(f"partita: cannot write the log file {path}: {error.strerror or error}", file=sys.stderr)
        if console:
            handlers.append(logging.StreamHandler(sys.stderr))
        for handler in handlers:
            handler._partita = True  # marks the handlers this function owns
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(handler)
        root.setLevel(level)
    _install_excepthooks()
    logging.getLogger("partita").info("start: %s", _environment_line())
    return path


def _environment_line() -> str:
    """One line that answers a bug report's first questions: which Partita, Python, OS, argv."""
    try:
        from importlib import metadata

        version = metadata.version("partita")
    except Exception:  # a frozen bundle may lack dist-info; the log still starts
        version = "unknown"
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    return (f"Partita {version}{frozen}, Python {platform.python_version()}, {platform.platform()}, "
            f"argv {sys.argv[1:]}")


def _install_excepthooks() -> None:
    if getattr(sys.excepthook, "_partita", False):
        return
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def log_uncaught(kind, value, traceback):
        if not issubclass(kind, KeyboardInterrupt):
            logging.getLogger("partita").critical("uncaught exception", exc_info=(kind, value, traceback))
        previous_hook(kind, value, traceback)

    def log_uncaught_in_thread(args):
        if not issubclass(args.exc_type, KeyboardInterrupt):
            logging.getLogger("partita").critical(
                "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread_hook(args)

    log_uncaught._partita = True
    sys.excepthook = log_uncaught
    threading.excepthook = log_uncaught_in_thread
