"""Training panel: what to start from (a shipped base model to fine-tune, or scratch), preset and
hyper-parameters, Start / Stop / Resume, progress with ETA and tokens/s, and live curves. Runs
`core.learning.training.train` in a worker; Stop asks the loop to stop (it saves a checkpoint first), so a
stopped run can be resumed exactly. Before training, the worker scores a 4-gram on the run's own
validation windows (`core.learning.baseline`); the panel says when the model's validation loss per note
goes below it."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.fitting import ElidedProgressBar
from app.panels.curves import TrainingCurves
from app.panels.shipped import base_models
from app.workers import JobRunner
from core.commands.train import FINE_TUNING
from core.learning import checkpoint
from core.learning.baseline import NGramBaseline
from core.learning.model import PRESETS
from core.learning.run_config import RunExists, TrainConfig, check_new_run_folder, check_resume
from core.learning.training_log import (
    CheckpointSaved,
    EvalResult,
    TrainDone,
    TrainStarted,
    TrainStep,
    read_metrics,
)

log = logging.getLogger(__name__)
FROM_SCRATCH = {"learning_rate": 1e-3, "patience": 0}  # the form's defaults for a run from scratch
KEY_MODES = (("transpose", "transpose"), ("normalize to C major · A minor", "normalize"),
             ("normalize to C major · C minor", "tonic"))


def default_runs_dir() -> Path:
    from core.userdata import user_dirs

    return user_dirs().runs


def first_validation_step(eval_every: int, steps: int) -> int:
    """The step of a run's early validation pass (`TrainConfig.first_eval`; 0: none): a tenth of the
    way to the first regular one, so the curves show validation within seconds, not minutes (200
    steps of the tiny model on a laptop's CPU took two minutes)."""
    return min(eval_every, steps) // 10


def _eta(seconds: float) -> str:
    """Time left in words ("15 min 21 s", "1 h 05 min"): "15:21" read like a clock time."""
    seconds = int(max(0, seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class TrainingPanel(QWidget):
    runSaved = Signal(str)  # a run folder with a usable checkpoint (the generation panel lists it)
    runEnded = Signal(str)  # a run finished or stopped in this window (the generation panel selects it)
    failed = Signal(str, str)
    status = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runner = JobRunner("training", self, deliver_after_cancel=True)
        self.run_dir: str = ""
        self._start_step = 0  # step the current run (or resumption) began at, for the ETA
        self._baseline: NGramBaseline | None = None  # the 4-gram of the run in progress
        self._better = False  # its last validation pass was below the 4-gram
        self._trained = False  # the current job has begun training (not only preparing)

        self.data_edit = QLineEdit(self)
        self.data_edit.setPlaceholderText("folder, file or builtin:bach-chorales")
        self.data_edit.setToolTip("What to learn from: a folder of music files, or builtin:NAME.\n"
                                  "Importing a corpus in the Corpus panel fills this in.")
        self.out_edit = QLineEdit(self)
        self.out_edit.setToolTip("Run folder: weights, settings and metrics.jsonl are written here. Empty: "
                                 "each Start trains into a new folder of its own")
        self.out_edit.setPlaceholderText("a new folder for each run")
        browse = QToolButton(self)
        browse.setText("…")
        browse.setToolTip("Choose the run folder")
        browse.clicked.connect(self._choose_run_dir)
        out_row = QHBoxLayout()
        out_row.setContentsMargins(0, 0, 0, 0)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)

        self.bases = {model.name: model for model in base_models()}
        self.start_from = QComboBox(self)
        for name, model in self.bases.items():
            label = "base model" if name == "base" else name
            self.start_from.addItem(f"{label} (fine-tune)", name)
            self.start_from.setItemData(self.start_from.count() - 1, model.about, Qt.ItemDataRole.ToolTipRole)
        self.start_from.addItem("scratch", "")
        self.start_from.setItemData(self.start_from.count() - 1, "Random weights, learning only from your data",
                                    Qt.ItemDataRole.ToolTipRole)
        self.start_from.setToolTip("Fine-tune a base model that learned from thousands of pieces (its size and "
                                   "vocabulary, a lower learning rate, early stopping): a few dozen pieces of "
                                   "your own then give a good model in minutes. Or start from random weights.")
        self.keys = QComboBox(self)
        for label, mode in KEY_MODES:
            self.keys.addItem(label, mode)
        self.keys.setToolTip("transpose: learn each piece in its own key, shifted at random by up to 5 "
                             "semitones. normalize: move each piece to C major or A minor by its analysed key "
                             "first (a seed is moved alike to compose, and the take moved back)")
        self.preset = QComboBox(self)
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("Model size. tiny trains on 2 CPU cores in minutes; base and large want a GPU.")
        self.layers = self._spin(1, 48, "Transformer blocks (depth)")
        self.heads = self._spin(1, 32, "Attention heads per block; the width must divide by it")
        self.width = self._spin(16, 4096, "Embedding width (n_embd)", step=16)
        self.dropout = self._double(0.0, 0.9, 0.05, 2, "Dropout probability; more fights over-fitting on small corpora")
        self.learning_rate = self._double(1e-5, 1e-1, 1e-4, 5, "Peak learning rate after warm-up (cosine decay after)")
        self.batch = self._spin(1, 512, "Sequences per step")
        self.steps = self._spin(1, 1_000_000, "Optimizer steps in all", step=100)
        self.eval_every = self._spin(1, 100_000, "Steps between validation passes and checkpoints (and one early "
                                                 "validation pass a tenth of the way to the first, for the curves)",
                                     step=50)
        self.patience = self._spin(0, 1000, "Stop after this many validation passes without a lower loss "
                                            "(0: train all the steps). The weights of the lowest validation "
                                            "loss are kept either way: Generate can use them.")
        self.patience.setSpecialValueText("off")
        self.bpe = self._spin(0, 16_000, "Merge frequent groups of tokens within a bar into single tokens, up to "
                                         "this vocabulary: about half as many tokens per note, so faster training "
                                         "and generation. It learns better on a few hundred pieces (the Bach "
                                         "chorales: 20 % lower loss per note at 1000 without bar controls, 1200 with them, whose "
                                         "tokens the vocabulary counts too), not on a few dozen.", step=1000)
        self.bpe.setSpecialValueText("off")
        self.learning_rate.setValue(1e-3)
        self.batch.setValue(16)
        self.steps.setValue(2000)
        self.eval_every.setValue(200)
        self.preset.currentTextChanged.connect(self._preset_chosen)
        self._preset_chosen(self.preset.currentText())
        self._mode = ""  # what the form's defaults are set for: a base model's name, or "" (scratch)
        self._scratch_shape: list = []  # the scratch settings (shape, keys) a fine-tune's replaced
        self.start_from.currentIndexChanged.connect(lambda _: self._start_from_chosen())
        self._start_from_chosen()

        form = QFormLayout()
        form.addRow("Data", self.data_edit)
        form.addRow("Run folder", out_row)
        form.addRow("Start from", self.start_from)
        preset_row = QHBoxLayout()  # one row for both: the tab fits a 768-pixel screen
        preset_row.setContentsMargins(0, 0, 0, 0)
        preset_row.addWidget(self.preset)
        preset_row.addWidget(QLabel("Keys", self))
        preset_row.addWidget(self.keys, 1)
        form.addRow("Preset", preset_row)
        grid = QGridLayout()
        for index, (label, widget) in enumerate((("Layers", self.layers), ("Heads", self.heads),
                                                 ("Width", self.width), ("Dropout", self.dropout),
                                                 ("Learning rate", self.learning_rate), ("Batch", self.batch),
                                                 ("Steps", self.steps), ("Eval every", self.eval_every),
                                                 ("Patience", self.patience), ("BPE vocabulary", self.bpe))):
            grid.addWidget(QLabel(label, self), index // 2, (index % 2) * 2)
            grid.addWidget(widget, index // 2, (index % 2) * 2 + 1)
        form.addRow(grid)

        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Train a new model in the run folder")
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setToolTip("Continue the run in the run folder from its last checkpoint")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop after the current step; a checkpoint is saved, Resume continues")
        self.stop_button.setEnabled(False)
        self.load_button = QPushButton("Load curves…", self)
        self.load_button.setToolTip("Show the curves of an earlier run (its metrics.jsonl)")
        self.per_type = QCheckBox("Per token type", self)
        self.per_type.setToolTip("Also plot validation loss and accuracy for each kind of token (Pitch, Duration, …)")
        buttons = QHBoxLayout()
        for widget in (self.start_button, self.resume_button, self.stop_button, self.load_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        self.progress = ElidedProgressBar(self)  # "step 120 / 2000 · loss … · ETA …" is long
        self.progress.setFormat("not started")
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.baseline_label = QLabel(self)  # how the model stands against the 4-gram
        self.baseline_label.setWordWrap(True)
        self.baseline_label.hide()  # until there is a 4-gram to say
        self.baseline_label.setToolTip("A 4-gram counts which token follows each three in the training pieces. "
                                       "A model is worth more than that table once its loss per note on the "
                                       "validation pieces is lower.")
        self.meter_label = QLabel(self)  # pieces whose bar lines training moves (meters the vocabulary lacks)
        self.meter_label.setWordWrap(True)
        self.meter_label.hide()
        self.curves = TrainingCurves(self)

        settings = QWidget(self)
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addLayout(form)
        settings_layout.addLayout(buttons)
        settings_layout.addWidget(self.per_type)
        settings_layout.addStretch(1)
        settings.setMaximumWidth(430)
        # the progress and the verdict against the 4-gram stand over the curves, in view however
        # short the screen (under the form they fell below the fold at 1366 x 768 and 1920 x 1080)
        watch = QVBoxLayout()
        watch.addWidget(self.progress)
        watch.addWidget(self.baseline_label)
        watch.addWidget(self.meter_label)
        watch.addWidget(self.curves, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(watch, 1)

        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.stop_button.clicked.connect(self.stop)
        self.load_button.clicked.connect(self._choose_metrics)
        self.per_type.toggled.connect(self.curves.set_per_type)
        self.runner.event.connect(self._on_event)
        self.runner.failed.connect(self._on_failed)
        self.runner.finished.connect(self._on_finished)
        self.runner.runningChanged.connect(self._running_changed)

    def _spin(self, low: int, high: int, tip: str, step: int = 1) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setToolTip(tip)
        return box

    def _double(self, low: float, high: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(low, high)
        box.setDecimals(decimals)
        box.setSingleStep(step)
        box.setToolTip(tip)
        return box

    def _preset_chosen(self, name: str) -> None:
        preset = PRESETS.get(name)
        if preset is not None:
            self.layers.setValue(preset.n_layer)
            self.heads.setValue(preset.n_head)
            self.width.setValue(preset.n_embd)
            self.dropout.setValue(preset.dropout)

    @property
    def init(self) -> str | None:
        """The shipped base model to fine-tune from; None: train from scratch."""
        return self.start_from.currentData() or None

    def corpus_imported(self, source: str, corpus) -> None:
        """A corpus was imported: it becomes what to learn from (unless a run is learning from the
        one typed), and the base model to start from is chosen for it."""
        if self.runner.running:
            if not self.data_edit.text().strip():
                self.data_edit.setText(source)
            return
        self.data_edit.setText(source)
        self.start_from_base_for(corpus)

    def start_from_base_for(self, corpus) -> None:
        """Propose fine-tuning the shipped base whose vocabulary fits an imported corpus
        (`core.learning.checkpoint.matching_base`), unless the user chose to train from scratch."""
        if corpus is None or not corpus.pieces or not self.start_from.currentData():
            return
        name = checkpoint.matching_base(piece.score for piece in corpus.pieces[:50])
        index = self.start_from.findData(name) if name else -1
        if index >= 0:
            self.start_from.setCurrentIndex(index)

    def _start_from_chosen(self) -> None:
        """Fine-tuning keeps the base model's size and vocabulary (shown, not editable) and moves the
        learning rate and patience to the fine-tuning defaults, unless the user changed them."""
        mode = self.start_from.currentData() or ""
        base = self.bases.get(mode)
        old, new = (FINE_TUNING if m else FROM_SCRATCH for m in (self._mode, mode))
        if self._mode != mode:
            for field, box in (("learning_rate", self.learning_rate), ("patience", self.patience)):
                if math.isclose(box.value(), old[field]):  # still the default: not the user's own
                    box.setValue(new[field])
        shape_boxes = (self.layers, self.heads, self.width, self.dropout, self.bpe)
        if not self._mode and mode:  # leaving scratch: its settings come back with it
            self._scratch_shape = [box.value() for box in shape_boxes] + [self.keys.currentIndex()]
        elif self._mode and not mode and self._scratch_shape:
            for box, value in zip(shape_boxes, self._scratch_shape, strict=False):
                box.setValue(value)
            self.keys.setCurrentIndex(self._scratch_shape[-1])
        self._mode = mode
        for widget in (self.preset, self.layers, self.heads, self.width, self.bpe):
            widget.setEnabled(base is None)
        if base is None:
            return
        shape = base.config.get("model", {})
        for key, box in (("n_layer", self.layers), ("n_head", self.heads), ("n_embd", self.width),
                         ("dropout", self.dropout)):
            if isinstance(shape.get(key), (int, float)):
                box.setValue(shape[key])
        bpe = base.config.get("tokenizer", {}).get("bpe_vocab_size") or 0
        self.bpe.setValue(int(bpe) if isinstance(bpe, int) else 0)
        keys = self.keys.findData(base.config.get("train", {}).get("key_mode") or "transpose")
        self.keys.setCurrentIndex(max(keys, 0))

    def _choose_run_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder", self.out_edit.text() or str(default_runs_dir()))
        if folder:
            self.out_edit.setText(folder)

    def _choose_metrics(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder with metrics.jsonl", str(default_runs_dir()))
        if folder:
            self.load_run_curves(Path(folder))

    # --- running -------------------------------------------------------------------------
    def config(self, resume: bool = False) -> TrainConfig:
        """The form as a TrainConfig. An empty Run folder field means a new folder of its own (and for
        Resume, the run this window trained last); it stays empty, so the next Start is a new run too."""
        out = self.out_edit.text().strip() or (self.run_dir if resume and self.run_dir else _new_run_folder())
        init = self.init
        # a fine-tune has its base model's shape: only the dropout may differ
        shape = self.bases[init].config.get("model", {}) if init else asdict(PRESETS[self.preset.currentText()])
        overrides = {}
        for field, value in (("n_layer", self.layers.value()), ("n_head", self.heads.value()),
                             ("n_embd", self.width.value()), ("dropout", round(self.dropout.value(), 3))):
            if shape.get(field) != value and (not init or field == "dropout"):
                overrides[field] = value
        return TrainConfig(data=self.data_edit.text().strip(), out=out, preset=self.preset.currentText(),
                           model_overrides=overrides, steps=self.steps.value(), batch_size=self.batch.value(),
                           learning_rate=self.learning_rate.value(), eval_every=self.eval_every.value(),
                           first_eval=first_validation_step(self.eval_every.value(), self.steps.value()),
                           patience=self.patience.value(), bpe_vocab_size=0 if init else self.bpe.value(),
                           warmup_steps=min(100, max(1, self.steps.value() // 10)), init=init,
                           key_mode=self.keys.currentData())

    def start(self, resume: bool = False, config: TrainConfig | None = None) -> None:
        """Start (or resume) training; `config` overrides the form (tests use tiny models)."""
        if self.runner.running:
            return
        if config is None:
            if not self.data_edit.text().strip():
                self.failed.emit("No training data chosen.",
                                 "Import a corpus in the Corpus panel, or type a folder or builtin:bach-chorales.")
                return
            if self.width.value() % self.heads.value():
                self.failed.emit(f"The width ({self.width.value()}) is not a multiple of the heads "
                                 f"({self.heads.value()}).", "Change the width or the number of heads.")
                return
            try:
                config = self.config(resume)
            except ValueError as error:  # settings that cannot train, said by TrainConfig
                self.failed.emit(f"These settings cannot train: {error}.", "Change them and press Start again.")
                return
        if not resume:
            try:  # the check `partita train` makes
                check_new_run_folder(config.out)
            except RunExists:
                self.failed.emit(f"{config.out} already holds a run.", "Press Resume to continue it, or empty the "
                                 "Run folder field: each Start then trains into a new folder.")
                return
            except ValueError as error:
                self.failed.emit(f"{error}.", "Choose another folder, or empty the Run folder field: each Start "
                                 "then trains into a new folder.")
                return
        if resume:
            try:  # the check `partita train --resume` makes
                check_resume(config.out)
            except ValueError as error:
                self.failed.emit(f"{str(error)[0].upper()}{str(error)[1:]}.",
                                 "Choose the folder of an earlier run, or press Start for a new one.")
                return
        self.run_dir = config.out
        self._baseline, self._better, self._trained = None, False, False
        self._say_baseline("")
        self.meter_label.hide()
        if not resume:
            self.curves.clear()
        else:
            self.load_run_curves(Path(config.out))
        self.progress.setRange(0, config.steps)
        self.progress.setValue(0)
        self.progress.setFormat("preparing data…")
        self.runner.start(lambda cancel: _train(config, resume, cancel))
        self.status.emit(f"Training in {config.out}")

    def stop(self) -> None:
        if self.runner.running:
            self.progress.setFormat("stopping: saving a checkpoint…")
            self.runner.cancel()

    def load_run_curves(self, run_dir: Path) -> int:
        """Plot an earlier run from its metrics.jsonl; returns the number of records read."""
        records = read_metrics(run_dir)
        if not records:
            self.failed.emit(f"{run_dir} has no metrics.jsonl with training records.",
                             "Choose the folder of a run (it holds config.json and metrics.jsonl).")
            return 0
        self.curves.clear()
        for record in records:
            self.curves.add_record(record)
        self.curves.refresh()
        steps = [r["step"] for r in records if r.get("event") == "TrainStep"]
        if steps:
            total = next((r.get("total_steps") for r in reversed(records) if r.get("total_steps")), max(steps))
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(max(steps)))
            self.progress.setFormat(f"{Path(run_dir).name}: step %v / %m")
        return len(records)

    def _running_changed(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.load_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _on_event(self, event) -> None:
        if isinstance(event, NGramBaseline):
            self._baseline = event
            self.curves.set_baseline(event.loss, event.name)
            self._say_baseline(f"{event.name} on the {event.validation_pieces} validation pieces: "
                               f"{event.loss_per_note:.2f} nats per note; the model is better once its "
                               "loss per note is lower.")
            return
        record = {"event": type(event).__name__, **asdict(event)}
        self.curves.add_record(record)
        if isinstance(event, TrainStarted):
            self.meter_label.setText("\n".join(event.meter_warnings))
            self.meter_label.setVisible(bool(event.meter_warnings))
            self._trained = True
            self._start_step = event.start_step
            self.status.emit(f"Training {event.parameters / 1e6:.2f} M parameters on {event.train_pieces} pieces "
                             f"({event.train_tokens} tokens) on {event.device}")
        elif isinstance(event, TrainStep):
            self.progress.setRange(0, event.total_steps)
            self.progress.setValue(event.step)
            remaining = (event.total_steps - event.step) * event.elapsed_s / max(1, event.step - self._start_step)
            self.progress.setFormat(f"step %v / %m · loss {event.loss:.3f} · {event.tokens_per_s:,.0f} tok/s · "
                                    f"ETA {_eta(remaining)}")
        elif isinstance(event, EvalResult):
            self.status.emit(f"Validation at step {event.step}: loss {event.loss:.3f} "
                             f"({event.loss_per_note:.2f} per note), "
                             f"accuracy {event.accuracy:.1%}, perplexity {event.perplexity:.1f}")
            self._compare_with_baseline(event)
        elif isinstance(event, CheckpointSaved):
            self.runSaved.emit(event.path)
        elif isinstance(event, TrainDone):
            ended = "stopped early" if event.stopped_early else "stopped" if event.cancelled else "finished"
            self.progress.setFormat(f"{Path(event.run_dir).name}: {ended} at step {event.step}")
            best = ("" if event.best_step is None or event.best_step == event.step else
                    f"; the validation loss was lowest at step {event.best_step} ({event.best_loss:.3f}): "
                    "Generate can use those weights")
            self.status.emit(f"Training {ended} at step {event.step}; model saved in {event.run_dir}{best}")
            if Path(event.run_dir, "config.json").exists():
                self.runEnded.emit(event.run_dir)

    def _compare_with_baseline(self, event: EvalResult) -> None:
        """Say where the model stands against the 4-gram, in loss per note on the same windows."""
        baseline = self._baseline
        if baseline is None or not math.isfinite(event.loss_per_note):
            return
        figures = f"{event.loss_per_note:.2f} against {baseline.loss_per_note:.2f} nats per note at step {event.step}"
        better = event.loss_per_note < baseline.loss_per_note
        if better:
            self._say_baseline(f"Better than the {baseline.name} now: {figures}.")
            if not self._better:
                self.status.emit(f"Step {event.step}: the model is better than the {baseline.name} now "
                                 f"({event.loss_per_note:.2f} against {baseline.loss_per_note:.2f} nats per note)")
        else:
            self._say_baseline(f"Not yet better than the {baseline.name}: {figures}.")
        self._better = better

    def _say_baseline(self, text: str) -> None:
        self.baseline_label.setText(text)
        self.baseline_label.setVisible(bool(text))

    def _on_finished(self, _result) -> None:
        if not self._trained:  # stopped while the data and the 4-gram were being prepared
            self.progress.setFormat("stopped before training began")

    def _on_failed(self, message: str) -> None:
        self.progress.setFormat("failed")
        self.failed.emit(f"Training failed: {message}",
                         "Check the data source and the run folder; a tiny preset is the safest start.")

    def offer_resume(self) -> str:
        """Point the run folder at the newest unfinished run (killed or stopped), if any."""
        from core.userdata import resumable_runs

        if self.runner.running or self.out_edit.text().strip():
            return ""
        runs = resumable_runs(default_runs_dir())
        if not runs:
            return ""
        self.run_dir = str(runs[0])  # what Resume continues; Start still makes a new run
        self.progress.setFormat(f"{runs[0].name} stopped early: Resume continues it")
        self.load_run_curves(runs[0])
        return str(runs[0])

    # --- session -------------------------------------------------------------------------
    def state(self) -> dict:
        return {"data": self.data_edit.text(), "out": self.out_edit.text(), "preset": self.preset.currentText(),
                "layers": self.layers.value(), "heads": self.heads.value(), "width": self.width.value(),
                "dropout": self.dropout.value(), "learning_rate": self.learning_rate.value(),
                "batch": self.batch.value(), "steps": self.steps.value(), "eval_every": self.eval_every.value(),
                "patience": self.patience.value(), "bpe": self.bpe.value(),
                "start_from": self.start_from.currentData(), "keys": self.keys.currentData()}

    def restore(self, state: dict) -> None:
        self.data_edit.setText(str(state.get("data", "")))
        self.out_edit.setText(str(state.get("out", "")))
        if state.get("preset") in PRESETS:
            self.preset.setCurrentText(state["preset"])
        start_from = self.start_from.findData(state.get("start_from"))
        if start_from >= 0:  # (a base model no longer shipped: the default stays)
            self.start_from.setCurrentIndex(start_from)
        for key, box in (("layers", self.layers), ("heads", self.heads), ("width", self.width),
                         ("batch", self.batch), ("steps", self.steps), ("eval_every", self.eval_every),
                         ("patience", self.patience), ("bpe", self.bpe), ("dropout", self.dropout), ("learning_rate", self.learning_rate)):
            if key in state:
                box.setValue(state[key])
        if self.init:  # a fine-tune's shape is its base model's, whatever the session held
            self._start_from_chosen()
        keys = self.keys.findData(state.get("keys"))
        if keys >= 0:
            self.keys.setCurrentIndex(keys)


def _new_run_folder() -> str:
    """A folder for a new run under the user's runs folder, named by the time, that is not taken."""
    base = default_runs_dir() / time.strftime("run-%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return str(folder)


def _train(config: TrainConfig, resume: bool, cancel):
    """The training job: the 4-gram to beat on the run's validation windows (a few seconds), then
    the run. On the CPU it leaves one core to the window, so the curves stay live."""
    from core.learning.baseline import ngram_baseline
    from core.learning.training import train
    from core.threads import threads_sparing_a_core, torch_threads

    with torch_threads(threads_sparing_a_core()):
        try:
            baseline = ngram_baseline(config, resume=resume)
        except Exception:  # noqa: BLE001 (the run itself then says what is wrong with its data)
            log.warning("no 4-gram baseline for %s", config.out, exc_info=True)
            baseline = None
        if baseline is not None:
            yield baseline
        if cancel():
            return
        yield from train(config, resume=resume, should_stop=cancel)
