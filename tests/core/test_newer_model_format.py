"""A model folder made by a newer Partita, or whose "format" is no format number, is refused naming
config.json and the format (found by a hostile run, issue 22): "format": 99 loaded and composed as if
it were this Partita's own. Older folders (format 1, or no field) still load. Made at run time."""

from __future__ import annotations

import pytest

from core.learning.checkpoint import FORMAT_VERSION, CheckpointError, load_model, read_config
from tests.core.test_hostile_inputs import edit_config, one_line_error, run  # noqa: F401 (run: a fixture)


@pytest.mark.parametrize("made", [FORMAT_VERSION + 1, 99, 0, -1, "2", 2.0, None, [2], 10**400])
def test_a_format_this_partita_does_not_read_is_refused_naming_it(run, capsys, tmp_path, made):  # noqa: F811
    edit_config(run, lambda config: config.update(format=made))
    line = one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "take.mid", "--bars", 1,
                          names=f"{run / 'config.json'}: \"format\" ")
    assert f"is not a format this Partita reads (1 to {FORMAT_VERSION})" in line and len(line) < 300
    assert not (tmp_path / "take.mid").exists()


@pytest.mark.parametrize("made", ["absent", 1, FORMAT_VERSION])
def test_older_and_current_formats_still_load(run, made):  # noqa: F811
    edit_config(run, lambda config: config.pop("format") if made == "absent" else config.update(format=made))
    assert read_config(run)
    if made == FORMAT_VERSION:
        assert load_model(run).config["format"] == FORMAT_VERSION
    with pytest.raises(CheckpointError):
        edit_config(run, lambda config: config.update(format=FORMAT_VERSION + 1))
        read_config(run)
