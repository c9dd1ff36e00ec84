"""Find MuseScore (4 or 3), open files in it, and engrave PDF/PNG/MusicXML through its command line.

MuseScore is an optional companion, never a dependency: `find_musescore()` returns None when it
is absent and `require_musescore()` raises `MuseScoreNotFound` with the download page. Command-line
conversions run headless (``QT_QPA_PLATFORM=offscreen``) and are batched through MuseScore's job
file (``mscore -j job.json``, a JSON list of ``{"in": ..., "out": ... or [...]}``): one process
start (about a second) converts many files, where ``mscore -o`` pays it per file. MuseScore stops
a job at the first file it cannot read, so `convert` records that failure and resumes the batch
after it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DOWNLOAD_URL = "https://musescore.org/download"
# Names on PATH, newest first. Debian/Ubuntu: mscore3 (musescore3), mscore/musescore (MuseScore 4
# packages and AppImages set up by distributions); mscore4portable is the official AppImage's name.
EXECUTABLE_NAMES = (
    "mscore4portable",
    "MuseScore4",
    "mscore4",
    "musescore4",
    "mscore",
    "musescore",
    "mscore3",
    "musescore3",
)
MACOS_APPS = (
    "/Applications/MuseScore 4.app/Contents/MacOS/mscore",
    "/Applications/MuseScore 3.app/Contents/MacOS/mscore",
)
WINDOWS_RELATIVE = (r"MuseScore 4\bin\MuseScore4.exe", r"MuseScore 3\bin\MuseScore3.exe")
ENV_VARIABLE = "PARTITA_MUSESCORE"  # a path that wins over the search, like the preference


class MuseScoreNotFound(RuntimeError):
    """No MuseScore on this machine; the message says where to get it."""


class MuseScoreError(RuntimeError):
    """MuseScore ran but could not convert a file; the message names it and quotes MuseScore."""


@dataclass(frozen=True)
class Conversion:
    """One input converted by MuseScore to one or more outputs."""

    source: Path
    outputs: tuple[Path, ...]
    ok: bool
    message: str = ""  # MuseScore's complaint when not ok


def candidate_paths() -> list[Path]:
    """Every place MuseScore may live on this platform, in order of preference."""
    found: list[Path] = []
    for name in EXECUTABLE_NAMES:
        hit = shutil.which(name)
        if hit:
            found.append(Path(hit))
    system = platform.system()
    if system == "Darwin":
        found.extend(Path(p) for p in MACOS_APPS)
    elif system == "Windows":
        for base in (os.environ.get("ProgramFiles"), os.environ.get("ProgramFiles(x86)")):
            if base:
                found.extend(Path(base) / rel for rel in WINDOWS_RELATIVE)
    return found


def find_musescore(preferred: str | Path | None = None) -> Path | None:
    """The MuseScore executable: `preferred` (a preference or --musescore) first, then
    $PARTITA_MUSESCORE, then the usual names and install folders. None when there is none."""
    for choice in (preferred, os.environ.get(ENV_VARIABLE)):
        if choice:
            path = Path(choice).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path
            hit = shutil.which(str(choice))
            if hit:
                return Path(hit)
    for path in candidate_paths():
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def require_musescore(preferred: str | Path | None = None) -> Path:
    found = find_musescore(preferred)
    if found is None:
        where = f" (not at {preferred})" if preferred else ""
        raise MuseScoreNotFound(
            f"MuseScore was not found{where}. Install MuseScore 4 from {DOWNLOAD_URL} "
            f"(or Debian/Ubuntu's musescore3 package), or give its path with --musescore or {ENV_VARIABLE}."
        )
    return found


def headless_env() -> dict[str, str]:
    """Environment for command-line conversions: no display needed, no stray audio or config."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    return env


def open_in_musescore(path: str | Path, executable: str | Path | None = None) -> subprocess.Popen:
    """Open a file in the MuseScore GUI, detached: Partita does not wait for it to close."""
    exe = require_musescore(executable)
    kwargs: dict = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if platform.system() == "Windows":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
    return subprocess.Popen([str(exe), str(Path(path).resolve())], **kwargs)


def convert(
    jobs: Sequence[tuple[str | Path, str | Path | Sequence[str | Path]]],
    *,
    executable: str | Path | None = None,
    timeout_per_file: float = 60.0,
) -> list[Conversion]:
    """Convert each (input, output or outputs) with MuseScore; the output format follows the
    suffix (.pdf, .png, .svg, .musicxml, .mxl, .mid, .mscz). Returns one `Conversion` per job, in
    order. PNG export writes one file per page: ``out-1.png``, ``out-2.png``...
    """
    exe = require_musescore(executable)
    normalized = [
        (
            Path(src).resolve(),
            tuple(Path(o).resolve() for o in ([out] if isinstance(out, (str, Path)) else out)),
        )
        for src, out in jobs
    ]
    results: dict[int, Conversion] = {}
    pending = list(range(len(normalized)))
    while pending:
        done = _run_job(exe, [(i, *normalized[i]) for i in pending], timeout_per_file)
        results.update(done)
        pending = [i for i in pending if i not in results]
    return [results[i] for i in range(len(normalized))]


_CONVERT_LINE = re.compile(r"^convert <(.*)>\.\.\.$")


def _run_job(
    exe: Path, batch: list[tuple[int, Path, tuple[Path, ...]]], timeout_per_file: float
) -> dict[int, Conversion]:
    """One MuseScore process over `batch`. Returns the jobs it settled (ok, or the one that failed)."""
    with tempfile.TemporaryDirectory(prefix="partita-mscore-") as tmp:
        job_file = Path(tmp) / "job.json"
        job_file.write_text(
            json.dumps([{"in": str(src), "out": [str(o) for o in outs]} for _, src, outs in batch]),
            encoding="utf-8",
        )
        for _, _, outs in batch:
            for out in outs:
                out.parent.mkdir(parents=True, exist_ok=True)
        try:
            completed = subprocess.run(
                [str(exe), "-j", str(job_file)],
                capture_output=True,
                text=True,
                errors="replace",
                env=headless_env(),
                timeout=30 + timeout_per_file * len(batch),
            )
            output = completed.stdout + completed.stderr
        except subprocess.TimeoutExpired as error:
            output = (error.stdout or "") + (error.stderr or "") if isinstance(error.stdout, str) else ""
            output += "\n(timed out)"
    settled: dict[int, Conversion] = {}
    position = 0  # MuseScore reports jobs in order: "convert <in>..." then "... success!" or an error
    current_lines: list[str] = []
    for line in output.splitlines():
        if _CONVERT_LINE.match(line.strip()):
            current_lines = []
            continue
        current_lines.append(line.strip())
        if line.strip() == "... success!" and position < len(batch):
            index, src, outs = batch[position]
            missing = [o.name for o in outs if not written_files(o)]
            message = f"MuseScore wrote no {', '.join(missing)}" if missing else ""
            settled[index] = Conversion(src, outs, ok=not missing, message=message)
            position += 1
    if position < len(batch):  # the job stopped (or timed out) at this file
        index, src, outs = batch[position]
        complaint = "; ".join(x for x in current_lines if x and not x.startswith(("to <", "QStandardPaths")))
        settled[index] = Conversion(
            src, outs, ok=False, message=complaint[-300:] or "MuseScore gave no reason"
        )
    return settled


def render(source: str | Path, target: str | Path, *, executable: str | Path | None = None) -> list[Path]:
    """Engrave one file (PDF, PNG, SVG, MusicXML...). Returns the files written (PNG: one per page).
    Raises `MuseScoreError` naming the file when MuseScore cannot convert it."""
    target = Path(target)
    (result,) = convert([(source, target)], executable=executable)
    if not result.ok:
        raise MuseScoreError(f"{Path(source).name}: MuseScore could not convert it ({result.message})")
    return written_files(target)


def written_files(target: Path) -> list[Path]:
    """The files MuseScore wrote for `target` (PNG and SVG export add a page number)."""
    if target.exists():
        return [target]
    return sorted(target.parent.glob(f"{target.stem}-*{target.suffix}"), key=lambda p: (len(p.name), p.name))
