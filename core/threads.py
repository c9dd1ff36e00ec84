"""torch's intra-op thread count, set in one place and always given back.

torch keeps one process-wide count; whoever changes it for a piece of work (one thread for
token-by-token decoding, a core left to the window while training) goes through `torch_threads`,
so the rest of the process finds the count as it was."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with torch on `count` intra-op threads (at least 1), then restore the count
    it had. Switching costs ~0.2 us, so it can wrap each token's work."""
    import torch  # imported here: the window asks for a count before it has loaded torch

    previous = torch.get_num_threads()
    count = max(1, count)
    if count == previous:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def threads_sparing_a_core() -> int:
    """torch's present thread count less whatever would take the machine's last core: training
    in the window leaves one core to the GUI, so the curves stay live."""
    import torch

    threads = torch.get_num_threads()
    cores = os.cpu_count() or 1
    return threads if cores <= 1 else max(1, min(threads, cores - 1))
