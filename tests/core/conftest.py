"""Small real training material for engine tests: a few cello movements, tiny models."""

from __future__ import annotations

import shutil

import pytest

from core.learning.training import TrainConfig, train

TINY = {"n_layer": 1, "n_head": 2, "n_embd": 64, "block_size": 128}


@pytest.fixture(scope="session")
def cello_trio(tmp_path_factory, cello_xml_dir):
    """A folder with three short cello movements (MusicXML)."""
    folder = tmp_path_factory.mktemp("trio")
    for name in ("BWV1007_04_Sarabande", "BWV1007_05_MenuetI", "BWV1007_06_MenuetII"):
        shutil.copy(cello_xml_dir / f"{name}.mxl", folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the corpus cache of the tests away from the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PARTITA_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, cello_trio):
    """A tiny model trained for a few dozen steps on the trio."""
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(data=str(cello_trio), out=str(out), model_overrides=TINY, steps=40, batch_size=8,
                         eval_every=20, warmup_steps=5, learning_rate=3e-3)
    with pytest.MonkeyPatch.context() as patch:  # 40 steps learn continuation; infill is tested for its mechanics
        patch.setattr("core.learning.dataset.INFILL_SHARE", 0.1)
        patch.setattr("core.learning.dataset.CONTROLS_SHARE", 0.1)
        events = list(train(config))
    return out, events


def assert_density_kept(take, level: int, bars=(2, 3, 4)) -> None:
    """Each of `bars` (0-based, of a take in 4/4 like the prelude) holds as many notes as `level` allows."""
    from core.music.controls import density_notes

    downbeats = take.score.get_downbeats()
    fewest, most = density_notes(level, 4)
    for bar in bars:
        start, end = int(downbeats[bar]), int(downbeats[bar + 1]) if bar + 1 < len(downbeats) else 10**9
        count = sum(start <= n.time < end for t in take.score.tracks for n in t.notes)
        assert fewest <= count <= most, (bar, count)
