"""Widgets that keep the window usable on a small screen (1366 x 768): scroll areas (one that scrolls
only up and down), a progress bar whose text is shortened to fit, whole in its tooltip, and a
toolbar whose buttons stay in view when the toolbars are wider than the window.

A panel in a dock that scrolls sideways hides the ends of its fields and buttons; one that
scrolls only vertically asks its dock to be as wide as its narrowest layout instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QProgressBar,
    QScrollArea,
    QStyle,
    QToolBar,
    QToolTip,
    QWidget,
)


class VerticalScrollArea(QScrollArea):
    """`widget` at the area's full width, scrolling vertically when the area is shorter than it.
    Its minimum width is the widget's, so a dock or splitter never clips the widget's right side."""

    def __init__(self, widget: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        widget.installEventFilter(self)  # its minimum can change (rows shown and hidden)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        inner = self.widget().minimumSizeHint() if self.widget() is not None else QSize(0, 0)
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        frame = 2 * self.frameWidth()
        return QSize(inner.width() + bar + frame, min(inner.height(), 120) + frame)

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.minimumSizeHint().width()), hint.height())

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)


class ElidedProgressBar(QProgressBar):
    """A progress bar whose text ends in "…" where the bar is too narrow for it; hovering shows it
    whole (`full_text`). Long formats ("step 120 / 2000 · loss 2.31 · 5,400 tok/s · ETA 3 min")
    otherwise run past the bar's ends."""

    def full_text(self) -> str:
        return super().text()

    def text(self) -> str:  # the style paints what this returns
        room = self.style().subElementRect(QStyle.SubElement.SE_ProgressBarContents, _option(self), self).width()
        return self.fontMetrics().elidedText(self.full_text(), Qt.TextElideMode.ElideRight, max(0, room - 8))

    def is_elided(self) -> bool:
        return self.text() != self.full_text()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.is_elided():
            QToolTip.showText(event.globalPos(), self.full_text(), self)
            return True
        return super().event(event)


def _option(bar: QProgressBar):
    from PySide6.QtWidgets import QStyleOptionProgressBar

    option = QStyleOptionProgressBar()
    option.initFrom(bar)
    return option


def scrollable(panel: QWidget) -> QScrollArea:
    """`panel` in a frameless scroll area: it keeps its own size and scrolls when the window is smaller."""
    area = QScrollArea(panel.parentWidget())
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def keep_toolbar_in_view(window: QMainWindow, bar: QToolBar) -> None:
    """Keep every button of `bar` (the last toolbar of the top row) out of the » menu: where the top
    row is wider than `window`, `bar` drops its words (their tooltips stay), and where even that is
    too wide, it takes a row of its own, words and all."""
    others = [other for other in window.findChildren(QToolBar) if other is not bar and not other.isHidden()
              and not other.isFloating() and window.toolBarArea(other) == Qt.ToolBarArea.TopToolBarArea]
    room = window.width() - sum(other.sizeHint().width() for other in others) - 8
    words, icons = Qt.ToolButtonStyle.ToolButtonTextBesideIcon, Qt.ToolButtonStyle.ToolButtonIconOnly

    def width_with(style: Qt.ToolButtonStyle) -> int:
        bar.setToolButtonStyle(style)
        bar.layout().invalidate()  # before the window is first shown its size hint is not updated otherwise
        return bar.sizeHint().width()

    own_row = False
    if width_with(words) > room and width_with(icons) > room:
        width_with(words)
        own_row = True
    if own_row != bool(bar.property("ownRow")):
        if own_row:
            window.insertToolBarBreak(bar)
        else:
            window.removeToolBarBreak(bar)
        bar.setProperty("ownRow", own_row)


class WrappedLabel(QLabel):
    """A word-wrapped label that asks for the height its words need at its width. Qt's form layout
    gives a wrapped label in a field the height of a wider one, and cuts its first and last lines."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._fit_height()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        needed = self.heightForWidth(self.width()) if self.text() else 0
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)
