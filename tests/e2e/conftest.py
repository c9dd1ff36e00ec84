"""Shared by the end-to-end tests: small real training material."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def linked_corpus(tmp_path_factory):
    """make(source, pattern, count): a folder of links to the first `count` files of `source` that
    match `pattern` (a clean skip without the data)."""

    def make(source: Path, pattern: str, count: int) -> Path:
        if not source.exists():
            pytest.skip(f"real music data not found at {source} (../shared/data beside the repo)")
        folder = tmp_path_factory.mktemp(source.name)
        for path in sorted(source.glob(pattern))[:count]:
            (folder / path.name).symlink_to(path)
        return folder

    return make


@pytest.fixture(scope="module")
def inventions(linked_corpus) -> Path:
    return linked_corpus(SHARED / "mutopia-bach-midi" / "two-part-inventions", "*.mid", 5)
