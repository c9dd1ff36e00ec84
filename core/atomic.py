"""Atomic writes: a file is either its old content or its complete new content, never half.

Each write goes to a temporary file in the same folder, is flushed to disk, then renamed over
the target (`os.replace` is atomic on POSIX and Windows). A failure (disk full, read-only
folder) leaves the previous file intact, removes the temporary file and raises an `OSError`
(the same errno and subclass) naming the target: the user asked for that file and never saw
the temporary one.
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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise _naming(target, error) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        try:
            yield tmp
        except OSError as error:
            # the writer's own errors about its output (a write() has no file name) name the target;
            # others (a source file it could not read) keep theirs
            if error.filename in (None, tmp_name, tmp):
                raise _naming(target, error) from None
            raise
        try:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as error:
            raise _naming(target, error) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _naming(target: Path, error: OSError) -> OSError:
    """`error` as the same kind of OSError (errno, subclass), but naming `target`. An error that
    cannot be rebuilt as its own kind (no errno, a subclass of someone's) is left as it is."""
    if error.errno is None:
        return error
    renamed = OSError(error.errno, error.strerror or os.strerror(error.errno), str(target))
    return renamed if type(renamed) is type(error) else error


def atomic_write(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call `writer(tmp_path)` and move the result over `target` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    atomic_write(target, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(target: str | Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
