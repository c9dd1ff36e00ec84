"""Transport: play / stop / loop over `core.midi.playback.Player`, MIDI output choice, tempo.

Frescobaldi's `qmidi/player.py` pattern: `QtPlayer` subclasses the pure player and turns its
hook methods (called on the player's thread) into signals, which queued connections bring to
the GUI thread. The window only calls `play`, `stop`, `set_loop`, `set_tempo_factor`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QToolBar

from core.midi.playback import Player

VIRTUAL = "virtual"  # item data of the "Partita Out (virtual port)" entry
SYNTH = "synth"  # item data of the built-in synth (FluidSynth with a General MIDI soundfont)


def synth_available() -> bool:
    try:
        from core.midi.synth import find_fluidsynth, find_soundfont

        return bool(find_fluidsynth() and find_soundfont())
    except Exception:
        return False


class PlayerSignals(QObject):
    position = Signal(float)  # ticks
    state = Signal(str)
    error = Signal(str)


class QtPlayer(Player):
    def __init__(self, output, score, signals: PlayerSignals, **kwargs):
        super().__init__(output, score, **kwargs)
        self.signals = signals

    def position_changed(self, tick: float, seconds: float) -> None:
        self.signals.position.emit(float(tick))

    def state_changed(self, state: str) -> None:
        self.signals.state.emit(state)

    def error(self, message: str) -> None:
        self.signals.error.emit(message)


class Transport(QObject):
    """Owns the output port and the current player; one score plays at a time."""

    positionChanged = Signal(float)
    playingChanged = Signal(bool)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None, output_factory=None):
        super().__init__(parent)
        self.signals = PlayerSignals(self)
        self.signals.position.connect(self.positionChanged)
        self.signals.state.connect(self._state)
        self.signals.error.connect(self._error)
        self.player: QtPlayer | None = None
        self.output = None
        self.port = SYNTH if synth_available() else VIRTUAL  # sound out of the box where we can
        self.tempo_factor = 1.0
        self.tempo_bpm = 100.0  # the toolbar's tempo (recording's click uses it)
        self.loop: tuple[int, int] | None = None
        self.output_factory = output_factory  # tests pass a CollectingOutput maker

    @property
    def playing(self) -> bool:
        return self.player is not None and self.player.state == "playing"

    def set_port(self, port: str) -> None:
        if port != self.port:
            self.stop()
            self._close_output()
            self.port = port

    def _open_output(self):
        if self.output is not None:
            return self.output
        if self.output_factory is not None:
            self.output = self.output_factory()
            return self.output
        if self.port == SYNTH:
            from core.midi.synth import FluidSynthOutput

            self.output = FluidSynthOutput()
            return self.output
        from core.midi.ports import open_output

        self.output = open_output(virtual=True) if self.port == VIRTUAL else open_output(self.port)
        return self.output

    def _close_output(self) -> None:
        if self.output is not None:
            try:
                self.output.close()
            except Exception:
                pass
            self.output = None

    def play(self, score, from_tick: int = 0) -> bool:
        """Play a `symusic.Score`, or a `core.midi.timeline.Timeline` still being filled (streaming)."""
        self.stop()
        try:
            output = self._open_output()
        except (OSError, RuntimeError) as error:  # PortError, SynthUnavailable
            from core.midi.synth import SynthUnavailable

            text = str(error).splitlines()[0] if str(error) else type(error).__name__
            if isinstance(error, SynthUnavailable):
                self.failed.emit(f"The built-in synth cannot sound: {text}",
                                 "Check that this computer has a working sound output (and that no other program "
                                 "holds it), or choose a MIDI port in the toolbar's Output. File > Export > "
                                 "Export audio (WAV) renders the music without a sound device.")
            else:
                self.failed.emit(f"Could not open the MIDI output: {text}",
                                 "Start a MIDI server (JACK: `jackd -d dummy`, or ALSA's snd-seq), connect a synth "
                                 "such as FluidSynth, or choose another port in the toolbar.")
            self.playingChanged.emit(False)
            return False
        self.player = QtPlayer(output, score, self.signals, tempo_factor=self.tempo_factor)
        if self.loop is not None:
            self.player.set_loop(*self.loop)
        self.player.play(from_tick)
        self.playingChanged.emit(True)
        return True

    def stop(self) -> None:
        if self.player is not None:
            player, self.player = self.player, None
            player.stop()
            self.playingChanged.emit(False)

    def set_tempo_factor(self, factor: float) -> None:
        self.tempo_factor = factor
        if self.player is not None:
            self.player.set_tempo_factor(factor)

    def set_loop(self, span: tuple[int, int] | None) -> None:
        self.loop = span
        if self.player is not None:
            self.player.set_loop(*(span or (None, None)))

    def _state(self, state: str) -> None:
        if state in ("finished", "stopped") and self.player is not None and self.player.state != "playing":
            self.player = None
            self.playingChanged.emit(False)

    def _error(self, message: str) -> None:
        self.player = None
        self._close_output()
        self.playingChanged.emit(False)
        self.failed.emit(f"Playback stopped: {message}", "Check that the MIDI port and its synth are still running.")

    def shutdown(self) -> None:
        self.stop()
        self._close_output()


def list_output_ports() -> list[str]:
    """Output port names across available backends (empty when no MIDI server answers)."""
    try:
        from core.midi.ports import list_ports

        return [p.name for p in list_ports().outputs]
    except Exception:
        return []


class TransportBar(QToolBar):
    """Play / loop / rewind buttons, the output port and the tempo."""

    portChosen = Signal(str)
    tempoChosen = Signal(float)  # quarter notes per minute

    def __init__(self, actions, parent=None):
        super().__init__("Transport", parent)
        self.setObjectName("transportBar")
        self.addActions([actions.rewind, actions.play, actions.loop])
        self.addSeparator()
        self.addWidget(QLabel(" Output ", self))
        self.port_box = PortBox(self)
        self.port_box.setToolTip("Where Partita sends its MIDI: a virtual port any synth or DAW can connect to, "
                                 "or an existing port (a synth, a keyboard, FluidSynth)")
        # names of ports run long ("Built-in synth (FluidSynth)", a DAW's): elided to keep the toolbar
        # within a 1366-pixel screen, whole in the list
        self.port_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.port_box.setMinimumContentsLength(15)
        self.port_box.aboutToShow = lambda: self.refresh_ports()
        self.refresh_ports(probe=False)
        self.port_box.activated.connect(lambda _i: self.portChosen.emit(self.port_box.currentData()))
        self.addWidget(self.port_box)
        self.addWidget(QLabel("  Tempo ", self))
        self.tempo = QDoubleSpinBox(self)
        self.tempo.setRange(20, 400)
        self.tempo.setDecimals(0)
        self.tempo.setSuffix(" bpm")
        self.tempo.setValue(100)
        self.tempo.setToolTip("Playback tempo in quarter notes per minute")
        self.tempo.valueChanged.connect(self.tempoChosen)
        self.addWidget(self.tempo)

    def set_tempo(self, qpm: float) -> None:
        """Show `qpm` (quarter notes per minute: a new seed's tempo) as if chosen (`tempoChosen`)."""
        self.tempo.setValue(qpm)

    def refresh_ports(self, chosen: str | None = None, probe: bool = True) -> None:
        """List the output ports; `probe=False` lists only the virtual and the chosen port (fast start)."""
        current = chosen if chosen is not None else self.port_box.currentData()
        self.port_box.blockSignals(True)
        self.port_box.clear()
        if synth_available():
            self.port_box.addItem("Built-in synth (FluidSynth)", SYNTH)
        self.port_box.addItem("Partita Out (virtual port)", VIRTUAL)
        for name in list_output_ports() if probe else []:
            self.port_box.addItem(name, name)
        index = self.port_box.findData(current)
        if index < 0 and current and current not in (VIRTUAL, SYNTH):  # remembered, but not (yet) listed
            self.port_box.addItem(f"{current} (not found)" if probe else current, current)
            index = self.port_box.count() - 1
        self.port_box.setCurrentIndex(max(0, index))
        self.port_box.blockSignals(False)


class PortBox(QComboBox):
    """A combo box that lists the ports again each time it opens (ports come and go)."""

    aboutToShow = None

    def showPopup(self) -> None:
        if self.aboutToShow is not None:
            self.aboutToShow()
        super().showPopup()
