"""Playback into a real JACK MIDI port opened by the test: every note arrives, in order (how close to
its time: benchmarks/midi_timing.py)."""

from __future__ import annotations

import threading
import time

import mido
import symusic

from core.midi.duet import wait_for
from core.midi.playback import Player
from core.midi.ports import list_ports, open_input, open_output


class Receiver:
    """A JACK input port that stamps each message with perf_counter on arrival."""

    def __init__(self, client: str = "receiver", port: str = "in"):
        self.messages: list[tuple[float, object]] = []
        self.arrived = threading.Event()
        self.port = open_input(virtual=True, backend="jack", client_name=client, port_name=port,
                               callback=self._on_message)
        self.full_name = f"{client}:{port}"

    def _on_message(self, message, seconds):
        self.messages.append((seconds, message))
        self.arrived.set()

    def note_ons(self):
        return [(t, m) for t, m in self.messages if m.type == "note_on" and m.velocity > 0]


def excerpt(cello_midi_dir, seconds: float = 2.5) -> symusic.Score:
    """The opening of the G major prelude, as much as lasts `seconds` at its own tempo."""
    score = symusic.Score.from_file(str(cello_midi_dir / "BWV1007_01_Prelude.mid"))
    seconds_score = score.to("second")
    cut = symusic.Score(score.tpq)
    for tempo in score.tempos:
        cut.tempos.append(tempo)
    for track, timed in zip(score.tracks, seconds_score.tracks, strict=True):
        kept = symusic.Track(program=track.program)
        for note, seconds_note in zip(track.notes, timed.notes, strict=True):
            if seconds_note.time < seconds:
                kept.notes.append(note)
        if len(kept.notes):
            cut.tracks.append(kept)
    return cut


def test_ports_lists_the_test_port_on_jack(jack_server):
    receiver = Receiver("lister", "in")
    jack_server.wait_listed("lister:in")
    listing = list_ports("jack")
    assert "jack" not in listing.problems
    assert "lister:in" in [p.name for p in listing.outputs]
    receiver.port.close()


def test_virtual_ports_appear_under_partitas_names_for_others_to_connect(jack_server):
    import rtmidi

    from core.midi.ports import VIRTUAL_INPUT, VIRTUAL_OUTPUT

    out = open_output(virtual=True, backend="jack")
    listening = open_input(virtual=True, backend="jack")
    other = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "other")  # another program: Partita's listings hide its own output
    try:
        assert wait_for(lambda: f"Partita:{VIRTUAL_OUTPUT}" in other.get_ports(), timeout=5, poll_s=0.05)
        names = other.get_ports()
        assert f"Partita:{VIRTUAL_OUTPUT}" in names  # others listen to it
        assert f"Partita:{VIRTUAL_OUTPUT}" not in [p.name for p in list_ports("jack").inputs]
        assert wait_for(lambda: any(p.name.endswith(VIRTUAL_INPUT) for p in list_ports("jack").outputs),
                        timeout=5, poll_s=0.05)  # others send to it
        other.open_port(names.index(f"Partita:{VIRTUAL_OUTPUT}"))
        out.send(mido.Message("note_on", note=64, velocity=70))
        deadline = time.monotonic() + 2
        message = None
        while message is None and time.monotonic() < deadline:
            message = other.get_message()
            time.sleep(0.01)
        assert message is not None and message[0] == [0x90, 64, 70]
    finally:
        other.close_port()
        other.delete()
        for port in (listening, out):
            port.close()


def test_every_note_arrives_in_order(jack_server, cello_midi_dir):
    score = excerpt(cello_midi_dir, seconds=5.0)  # played twice as fast: 2.5 s
    receiver = Receiver()
    jack_server.wait_listed(receiver.full_name)
    output = open_output(receiver.full_name, backend="jack")
    player = Player(output, score, tempo_factor=2.0)
    player.play()
    assert player.wait(10), "playback did not end"
    time.sleep(0.05)  # one JACK cycle for the last note-off
    assert player.state == "finished", player.error_message

    received = [m.note for _, m in receiver.note_ons()]
    assert received == _in_time_order(score)
    offs = [m for _, m in receiver.messages if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)]
    assert len(offs) == len(received)

    output.close()
    receiver.port.close()


def _in_time_order(score: symusic.Score) -> list[int]:
    notes = sorted((n.time, n.pitch) for track in score.tracks for n in track.notes)
    return [p for _, p in notes]


def test_stop_mid_note_releases_everything_on_the_receiver(jack_server):
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(program=0)
    for pitch in (60, 64, 67):
        track.notes.append(symusic.Note(0, 480 * 40, pitch, 90))  # a chord held for 20 s
    score.tracks.append(track)
    receiver = Receiver("stopper", "in")
    jack_server.wait_listed("stopper:in")
    output = open_output("stopper:in", backend="jack")
    player = Player(output, score)
    player.play()
    assert receiver.arrived.wait(2)
    time.sleep(0.1)
    player.stop()
    assert player.wait(2)
    time.sleep(0.05)
    ons = sorted(m.note for _, m in receiver.note_ons())
    offs = sorted(m.note for _, m in receiver.messages if m.type == "note_off")
    assert ons == offs == [60, 64, 67]
    assert any(m.type == "control_change" and m.control == 123 for _, m in receiver.messages)
    output.close()
    receiver.port.close()
