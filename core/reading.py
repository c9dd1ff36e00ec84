"""Reading a file someone else made, within stated bounds: a regular file, under a size cap.

Every reader of a model folder (config.json, tokenizer.json, the optimizer's JSON, metrics.jsonl,
safetensors) and of music (corpus files, seeds) opens through here, so that a file which is a link
to /dev/zero is refused instead of read for ever, a FIFO is refused instead of waited on, and a file
larger than its kind can be is refused before a byte of it is held in memory. The refusal is a
`FileRefused` (an OSError, so the readers' existing `except OSError` handles it) whose text is the
reason alone, to follow the file's name in a one-line message.

A time budget for work no cap can bound in advance (music21 parsing a large score) is in
`within_budget`.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

MB = 2**20
# The most each kind of file may hold. The shipped models' largest config.json is 0.2 MB (base, with
# its corpus's file list), tokenizer.json 32 KB (bach-chorales' BPE merges), metrics.jsonl 0.6 MB for
# 3,000 steps; a MusicXML score of a symphony movement is a few MB, a MIDI file rarely 1 MB.
CONFIG_BYTES = 32 * MB  # config.json, tokenizer.json, optimizer-*.json, corpus.json, report.json
METRICS_BYTES = 256 * MB  # metrics.jsonl: ~200 bytes a training step
MUSIC_BYTES = 64 * MB  # one corpus file or seed as it lies on disk; for .mxl, also its MusicXML unpacked


class FileRefused(OSError):
    """A file refused before reading it: not a regular file, or larger than its kind may be. str()
    is the reason alone ("a FIFO, not a regular file"); `filename` is the path."""

    def __init__(self, path: str | Path, reason: str, code: int = errno.EINVAL):
        super().__init__(code, reason, str(path))

    def __str__(self) -> str:
        return self.strerror


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a plain file"


def file_kind(path: str | Path) -> str:
    """What `path` is, in words, links followed: "a FIFO", "a character device", "a regular file"."""
    mode = os.stat(path).st_mode
    return "a regular file" if stat.S_ISREG(mode) else _kind(mode)


def size_text(size: int) -> str:
    """Bytes in words: "46.1 MB", "812 KB", "120 bytes"."""
    if size >= MB:
        return f"{size / MB:,.1f} MB"
    return f"{size / 1024:,.0f} KB" if size >= 1024 else f"{size} bytes"


def _refuse_special(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        shown = _kind(mode)
        through = " (through a link)" if path.is_symlink() else ""
        raise FileRefused(path, f"{shown}{through}, not a regular file")


def _refuse_large(path: Path, size: int, limit: int, what: str) -> None:
    if size > limit:
        raise FileRefused(path, f"too large: {size_text(size)}, over the {size_text(limit)} {what} may have",
                          errno.EFBIG)


def check_regular(path: str | Path, limit: int, *, what: str = "such a file") -> int:
    """The size of `path` when it is a regular file (links followed, then checked the same way) of
    at most `limit` bytes; raises FileRefused otherwise (FileNotFoundError where there is none).
    For readers that open the file themselves (safetensors maps it)."""
    path = Path(path)
    info = os.stat(path)  # follows links: a link to /dev/zero is a character device here
    _refuse_special(path, info.st_mode)
    _refuse_large(path, info.st_size, limit, what)
    return info.st_size


def read_bytes(path: str | Path, limit: int, *, what: str = "such a file") -> bytes:
    """The content of `path`, refused (FileRefused) when it is not a regular file or holds more than
    `limit` bytes: checked before opening, on the opened file, and while reading (a file that grows
    meanwhile is cut at `limit` + 1 bytes and refused)."""
    path = Path(path)
    check_regular(path, limit, what=what)
    # O_NONBLOCK: a FIFO put in the file's place since the check opens at once instead of waiting
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                 | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _refuse_special(path, info.st_mode)
        _refuse_large(path, info.st_size, limit, what)
        data = handle.read(limit + 1)
    if len(data) > limit:  # grown since the checks: cut at limit + 1 bytes
        raise FileRefused(path, f"too large: more than the {size_text(limit)} {what} may have", errno.EFBIG)
    return data


def read_text(path: str | Path, limit: int, *, what: str = "such a file") -> str:
    """`read_bytes` decoded as UTF-8 (a UnicodeDecodeError, a ValueError, where it is not)."""
    return read_bytes(path, limit, what=what).decode("utf-8")


def read_json(path: str | Path, limit: int | None = None, *, what: str = "such a file"):
    """The JSON a file holds, read as `read_text` reads it (`limit`: CONFIG_BYTES unless given). Not
    JSON is a ValueError, nested too deeply to parse included (json's own RecursionError), so a
    reader catches (OSError, ValueError)."""
    text = read_text(path, CONFIG_BYTES if limit is None else limit, what=what)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to be read") from None


# --- numbers read from a file --------------------------------------------------------------
def number_text(value) -> str:
    """A number as a message shows it: 1,024; 10**400 or about 10**12 for an integer of 13 digits or
    more (its decimal digits would fill the line); the repr of anything else, cut to 20 characters."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) < 10**12:
            return f"{value:,}"
        exponent = int(abs(value).bit_length() * 0.30103)  # log10, within one
        while 10 ** (exponent + 1) <= abs(value):
            exponent += 1
        while 10**exponent > abs(value):
            exponent -= 1
        sign = "-" if value < 0 else ""
        return f"{sign}10**{exponent}" if abs(value) == 10**exponent else f"about {sign}10**{exponent}"
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."


def out_of_bounds(name: str, value, bounds: tuple[int, int], what: str) -> str:
    """The one-line refusal of a count outside its bounds: "n_layer 10**400 is not a model size (1-96)"."""
    low, high = bounds
    return f"{name} {number_text(value)} is not {what} ({low:,}-{high:,})"


def bytes_text(size: int) -> str:
    """Bytes of memory in words, right for any integer: "3.4 GB", "10**404 bytes"."""
    if size >= 10**15:
        return f"{number_text(size)} bytes"
    return f"{size / 1e9:,.1f} GB" if size >= 10**8 else f"{size / 1e6:,.1f} MB"


def machine_memory() -> int | None:
    """This machine's memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


# --- a time budget ------------------------------------------------------------------------
class OverTime(BaseException):
    """Raised where work ran past its time budget (`within_budget`). A BaseException, so that a
    library's `except Exception` around its own steps cannot swallow it."""


def within_budget(seconds: float, work: Callable[[], T], *, what: str = "work") -> T:
    """`work()`'s result (or the exception it raised), or OverTime once it has run `seconds`.

    Music21 parses a score in one long call that offers no cancel hook, and signal.alarm reaches
    only the main thread; so `work` runs in a thread of its own, and when its time is up the caller
    gets OverTime at once while the thread is stopped by OverTime raised into it (CPython's
    PyThreadState_SetAsyncExc), again every half second should something catch it, until it ends.
    Only that thread ever receives an exception from elsewhere: none can land in the caller's code
    after the work (as one could when the budget was a `with` block run in the caller's own thread,
    raised into by a watchdog). The exception lands between two bytecodes of the work's Python
    code: a long C call (an XML parse) finishes first, so a stopped work may still run a moment
    beside the caller's next one. Ctrl+C while waiting stops the work too."""
    outcome: dict = {}
    lock = threading.Lock()
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 (handed to the caller, whatever it is)
            outcome["error"] = error
        while True:  # no OverTime may follow once the work is over: say so, and withdraw one on its way
            try:
                with lock:
                    outcome["over"] = True
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)
                break
            except OverTime:
                continue
        done.set()

    worker = threading.Thread(target=run, name=f"partita-budget {what}", daemon=True)
    worker.start()
    try:
        finished = done.wait(seconds)
    except BaseException:
        _stop_in_background(worker, lock, outcome)
        raise
    if not finished and not done.is_set():  # (a result that came as the wait ended is taken)
        _stop_in_background(worker, lock, outcome)
        raise OverTime(f"{what} took over {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _stop_in_background(worker: threading.Thread, lock: threading.Lock, outcome: dict) -> None:
    """Raise OverTime into `worker` now and every half second (at most 20 times) until its work is over."""

    def stop() -> None:
        for _ in range(20):  # never for ever into a thread gone astray
            with lock:
                if outcome.get("over"):
                    return
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(OverTime))
            worker.join(0.5)
            if not worker.is_alive():
                return

    threading.Thread(target=stop, name="partita-budget-stopper", daemon=True).start()
