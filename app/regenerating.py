"""Regenerate selection: the selected bars written anew between the music around them
(`core.composing.infill.stream_infill`), as N variations that stream into the span as the model writes them,
to hear one by one and keep one.

The roll's notes are not touched until Keep: the span is marked over the roll (`SpanOverlay`), the
notes there now dimmed under it and the variation chosen drawn on top. Keep is one undo step that
replaces the notes the roll shows starting inside the span by the chosen variation's; every other
note, edited by the user or not, stays as it is (the engine leaves them alone too, and only the
span's notes are taken from its take). Play (audition) plays what Keep would make, from a bar
before the span to a bar after it.

The job runs in its own `JobRunner`, beside the Generate panel's, with the panel's model, loaded
models and settings (variations, temperature, bar controls ...): one of the two writes at a time
(the window enables the actions so), and Stop (Esc) stops either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import symusic
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app.pianoroll import commands
from app.pianoroll.convert import scale_ticks, score_from_notes
from app.pianoroll.editing import bar_range_ticks
from app.pianoroll.model import Note
from app.pianoroll.span import SpanOverlay
from app.workers import JobRunner
from core.composing.generation import GenerationSettings, TokenEvent
from core.composing.infill import stream_infill

FAILED_TODO = ("Select up to 8 bars of one meter inside the piece, with notes around them, and compose with a "
               "model that learned infill (trained with this version of Partita).")


@dataclass(frozen=True)
class InfillReady:
    """The model is loaded and writing starts."""

    name: str
    ticks_per_quarter: int  # the tokenizer's: streamed note times are in these ticks


@dataclass(frozen=True)
class VariationsWritten:
    """Each variation's new notes as the engine made its take (the roll's ticks, inside the span)."""

    notes: tuple[tuple[Note, ...], ...]


@dataclass(frozen=True)
class Span:
    """The bars being rewritten: `first`-`last` counted from the roll's first bar (1), [start, end)
    in ticks, the take shown when they were asked for (its lasting uid; None: the seed alone), and
    how messages name them (`bars`: as the score numbers them, a pickup bar 0)."""

    first: int
    last: int
    start: int
    end: int
    take_uid: int | None
    bars: str


def regenerate_job(cache, run_dir: str, score: symusic.Score, first: int, last: int,
                   settings: GenerationSettings, variations: int, best: bool = False):
    """A job (app.workers) that rewrites bars `first`-`last` of `score`: InfillReady, the engine's
    TokenEvents, then VariationsWritten (at the score's resolution, the roll's)."""

    def job(cancel):
        loaded = cache.get(run_dir, best)
        yield InfillReady(loaded.run_dir.name, loaded.tokenizer.ticks_per_quarter)
        takes = yield from stream_infill(loaded, score, first, last, settings, variations=variations, cancel=cancel)
        yield VariationsWritten(tuple(tuple(Note(int(n.time), int(n.pitch), max(1, int(n.duration)), int(n.velocity))
                                            for n in take.notes) for take in takes))

    return job


class RegenerateBar(QFrame):
    """Over the roll while a span is rewritten: which variation is shown, Play, Keep, Discard."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("regenerateBar")
        self.setStyleSheet("#regenerateBar { background: #e2f4ee; border-bottom: 1px solid #3fbf9f; }"
                           "#regenerateBar QLabel { color: #123a30; }")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.variation = QComboBox(self)
        self.variation.setToolTip("Which variation the roll shows (and Play and Keep use)")
        self.play_button = QPushButton("Play", self)
        self.play_button.setToolTip("Hear this variation with the bar before the span and the bar after it")
        self.keep_button = QPushButton("Keep", self)
        self.keep_button.setToolTip("Put this variation in the span (one step: Undo takes it back)")
        self.discard_button = QPushButton("Discard", self)
        self.discard_button.setToolTip("Leave the bars as they were")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop writing (Esc); what is written so far can still be kept")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        for widget in (self.variation, self.play_button, self.keep_button, self.discard_button, self.stop_button):
            layout.addWidget(widget)
        self.hide()

    def writing(self, bars: str, count: int) -> None:
        self.variation.blockSignals(True)
        self.variation.clear()
        self.variation.addItems([f"Variation {i + 1} of {count}" for i in range(count)])
        self.variation.blockSignals(False)
        self.label.setText(f"Writing bars {bars} anew…")
        self.keep_button.setEnabled(False)
        self.stop_button.show()
        self.show()

    def written(self, text: str) -> None:
        self.label.setText(text)
        self.keep_button.setEnabled(True)
        self.stop_button.hide()


class Regenerator(QObject):
    """Regenerate selection for one piano roll, with the Generate panel's model and settings."""

    failed = Signal(str, str)  # what happened, what to do (the window's error dialog)
    status = Signal(str)
    runningChanged = Signal(bool)

    def __init__(self, roll, undo_stack, panel, parent: QObject | None = None):
        super().__init__(parent)
        self.roll, self.model, self.undo_stack, self.panel = roll, roll.model, undo_stack, panel
        self.runner = JobRunner("regenerate", self)
        self.overlay = SpanOverlay()
        roll.view.scene().addItem(self.overlay)
        self.bar = RegenerateBar()
        self.program = lambda: 0  # the piece's GM program (the window's)
        self.player = None  # callable (score, from_tick): plays an audition (the window's transport)
        self.span: Span | None = None
        self.variations: list[list[Note]] = []
        self._tpq = 480  # the tokenizer's resolution
        self._notes = 0  # notes written by the job, all variations
        self.runner.event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.runningChanged.connect(self.runningChanged)
        self.bar.variation.currentIndexChanged.connect(self._show_variation)
        self.bar.play_button.clicked.connect(self.audition)
        self.bar.keep_button.clicked.connect(self.keep)
        self.bar.discard_button.clicked.connect(self.discard)
        self.bar.stop_button.clicked.connect(self.stop)
        self.model.takesSwapped.connect(self.discard)  # another seed: the span was this one's
        self.model.meterChanged.connect(self.discard)  # the bars are elsewhere now
        self.model.takesChanged.connect(self._take_changed)

    @property
    def running(self) -> bool:
        return self.runner.running

    @property
    def current(self) -> int:
        """The variation shown (what Play and Keep use)."""
        return max(0, self.bar.variation.currentIndex())

    def _shown_uid(self) -> int | None:
        take = self.model.current_take
        return self.model.take_uid(take) if take >= 0 else None

    def _shown_notes(self) -> list[Note]:
        """What the roll shows, as it plays (the seed ended at the take's cut)."""
        take = self.model.current_take
        return self.model.take_seed(take) + (self.model.take_notes(take) if take >= 0 else [])

    # --- writing ---------------------------------------------------------------------------
    def regenerate(self) -> None:
        """Rewrite the selected bars with the Generate panel's model and settings."""
        if self.running or self.panel.running:
            return
        bars = self.roll.editor.selected_bars()
        if bars is None:
            self.failed.emit("Select the bars to regenerate first.",
                             "Shift+drag across them on the bar ruler, choose them with Edit > Select bars… "
                             "(Ctrl+Shift+B), or select notes in them.")
            return
        settings = self.panel.checked_settings()
        if settings is None:
            return
        self.discard()
        first, last = bars
        meter = self.model.meter
        start, end = bar_range_ticks(meter, first, last)
        self.span = Span(first, last, start, end, self._shown_uid(),
                         f"{meter.bar_number(first - 1)}-{meter.bar_number(last - 1)}")
        count = self.panel.variation_count
        self.variations = [[] for _ in range(count)]
        self._notes = 0
        self.overlay.show_span(start, end)
        self.bar.writing(self.span.bars, count)
        view = self.roll.view
        view.ensureVisible(QRectF(start, view.visible_scene_rect().center().y(), end - start, 0.01), 40, 0)
        self.panel.say(f"Loading the model to write bars {self.span.bars} anew…")
        score = score_from_notes(self._shown_notes(), meter, self.program(), chords=self.model.visible_chords())
        self.runner.start(regenerate_job(self.panel.cache, self.panel.run_dir, score, first, last, settings, count,
                                         best=self.panel.best))

    def stop(self) -> None:
        """Stop writing; the variations keep what they have (Keep still works)."""
        if not self.running or self.span is None:
            return
        self.runner.cancel()
        text = f"Stopped: {self._notes} notes written in bars {self.span.bars}."
        self.bar.written(text + " Keep one, or Discard.")
        self.panel.say(text)
        self.status.emit("Regenerating stopped")

    def _on_event(self, event) -> None:
        span = self.span
        if span is None:
            return
        if isinstance(event, InfillReady):
            self._tpq = event.ticks_per_quarter
            self.panel.say(f"Model {event.name}: writing bars {span.bars} anew…")
        elif isinstance(event, TokenEvent) and event.notes and event.variation < len(self.variations):
            roll_tpq = self.model.meter.ticks_per_quarter
            for streamed in event.notes:  # (tokenizer ticks from the piece's start; the piece's key)
                start = scale_ticks(streamed.time, self._tpq, roll_tpq)
                if not span.start <= start < span.end:  # the engine's take leaves these out too
                    continue
                duration = min(max(1, scale_ticks(streamed.duration, self._tpq, roll_tpq)), span.end - start)
                self.variations[event.variation].append(Note(start, streamed.pitch, duration, streamed.velocity or 80))
                self._notes += 1
            if event.variation == self.current:
                self.overlay.set_notes(self.variations[event.variation])
            self.bar.label.setText(f"Writing bars {span.bars} anew… {self._notes} notes")
        elif isinstance(event, VariationsWritten):
            self.variations = [list(notes) for notes in event.notes]
            self._show_variation()

    def _on_finished(self, _result) -> None:
        span = self.span
        if span is None:
            return
        count = len(self.variations)
        self.bar.written(f"Bars {span.bars}: {count} variation{'s' * (count != 1)}. "
                         "Choose one, Play to hear it, Keep to use it.")
        self.panel.say(f"Done: bars {span.bars} written anew, {count} "
                                f"variation{'s' * (count != 1)} to choose from (above the roll).")
        self.status.emit(f"Regenerated bars {span.bars}")

    def _on_failed(self, message: str) -> None:
        span = self.span
        bars = f"bars {span.bars}" if span else "the selection"
        self.discard()
        self.panel.say("Regenerate selection failed.")
        what = f"Could not regenerate: {message}" if bars in message else f"Could not regenerate {bars}: {message}"
        self.failed.emit(what.rstrip(".") + ".", FAILED_TODO)

    # --- choosing --------------------------------------------------------------------------
    def _show_variation(self, *_args) -> None:
        if 0 <= self.current < len(self.variations):
            self.overlay.set_notes(self.variations[self.current])

    def choose(self, index: int) -> None:
        self.bar.variation.setCurrentIndex(index)

    def audition_score(self, index: int | None = None) -> tuple[symusic.Score, int]:
        """What Keep would make of the roll, from a bar before the span to a bar after it, and the
        tick to play it from."""
        span, meter = self.span, self.model.meter
        chosen = self.variations[self.current if index is None else index]
        around = [n for n in self._shown_notes() if not span.start <= n.start < span.end]
        notes = [n for n in [*around, *chosen] if n.start < span.end + meter.bar_length]
        return score_from_notes(notes, meter, self.program()), max(0, span.start - meter.bar_length)

    def audition(self) -> None:
        if self.span is None or not self.variations or self.player is None:
            return
        self.player(*self.audition_score())

    def keep(self) -> None:
        """Put the variation shown in the span: one undo step; no note outside the span changes."""
        if self.span is None or self.running or not self.variations:
            return
        span = self.span
        old = {i: n for i, n in self.model.visible_items() if span.start <= n.start < span.end}
        # each new note joins the part the roll shows there: the take from where it leaves the seed
        placed = [replace(n, **self.roll.editor.part_at(n.start)) for n in self.variations[self.current]]
        new = dict(zip(self.model.new_ids(len(placed)), placed, strict=True))
        kept = self.current + 1
        self.undo_stack.push(commands.ChangeNotes(self.model, f"Regenerate bars {span.bars}", old, new))
        self.discard()
        self.roll.editor.select_bars(span.first, span.last)  # Ctrl+R again writes them anew again
        self.status.emit(f"Kept variation {kept} in bars {span.bars} (Undo takes it back)")

    def discard(self) -> None:
        """Leave the bars as they are: no variations shown, any writing stopped."""
        if self.running:
            self.runner.cancel()
        self.span = None
        self.variations = []
        self.overlay.clear()
        self.bar.hide()

    def _take_changed(self) -> None:
        """Another take shown: the span was the other one's."""
        if self.span is not None and self._shown_uid() != self.span.take_uid:
            self.discard()
