"""The Generate panel's bar controls: what every new bar is asked to be (core.music.controls), for a model
trained with them. Density (notes a beat, in words), polyphony (notes sounding at once) and range
(lowest-highest pitch) go into `GenerationSettings.controls`, for Generate and for Regenerate
selection alike; "any" asks nothing. A model without controls greys the group out and says why;
one that learned some of them (`partita train --control-kinds`) greys out the others, one by one.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLineEdit

from app.fitting import WrappedLabel
from core.music.controls import DENSITY_LEVELS, DENSITY_WORDS, MAX_VOICES_TOKEN, BarControls, describe_density
from core.music.limits import parse_range, pitch_name

ANY = "any"
SUPPORTED_TIP = ("What every new bar is asked to be: how many notes a beat (density), how many notes at "
                 "once (polyphony) and its lowest and highest pitch (range). \"any\" leaves it to the model.")
UNSUPPORTED_TIP = ("This model was trained without bar controls, so it cannot be asked for a density, "
                   "polyphony or range: choose a model trained with them (a run trained with this version "
                   "of Partita)")
NOT_LEARNED_TIPS = {  # a control the chosen model did not learn (where it learned others)
    "density": "This model did not learn the density control: choose a model trained with it",
    "voices": "This model did not learn to aim for a polyphony: Voices above keeps it, as a limit",
    "range": "This model did not learn to aim for a range: Range above keeps the notes inside one, as a limit",
}
RANGE_CHARACTERS = re.compile(r"[A-Ga-g0-9#b\- ]*")  # all a range such as C3-G4 or Bb2-F#5 is written with


def checked_range(text: str) -> tuple[int, int]:
    """(lowest, highest) of "C3-G4"; ValueError in words for one that is not a range, or upside down."""
    low, high = parse_range(text.strip())
    if low > high:
        raise ValueError(f"{pitch_name(low)} is above {pitch_name(high)}")
    return low, high


class RangeValidator(QValidator):
    """Only what a range is written with can be typed; a range that reads (or nothing) is acceptable,
    anything on the way to one is intermediate (what is wrong is said under the field)."""

    def validate(self, text: str, pos: int):
        if not RANGE_CHARACTERS.fullmatch(text):
            return QValidator.State.Invalid, text, pos
        if not text.strip():
            return QValidator.State.Acceptable, text, pos
        try:
            checked_range(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos


def describe_controls(controls: BarControls) -> str:
    """The controls asked for, in words: "busy bars, 1 note at once, C3-G4" ("" when none)."""
    words = []
    if controls.density is not None:
        words.append(f"{DENSITY_WORDS[controls.density]} bars")
    if controls.voices is not None:
        words.append(f"{controls.voices}{' or more' * (controls.voices >= MAX_VOICES_TOKEN)} "
                     f"note{'s' * (controls.voices != 1)} at once")
    if controls.lowest is not None:
        words.append(f"{pitch_name(controls.lowest)}-{pitch_name(controls.highest)}")
    return ", ".join(words)


class BarControlsBox(QGroupBox):
    """Density, Polyphony and Range asked of every new bar (see the module's docstring)."""

    def __init__(self, parent=None):
        super().__init__("Bar controls", parent)
        self.density = QComboBox(self)
        self.density.addItem(ANY, None)
        for level in range(DENSITY_LEVELS):
            self.density.addItem(f"{level} {DENSITY_WORDS[level]}", level)
            self.density.setItemData(self.density.count() - 1, describe_density(level),
                                      Qt.ItemDataRole.ToolTipRole)
        self.polyphony = QComboBox(self)
        self.polyphony.addItem(ANY, None)
        for voices in range(1, MAX_VOICES_TOKEN + 1):
            self.polyphony.addItem(f"{voices}{' or more' * (voices == MAX_VOICES_TOKEN)}", voices)
        self.range = QLineEdit(self)
        self.range.setPlaceholderText("any, or e.g. C3-G4")
        self.range.setValidator(RangeValidator(self.range))
        self.range.setClearButtonEnabled(True)
        self.problem = WrappedLabel("", self)  # what is wrong with the range typed, as it is typed
        self.problem.setStyleSheet("color: #c0392b;")
        self.form = form = QFormLayout(self)
        form.addRow("Density", self.density)
        form.addRow("Polyphony", self.polyphony)
        form.addRow("Range", self.range)
        form.addRow("", self.problem)
        form.setRowVisible(self.problem, False)
        self.range.textChanged.connect(self._check_range)
        self._kinds: tuple[str, ...] = ()
        self.set_supported(())

    @property
    def supported(self) -> bool:
        """Whether the chosen model can be asked for any bar control."""
        return bool(self._kinds)

    def set_supported(self, kinds: tuple[str, ...]) -> None:
        """Enable the controls the chosen model learned (core.music.controls.CONTROL_CHOICES); the
        others greyed out, with the reason (all of them, and the group, for a model without any)."""
        self._kinds = tuple(kinds)
        self.setEnabled(bool(kinds))
        for widget in (self, self.density, self.polyphony, self.range):
            widget.setToolTip(SUPPORTED_TIP if kinds else UNSUPPORTED_TIP)
        for kind, widget in (("density", self.density), ("voices", self.polyphony), ("range", self.range)):
            widget.setEnabled(kind in self._kinds)
            if kinds and kind not in kinds:
                widget.setToolTip(NOT_LEARNED_TIPS[kind])
        self.setTitle("Bar controls" if kinds else "Bar controls (not with this model)")

    def _check_range(self) -> None:
        problem = ""
        if self.range.text().strip():
            try:
                checked_range(self.range.text())
            except ValueError as error:
                problem = str(error)
        self.problem.setText(problem)
        self.form.setRowVisible(self.problem, bool(problem))

    def controls(self) -> BarControls:
        """What the group asks of every bar (nothing for a model without controls); ValueError in
        words for a range that does not read."""
        text = self.range.text().strip() if "range" in self._kinds else ""
        low, high = checked_range(text) if text else (None, None)
        return BarControls(density=self.density.currentData() if "density" in self._kinds else None,
                           voices=self.polyphony.currentData() if "voices" in self._kinds else None,
                           lowest=low, highest=high)

    # --- session -------------------------------------------------------------------------
    def state(self) -> dict:
        return {"density": self.density.currentData(), "voices": self.polyphony.currentData(),
                "range": self.range.text()}

    def restore(self, state: object) -> None:
        if not isinstance(state, dict):
            return
        for box, key in ((self.density, "density"), (self.polyphony, "voices")):
            index = box.findData(state.get(key)) if isinstance(state.get(key), int) else 0
            box.setCurrentIndex(max(index, 0))
        text = state.get("range", "")
        self.range.setText(text if isinstance(text, str) and RANGE_CHARACTERS.fullmatch(text) else "")
