"""Shared by the end-to-end tests: small real training material."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def inventions(tmp_path_factory) -> Path:
    source = SHARED / "mutopia-bach-midi" / "two-part-inventions"
    if not source.exists():
        pytest.skip(f"real music data not found at {source} (../shared/data beside the repo)")
    folder = tmp_path_factory.mktemp("inventions")
    for path in sorted(source.glob("*.mid"))[:5]:
        (folder / path.name).symlink_to(path)
    return folder
