"""Generation panel: model (a shipped style model by name, or a run folder), sampling settings and
the instrument's limits; Generate streams notes into the roll as tokens arrive, one take per
variation; Stop cancels at once. Until the user picks a model by hand, each new seed proposes the
shipped model whose instrument fits it (`core.learning.checkpoint.suggest_model`).

The worker runs `core.composing.generation.stream_generation` and yields its `TokenEvent`s; the panel
turns each completed note into a roll `Note` of the take for that variation. A chord-aware model
follows the progression typed in Chords (or the seed's chords); the chords it wrote are known once
a take is decoded, and reach the roll when the job completes (`TakeChords`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import symusic
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.fitting import VerticalScrollArea, WrappedLabel
from app.generating import ModelCache, ModelReady, TakeChords, generation_job, take_about
from app.panels.controls import BarControlsBox
from app.panels.shipped import model_controls, model_has_chords, model_limits, style_models
from app.pianoroll.convert import scale_ticks
from app.pianoroll.model import GENERATED, Note, NoteModel, chords_from
from app.workers import JobRunner
from core.composing.generation import GenerationSettings, TokenEvent
from core.learning import checkpoint
from core.music.chords import parse_progression
from core.music.limits import parse_range, pitch_name

CHOOSE = "choose"  # item data of the "Choose run folder…" entry
CHORDS_TIP = ("Chords for the new bars, repeated to the end: bars split by |, the chords of one bar share it "
              "(Dm7 G7 | Cmaj7: two beats each, then a whole bar); without |, one chord a bar (Dm7 G7 Cmaj7). "
              "The usual spelling or the Weimar Jazz Database's (D-7 G7 | Cj7; Bm7b5, Ebo7, F7sus, NC). "
              "Empty: the model follows the seed's chords, or writes its own")
SEED_SETTLE_MS = 300  # a seed is judged for a model this long after its last edit
MAX_VOICES = 8


class VoicesBox(QSpinBox):
    """Notes sounding at once: -1 (shown as the model's own limit) = None, 0 = no limit, 1-8."""

    NO_LIMIT = "no limit"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRange(-1, MAX_VOICES)
        self.setValue(-1)
        self.show_model_voices(None)

    def show_model_voices(self, voices: int | None) -> None:
        """Say the model's own limit where the box shows "the model's"."""
        self.setSpecialValueText("model's" if voices is None else f"model's: {voices}")

    def voices(self) -> int | None:
        """GenerationSettings.voices: None for the model's, 0 for no limit."""
        return None if self.value() < 0 else self.value()

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt's name)
        return self.NO_LIMIT if value == 0 else super().textFromValue(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802
        return 0 if text.strip() == self.NO_LIMIT else super().valueFromText(text)

    def validate(self, text: str, pos: int):
        if text.strip() and self.NO_LIMIT.startswith(text.strip()):
            state = QValidator.State.Acceptable if text.strip() == self.NO_LIMIT else QValidator.State.Intermediate
            return state, text, pos
        return super().validate(text, pos)


class GenerationPanel(QWidget):
    failed = Signal(str, str)
    status = Signal(str)
    generatingChanged = Signal(bool)
    noteStreamed = Signal(object)  # each Note of the first variation as it is written (live playback)

    def __init__(self, model: NoteModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.cache = ModelCache()
        self.runner = JobRunner("generation", self)
        self._takes: list[int | None] = []  # the roll's take (its lasting uid) per variation of the job
        self._cut: int | None = None  # where the job's takes leave the seed
        self._carried: list[Note] = []  # notes each of the job's takes starts with (Continue from here)
        self._tpq = 480  # tokenizer resolution of the model in use
        self._notes_received = 0
        self._weights = ""  # which weights of the run wrote the takes, in words
        self._about = ""  # the model and settings of the job's takes, in words (see take_about)
        self.prompt_provider = None  # callable () -> symusic.Score | None, set by the window
        self._picked = False  # the user chose the model by hand: new seeds no longer change it
        self._proposed = ""  # the model last proposed for the seed (said under the list)
        self._judged_seed: list[Note] | None = None  # the seed the proposal was made for
        self._chosen_index = 0  # the list's last choice that was a model (Choose… may be cancelled)

        self.model_box = QComboBox(self)
        self.model_box.setToolTip("Which model continues the seed: a style model shipped with Partita, "
                                  "or a run folder you trained")
        # "run-20261125-093000 (run)": its name whole at the dock's first width, the rest elided where
        # the dock is narrower (the tooltip has the path); 13 characters keep a 1366-pixel screen's dock
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(13)
        models = style_models()
        self._shipped = [shipped.name for shipped in models]  # item data of the shipped models
        for shipped in models:
            self.model_box.addItem(shipped.name, shipped.name)
            self.model_box.setItemData(self.model_box.count() - 1, shipped.about, Qt.ItemDataRole.ToolTipRole)
        if not self.model_box.count():  # an installation without its models: Generate says so
            self.model_box.addItem("Shipped default model", "")
        self.model_box.addItem("Choose run folder…", CHOOSE)
        default = self.model_box.findData(checkpoint.DEFAULT_MODEL_NAME)
        self.model_box.setCurrentIndex(max(default, 0))
        self.model_box.activated.connect(self._model_activated)
        self.model_about = WrappedLabel("", self)  # what the chosen model learned from, and why it was proposed
        palette = self.model_about.palette()
        palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
        self.model_about.setPalette(palette)
        self.best_weights = QCheckBox("Weights of the lowest validation loss", self)
        self.best_weights.setToolTip("Compose with the weights of the step where the run's validation loss "
                                     "was lowest, not those of its last step. On a small corpus a few "
                                     "validation pieces can mislead: listen to both.")
        self.temperature = self._double(0.05, 3.0, 0.05, 2, 1.0,
                                        "Higher: bolder, more surprising notes; lower: safer, more repetitive")
        self.top_k = self._spin(0, 500, 0, "Sample only among the k likeliest tokens (0: no limit)")
        self.top_p = self._double(0.1, 1.0, 0.01, 2, 0.95,
                                  "Sample among the likeliest tokens that together hold this probability (1: off)")
        self.bars = self._spin(1, 128, 8, "Length of the continuation in bars")
        self.variations = self._spin(1, 16, 1, "How many different continuations (takes) to write at once")
        self.random_seed = self._spin(-1, 2**31 - 1, -1, "Random seed: the same seed and settings give the same take "
                                                  "(random: a new one each time)")
        self.random_seed.setSpecialValueText("random")
        self.play_while = QCheckBox("Play as it is written", self)
        self.play_while.setToolTip("Hear the first take through the chosen output while the model writes it")
        self.voices = VoicesBox(self)
        self.voices.setToolTip("How many notes may sound at once: the model's own instrument (measured from "
                               "what it learned from: a cello line 3, a chorale 4), no limit, or 1-8")
        self.pitch_range = QLineEdit(self)
        self.pitch_range.setToolTip("Lowest and highest pitch, e.g. C2-G5 (middle C is C4). "
                                    "Empty: the model's own instrument's range")
        self.pitch_range.setMaximumWidth(self.pitch_range.fontMetrics().horizontalAdvance("model's: C#-1-G#9") + 16)
        self.chords = QLineEdit(self)
        self.chords.setClearButtonEnabled(True)
        self.chords_problem = WrappedLabel("", self)  # what is wrong with the progression typed, as it is typed
        self.chords_problem.setStyleSheet("color: #c0392b;")
        self.bar_controls = BarControlsBox(self)  # density, polyphony, range of every new bar
        self.form = form = QFormLayout()
        form.addRow("Model", self.model_box)
        form.addRow("", self.model_about)
        form.addRow("", self.best_weights)
        form.addRow("Voices", self.voices)  # rows of their own: "model's: C#-1-G#9" is read whole
        form.addRow("Range", self.pitch_range)
        form.addRow("Chords", self.chords)
        form.addRow("", self.chords_problem)
        form.addRow("Temperature", self.temperature)
        sampling = QHBoxLayout()  # one row for both: the panel fits a 768-pixel screen
        sampling.setContentsMargins(0, 0, 0, 0)
        sampling.addWidget(self.top_k, 1)
        sampling.addWidget(QLabel("Top-p", self))
        sampling.addWidget(self.top_p, 1)
        form.addRow("Top-k", sampling)
        form.addRow("Bars", self.bars)
        form.addRow("Variations", self.variations)
        form.addRow("Random seed", self.random_seed)
        form.addRow("", self.play_while)
        form.addRow(self.bar_controls)
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setToolTip("Continue the seed (Ctrl+Return)")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop generating now (Esc)")
        self.stop_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.stop_button)
        self.info = QLabel("Draw or drop a seed in the roll (or start from silence), then Generate.", self)
        self.info.setWordWrap(True)
        # The settings scroll (up and down only) when the dock is short; Generate, Stop and what the
        # model is doing stay in view below them at any window size.
        fields = QWidget(self)
        fields_layout = QVBoxLayout(fields)
        fields_layout.setContentsMargins(0, 0, 0, 0)
        fields_layout.addLayout(form)
        fields_layout.addStretch(1)
        self.fields_area = VerticalScrollArea(fields, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields_area, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.info)

        self.generate_button.clicked.connect(lambda: self.generate())
        self.stop_button.clicked.connect(self.stop)
        self.runner.event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.runningChanged.connect(self._running_changed)
        self.model_box.currentIndexChanged.connect(lambda _: self._model_changed())
        self.chords.textChanged.connect(self._check_chords)
        self.model.meterChanged.connect(self._check_chords)  # a bar's beats are the seed's meter's
        self._model_changed()
        self._seed_timer = QTimer(self)
        self._seed_timer.setSingleShot(True)
        self._seed_timer.setInterval(SEED_SETTLE_MS)
        self._seed_timer.timeout.connect(self.propose_model)
        self.model.notesChanged.connect(self._seed_timer.start)

    def _spin(self, low: int, high: int, value: int, tip: str) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(low, high)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    def _double(self, low: float, high: float, step: float, decimals: int, value: float, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setDecimals(decimals)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    # --- models --------------------------------------------------------------------------
    @property
    def run_dir(self) -> str:
        """The chosen model: a shipped model's name or a run folder ("" = the default model)."""
        data = self.model_box.currentData()
        return "" if data in (None, CHOOSE) else str(data)

    @property
    def best(self) -> bool:
        """Whether to compose with the run's weights of the lowest validation loss (a run's only)."""
        return self.best_weights.isChecked() and self._is_run()

    def _is_run(self) -> bool:
        """Whether the chosen model is a run folder (not a shipped model)."""
        return self.model_box.currentData() not in (None, "", CHOOSE, *self._shipped)

    def _model_changed(self) -> None:
        """Say what the chosen model learned from, and show its own instrument limits."""
        index = self.model_box.currentIndex()
        if self.model_box.itemData(index) != CHOOSE:
            self._chosen_index = index
        about = self.model_box.itemData(index, Qt.ItemDataRole.ToolTipRole) or ""
        if self._is_run():
            about = ""  # the tooltip is the run's path, already in the list's item
        elif self._proposed and self._proposed == self.model_box.currentData():
            about = f"Proposed for your seed. {about}"
        self.model_about.setText(about)
        self.form.setRowVisible(self.model_about, bool(about))
        self.form.setRowVisible(self.best_weights, self._is_run())  # shipped models have one set of weights
        limits = model_limits(self.run_dir) if self.model_box.currentData() != CHOOSE else None
        self.voices.show_model_voices(limits.max_voices if limits else None)
        self.pitch_range.setPlaceholderText(
            f"model's: {pitch_name(limits.lowest)}-{pitch_name(limits.highest)}" if limits else "model's")
        follows_chords = self.model_box.currentData() != CHOOSE and model_has_chords(self.run_dir)
        self.chords.setEnabled(follows_chords)
        self.chords.setToolTip(CHORDS_TIP if follows_chords else
                               "This model was not trained with chords, so it cannot follow a progression: "
                               "choose a chord-aware model (one trained on WJazzD solos, such as miles-davis)")
        self.chords.setPlaceholderText("the seed's; or e.g. Dm7 G7 | Cmaj7" if follows_chords else "model without chords")
        self.bar_controls.set_supported(model_controls(self.run_dir) if self.model_box.currentData() != CHOOSE else ())
        self._check_chords()

    def _check_chords(self) -> None:
        """Say under the field what is wrong with the progression typed (nothing when it reads)."""
        problem = ""
        try:
            self._progression()
        except ValueError as error:
            problem = str(error)
        self.chords_problem.setText(problem)
        self.form.setRowVisible(self.chords_problem, bool(problem))

    def _progression(self) -> str:
        """GenerationSettings.chords: the progression typed, "" for none or for a model that cannot
        follow one; ValueError in words for one that does not read (bars of the seed's meter)."""
        text = " ".join(self.chords.text().split())
        if not text or not self.chords.isEnabled():
            return ""
        parse_progression(text, self.model.meter.numerator)
        return text

    def propose_model(self) -> str | None:
        """Select the shipped model whose instrument fits the seed, unless the user picked a model
        by hand; returns its name when it proposed one for a new seed."""
        if self._picked or self.runner.running or self.prompt_provider is None:
            return None
        seed_notes = self.model.seed_notes()
        if not seed_notes or seed_notes == self._judged_seed:
            return None
        self._judged_seed = seed_notes
        seed = self.prompt_provider()
        name = checkpoint.suggest_model(seed) if seed is not None else None
        index = self.model_box.findData(name) if name else -1
        if index < 0:
            return None
        self._proposed = name
        self.model_box.setCurrentIndex(index)
        self._model_changed()
        self.status.emit(f"Model {name} proposed: its instrument fits the seed")
        return name

    def add_run(self, run_dir: str, select: bool = False) -> None:
        """List a run folder (trained here or chosen); a new checkpoint there is reloaded."""
        run_dir = str(run_dir)
        self.cache.forget(run_dir)
        index = self.model_box.findData(run_dir)
        if index < 0:
            index = self.model_box.count() - 1  # before "Choose run folder…"
            self.model_box.insertItem(index, f"{Path(run_dir).name} (run)", run_dir)  # its name first: elided, it still reads
            self.model_box.setItemData(index, run_dir, 3)  # tooltip role
        if select:  # a run trained or chosen here: the user's choice, which a seed does not change
            self._picked = True
            self.model_box.setCurrentIndex(index)
            self._model_changed()

    def _model_activated(self, index: int) -> None:
        if self.model_box.itemData(index) == CHOOSE:
            folder = QFileDialog.getExistingDirectory(self, "Choose a run folder (holds config.json)")
            if folder:
                self.add_run(folder, select=True)
            else:
                self.model_box.setCurrentIndex(self._chosen_index)
            return
        self._picked = True
        self._proposed = ""
        self._model_changed()

    def settings(self) -> GenerationSettings:
        """The form as GenerationSettings; ValueError in words for a range that is not one, or a
        progression that does not read."""
        seed = self.random_seed.value()
        text = self.pitch_range.text().strip()
        return GenerationSettings(bars=self.bars.value(), temperature=round(self.temperature.value(), 3),
                                  top_k=self.top_k.value(), top_p=round(self.top_p.value(), 3),
                                  random_seed=None if seed < 0 else seed, voices=self.voices.voices(),
                                  pitch_range=_checked_range(text) if text else None, chords=self._progression(),
                                  controls=self.bar_controls.controls())

    def checked_settings(self) -> GenerationSettings | None:
        """The form as GenerationSettings, or None after saying (`failed`) which field does not read
        and how to write it: what Generate and Regenerate selection compose with."""
        try:
            self._progression()
        except ValueError as error:
            self.failed.emit(f"Chords: {error}.", "Write the chords of each bar between bars (|), as Dm7 G7 | Cmaj7, "
                                                  "or leave the field empty to follow the seed's chords.")
            return None
        try:
            self.bar_controls.controls()
        except ValueError as error:
            self.failed.emit(f"Bar controls: range: {error}.", "Write the lowest and highest pitch of every new bar "
                                                               "as C3-G4, or leave the field empty (any).")
            return None
        try:
            return self.settings()
        except ValueError as error:
            self.failed.emit(f"Range: {error}.", "Write the lowest and highest pitch as C2-G5, or leave the "
                                                 "field empty for the model's own range.")
            return None

    # --- generating ----------------------------------------------------------------------
    def generate(self, prompt: symusic.Score | None = None, cut: int | None = None,
                 carried: list[Note] = ()) -> None:
        """Continue `prompt` (default: the roll's seed) into new takes; `cut`: the tick where
        they leave the roll's seed (Continue from here), None: after all of it; `carried`: notes
        of the take continued from, which each new take starts with."""
        if self.runner.running:
            return
        if self._seed_timer.isActive():  # a seed dropped a moment ago: its model first
            self._seed_timer.stop()
            self.propose_model()
        run_dir = self.run_dir
        if not run_dir and not (checkpoint.DEFAULT_MODEL_DIR / "config.json").exists():
            self.failed.emit("The shipped default model is missing from this installation.",
                             "Train a model in the Training panel (the tiny preset takes minutes), "
                             "then pick its run folder here; or run scripts/train-bach-chorales-model.")
            return
        settings = self.checked_settings()
        if settings is None:
            return
        if prompt is None and self.prompt_provider is not None:
            prompt = self.prompt_provider()
        count = self.variations.value()
        # A variation's take is made when its first note arrives, at the end of the list (no other
        # take moves, so the undo stack's commands keep their takes; a Stop leaves no empty take),
        # and is then followed by its lasting uid: a take deleted meanwhile shifts the others.
        self._takes: list[int | None] = [None] * count
        self._cut, self._carried = cut, list(carried)
        self._notes_received = 0
        self._weights = ""
        self._about = take_about(run_dir, settings)
        self.info.setText("Loading the model…")
        self.runner.start(generation_job(self.cache, run_dir, prompt, settings, count, best=self.best))

    @property
    def running(self) -> bool:
        """Whether takes are being written."""
        return self.runner.running

    @property
    def variation_count(self) -> int:
        """How many variations Generate (and Regenerate selection) write at once."""
        return self.variations.value()

    @property
    def plays_while_writing(self) -> bool:
        """Whether "Play as it is written" is on: the first take is heard while the model writes it."""
        return self.play_while.isChecked()

    def allow_generate(self, allowed: bool) -> None:
        """Enable or disable the Generate button (the window disables it while anything writes)."""
        self.generate_button.setEnabled(allowed)

    def say(self, text: str) -> None:
        """Show `text` under the buttons: what the panel, or a job writing with its model, is doing."""
        self.info.setText(text)

    @property
    def cut(self) -> int | None:
        """Where the takes of the job running (or last run) leave the seed; None: after all of it."""
        return self._cut

    def stop(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.info.setText(f"Stopped: {self._notes_received} notes written.")
            self.status.emit("Generation stopped")

    def _take_for(self, variation: int) -> int | None:
        """The roll's take of a variation, made at its first note (None once the user deleted it)."""
        uid = self._takes[variation]
        if uid is None:
            first = all(u is None for u in self._takes)  # the job's first take is shown, not the others
            take = self.model.new_take(cut=self._cut, show=first)
            self.model.set_take_about(take, self._about)
            self.model.add_notes([replace(n, role=GENERATED, take=take) for n in self._carried])
            self._takes[variation] = uid = self.model.take_uid(take)
        return self.model.take_index(uid)

    def _on_event(self, event) -> None:
        if isinstance(event, TakeChords):
            self._take_chords_known(event)
            return
        if isinstance(event, ModelReady):
            self._tpq = event.ticks_per_quarter
            self._weights = event.weights
            self.info.setText(f"Model {event.name} ({event.parameters / 1e6:.2f} M parameters"
                              + (f", learned from {event.corpus}" if event.corpus else "")
                              + (f"; weights of {event.weights}" if event.weights else "") + "). Writing…")
            return
        if isinstance(event, TokenEvent) and event.notes and event.variation < len(self._takes):
            take = self._take_for(event.variation)
            if take is None:  # the user deleted this take: its notes go nowhere
                return
            notes = [Note(scale_ticks(n.time, self._tpq), n.pitch, max(1, scale_ticks(n.duration, self._tpq)),
                          n.velocity or 80, GENERATED, take) for n in event.notes]
            self.model.add_notes(notes)
            if event.variation == 0:
                for note in notes:
                    self.noteStreamed.emit(note)
            before = self._notes_received
            self._notes_received += len(notes)
            if before // 16 != self._notes_received // 16 or before == 0:
                self.info.setText(f"Writing… {self._notes_received} notes, bar {event.bar}")

    def _take_chords_known(self, event: TakeChords) -> None:
        """Give a take the chords it was written over, from where it leaves the seed (before that,
        the roll shows the seed's own)."""
        uid = self._takes[event.variation] if event.variation < len(self._takes) else None
        take = self.model.take_index(uid) if uid is not None else None
        if take is None or not event.chords:  # no note came, or the user deleted the take
            return
        seed_end = max((n.end for n in self.model.seed_notes()), default=0)
        start = seed_end if self._cut is None else min(self._cut, seed_end)
        self.model.set_take_chords(take, chords_from(event.chords, start))

    def _on_finished(self, _result) -> None:
        takes = sum(u is not None and self.model.take_index(u) is not None for u in self._takes)
        self.info.setText(f"Done: {self._notes_received} notes in {takes} take(s)"
                          + (f", with the weights of {self._weights}." if self._weights else "."))
        self.status.emit(f"Generated {self._notes_received} notes")

    def _on_failed(self, message: str) -> None:
        self._takes = []
        self.info.setText("Generation failed.")
        self.failed.emit(f"Generation failed: {message}",
                         "Check that the model folder holds a complete run (config.json and the weights file it names).")

    def _running_changed(self, running: bool) -> None:
        self.generate_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.generatingChanged.emit(running)

    # --- session -------------------------------------------------------------------------
    def state(self) -> dict:
        runs = [self.model_box.itemData(i) for i in range(self.model_box.count())]
        return {"model": self.run_dir, "runs": [r for r in runs if r not in ("", CHOOSE, None)],
                "temperature": self.temperature.value(), "top_k": self.top_k.value(), "top_p": self.top_p.value(),
                "bars": self.bars.value(), "variations": self.variations.value(), "seed": self.random_seed.value(),
                "play_while": self.play_while.isChecked(), "best_weights": self.best_weights.isChecked(),
                "picked": self._picked, "voices": self.voices.value(), "range": self.pitch_range.text(),
                "chords": self.chords.text(), "controls": self.bar_controls.state()}

    def restore(self, state: dict) -> None:
        for run in state.get("runs", []):
            if Path(run).exists():
                self.add_run(run)
        model = state.get("model", "") or checkpoint.DEFAULT_MODEL_NAME  # "": the default, before names
        index = self.model_box.findData(model)
        if index >= 0:
            self.model_box.setCurrentIndex(index)
        self._picked = bool(state.get("picked", False))
        if isinstance(state.get("voices"), int):
            self.voices.setValue(state["voices"])
        self.pitch_range.setText(str(state.get("range", "")))
        self.chords.setText(str(state.get("chords", "")))
        self.bar_controls.restore(state.get("controls"))
        for key, box in (("temperature", self.temperature), ("top_k", self.top_k), ("top_p", self.top_p),
                         ("bars", self.bars), ("variations", self.variations), ("seed", self.random_seed)):
            if key in state:
                box.setValue(state[key])
        self.play_while.setChecked(bool(state.get("play_while", False)))
        if self.model.takes:  # a restored session: say what is there rather than how to begin
            self.info.setText(f"{len(self.model.takes)} take(s) from your last session; Generate writes more.")
        self.best_weights.setChecked(bool(state.get("best_weights", False)))
        self._model_changed()


def _checked_range(text: str) -> tuple[int, int]:
    """parse_range, with a range that is upside down said as such."""
    low, high = parse_range(text)
    if low > high:
        raise ValueError(f"{pitch_name(low)} is above {pitch_name(high)}")
    return low, high
