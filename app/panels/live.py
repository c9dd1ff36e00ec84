"""Live panel: record a seed from a MIDI keyboard, and play call-and-response duets.

Thin adapters over `core.midi.recording.Recorder` and `core.midi.duet.Duet` (Frescobaldi style): the
Qt subclasses turn the hook methods, called on the port's or the duet's thread, into signals.
The duet runs as a job (`callback_job`) so Stop and closing the window end it cleanly; when
it ends, the conversation comes back as one score ("you" becomes the seed, "Partita" a take).
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.workers import JobRunner, callback_job
from core.composing.generation import engine_reply_generator
from core.midi.duet import Duet
from core.midi.recording import Recorder, phrase_to_score

VIRTUAL_IN = "virtual"


class LiveSignals(QObject):
    note = Signal(int, int)  # pitch, velocity of a note played (recording or duet)
    phrase = Signal(int)  # notes in a phrase the duet heard
    reply = Signal(int, int)  # reply note sent: pitch, velocity
    turn = Signal(str, int)  # who, notes: a finished reply
    listening = Signal()
    error = Signal(str)


class QtRecorder(Recorder):
    def __init__(self, signals: LiveSignals, **kwargs):
        super().__init__(**kwargs)
        self.signals = signals

    def note_on(self, pitch: int, velocity: int, seconds: float) -> None:
        self.signals.note.emit(pitch, velocity)


class QtDuet(Duet):
    def __init__(self, signals: LiveSignals, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.signals = signals

    def listening(self) -> None:
        self.signals.listening.emit()

    def phrase_detected(self, prompt, seconds: float) -> None:
        self.signals.phrase.emit(sum(len(t.notes) for t in prompt.tracks))

    def reply_note(self, pitch: int, velocity: int, seconds: float) -> None:
        self.signals.reply.emit(pitch, velocity)

    def reply_finished(self, turn) -> None:
        self.signals.turn.emit(turn.who, len(turn.notes))

    def error(self, message: str) -> None:
        self.signals.error.emit(message)


def list_input_ports() -> list[str]:
    try:
        from core.midi.ports import list_ports

        return [p.name for p in list_ports().inputs]
    except Exception:
        return []


class InputBox(QComboBox):
    """Lists the input ports again each time it opens."""

    def showPopup(self) -> None:
        current = self.currentData()
        self.clear()
        self.addItem("Partita In (virtual port)", VIRTUAL_IN)
        for name in list_input_ports():
            self.addItem(name, name)
        self.setCurrentIndex(max(0, self.findData(current)))
        super().showPopup()


class LivePanel(QWidget):
    seedRecorded = Signal(object)  # symusic.Score: the phrase played, quantized
    conversationReady = Signal(object)  # symusic.Score with tracks "you" and "Partita"
    failed = Signal(str, str)
    status = Signal(str)

    def __init__(self, transport, generation_panel, parent=None, *, input_factory=None):
        super().__init__(parent)
        self.transport = transport
        self.generation = generation_panel
        self.input_factory = input_factory  # (port, callback, clock) -> input port; tests pass a fake
        self.signals = LiveSignals(self)
        self.recorder: QtRecorder | None = None
        self.duet: QtDuet | None = None
        self.input = None
        self._played = 0
        self.duet_runner = JobRunner("duet", self, deliver_after_cancel=True)

        self.input_box = InputBox(self)
        self.input_box.addItem("Partita In (virtual port)", VIRTUAL_IN)
        self.input_box.setToolTip("The MIDI keyboard (or DAW) to listen to; connect it to 'Partita In' "
                                  "or pick it here")
        self.record_button = QPushButton("Record seed", self)
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Play a phrase on the keyboard; press again to stop. It becomes the seed "
                                      "(quantized to 16ths, tempo estimated from your playing).")
        self.click = QCheckBox("Click", self)
        self.click.setToolTip("A metronome on the output while recording, at the transport's tempo")
        self.bars = QSpinBox(self)
        self.bars.setRange(1, 16)
        self.bars.setValue(2)
        self.bars.setToolTip("Bars in each of Partita's replies")
        self.silence = QSpinBox(self)
        self.silence.setRange(100, 5000)
        self.silence.setSingleStep(100)
        self.silence.setValue(600)
        self.silence.setSuffix(" ms")
        self.silence.setToolTip("How long you stay silent before Partita answers")
        self.duet_button = QPushButton("Start duet", self)
        self.duet_button.setCheckable(True)
        self.duet_button.setToolTip("Call and response: play a phrase, pause, Partita answers with the chosen "
                                    "model; press again to stop and get the conversation in the roll")
        self.state = QLabel("Idle.", self)
        self.log = QListWidget(self)
        form = QFormLayout()
        form.addRow("Input", self.input_box)
        record_row = QHBoxLayout()
        record_row.addWidget(self.record_button)
        record_row.addWidget(self.click)
        record_row.addStretch(1)
        form.addRow("Seed", record_row)
        form.addRow("Reply bars", self.bars)
        form.addRow("Answer after", self.silence)
        form.addRow("Duet", self.duet_button)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.state)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addWidget(self.log, 1)

        self.record_button.toggled.connect(self._record_toggled)
        self.duet_button.toggled.connect(self._duet_toggled)
        self.signals.note.connect(self._on_note)
        self.signals.phrase.connect(lambda n: self._say(f"You played {n} notes; Partita answers…"))
        self.signals.listening.connect(lambda: self._say("Listening: play a phrase, then pause."))
        self.signals.turn.connect(lambda who, n: self.log.addItem(f"{who}: {n} notes"))
        self.signals.error.connect(lambda m: self.failed.emit(f"Duet: {m}", "Check the MIDI ports and the model."))
        self.duet_runner.finished.connect(self._duet_finished)
        self.duet_runner.failed.connect(self._duet_failed)
        self.duet_runner.event.connect(lambda message: self._say(str(message)))

    def _say(self, text: str) -> None:
        self.state.setText(text)
        self.status.emit(text)

    def _open_input(self, callback, clock):
        port = self.input_box.currentData()
        if self.input_factory is not None:
            return self.input_factory(port, callback, clock)
        from core.midi.ports import open_input

        if port == VIRTUAL_IN:
            return open_input(virtual=True, callback=callback, clock=clock)
        return open_input(port, callback=callback, clock=clock)

    def _close_input(self) -> None:
        port, self.input = self.input, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass

    # --- recording a seed ------------------------------------------------------------------
    def _record_toggled(self, on: bool) -> None:
        if on:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self) -> None:
        bpm = float(self.transport.tempo_bpm) if hasattr(self.transport, "tempo_bpm") else 100.0
        click_output = None
        if self.click.isChecked():
            try:
                click_output = self.transport._open_output()
            except Exception:
                click_output = None
        self.recorder = QtRecorder(self.signals, bpm=bpm, click=self.click.isChecked(), click_output=click_output)
        self.recorder.start()  # before the port opens: a note played the moment it connects is kept
        try:
            self.input = self._open_input(self.recorder.feed, self.recorder.clock)
        except (OSError, RuntimeError) as error:
            self.recorder.stop()
            self.recorder = None
            if click_output is not None:
                click_output.close()
            self.record_button.setChecked(False)
            self.failed.emit(f"Could not listen to the MIDI input: {error}",
                             "Start a MIDI server (JACK or ALSA) and connect your keyboard to 'Partita In', "
                             "or choose it in the Input list.")
            return
        self._played = 0
        self._say("Recording: play your phrase, then press Record seed again.")

    def stop_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        notes = recorder.stop()
        self._close_input()
        if not notes:
            self._say("Nothing was played.")
            return
        score = phrase_to_score(notes)
        self._say(f"Recorded {len(notes)} notes at {score.tempos[0].qpm:.0f} bpm: they are the seed now.")
        self.seedRecorded.emit(score)

    def _on_note(self, pitch: int, velocity: int) -> None:
        self._played += 1
        if self.recorder is not None:
            self.state.setText(f"Recording: {self._played} notes")

    # --- duet ------------------------------------------------------------------------------
    def _duet_toggled(self, on: bool) -> None:
        if on:
            self.start_duet()
        else:
            self.stop_duet()

    def start_duet(self) -> None:
        if self.duet_runner.running:
            return
        try:  # the Generate panel's form: a range or progression that does not read stops here
            settings = self.generation.settings()
        except ValueError as error:
            self.duet_button.setChecked(False)
            self.failed.emit(f"The duet cannot start: {error}.", "Correct the Range or Chords field of the Generate panel.")
            return
        self.transport.stop()
        try:
            output = self.transport._open_output()
        except (OSError, RuntimeError) as error:
            self.duet_button.setChecked(False)
            self.failed.emit(f"Could not open the MIDI output for the duet: {error}",
                             "Choose another output in the toolbar (the built-in synth needs FluidSynth).")
            return
        self.log.clear()
        cache, run_dir = self.generation.cache, self.generation.run_dir
        bars, silence = self.bars.value(), self.silence.value()
        panel = self

        def work(progress, cancel):
            progress("Loading the model…")
            loaded = cache.get(run_dir)
            duet = QtDuet(panel.signals, engine_reply_generator(loaded, settings), output, bars=bars,
                          silence_ms=silence, program=loaded.program)
            panel.duet = duet
            duet.listen()  # before the port opens: the first note played is part of the first call
            panel.input = panel._open_input(duet.feed, duet.clock.now)

            def watch() -> None:
                while not cancel():
                    time.sleep(0.05)
                duet.stop()

            threading.Thread(target=watch, name="partita-duet-stop", daemon=True).start()
            try:
                duet.run()
            finally:
                panel._close_input()
            return duet.take() if duet.turns else None

        self.duet_runner.start(callback_job(work))

    def stop_duet(self) -> None:
        if self.duet_runner.running:
            self._say("Stopping the duet…")
            self.duet_runner.cancel()

    def _duet_finished(self, score) -> None:
        self.duet = None
        self.duet_button.setChecked(False)
        if score is None:
            self._say("Duet ended before anyone played.")
            return
        self._say("Duet ended: you are the seed, Partita's replies are a new take.")
        self.conversationReady.emit(score)

    def _duet_failed(self, message: str) -> None:
        self.duet = None
        self.duet_button.setChecked(False)
        self.failed.emit(f"The duet stopped: {message}",
                         "Check the MIDI input and output, and that the model folder is complete.")

    def shutdown(self) -> None:
        self.stop_recording()
        self.duet_runner.shutdown(10000)
