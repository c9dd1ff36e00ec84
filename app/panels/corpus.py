"""Corpus panel: import a folder (dialog or drag-and-drop) or a built-in corpus, show every file
with its status and the reason it was skipped, and the corpus statistics.

The import runs file by file through `core.music.corpus.import_corpus` in a worker, so the table
fills while it runs, Stop takes effect after the current file, and parsed scores go through
the engine's content-hash cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.pianoroll.widget import note_name
from app.workers import JobRunner
from core.music.corpus import BUILTINS, Corpus, FileReport, ScoreCache, import_corpus, resolve_source

COLUMNS = ["File", "Status", "Notes", "Bars", "Key", "Time", "Seconds", "Reason"]


@dataclass(frozen=True)
class ImportProgress:
    done: int  # files read so far
    total: int
    reports: tuple[FileReport, ...]  # what the last file gave (an ABC file may hold many tunes)


def import_job(source: str):
    """A job for `JobRunner`: import `source` one file at a time; returns the `Corpus`."""

    def job(cancel):
        name, files = resolve_source(source)
        cache = ScoreCache()
        pieces, report = [], []
        seen: dict[str, str] = {}  # across files: a copy is skipped, as when training imports the folder
        yield ImportProgress(0, len(files), ())
        for done, path in enumerate(files, start=1):
            if cancel():
                return None
            part = import_corpus([path], cache=cache, seen=seen)
            pieces += part.pieces
            report += part.report
            yield ImportProgress(done, len(files), tuple(part.report))
        return Corpus(name=name, pieces=pieces, report=report)

    return job


class CorpusPanel(QWidget):
    corpusImported = Signal(str)  # the source, once imported (the training panel takes it as data)
    pieceActivated = Signal(str)  # path of a piece double-clicked: the window makes it the seed
    failed = Signal(str, str)  # what happened, what to do

    def __init__(self, parent=None):
        super().__init__(parent)
        self.corpus: Corpus | None = None
        self.source = ""
        self.runner = JobRunner("import", self)
        self.setAcceptDrops(True)

        self.folder_button = QPushButton("Import folder…", self)
        self.folder_button.setToolTip("Choose a folder of MIDI, MusicXML, kern or ABC files (subfolders too).\n"
                                      "You can also drop a folder or files on this panel.")
        self.builtin_box = QComboBox(self)
        self.builtin_box.setToolTip("Corpora shipped with music21: no download needed")
        for name, description in BUILTINS.items():
            self.builtin_box.addItem(f"Built-in: {name}", f"builtin:{name}")
            self.builtin_box.setItemData(self.builtin_box.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.builtin_button = QPushButton("Import built-in", self)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m files")
        self.stats = QLabel("No corpus yet: import a folder or a built-in corpus.", self)
        self.stats.setWordWrap(True)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 230)
        for column, width in zip(range(1, 7), (70, 60, 50, 80, 50, 60), strict=True):
            self.table.setColumnWidth(column, width)
        self.table.setToolTip("Double-click a piece to make it the seed")
        self.table.cellDoubleClicked.connect(self._row_activated)

        top = QHBoxLayout()
        top.addWidget(self.folder_button)
        top.addWidget(self.builtin_box)
        top.addWidget(self.builtin_button)
        top.addWidget(self.stop_button)
        top.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stats)
        layout.addWidget(self.table, 1)

        self.folder_button.clicked.connect(self.choose_folder)
        self.builtin_button.clicked.connect(lambda: self.import_source(self.builtin_box.currentData()))
        self.stop_button.clicked.connect(self.runner.cancel)
        self.runner.event.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.runningChanged.connect(self._running_changed)
        self.runner.cancelled.connect(lambda: self.stats.setText("Import stopped."))

    # --- actions -------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a corpus folder", self.source or str(Path.home()))
        if folder:
            self.import_source(folder)

    def import_source(self, source: str) -> None:
        source = str(source)
        if not source.startswith("builtin:") and not Path(source).expanduser().exists():
            self.failed.emit(f"{source}: no such folder or file.",
                             "Choose a folder of MIDI, MusicXML, kern or ABC files (the corpus shown stays).")
            return
        self.source = source
        self.corpus = None
        self.table.setRowCount(0)
        self.progress.setValue(0)
        self.stats.setText(f"Importing {self.source}…")
        self.runner.start(import_job(self.source))

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.import_source(paths[0])
            event.acceptProposedAction()

    # --- events --------------------------------------------------------------------------
    def _on_failed(self, message: str) -> None:
        self.stats.setText(f"Import of {self.source} failed.")
        self.failed.emit(message, "Check that the folder exists and holds MIDI, MusicXML, kern or ABC files.")

    def _running_changed(self, running: bool) -> None:
        self.stop_button.setEnabled(running)
        self.folder_button.setEnabled(not running)
        self.builtin_button.setEnabled(not running)

    def _on_progress(self, event: ImportProgress) -> None:
        self.progress.setMaximum(max(1, event.total))
        self.progress.setValue(event.done)
        for entry in event.reports:
            self._add_row(entry)

    def _add_row(self, entry: FileReport) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        info = entry.info
        values = [entry.name, "imported" if entry.imported else "skipped"]
        if info is not None:
            values += [str(info.notes), str(info.bars), info.key, info.time_signature, f"{info.duration_s:.0f}"]
        else:
            values += [""] * 5
        values.append(entry.reason or entry.note)  # why skipped, or what of it could not be read
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            if column in (2, 3, 6):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not entry.imported:
                item.setForeground(QColor("#c0392b"))
            if column == 0:
                item.setData(Qt.ItemDataRole.UserRole, entry.path)
                item.setToolTip(entry.path)
            self.table.setItem(row, column, item)

    def _on_finished(self, corpus: Corpus | None) -> None:
        if corpus is None:
            return
        self.corpus = corpus
        stats = corpus.stats()
        keys = ", ".join(f"{k} ({n})" for k, n in list(stats["keys"].items())[:4])
        low, high = stats["pitch_range"]
        self.stats.setText(
            f"<b>{corpus.name}</b>: {stats['pieces']} pieces imported, {stats['skipped']} skipped · "
            f"{stats['bars']} bars · {stats['notes']} notes · {stats['duration_s'] / 60:.1f} min · "
            + (f"pitches {note_name(low)}–{note_name(high)} · " if stats["notes"] else "")
            + f"keys: {keys or '—'}")
        if not corpus.pieces:
            self.failed.emit(f"No piece of {self.source} could be imported.",
                             "The table says why each file was skipped.")
            return
        self.corpusImported.emit(self.source)

    def _row_activated(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        status = self.table.item(row, 1)
        if item is not None and status is not None and status.text() == "imported":
            self.pieceActivated.emit(item.data(Qt.ItemDataRole.UserRole))

    # --- session -------------------------------------------------------------------------
    def state(self) -> dict:
        return {"source": self.source}

    def restore(self, state: dict) -> None:
        """Reopen the last corpus in the background (from the import cache, usually under a second)."""
        source = str(state.get("source", ""))
        self.source = source
        if not source:
            return
        if source.startswith("builtin:") or Path(source).exists():
            self.import_source(source)
        else:
            self.stats.setText(f"Last corpus: {source} is no longer there; import another.")
