"""The transformer: its config, presets and limits (cached decoding: test_decoding.py)."""

from __future__ import annotations

import pytest
import torch

from core.learning.model import PRESETS, ModelConfig, Transformer


def test_context_longer_than_the_block_is_refused():
    model = Transformer(ModelConfig(vocab_size=10, block_size=8, n_layer=1, n_head=1, n_embd=8))
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 9, dtype=torch.long))


def test_presets_have_the_documented_shapes():
    assert (PRESETS["base"].n_layer, PRESETS["base"].n_head, PRESETS["base"].n_embd, PRESETS["base"].dropout) == (6, 8, 512, 0.1)
    assert (PRESETS["large"].n_layer, PRESETS["large"].n_head, PRESETS["large"].n_embd, PRESETS["large"].dropout) == (12, 8, 1024, 0.3)
    tiny = Transformer(PRESETS["tiny"])
    assert tiny.lm_head.weight is tiny.wte.weight  # tied


def test_the_cli_lists_every_preset():
    from core.commands.train import PRESET_NAMES

    assert set(PRESET_NAMES) == set(PRESETS)


def test_the_cli_lists_every_key_mode():
    from core.commands.train import KEY_MODE_NAMES
    from core.learning.run_config import KEY_MODES

    assert KEY_MODE_NAMES == KEY_MODES
