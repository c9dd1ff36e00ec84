"""The models that ship with Partita, as the panels offer them: style models to compose with
(Generate) and base models to fine-tune from (Training). Reads config.json only, never weights,
so it is cheap enough for the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from core.composing.generation import limits_for
from core.learning import checkpoint
from core.music.controls import CONTROL_CHOICES
from core.music.limits import InstrumentLimits


@dataclass(frozen=True)
class ShippedModel:
    name: str
    about: str  # one line on what it learned from
    base: bool  # a base model: for fine-tuning only, not for composing
    config: dict  # its config.json


def shipped() -> list[ShippedModel]:
    """Every shipped model, by name (the folder names under resources/models)."""
    models = []
    for name, about in checkpoint.shipped_models().items():
        try:
            config = checkpoint.read_config(checkpoint.SHIPPED_MODELS_DIR / name)
        except checkpoint.CheckpointError:
            continue
        models.append(ShippedModel(name, about, bool(config.get("base_model")), config))
    return models


def style_models() -> list[ShippedModel]:
    """The shipped models a user composes with (base models are for fine-tuning only)."""
    return [model for model in shipped() if not model.base]


def base_models() -> list[ShippedModel]:
    return [model for model in shipped() if model.base]


def model_limits(name_or_dir: str) -> InstrumentLimits | None:
    """The instrument limits a model keeps when nothing overrides them (its config.json says;
    None when it cannot be read): what the Generate panel shows as the model's own."""
    try:
        config = checkpoint.read_config(checkpoint.resolve_model_dir(name_or_dir or None))
    except (checkpoint.CheckpointError, OSError):
        return None
    # limits_for reads only the model's config: no need to load its weights for it
    return limits_for(SimpleNamespace(config=config))


def _tokenizer_settings(name_or_dir: str) -> dict:
    """A model's tokenizer settings as its config.json holds them, or a Hugging Face export's
    partita_tokenizer.json ({} when they cannot be read)."""
    from core.learning.hf import PARTITA_TOKENIZER, is_hf_layout
    from core.reading import read_json

    try:
        folder = checkpoint.resolve_model_dir(name_or_dir or None)
        if is_hf_layout(folder):
            settings = read_json(folder / PARTITA_TOKENIZER, what=f"a {PARTITA_TOKENIZER}")
        else:
            settings = checkpoint.read_config(folder).get("tokenizer")
    except (checkpoint.CheckpointError, OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def model_has_chords(name_or_dir: str) -> bool:
    """Whether a model reads and follows chords (its tokenizer holds Chord tokens: a chord-aware
    model such as miles-davis)."""
    return bool(_tokenizer_settings(name_or_dir).get("use_chords"))


def model_controls(name_or_dir: str) -> tuple[str, ...]:
    """The bar controls (core.music.controls.CONTROL_CHOICES: density, voices, range) a model can be
    asked for, trained with their tokens after its bar lines; () for none (or a config that does
    not read)."""
    settings = _tokenizer_settings(name_or_dir)
    if not settings.get("use_controls"):
        return ()
    kinds = settings.get("control_kinds", CONTROL_CHOICES)  # (a model of before the setting: all)
    return tuple(kind for kind in CONTROL_CHOICES if isinstance(kinds, list | tuple) and kind in kinds)
