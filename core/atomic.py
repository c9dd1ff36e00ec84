"""Atomic writes: a file is either its old content or its complete new content, never half.

Each write goes to a temporary file in the same folder, is flushed to disk, then renamed over
the target (`os.replace` is atomic on POSIX and Windows). A failure (disk full, read-only
folder) leaves the previous file intact, removes the temporary file and raises an `OSError`
(the same errno and subclass) naming the target: the user asked for that file and never saw
the temporary one.
"""

from __future__ import annotations

import errno
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
        _make_folder(target.parent, target)
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


def check_writable(target: str | Path, *, folder: bool = False) -> None:
    """Make sure `target` (a file; with `folder`, a folder to write files into) can be written, before
    the work that produces it (a recording, an evaluation) rather than after: create the missing
    folders, then create and remove a temporary file there. Raises an OSError naming `target` and why."""
    target = Path(target)
    where = target if folder else target.parent
    if not folder and target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(target))
    try:
        _make_folder(where, target)
        fd, tmp_name = tempfile.mkstemp(prefix=".partita-check.", suffix=".tmp", dir=where)
        os.close(fd)
        os.unlink(tmp_name)
    except OSError as error:
        raise _naming(target, error) from None


def _make_folder(folder: Path, target: Path) -> None:
    """`folder` and its missing parents; a regular file in the way is named as such (mkdir's own
    "File exists" would name the target and mislead)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise NotADirectoryError(errno.ENOTDIR, f"{blocker} is a file, not a folder", str(target)) from None


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
