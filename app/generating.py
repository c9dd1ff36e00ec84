"""The Generate panel's work, away from its widgets: loaded models kept between takes (`ModelCache`),
the generation job a take streams from (`generation_job`: `ModelReady`, the model's `TokenEvent`s,
then a chord-aware model's `TakeChords`), and a take's description (`take_about`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import symusic

from app.panels.controls import describe_controls
from app.pianoroll.convert import chords_of
from app.pianoroll.model import ChordSymbol
from core.composing.generation import GenerationSettings, key_shift_for, stream_generation
from core.learning import checkpoint
from core.learning.checkpoint import LoadedModel, load_model


@dataclass(frozen=True)
class ModelReady:
    """The model is loaded and sampling starts (plain facts for the status bar)."""

    name: str
    parameters: int
    corpus: str
    ticks_per_quarter: int  # the tokenizer's resolution: streamed note times are in these ticks
    weights: str = ""  # which weights, in words: "step 500 of 2000 (lowest validation loss 2.147)"


@dataclass(frozen=True)
class TakeChords:
    """The chords a chord-aware model wrote a variation over, read from its decoded take (seed
    and continuation, at the roll's resolution, in the seed's key)."""

    variation: int
    chords: tuple[ChordSymbol, ...]


class ModelCache:
    """Loaded models by folder, shared between generation jobs (load once, sample many)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._models: dict[tuple[str, bool], LoadedModel] = {}

    def get(self, run_dir: str, best: bool = False) -> LoadedModel:
        """The model of `run_dir` ("" = the shipped default), with its last weights or its `best`."""
        with self._lock:
            if (run_dir, best) not in self._models:
                self._models[run_dir, best] = load_model(run_dir or None, best=best)
            return self._models[run_dir, best]

    def forget(self, run_dir: str) -> None:
        with self._lock:
            for best in (False, True):
                self._models.pop((run_dir, best), None)


def generation_job(cache: ModelCache, run_dir: str, prompt: symusic.Score | None,
                   settings: GenerationSettings, variations: int, best: bool = False):
    def job(cancel):
        loaded = cache.get(run_dir, best)
        yield ModelReady(loaded.run_dir.name, loaded.model.num_parameters(),
                         str(loaded.config.get("corpus", {}).get("name", "")), loaded.tokenizer.ticks_per_quarter,
                         loaded.describe())
        # each variation's ids (the chords are read from them at the end)
        rows = yield from stream_generation(loaded, prompt, settings, variations=variations, cancel=cancel)
        if loaded.tokenizer.has_chords and not cancel():
            shift = key_shift_for(loaded, prompt)  # a key-normalised model wrote them in C major / A or C minor
            for variation, ids in enumerate(rows):
                yield TakeChords(variation, tuple(chords_of(loaded.tokenizer.decode(ids), transpose=-shift)))
        return loaded.tokenizer.ticks_per_quarter

    return job


def take_about(run_dir: str, settings: GenerationSettings) -> str:
    """What writes a take, in words: "bach-chorales, temperature 0.9, seed 42" (", over Dm7 G7 | Cmaj7"
    when it follows a typed progression)."""
    model = Path(run_dir).name if run_dir else checkpoint.DEFAULT_MODEL_NAME
    seed = "random seed" if settings.random_seed is None else f"seed {settings.random_seed}"
    controls = describe_controls(settings.controls)
    return (f"{model}, temperature {settings.temperature:g}, {seed}" + (f", {controls}" if controls else "")
            + (f", over {settings.chords}" if settings.chords else ""))
