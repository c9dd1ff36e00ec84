"""A model folder's config.json says what its instrument plays ("instrument": max_voices, lowest,
highest); a key misspelt there was passed over, and the limit it meant silently lifted: a cello
model with "max_voice": 1 composed chords. Now the folder is refused before composing, in one line
naming the file and the key, with the closest real key (issue 22, class 6). Made at run time."""

from __future__ import annotations

import pytest

from core.learning.checkpoint import CheckpointError, read_config
from core.music.limits import InstrumentLimits
from tests.core.test_hostile_inputs import edit_config, one_line_error, run  # noqa: F401 (run: a fixture)


@pytest.mark.parametrize("key, suggested", [("max_voice", "max_voices"), ("lowest_pitch", "lowest"),
                                            ("Highest", "highest"), ("voices", "max_voices"), ("range", None)])
def test_an_unknown_instrument_key_is_refused_naming_the_file_and_the_closest_key(run, capsys, tmp_path,  # noqa: F811
                                                                                  key, suggested):
    edit_config(run, lambda config: config["instrument"].update({key: 1}))
    line = one_line_error(capsys, "generate", "--model", run, "--out", tmp_path / "take.mid", "--bars", 1,
                          names=f"{run / 'config.json'}: \"instrument.{key}\" is not an instrument setting")
    if suggested:
        assert f'did you mean "{suggested}"?' in line
    else:
        assert "did you mean" not in line
    assert "the settings are max_voices, lowest, highest" in line
    assert not (tmp_path / "take.mid").exists()


def test_the_folder_reader_every_command_shares_refuses_it(run):  # noqa: F811
    edit_config(run, lambda config: config["instrument"].update(max_voice=1))
    with pytest.raises(CheckpointError, match=r'config.json: "instrument.max_voice" is not an instrument setting'):
        read_config(run)


def test_the_keys_it_writes_are_the_keys_it_reads():
    limits = InstrumentLimits(2, 36, 79)
    assert InstrumentLimits.json_problem(limits.to_json()) is None
    assert InstrumentLimits.from_json(limits.to_json()) == limits
    assert InstrumentLimits.json_problem({}) is None  # a model of before instruments: no limits
    assert InstrumentLimits.json_problem({"max_voices": None}) is None  # null: no limit
    assert InstrumentLimits.json_problem({"lowest": 90, "highest": 20}).startswith('"instrument": ')
    shown = InstrumentLimits.json_problem({"max\x1b[2Jvoices": 1})
    assert "\x1b" not in shown  # a key is shown, never obeyed by the terminal
