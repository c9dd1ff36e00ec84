"""The last readers of files someone else made go through core.reading's bounds (issue 22, class 5):
the corpus cache (a folder PARTITA_CACHE_DIR may name), an evaluation's report.json, and the run
folders the window lists for resuming. A FIFO there blocked for ever, JSON nested 100,000 deep
raised RecursionError, and a damaged cache entry stopped a corpus import with a TypeError; a cache
entry could name a file outside the cache. Each is made here at run time."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import symusic

from core.judging.report import read_report
from core.music.corpus import ScoreCache, import_corpus
from core.userdata import resumable_runs

DEEP = "[" * 100_000 + "]" * 100_000


def within(seconds: float, work, fifo: Path | None = None):
    """`work()`'s result, which must come within `seconds` (a reader blocked on `fifo` is let go
    afterwards by opening it for writing, so that no thread stays blocked)."""
    result, failed = [], []

    def target():
        try:
            result.append(work())
        except BaseException as error:  # noqa: BLE001 (handed to the test)
            failed.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    blocked = thread.is_alive()
    if blocked and fifo is not None:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the blocked open returns; its read ends
        except OSError:
            pass
        thread.join(5)
    assert not blocked, f"blocked for more than {seconds} s"
    if failed:
        raise failed[0]
    return result[0]


def cached_corpus(tmp_path) -> tuple[Path, ScoreCache, str]:
    """A one-piece corpus imported once, so that its cache holds it; returns the folder, the cache
    and the piece's cache key."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    score = symusic.Score(480)
    track = symusic.Track()
    for index in range(8):
        track.notes.append(symusic.Note(index * 480, 480, 60 + index, 80))
    score.tracks.append(track)
    score.dump_midi(str(folder / "piece.mid"))
    cache = ScoreCache(tmp_path / "cache")
    assert len(import_corpus(folder, cache=cache).pieces) == 1
    key = next((tmp_path / "cache").glob("*.json")).stem
    return folder, cache, key


def test_a_fifo_in_the_cache_is_passed_over_without_blocking(tmp_path):
    folder, cache, key = cached_corpus(tmp_path)
    index = cache.directory / f"{key}.json"
    index.unlink()
    os.mkfifo(index)
    assert within(5, lambda: cache.get(key), fifo=index) is None
    entries = [{"tail": "", "reason": "", "midi": "piped.mid"}]
    index.unlink()
    index.write_text(json.dumps(entries))
    os.mkfifo(cache.directory / "piped.mid")
    assert within(5, lambda: cache.get(key), fifo=cache.directory / "piped.mid") is None


@pytest.mark.parametrize("damage", [DEEP, "[1, 2]", '[{"tail": 5}]', '[{"tail": "", "reason": ["x"]}]', '{"tail": ""}',
                                    '[{"tail": "", "midi": 7}]', '["entry"]', "null"])
def test_a_damaged_cache_entry_is_read_again_from_the_music_not_fatal(tmp_path, damage):
    folder, cache, key = cached_corpus(tmp_path)
    (cache.directory / f"{key}.json").write_text(damage)
    assert cache.get(key) is None
    corpus = import_corpus(folder, cache=cache)  # a TypeError, a RecursionError, before
    assert [(piece.name, len(piece.score.tracks[0].notes)) for piece in corpus.pieces] == [("piece.mid", 8)]


def test_a_cache_entry_names_files_of_the_cache_only(tmp_path):
    folder, cache, key = cached_corpus(tmp_path)
    outside = tmp_path / "elsewhere.mid"
    symusic.Score(480).dump_midi(str(outside))
    for name in ("../elsewhere.mid", str(outside), ".."):
        (cache.directory / f"{key}.json").write_text(json.dumps([{"tail": "", "reason": "", "midi": name}]))
        assert cache.get(key) is None, name
    (cache.directory / "zero.mid").symlink_to("/dev/zero")
    (cache.directory / f"{key}.json").write_text(json.dumps([{"tail": "", "reason": "", "midi": "zero.mid"}]))
    assert within(5, lambda: cache.get(key)) is None


def test_a_report_json_that_is_a_fifo_nested_deep_or_not_an_object_is_refused_in_a_line(tmp_path):
    path = tmp_path / "report.json"
    os.mkfifo(path)
    with pytest.raises(ValueError, match=r"report.json: unreadable report \(a FIFO, not a regular file\)"):
        within(5, lambda: read_report(tmp_path), fifo=path)
    for content, says in ((DEEP, "nested too deeply"), ("[1, 2]", "not a JSON object")):
        path.unlink()
        path.write_text(content)
        with pytest.raises(ValueError, match=says):
            read_report(tmp_path)


def resumable(folder: Path, config) -> Path:
    """A run folder stopped at step 5 of 10, whose config.json is `config` (text, or data)."""
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x")
    text = config if isinstance(config, str) else json.dumps(config)
    (folder / "config.json").write_text(text)
    return folder


def test_the_runs_listed_for_resuming_pass_over_fifos_and_damaged_configs(tmp_path):
    good = {"training": {"step": 5}, "train": {"steps": 10}}
    runs = tmp_path / "runs"
    kept = resumable(runs / "good", good)
    resumable(runs / "deep", DEEP)
    resumable(runs / "training-a-list", {"training": [5], "train": {"steps": 10}})
    resumable(runs / "weights-a-folder", good)
    (runs / "weights-a-folder" / "model.safetensors").unlink()
    (runs / "weights-a-folder" / "model.safetensors").mkdir()
    piped = runs / "piped"
    piped.mkdir()
    os.mkfifo(piped / "config.json")
    assert within(5, lambda: resumable_runs(runs), fifo=piped / "config.json") == [kept]
