"""Fixtures shared by every test folder: the real music data beside the repository."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Runs, sessions and logs of a test run never land in the user's own folders.
os.environ.setdefault("PARTITA_HOME", tempfile.mkdtemp(prefix="partita-test-home-"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or a clean skip when that data is not beside the repo."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real music data not found at {path} (../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def cello_xml_dir() -> Path:
    return shared_path("bach-cello-suites")


@pytest.fixture(scope="session")
def cello_midi_dir() -> Path:
    return shared_path("mutopia-bach-midi", "cello-suites")


@pytest.fixture(scope="session")
def jazz_dir() -> Path:
    return shared_path("wjazzd-jazz-solos")


@pytest.fixture(scope="session")
def jazz_beats_dir() -> Path:
    """The WJazzD solos on their annotated bars, with chord markers (wjazzd-beats/SOURCE.md)."""
    return shared_path("wjazzd-beats")
