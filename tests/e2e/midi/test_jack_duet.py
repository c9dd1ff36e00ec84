"""A duet round trip over JACK: the test plays a phrase, waits, and hears a reply of N bars."""

from __future__ import annotations

import threading
import time

import symusic

from core.midi.duet import Duet, wait_for
from core.midi.playback import Player
from core.midi.ports import open_input, open_output

BPM = 240.0  # a bar of 4/4 lasts one second: keeps the test short
BAR_S = 4 * 60.0 / BPM


def call_phrase() -> symusic.Score:
    """One bar of eighth notes (D minor arpeggio up and down)."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, BPM))
    track = symusic.Track(program=0)
    for i, pitch in enumerate([62, 65, 69, 74, 69, 65, 62, 57]):
        track.notes.append(symusic.Note(i * 240, 200, pitch, 90))
    score.tracks.append(track)
    return score


def echo_generator(prompt: symusic.Score, bars: int, cancel):
    """A stand-in for the model: the prompt an octave up, repeated for *four* bars after it
    (more than asked, so the duet must cut the reply to `bars`)."""
    bar = 4 * prompt.tpq
    start = max(n.time + n.duration for n in prompt.tracks[0].notes)
    start = -(-start // bar) * bar
    for repeat in range(4):
        for note in prompt.tracks[0].notes:
            if cancel():
                return
            yield symusic.Note(start + repeat * bar + note.time, note.duration, note.pitch + 12, 70)


def test_duet_hears_a_phrase_and_answers_with_the_right_number_of_bars(jack_server):
    heard: list[tuple[float, object]] = []
    listener = open_input(virtual=True, backend="jack", client_name="listener", port_name="in",
                          callback=lambda m, t: heard.append((t, m)))
    keyboard = open_output(virtual=True, backend="jack", client_name="piano", port_name="out")
    output = open_output("listener:in", backend="jack")
    detected = []

    class Watched(Duet):
        def phrase_detected(self, prompt, seconds):
            detected.append(seconds)

    duet = Watched(echo_generator, output, bars=2, silence_ms=300, bpm=BPM)
    source = open_input("piano:out", backend="jack", callback=duet.feed, clock=duet.clock.now)
    runner = threading.Thread(target=duet.run, daemon=True)
    runner.start()

    musician = Player(keyboard, call_phrase())
    musician.play()
    assert musician.wait(5) and musician.state == "finished"
    phrase_end = time.perf_counter()
    assert wait_for(lambda: len(duet.turns) >= 2, timeout=6), "no reply within 6 s"
    duet.stop()
    runner.join(3)
    assert not runner.is_alive()

    reply_ons = [(t, m) for t, m in heard if m.type == "note_on" and m.velocity > 0]
    assert [m.note for _, m in reply_ons] == [p + 12 for p in [62, 65, 69, 74, 69, 65, 62, 57]] * 2
    first, last_off = reply_ons[0][0], max(t for t, m in heard if m.type == "note_off")
    span = last_off - first
    assert 2 * BAR_S - 0.3 < span <= 2 * BAR_S + 0.05, f"reply lasted {span:.2f} s, not two bars"
    assert detected and detected[0] - phrase_end >= 0.25  # it waited for the pause
    latency_ms = (first - detected[0]) * 1000
    print(f"\nduet: silence detected -> first reply note at the receiver: {latency_ms:.1f} ms (echo generator)")

    take = duet.take()
    assert [t.name for t in take.tracks] == ["you", "Partita"]
    assert len(take.tracks[0].notes) == 8 and len(take.tracks[1].notes) == 16
    assert min(n.time for n in take.tracks[1].notes) == 4 * 480  # the reply starts on the next bar
    for port in (source, output, keyboard, listener):
        port.close()
