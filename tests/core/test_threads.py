"""torch's thread count is changed only for the block that asks, and given back even on failure."""

from __future__ import annotations

import pytest
import torch

from core.threads import threads_sparing_a_core, torch_threads


def test_the_count_is_set_for_the_block_and_given_back_after_a_failure():
    previous = torch.get_num_threads()
    other = 2 if previous == 1 else 1
    with pytest.raises(ValueError), torch_threads(other):
        assert torch.get_num_threads() == other
        with torch_threads(3):
            assert torch.get_num_threads() == 3
        assert torch.get_num_threads() == other  # the inner block gave back the outer one's
        raise ValueError
    assert torch.get_num_threads() == previous


def test_training_in_the_window_leaves_a_core_and_never_asks_for_none(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    with torch_threads(8):
        assert threads_sparing_a_core() == 3
    with torch_threads(2):
        assert threads_sparing_a_core() == 2  # fewer threads than cores: kept as they are
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    with torch_threads(1):
        assert threads_sparing_a_core() == 1
