"""Data that survives: SIGKILL during training, generation, import and the GUI's autosave; a full
disk and a read-only folder while saving.

Two kinds of kill, both of a real `partita` (or app) process:
- from outside, at a moment the test observes (after the first checkpoint, while composing,
  while importing): what a user's crash or `kill -9` does;
- from inside, at the worst moment: `KILL_AT` wraps the process's `os.replace` so that, at the
  Nth atomic rename of a chosen file, it cuts the fully written temporary file to half its
  size and SIGKILLs itself before the rename. That is the state a kill mid-write leaves, made
  deterministic, so the test proves a half-written file is never read as the real one.

A full disk is a real 32 KiB tmpfs and a read-only folder a real read-only bind mount, both
made in a private user+mount namespace (`unshare`, no privileges needed, nothing leaks to the
host); where namespaces are not allowed, those tests skip and the `monkeypatch` variants (an
`OSError(ENOSPC)` from the write) still run.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real processes started and killed: about 2 minutes for the file

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"

# Runs `partita ARGS` (or a script with --script PATH) with os.replace wrapped: at the NTH rename
# onto a file whose name matches PATTERN, halve the temporary file ("half") or leave it whole
# ("whole"), then SIGKILL the process before the rename happens.
KILL_AT = r"""
import fnmatch, os, runpy, signal, sys
pattern, nth, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
argv = sys.argv[4:]
real_replace, seen = os.replace, [0]
def replace(src, dst, *args, **kwargs):
    if fnmatch.fnmatch(os.path.basename(os.fspath(dst)), pattern):
        seen[0] += 1
        if seen[0] == nth:
            if mode == "half":
                os.truncate(src, os.path.getsize(src) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
if argv[0] == "--script":
    sys.argv = argv[1:]
    runpy.run_path(argv[1], run_name="__main__")
else:
    from core.cli import main
    sys.exit(main(argv))
"""


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PARTITA_CACHE_DIR=str(tmp_path / "cache"), PARTITA_HOME=str(tmp_path / "home"),
               QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return env


def partita_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "core.cli", *map(str, args)]


def killed_at(pattern: str, nth: int, mode: str, *args: str) -> list[str]:
    return [sys.executable, "-c", KILL_AT, pattern, str(nth), mode, *map(str, args)]


def run(cmd: list[str], tmp_path: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=env_for(tmp_path), capture_output=True, text=True, timeout=timeout)


def kill_when(cmd: list[str], tmp_path: Path, ready, timeout: float = 240) -> str:
    """Start `cmd`, SIGKILL it as soon as `ready()` is true; return its stderr so far."""
    log = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
    with open(log, "w") as err:
        process = subprocess.Popen(cmd, cwd=REPO, env=env_for(tmp_path), stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        try:
            while not ready():
                if process.poll() is not None:
                    pytest.fail(f"the process ended (status {process.returncode}) before the moment to kill it:\n"
                                f"{log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"the moment to kill never came within {timeout} s")
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return log.read_text()


def leftovers(folder: Path) -> list[Path]:
    """Temporary files core.atomic leaves when killed before its rename: hidden, *.tmp."""
    return sorted(folder.glob(".*.tmp"))


# --- training ----------------------------------------------------------------------------
TINY = ("--preset", "tiny", "--set", "n_layer=1", "--set", "n_head=2", "--set", "n_embd=32", "--set", "block_size=64",
        "--set", "dropout=0.0", "--batch-size", "2", "--transpose", "0", "--warmup", "2", "--seed", "0")


def checkpoint_step(run_dir: Path) -> int:
    return int(json.loads((run_dir / "config.json").read_text())["training"]["step"])


def test_training_killed_after_a_checkpoint_loads_and_resumes(tmp_path, inventions):
    from core.learning.checkpoint import load_model

    run_dir = tmp_path / "run"
    steps_seen = tmp_path / "progress"

    def past_first_checkpoint() -> bool:  # a checkpoint exists and training has gone on after it
        metrics = run_dir / "metrics.jsonl"
        if not (run_dir / "config.json").exists() or not metrics.exists():
            return False
        steps = [json.loads(line).get("step", 0) for line in metrics.read_text().splitlines() if line.endswith("}")]
        steps_seen.write_text(str(max(steps, default=0)))
        return max(steps, default=0) > checkpoint_step(run_dir)

    kill_when(partita_cmd("train", "--data", inventions, "--out", run_dir, "--steps", "100000",
                          "--eval-every", "2", *TINY), tmp_path, past_first_checkpoint)
    step = checkpoint_step(run_dir)
    assert step >= 2 and step % 2 == 0  # the last complete checkpoint, not the step it was killed at
    loaded = load_model(run_dir)  # every file whole and consistent enough to rebuild the model
    assert loaded.config["training"]["step"] == step

    resumed = run(partita_cmd("train", "--out", run_dir, "--resume", "--steps", step + 2, "--eval-every", "2",
                              *TINY), tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert checkpoint_step(run_dir) == step + 2
    assert optimizer_step(run_dir) == step + 2  # the optimizer state was resumed too
    load_model(run_dir)


def optimizer_step(run_dir: Path) -> int:
    """The AdamW step count saved with the weights that config.json names (optimizer-N.json is
    written after model-N.safetensors, before config.json): which step those weights come from,
    without needing a reference run."""
    state = json.loads((run_dir / "config.json").read_text())["files"]["optimizer_state"]
    return int(max(json.loads((run_dir / state).read_text())["steps"].values()))


def data_files(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if p.name.startswith(("model", "optimizer", ".model", ".optimizer")))


def test_training_killed_while_writing_weights_keeps_the_previous_checkpoint(tmp_path, inventions):
    from core.learning.checkpoint import CheckpointError, load_model, load_weights

    run_dir = tmp_path / "run"
    # the second checkpoint (step 4): its weights half written, then killed
    result = run(killed_at("model-*.safetensors", 2, "half", "train", "--data", inventions, "--out", run_dir,
                           "--steps", "6", "--eval-every", "2", *TINY), tmp_path)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert checkpoint_step(run_dir) == 2
    assert optimizer_step(run_dir) == 2  # weights, optimizer and config all from step 2
    loaded = load_model(run_dir)
    half = [p for p in leftovers(run_dir) if p.name.startswith(".model-000004.safetensors.")]
    assert len(half) == 1  # the half-written file is there, under a name nothing reads
    with pytest.raises(CheckpointError):
        load_weights(loaded.model, half[0])  # and it would not pass as weights if something did

    resumed = run(partita_cmd("train", "--out", run_dir, "--resume", "--steps", "4", "--eval-every", "2", *TINY),
                  tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert checkpoint_step(run_dir) == 4
    assert optimizer_step(run_dir) == 4  # AdamW went on from step 2's saved moments, not from fresh ones
    load_model(run_dir)
    # the next save deleted the half-written file and the step-2 files: only what config.json names is left
    assert data_files(run_dir) == ["model-000004.safetensors", "optimizer-000004.json", "optimizer-000004.safetensors"]


def test_training_killed_between_weights_and_config_keeps_a_consistent_checkpoint(tmp_path, inventions):
    from core.learning.checkpoint import load_model, weights_path

    run_dir = tmp_path / "run"
    # the second checkpoint (step 4): weights and optimizer renamed into place, killed before config.json
    result = run(killed_at("config.json", 2, "whole", "train", "--data", inventions, "--out", run_dir,
                           "--steps", "6", "--eval-every", "2", *TINY), tmp_path)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert checkpoint_step(run_dir) == 2
    assert optimizer_step(run_dir) == checkpoint_step(run_dir)  # the weights are the ones config.json describes
    assert weights_path(run_dir).name == "model-000002.safetensors" and load_model(run_dir)
    # step 4's complete files are there too, but nothing names them: the next save deletes them
    assert "model-000004.safetensors" in data_files(run_dir)


# --- generation --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def random_run(tmp_path_factory) -> Path:
    """A one-layer model with random weights: generation runs the real code, quickly."""
    import torch

    from core.learning.checkpoint import save_checkpoint
    from core.learning.model import ModelConfig, Transformer
    from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings

    run_dir = tmp_path_factory.mktemp("random-run")
    tokenizer = PartitaTokenizer.create(TokenizerSettings())
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), block_size=64, n_layer=1, n_head=2, n_embd=32,
                                    dropout=0.0))
    save_checkpoint(run_dir, model, tokenizer, {"corpus": {"program": 0}})
    return run_dir


def previous_take(path: Path) -> bytes:
    """Write a small known MIDI file at `path` (the take a user already has) and return its bytes."""
    import symusic

    score = symusic.Score(480)
    track = symusic.Track("previous", 0)
    for i, pitch in enumerate((60, 62, 64, 65, 67)):
        track.notes.append(symusic.Note(i * 480, 480, pitch, 80))
    score.tracks.append(track)
    data = score.dumps_midi()
    path.write_bytes(data)
    return data


def test_generation_killed_while_composing_leaves_the_previous_take(tmp_path, random_run):
    out = tmp_path / "takes" / "take.mid"
    out.parent.mkdir()
    before = previous_take(out)
    stderr = kill_when(partita_cmd("generate", "--model", random_run, "--bars", "500", "--seed", "1", "--out", out),
                       tmp_path, lambda: "composing" in _last_stderr(tmp_path))
    assert "composing" in stderr
    assert out.read_bytes() == before
    assert [p.name for p in out.parent.iterdir() if not p.name.startswith(".")] == ["take.mid"]


def _last_stderr(tmp_path: Path) -> str:
    logs = sorted(tmp_path.glob("stderr-*.txt"))
    return logs[-1].read_text() if logs else ""


def test_generation_killed_while_writing_the_take_leaves_the_previous_take(tmp_path, random_run):
    from core.music.scores import load_score

    out = tmp_path / "take.mid"
    before = previous_take(out)
    result = run(killed_at("take.mid", 1, "half", "generate", "--model", random_run, "--bars", "1", "--seed", "1",
                           "--out", out), tmp_path)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert out.read_bytes() == before
    assert [n.pitch for n in load_score(out).tracks[0].notes] == [60, 62, 64, 65, 67]
    assert len(leftovers(tmp_path)) == 1


# --- import ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cello_movements(linked_corpus) -> Path:
    return linked_corpus(SHARED / "bach-cello-suites", "*.mxl", 3)


def corpus_summary(folder: Path, cache_dir: Path) -> list[tuple]:
    from core.music.corpus import ScoreCache, import_corpus

    corpus = import_corpus(folder, cache=ScoreCache(cache_dir))
    return [(entry.name, entry.imported, entry.reason) for entry in corpus.report] + [
        (piece.name, sum(len(t.notes) for t in piece.score.tracks)) for piece in corpus.pieces]


def test_import_killed_midway_then_reimported_matches_a_clean_import(tmp_path, cello_movements):
    cache = tmp_path / "cache"  # what env_for gives the subprocess as PARTITA_CACHE_DIR
    kill_when(partita_cmd("corpus", "inspect", cello_movements), tmp_path,
              lambda: cache.exists() and any(cache.glob("*.json")))
    assert 1 <= len(list(cache.glob("*.json"))) < 3  # killed with some files cached, not all
    assert corpus_summary(cello_movements, cache) == corpus_summary(cello_movements, tmp_path / "clean-cache")


def test_import_killed_while_writing_the_cache_never_reads_the_half_file(tmp_path, cello_movements):
    cache = tmp_path / "cache"
    result = run(killed_at("*.mid", 2, "half", "corpus", "inspect", cello_movements), tmp_path)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert any(p.name.endswith(".mid.tmp") or ".mid." in p.name for p in leftovers(cache))
    assert corpus_summary(cello_movements, cache) == corpus_summary(cello_movements, tmp_path / "clean-cache")


# --- full disk, read-only folder ----------------------------------------------------------
def _namespace_available() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(not _namespace_available(),
                                     reason="unshare --user --mount not permitted here (no user namespaces)")


def in_namespace(setup: str, cmd: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `cmd` after the shell `setup` (mounts) in a private user+mount namespace."""
    script = f"set -e; {setup}; exec \"$@\""
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", *cmd],
                          cwd=REPO, env=env_for(tmp_path), capture_output=True, text=True, timeout=240)


@needs_namespace
def test_generate_into_a_read_only_folder_fails_and_keeps_the_previous_take(tmp_path, random_run):
    folder = tmp_path / "readonly"
    folder.mkdir()
    out = folder / "take.mid"
    before = previous_take(out)
    result = in_namespace(f"mount --bind {folder} {folder}; mount -o remount,bind,ro {folder}",
                          partita_cmd("generate", "--model", random_run, "--bars", "1", "--seed", "1", "--out", out),
                          tmp_path)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert f"{out}:" in result.stderr and ".tmp" not in result.stderr  # the file asked for, not the temporary one
    assert out.read_bytes() == before
    assert list(folder.iterdir()) == [out]


@pytest.fixture(scope="module")
def full_disk_save(tmp_path_factory, random_run) -> dict:
    """Save a checkpoint over an older one on a real full disk (a 1 MiB tmpfs, filled up)."""
    if not _namespace_available():
        pytest.skip("unshare --user --mount not permitted here (no user namespaces)")
    tmp_path = tmp_path_factory.mktemp("full-disk")
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = tmp_path / "probe.py"
    probe.write_text(_FULL_DISK_PROBE)
    result = in_namespace(f"mount -t tmpfs -o size=1m tmpfs {disk}; cp -r {random_run} {disk}/run; "
                          f"head -c 2000000 /dev/zero > {disk}/filler 2>/dev/null || true",
                          [sys.executable, str(probe), str(disk / "run")], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_checkpoint_on_a_full_disk_fails_and_keeps_the_previous_checkpoint(full_disk_save):
    assert full_disk_save["error"] is not None, "saving on a full disk did not fail"
    assert "No space left on device" in full_disk_save["message"]
    assert "/run/model" in full_disk_save["message"] and ".tmp" not in full_disk_save["message"]  # the weights file
    assert full_disk_save["unchanged"] and full_disk_save["loads"] and full_disk_save["leftovers"] == []


def test_checkpoint_on_a_full_disk_raises_oserror_enospc(full_disk_save):
    assert full_disk_save["error"] == "OSError" and full_disk_save["errno"] == errno.ENOSPC


_FULL_DISK_PROBE = r"""
import hashlib, json, sys
from pathlib import Path
import torch
from core.learning.checkpoint import load_model, save_checkpoint
run = Path(sys.argv[1])
digest = lambda: {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run.iterdir()}
before = digest()
loaded = load_model(run)
with torch.no_grad():
    for p in loaded.model.parameters():
        p.add_(1.0)
try:
    save_checkpoint(run, loaded.model, loaded.tokenizer, {"corpus": {"program": 0}})
    error, number, text = None, None, ""
except Exception as exc:
    error, number, text = type(exc).__name__, getattr(exc, "errno", None), str(exc)
print(json.dumps({"error": error, "errno": number, "message": text, "unchanged": digest() == before, "loads": bool(load_model(run)),
                  "leftovers": [p.name for p in run.glob(".*.tmp")]}))
"""


def test_cli_names_the_file_it_could_not_write_without_a_traceback(tmp_path, monkeypatch, capsys, random_run):
    from core import atomic
    from core.cli import main

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    status = main(["generate", "--model", str(random_run), "--bars", "1", "--seed", "1",
                   "--out", str(tmp_path / "take.mid")])
    assert status != 0  # returned, not raised: no traceback
    message = capsys.readouterr().err
    assert "Read-only file system" in message and f"{tmp_path / 'take.mid'}:" in message


def test_atomic_write_on_enospc_keeps_the_previous_file(tmp_path, monkeypatch):
    """Without namespaces: the write itself raising ENOSPC midway leaves the target untouched."""
    from core import atomic

    target = tmp_path / "take.mid"
    target.write_bytes(b"previous")

    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"half of the new")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    with pytest.raises(OSError) as raised:
        atomic.atomic_write(target, writer)
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == str(target) and ".tmp" not in str(raised.value)
    assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_atomic_write_when_the_temporary_file_cannot_be_made_names_the_target(tmp_path, monkeypatch):
    """A read-only folder fails at the temporary file already; the message still names the target."""
    from core import atomic

    target = tmp_path / "take.mid"
    target.write_bytes(b"previous")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".take.mid.x1y2.tmp"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as raised:
        atomic.atomic_write_bytes(target, b"new")
    assert raised.value.errno == errno.EROFS and str(raised.value) == f"[Errno 30] Read-only file system: '{target}'"
    assert target.read_bytes() == b"previous"


def test_atomic_write_keeps_the_name_in_errors_about_other_files(tmp_path):
    """A writer that cannot read its source reports the source, not the target; an error of a
    writer's own OSError subclass keeps its class."""
    from core import atomic

    class PortError(OSError):  # as core.midi.ports has one
        pass

    target = tmp_path / "take.mid"
    with pytest.raises(FileNotFoundError, match="missing.mid"):
        atomic.atomic_write(target, lambda tmp: tmp.write_bytes((tmp_path / "missing.mid").read_bytes()))

    def port_gone(tmp: Path) -> None:
        raise PortError(errno.ENODEV, "MIDI port closed")

    with pytest.raises(PortError):
        atomic.atomic_write(target, port_gone)
    assert not target.exists() and leftovers(tmp_path) == []


def test_atomic_write_when_the_rename_fails_keeps_the_previous_file(tmp_path, monkeypatch):
    from core import atomic

    target = tmp_path / "config.json"
    target.write_text("{}")

    def refuse(src, dst):
        raise OSError(errno.EROFS, "Read-only file system", str(src), None, str(dst))

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError) as raised:
        atomic.atomic_write_text(target, '{"new": true}')
    assert raised.value.errno == errno.EROFS
    assert raised.value.filename == str(target) and ".tmp" not in str(raised.value)
    assert target.read_text() == "{}"
    assert leftovers(tmp_path) == []


# --- the desktop app's autosaved session ---------------------------------------------------
# A window that loads a seed, waits for its autosave, then changes the seed and (with the
# os.replace wrapper) is killed at its next autosave; or sits still and waits to be killed.
_APP_SCRIPT = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from app.compat import protect_singletons
protect_singletons()
from app.mainwindow import MainWindow
from app.pianoroll.model import Note
from core.midi.ports import CollectingOutput
from core.userdata import user_dirs
phase = sys.argv[1]
state = user_dirs().ensure().sessions  # the app's own choice of folder (PARTITA_HOME in the test)
app = QApplication([])
settings = QSettings(str(state / "settings.ini"), QSettings.Format.IniFormat)
window = MainWindow(settings, transport_output=CollectingOutput, restore_session=phase == "restore")
assert window.session_path.parent == state, window.session_path
if phase == "restore":
    print(",".join(str(n.pitch) for _, n in sorted(window.model.items(), key=lambda i: i[1].start)))
    print("bad" if list(state.glob("session.json.broken-*")) else "good")
    sys.exit(0)
def saved(pitches):
    window.model.set_seed([Note(i * 480, p, 480) for i, p in enumerate(pitches)])
    deadline = __import__("time").monotonic() + 30
    while __import__("time").monotonic() < deadline:  # the autosave timer fires a second after a change
        app.processEvents()
        text = (state / "session.json").read_text() if (state / "session.json").exists() else ""
        if all(f'"pitch":{p}' in text for p in pitches):
            return
    sys.exit("autosave never happened")
saved([60, 64, 67])
print("first autosave done", flush=True)
saved([62, 65, 69, 72])  # with the wrapper: killed writing this one
print("second autosave done", flush=True)
import time
while True:
    app.processEvents()
    time.sleep(0.05)
"""


@pytest.fixture
def app_script(tmp_path) -> Path:
    pytest.importorskip("PySide6")
    script = tmp_path / "app_session.py"
    script.write_text(_APP_SCRIPT)
    return script


def session_dir(tmp_path: Path) -> Path:
    return tmp_path / "home" / "state"  # core.userdata's sessions folder under env_for's PARTITA_HOME


def restored(tmp_path: Path, script: Path) -> tuple[str, str]:
    result = run([sys.executable, str(script), "restore"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    pitches, health = result.stdout.strip().splitlines()[-2:]
    return pitches, health


def test_app_killed_after_autosave_restores_the_last_session(tmp_path, app_script):
    out = tmp_path / "app-out.txt"

    def both_saved() -> bool:
        return out.exists() and "second autosave done" in out.read_text()

    with open(out, "w") as handle:
        process = subprocess.Popen([sys.executable, str(app_script), "edit"], cwd=REPO,
                                   env=env_for(tmp_path), stdout=handle, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not both_saved() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert both_saved(), out.read_text()[-2000:]
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
    assert restored(tmp_path, app_script) == ("62,65,69,72", "good")


def test_app_killed_while_autosaving_restores_the_previous_session(tmp_path, app_script):
    result = run(killed_at("session.json", 2, "half", "--script", app_script, "edit"), tmp_path)
    assert result.returncode == -signal.SIGKILL, result.stdout[-1000:] + result.stderr[-2000:]
    assert "first autosave done" in result.stdout and "second autosave done" not in result.stdout
    assert len(leftovers(session_dir(tmp_path))) == 1  # the half-written autosave, never renamed
    assert restored(tmp_path, app_script) == ("60,64,67", "good")

