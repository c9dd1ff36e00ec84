"""Recording from a real JACK port that the test plays into: the phrase recorded is the phrase sent."""

from __future__ import annotations

import time

import symusic

from core.midi.playback import Player
from core.midi.ports import open_input, open_output
from core.midi.recording import Recorder, phrase_to_score


def phrase(bpm: float = 120.0) -> symusic.Score:
    """Two bars of a C major figure in eighths and a closing half note, with varied velocities."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, bpm))
    track = symusic.Track(program=0)
    pitches = [60, 62, 64, 65, 67, 65, 64, 62]
    for i, pitch in enumerate(pitches):
        track.notes.append(symusic.Note(i * 240, 200, pitch, 60 + 5 * i))
    track.notes.append(symusic.Note(8 * 240, 900, 60, 100))
    score.tracks.append(track)
    return score


def test_recorded_phrase_equals_what_was_sent_and_thru_echoes_it(jack_server):
    keyboard = open_output(virtual=True, backend="jack", client_name="keyboard", port_name="out")
    echoes = []
    monitor = open_input(virtual=True, backend="jack", client_name="monitor", port_name="in",
                         callback=lambda m, t: echoes.append(m))
    thru = open_output("monitor:in", backend="jack", port_name="thru")
    recorder = Recorder(thru=thru)
    listening = open_input("keyboard:out", backend="jack", callback=recorder.feed, clock=recorder.clock)
    recorder.start()
    sent = phrase(120.0)
    player = Player(keyboard, sent)  # the "musician": plays the phrase into the keyboard port
    player.play()
    assert player.wait(5) and player.state == "finished", player.error_message
    time.sleep(0.05)
    notes = recorder.stop()

    written = sent.tracks[0].notes
    assert [(n.pitch, n.velocity) for n in notes] == [(n.pitch, n.velocity) for n in written]
    onsets = [n.start - notes[0].start for n in notes]
    assert all(abs(o - n.time / 960) < 0.01 for o, n in zip(onsets, written, strict=True))

    seed = phrase_to_score(notes)  # tempo estimated from the playing
    assert abs(seed.tempos[0].qpm - 120.0) < 2.5
    assert [(n.time, n.pitch) for n in seed.tracks[0].notes] == [(n.time, n.pitch) for n in written]

    echoed = [m.note for m in echoes if m.type == "note_on" and m.velocity > 0]
    assert echoed == [n.pitch for n in written]
    for port in (listening, thru, monitor, keyboard):
        port.close()
