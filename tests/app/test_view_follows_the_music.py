"""Issue 20, items 5 and 6: the roll shows the music where it is (a take being written, Ctrl+0, Home,
a restored session), and a session restored with edits no project holds says so on start."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QAbstractSlider, QFileDialog, QMessageBox

from app.pianoroll.model import Note
from app.pianoroll.notes import row_of

BAR = 1920  # a 4/4 bar at 480 ticks per quarter


def shown_window(make_window, qtbot, restore_session: bool = False, size=(1366, 768)):
    window = make_window(restore_session=restore_session)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the first fit waits for the layout to settle
    return window


def in_view(view, note: Note) -> bool:
    return view.visible_scene_rect().contains(QRectF(note.start, row_of(note.pitch), note.duration, 1))


def test_the_view_follows_a_take_as_it_is_written(make_window, qtbot, tiny_run):
    window = shown_window(make_window, qtbot)
    view = window.roll.view
    window.model.set_seed([Note(i * 480, 48 + i % 5, 480) for i in range(16)])  # four bars
    view.set_zoom(240.0, 14.0)  # two bars across: the take starts off screen, at bar 5
    view.horizontalScrollBar().setValue(0)
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.bars.setValue(4)
    panel.random_seed.setValue(3)
    panel.voices.setValue(0)
    followed = []  # the notes as they were written (in a chord, the last one written is followed)
    follow = view.follow
    view.follow = lambda note: (followed.append(note), follow(note))
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.generate.trigger()
    take = window.model.take_notes(0)
    assert take and followed
    newest = followed[-1]
    assert newest.start == max(n.start for n in take)
    shown = view.visible_scene_rect()
    assert shown.left() > 4 * BAR  # it left the seed behind, for the new bars
    assert shown.left() <= newest.start <= shown.right(), (shown, newest)
    assert shown.top() <= row_of(newest.pitch) and row_of(newest.pitch) + 1 <= shown.bottom()


def test_the_view_stays_where_the_user_scrolled_while_a_take_is_written(make_window, qtbot, tiny_run):
    window = shown_window(make_window, qtbot)
    view = window.roll.view
    window.model.set_seed([Note(i * 480, 48 + i % 5, 480) for i in range(16)])
    view.set_zoom(240.0, 14.0)
    bar = view.horizontalScrollBar()
    bar.setValue(0)
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.bars.setValue(4)
    panel.random_seed.setValue(3)
    panel.voices.setValue(0)
    scrolled: list[int] = []

    def look_back(_note) -> None:  # at the first note, the user goes back to the start (a drag, a wheel)
        if not scrolled:
            bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)
            scrolled.append(bar.value())

    panel.noteStreamed.connect(look_back)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.generate.trigger()
    assert scrolled == [0] and len(window.model.take_notes(0)) > 1
    assert bar.value() == 0  # the later notes did not pull the view away from where the user looks


def test_zoom_to_fit_fits_pitch_as_well_as_time(make_window, qtbot):
    window = shown_window(make_window, qtbot)
    view = window.roll.view
    notes = [Note(i * 480, 36 + (i * 7) % 49, 480) for i in range(100)]  # C2 to C6, 25 bars
    window.model.set_seed(notes)
    view.set_zoom(400.0, 40.0)  # far in: a few notes fill the view
    assert window.actions.zoom_fit.shortcut().toString() == "Ctrl+0"
    window.actions.zoom_fit.trigger()
    assert all(in_view(view, n) for n in notes), view.visible_scene_rect()
    shown = view.visible_scene_rect()
    assert shown.height() < 49 + 12  # zoomed to the notes' pitches, not to all 128
    assert shown.width() < 1.1 * 25 * BAR


def test_home_brings_the_view_back_to_the_start(make_window, qtbot):
    window = shown_window(make_window, qtbot)
    view = window.roll.view
    window.model.set_seed([Note(i * 480, 60, 480) for i in range(160)])  # 40 bars
    view.set_zoom(120.0, 14.0)
    window.set_playhead(30 * BAR)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
    assert view.visible_scene_rect().left() > 10 * BAR
    assert window.actions.rewind.shortcut().toString() == "Home"
    window.actions.rewind.trigger()
    assert view.playhead.x() == 0
    assert view.visible_scene_rect().left() <= 0.5 and view.horizontalScrollBar().value() == 0


def test_a_restored_session_opens_zoomed_to_its_music(make_window, qtbot):
    first = make_window(restore_session=False)
    notes = [Note(i * 480, 43 + (i * 3) % 24, 480) for i in range(100)]  # 25 bars of a cello's range
    first.model.set_seed(notes)
    first.resize(1366, 768)
    first.close()  # autosaves
    window = shown_window(make_window, qtbot, restore_session=True)
    view = window.roll.view
    assert len(window.model) == 100
    shown = view.visible_scene_rect()
    assert all(in_view(view, n) for n in notes), shown
    assert shown.width() <= 27 * BAR, f"{shown.width() / BAR:.0f} bars shown for 25 bars of music"
    assert shown.height() <= 24 + 12


def test_a_restored_session_says_its_notes_are_not_in_a_project(make_window, qtbot, tmp_path, monkeypatch):
    """Quit does not ask (the session is kept); the next start says, over the roll, what came back."""
    first = make_window(restore_session=False)
    first.model.set_seed([Note(i * 480, 60, 480) for i in range(12)])
    first.close()
    window = shown_window(make_window, qtbot, restore_session=True)
    bar = window.restored_bar
    assert bar.isVisible()
    assert bar.label.text() == ("Restored from your last session: the seed (12 notes), not saved in a project.")
    assert window.statusBar().currentMessage() == "Restored your last session"
    project = tmp_path / "song.partita"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(project), ""))
    bar.save_button.click()
    assert project.exists() and not bar.isVisible()  # saved: the bar has said its piece
    window.close()
    again = shown_window(make_window, qtbot, restore_session=True)
    assert not again.restored_bar.isVisible()  # nothing unsaved came back


def test_start_afresh_on_the_restored_bar_asks_before_discarding(make_window, qtbot, monkeypatch):
    first = make_window(restore_session=False)
    first.model.set_seed([Note(0, 60, 480)])
    first.close()
    window = shown_window(make_window, qtbot, restore_session=True)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    window.restored_bar.afresh_button.click()
    assert len(window.model) == 1 and window.restored_bar.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.restored_bar.afresh_button.click()
    assert len(window.model) == 0 and not window.restored_bar.isVisible()


def test_a_fresh_start_shows_no_restored_bar(make_window, qtbot):
    window = shown_window(make_window, qtbot, restore_session=True)
    assert not window.restored_bar.isVisible()
    assert window.statusBar().currentMessage().startswith("Ready.")
