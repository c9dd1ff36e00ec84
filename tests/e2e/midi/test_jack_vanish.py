"""The receiver disappears mid-playback: a clear error, no hang, no stuck notes where a port remains."""

from __future__ import annotations

import threading
import time

import symusic

from core.midi.playback import Player
from core.midi.ports import TeeOutput, list_ports, open_input, open_output


def long_notes(count: int = 40) -> symusic.Score:
    """Overlapping half notes at 120 bpm: at any moment two notes sound, for `count` quarters."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(program=0)
    for i in range(count):
        track.notes.append(symusic.Note(i * 480, 960, 48 + i % 24, 80))
    score.tracks.append(track)
    return score


class Watched(Player):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.errors: list[str] = []
        self.ended = threading.Event()

    def error(self, message):
        self.errors.append(message)
        self.ended.set()

    def finished(self):
        self.ended.set()


def collector(client: str):
    messages = []
    port = open_input(virtual=True, backend="jack", client_name=client, port_name="in",
                      callback=lambda m, t: messages.append(m))
    return port, messages


def test_closed_receiver_ends_playback_with_an_error_and_the_remaining_port_gets_its_note_offs(jack_server):
    doomed, _ = collector("doomed")
    survivor, heard = collector("survivor")
    jack_server.wait_listed("doomed:in")
    jack_server.wait_listed("survivor:in")
    tee = TeeOutput(outputs=[open_output("doomed:in", backend="jack", port_name="a"),
                             open_output("survivor:in", backend="jack", port_name="b")])
    player = Watched(tee, long_notes(), check_interval_s=0.1)
    player.play()
    time.sleep(0.6)
    doomed.close()  # the synth goes away mid-playback
    assert player.ended.wait(3), "playback did not notice the vanished port"  # (how soon: benchmarks/midi_timing.py)
    assert player.wait(2)
    assert player.state == "error"
    assert "doomed:in" in player.errors[0] and "vanished" in player.errors[0]
    time.sleep(0.05)
    ons = sorted(m.note for m in heard if m.type == "note_on" and m.velocity > 0)
    offs = sorted(m.note for m in heard if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0))
    assert ons and ons == offs, "a note was left sounding on the port that is still there"
    tee.close()
    survivor.close()


def test_jack_server_stopping_mid_playback_ends_with_an_error_and_no_crash(in_own_process, request):
    """Run in a process of its own: should libjack crash after all, this test fails with the
    child's output instead of taking the whole test run down with it."""
    if not in_own_process:
        return
    private_jack_server = request.getfixturevalue("private_jack_server")
    receiver, heard = collector("receiver")
    # A server started a moment ago can be slow to list a new client's port under load.
    private_jack_server.wait_listed("receiver:in")
    output = open_output("receiver:in", backend="jack")
    player = Watched(output, long_notes(), check_interval_s=0.1)
    player.play()
    time.sleep(0.5)
    assert heard, "nothing arrived before the server stopped"
    private_jack_server.stop()
    assert player.ended.wait(3), "playback hung after the JACK server stopped"  # (how soon: benchmarks/midi_timing.py)
    assert player.state == "error" and "vanished" in player.errors[0]
    listing = list_ports("jack")  # a new client now fails: must be a message, not a hang
    assert "jack" in listing.problems and "not running" in listing.problems["jack"]
    output.close()  # must not crash libjack (see core.midi.ports)
    receiver.close()
