"""Port lookup by name or substring, and the messages for ports that are not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.midi.ports import CollectingOutput, PortError, TeeOutput, match_port, open_output

NAMES = ["Midi Through:Midi Through Port-0 14:0", "FLUID Synth (1234):Synth input port (1234:0) 128:0",
         "system:midi_playback_1", "system:midi_playback_2"]


def test_exact_name_wins_then_a_unique_substring_in_any_case():
    assert match_port("system:midi_playback_2", NAMES, "output") == 3
    assert match_port("fluid", NAMES, "output") == 1


def test_ambiguous_substring_lists_the_candidates():
    with pytest.raises(PortError, match="ambiguous.*midi_playback_1.*midi_playback_2"):
        match_port("playback", NAMES, "output")


def test_missing_port_lists_what_is_available():
    with pytest.raises(PortError, match="no input port matching 'keystation'.*Midi Through"):
        match_port("keystation", NAMES, "input")
    with pytest.raises(PortError, match=r"available: none"):
        match_port("anything", [], "output")


def test_opening_without_a_name_or_on_an_unknown_backend_is_a_clear_error():
    with pytest.raises(PortError, match="no output port named"):
        open_output(None)
    with pytest.raises(PortError, match="unknown MIDI backend 'midiman'"):
        open_output("x", backend="midiman")


def test_tee_reports_only_the_outputs_still_present():
    a, b = CollectingOutput(), CollectingOutput()
    tee = TeeOutput(outputs=[a, b])
    assert tee.destination_present()
    b.destination_there = False
    assert not tee.destination_present() and tee.present_outputs() == [a]


def test_the_command_line_knows_the_backends_without_importing_rtmidi():
    from core.commands import MIDI_BACKENDS
    from core.midi.ports import BACKENDS

    assert MIDI_BACKENDS == tuple(BACKENDS)
    # `partita train` on a machine without python-rtmidi (a GPU server) still builds its parser.
    code = ("import sys; sys.modules['rtmidi'] = None\n"
            "from core.cli import build_parser; build_parser().parse_args(['train', '--out', 'x'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr


def test_partitas_own_outputs_are_never_matched_or_offered_as_inputs():
    names = ["Partita:Partita Out", "Keystation 49:midi_out"]
    own = ["Partita:Partita Out"]
    assert match_port("midi", names, "input", own) == 1
    assert match_port("out", names, "input", own) == 1  # the only other port containing it
    with pytest.raises(PortError, match="own output.*available: 'Keystation 49:midi_out'"):
        match_port("Partita:Partita Out", names, "input", own)
    with pytest.raises(PortError, match=r"no input port matching 'x' \(available: 'Keystation 49:midi_out'\)"):
        match_port("x", names, "input", own)


def test_every_output_shares_one_send_path_one_presence_check_and_one_panic():
    """core.midi.output.MidiOutput: a subclass writes `_send_bytes` only; `send_bytes` and mido's
    `send` both reach it, a closed port refuses, and `panic` is All Notes Off on every channel."""
    import mido
    import pytest

    from core.midi.output import ALL_NOTES_OFF, MidiOutput, present

    class Kept(MidiOutput):
        def _open(self, **_):
            self.kept = []

        def _send_bytes(self, data):
            self.kept.append(tuple(data))

    port = Kept()
    port.send_bytes((0x90, 60, 100))
    port.send(mido.Message("note_off", note=60))
    port.panic()
    assert port.kept[:2] == [(0x90, 60, 100), (0x80, 60, 64)]
    assert port.kept[2:] == [(0xB0 | channel, ALL_NOTES_OFF, 0) for channel in range(16)]
    assert present(port)
    port.close()
    assert not present(port)
    with pytest.raises(ValueError, match="closed port"):
        port.send_bytes((0x90, 60, 100))
