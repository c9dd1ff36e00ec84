"""Live panel: a phrase played on a (fake) keyboard becomes the seed; a duet answers and ends in the roll."""

from __future__ import annotations

import mido
from conftest import cello_midi_files  # noqa: F401  (skips cleanly without the data, via tiny_run)


class FakeInput:
    def __init__(self, port, callback, clock):
        self.port, self.callback, self.clock = port, callback, clock
        self.closed = False

    def close(self):
        self.closed = True


def play(qtbot, feed, pitches, length_ms=60):
    for pitch in pitches:
        feed(mido.Message("note_on", note=pitch, velocity=90))
        qtbot.wait(length_ms)
        feed(mido.Message("note_off", note=pitch, velocity=0))


def test_recorded_phrase_becomes_the_seed(make_window, qtbot):
    inputs = []
    window = make_window(restore_session=False)
    window.live_panel.input_factory = lambda port, callback, clock: inputs.append(FakeInput(port, callback, clock)) \
        or inputs[-1]
    panel = window.live_panel
    panel.record_button.click()
    assert panel.recorder is not None and inputs
    play(qtbot, inputs[0].callback, [60, 62, 64, 65])
    with qtbot.waitSignal(panel.seedRecorded, timeout=3000):
        panel.record_button.click()
    assert [n.pitch for n in window.model.seed_notes()] == [60, 62, 64, 65]
    assert inputs[0].closed


def test_duet_answers_and_ends_as_seed_plus_take(make_window, qtbot, tiny_run):
    inputs = []
    window = make_window(restore_session=False)
    panel = window.live_panel
    panel.input_factory = lambda port, callback, clock: inputs.append(FakeInput(port, callback, clock)) or inputs[-1]
    window.generation_panel.add_run(str(tiny_run), select=True)
    window.generation_panel.random_seed.setValue(5)
    panel.bars.setValue(1)
    panel.silence.setValue(200)
    panel.duet_button.click()
    qtbot.waitUntil(lambda: bool(inputs), timeout=30000)
    with qtbot.waitSignal(panel.signals.turn, timeout=60000) as turn:
        play(qtbot, inputs[0].callback, [55, 57, 59, 60])
    assert turn.args[0] == "Partita"
    with qtbot.waitSignal(panel.conversationReady, timeout=15000):
        panel.duet_button.click()
    assert [n.pitch for n in window.model.seed_notes()] == [55, 57, 59, 60]
    assert window.model.takes[-1] == "Duet 1"
    assert inputs[0].closed


def test_a_duet_with_a_range_that_does_not_read_says_why_and_does_not_start(make_window, qtbot):
    window = make_window(restore_session=False)
    panel = window.live_panel
    inputs = []
    panel.input_factory = lambda port, callback, clock: inputs.append(FakeInput(port, callback, clock)) or inputs[-1]
    window.generation_panel.pitch_range.setText("C9-C2x")
    with qtbot.waitSignal(panel.failed, timeout=3000) as failed:
        panel.duet_button.click()
    assert "duet cannot start" in failed.args[0]
    assert not panel.duet_button.isChecked() and not inputs and not panel.duet_runner.running
