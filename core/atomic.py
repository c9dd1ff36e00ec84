"""Atomic writes: a file is either its old content or its complete new content, never half.

Each write goes to a temporary file in the same folder, is flushed to disk, then renamed over
the target (`os.replace` is atomic on POSIX and Windows). A failure (disk full, read-only
folder) leaves the previous file intact and raises an `OSError` naming the target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: str | Path):
    """Yield a temporary path beside `target`; on success it replaces `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call `writer(tmp_path)` and move the result over `target` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    atomic_write(target, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(target: str | Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
