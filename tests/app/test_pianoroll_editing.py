"""Issue 20, piano-roll basics: copy, cut, paste, duplicate, quantize, transpose, nudge, velocity,
selecting bars and dragging notes out as MIDI, each one undo step that leaves other takes alone."""

from __future__ import annotations

import symusic
import test_pianoroll
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDrag, QGuiApplication

from app.pianoroll import editing
from app.pianoroll.convert import notes_from_score, score_from_notes
from app.pianoroll.editing import MIDI_MIMES, NOTES_MIME, notes_from_mime, notes_mime
from app.pianoroll.model import GENERATED, SEED, Meter, Note


def make_roll(qtbot, notes=()):
    return test_pianoroll.make_roll(qtbot, notes, height=560)  # room for the velocity lane


def shape(notes) -> list[tuple]:
    return sorted((n.start, n.pitch, n.duration, n.velocity, n.role, n.take) for n in notes)


def seed_shape(model) -> list[tuple]:
    return sorted((n.start, n.pitch, n.duration, n.velocity) for n in model.seed_notes())


def select(roll, model, pitches) -> None:
    roll.view.set_selection(i for i, n in model.visible_items() if n.pitch in pitches)


PHRASE = [Note(0, 60, 480, 90), Note(480, 64, 240, 70), Note(720, 67, 240, 50)]  # ends at 960


def test_copy_then_paste_lands_right_after_the_selection_as_one_undo_step(qtbot):
    roll, model, stack = make_roll(qtbot, PHRASE)
    before = seed_shape(model)
    roll.view.select_all()
    roll.editor.copy()
    roll.editor.paste()
    assert seed_shape(model) == sorted(before + [(s + 960, p, d, v) for s, p, d, v in before])
    assert {model.note(i).start for i in roll.view.selection} == {960, 1440, 1680}  # the pasted notes
    roll.editor.paste()  # again: the next copy follows the last
    assert max(n.end for n in model.seed_notes()) == 3 * 960
    stack.undo()
    stack.undo()
    assert seed_shape(model) == before
    stack.redo()
    assert len(model.seed_notes()) == 6


def test_paste_with_nothing_selected_lands_at_the_playhead(qtbot):
    roll, model, stack = make_roll(qtbot, PHRASE)
    roll.view.select_all()
    roll.editor.copy()
    roll.view.set_selection(())
    roll.view.set_playhead(1920 * 2, follow=False)
    roll.editor.paste()
    pasted = sorted(model.note(i).start for i in roll.view.selection)
    assert pasted == [3840, 4320, 4560]


def test_cut_takes_the_notes_away_and_paste_puts_them_back(qtbot):
    roll, model, stack = make_roll(qtbot, PHRASE + [Note(1920, 72, 480)])
    select(roll, model, {64, 67})
    roll.editor.cut()
    assert [n.pitch for n in model.seed_notes()] == [60, 72]
    assert roll.view.selection == set()
    roll.view.set_playhead(480, follow=False)
    roll.editor.paste()
    assert [(n.start, n.pitch) for n in model.seed_notes()] == [(0, 60), (480, 64), (720, 67), (1920, 72)]
    stack.undo()
    stack.undo()  # the cut, in one step
    assert seed_shape(model) == sorted((n.start, n.pitch, n.duration, n.velocity) for n in PHRASE + [Note(1920, 72, 480)])


def test_the_clipboard_holds_partita_notes_and_a_midi_file_other_programs_read():
    mime = notes_mime(PHRASE[1:], Meter())
    assert mime.hasFormat(NOTES_MIME) and all(mime.hasFormat(kind) for kind in MIDI_MIMES)
    from_midi = notes_from_score(symusic.Score.from_midi(bytes(mime.data("audio/midi").data())))
    assert [(n.start, n.pitch, n.duration, n.velocity) for n in from_midi] == [(0, 64, 240, 70), (240, 67, 240, 50)]
    # what another program puts there: a MIDI file alone, at its own resolution
    score = score_from_notes([Note(96, 50, 96, 100), Note(192, 52, 48, 60)], Meter(ticks_per_quarter=96))
    foreign = QMimeData()
    foreign.setData("audio/midi", bytes(score.dumps_midi()))
    assert [(n.start, n.pitch, n.duration, n.velocity) for n in notes_from_mime(foreign)] == [
        (0, 50, 480, 100), (480, 52, 240, 60)]
    junk = QMimeData()
    junk.setData(NOTES_MIME, b"{not json")
    assert notes_from_mime(junk) == []


def test_ctrl_v_of_another_programs_midi_pastes_its_notes(qtbot):
    roll, model, _ = make_roll(qtbot)
    mime = QMimeData()
    mime.setData("audio/midi", bytes(score_from_notes([Note(0, 62, 480, 77)], Meter()).dumps_midi()))
    QGuiApplication.clipboard().setMimeData(mime)
    roll.editor.paste()
    assert seed_shape(model) == [(0, 62, 480, 77)]


def test_duplicate_lays_copies_end_to_end_on_the_grid(qtbot):
    roll, model, stack = make_roll(qtbot, [Note(0, 60, 400), Note(100, 64, 200)])  # span 400: next 16th is 480
    roll.view.select_all()
    roll.editor.duplicate()
    roll.editor.duplicate()
    assert sorted((n.start, n.pitch) for n in model.seed_notes()) == [
        (0, 60), (100, 64), (480, 60), (580, 64), (960, 60), (1060, 64)]
    stack.undo()
    assert len(model.seed_notes()) == 4


def test_quantize_moves_starts_and_ends_to_the_grid_the_roll_shows(qtbot):
    roll, model, stack = make_roll(qtbot, [Note(10, 60, 100), Note(470, 62, 230), Note(1000, 64, 20)])
    roll.view.grid_division = 4  # the Edit toolbar's 1/16: 120 ticks
    roll.view.select_all()
    roll.editor.quantize()
    assert [(n.start, n.end) for n in model.seed_notes()] == [(0, 120), (480, 720), (960, 1080)]
    stack.undo()
    assert [(n.start, n.end) for n in model.seed_notes()] == [(10, 110), (470, 700), (1000, 1020)]
    roll.view.grid_division = 3  # 1/8 triplet: 160 ticks
    roll.view.snap_enabled = False  # Snap off does not change what Quantize does
    roll.editor.quantize()
    assert [(n.start, n.end) for n in model.seed_notes()] == [(0, 160), (480, 640), (960, 1120)]


def test_transpose_by_semitone_and_octave_keeps_intervals_inside_the_midi_range(qtbot):
    roll, model, stack = make_roll(qtbot, [Note(0, 60, 480), Note(0, 120, 480), Note(480, 40, 480)])
    select(roll, model, {60, 120})
    roll.editor.transpose(1)
    roll.editor.transpose(-12)
    assert sorted(n.pitch for n in model.seed_notes()) == [40, 49, 109]
    roll.editor.transpose(12)
    roll.editor.transpose(12)  # 121 + 12 > 127: refused whole, not squashed at the top
    assert sorted(n.pitch for n in model.seed_notes()) == [40, 61, 121]
    assert stack.count() == 3
    stack.undo()
    stack.undo()
    stack.undo()
    assert sorted(n.pitch for n in model.seed_notes()) == [40, 60, 120]


def test_velocity_set_scaled_louder_and_softer_each_one_step(qtbot, monkeypatch):
    roll, model, stack = make_roll(qtbot, PHRASE)
    select(roll, model, {60, 64})
    roll.editor.set_velocity(100)
    assert [n.velocity for n in model.seed_notes()] == [100, 100, 50]
    roll.editor.scale_velocity(0.5)
    assert [n.velocity for n in model.seed_notes()] == [50, 50, 50]
    roll.editor.scale_velocity(editing.VELOCITY_STEP, "Louder")
    assert [n.velocity for n in model.seed_notes()] == [55, 55, 50]
    monkeypatch.setattr(editing.QInputDialog, "getInt", staticmethod(lambda *a, **k: (200, True)))
    roll.editor.ask_scale()  # 200 %: clamped at 127
    assert [n.velocity for n in model.seed_notes()] == [110, 110, 50]
    monkeypatch.setattr(editing.QInputDialog, "getInt", staticmethod(lambda *a, **k: (127, True)))
    roll.editor.ask_velocity()
    assert [n.velocity for n in model.seed_notes()] == [127, 127, 50]
    assert stack.undoText() == "Set velocity"
    for _ in range(5):
        stack.undo()
    assert [n.velocity for n in model.seed_notes()] == [90, 70, 50]


def lane_point(roll, tick: int, velocity: int) -> QPoint:
    lane = roll.velocity
    return QPointF(lane.x_of(tick), lane.y_of(velocity)).toPoint()


def test_dragging_a_stem_in_the_velocity_lane_moves_the_selection_together(qtbot):
    roll, model, stack = make_roll(qtbot, PHRASE)
    roll.view.centerOn(QPointF(480, 127 - 64))
    lane = roll.velocity
    assert len(lane.stems()) == 3
    # an unselected note alone
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, pos=lane_point(roll, 720, 50))
    qtbot.mouseMove(lane, lane_point(roll, 720, 100))
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, pos=lane_point(roll, 720, 100))
    assert abs(model.seed_notes()[2].velocity - 100) <= 2 and model.seed_notes()[0].velocity == 90
    # the selected notes move by the same amount, as one undo step
    select(roll, model, {60, 64})
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, pos=lane_point(roll, 480, 70))
    qtbot.mouseMove(lane, lane_point(roll, 480, 40))
    assert [n.velocity for n in model.seed_notes()][:2] == [90, 70]  # previewed, not yet changed
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, pos=lane_point(roll, 480, 40))
    first, second, _ = (n.velocity for n in model.seed_notes())
    assert first - second == 20 and abs(second - 40) <= 2
    stack.undo()
    assert [n.velocity for n in model.seed_notes()][:2] == [90, 70]
    stack.undo()
    assert [n.velocity for n in model.seed_notes()] == [90, 70, 50]


def test_select_bars_by_dialog_and_by_shift_dragging_the_ruler(qtbot, monkeypatch):
    bar = Meter().bar_length
    roll, model, _ = make_roll(qtbot, [Note(b * bar + 240, 60 + b, 240) for b in range(6)])
    monkeypatch.setattr(editing, "ask_bar_range", lambda *a, **k: (4, 2))
    roll.editor.ask_bars()
    assert sorted(model.note(i).pitch for i in roll.view.selection) == [61, 62, 63]  # bars 2-4
    roll.view.set_zoom(40, 14)
    roll.view.horizontalScrollBar().setValue(0)
    ruler = roll.ruler

    def at_bar(number: int) -> QPoint:
        return QPoint(int(roll.view.mapFromScene(QPointF((number - 1) * bar + 100, 0)).x() + roll.view.viewport().x()),
                      10)

    qtbot.mousePress(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at_bar(1))
    qtbot.mouseMove(ruler, at_bar(2))
    qtbot.mouseRelease(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at_bar(2))
    assert sorted(model.note(i).pitch for i in roll.view.selection) == [60, 61]
    assert not roll.view.playhead.isVisible()  # a Shift+drag does not move the playhead


def two_takes(model) -> tuple[int, int]:
    model.set_seed([Note(0, 60, 480), Note(480, 62, 480)])
    first = model.new_take()
    model.add_notes([Note(960 + i * 480, 70 + i, 470, 60, GENERATED, first) for i in range(2)])
    second = model.new_take()
    model.add_notes([Note(960 + i * 480, 50 + i, 470, 60, GENERATED, second) for i in range(2)])
    return first, second


def test_edits_of_one_take_never_touch_another(qtbot):
    roll, model, stack = make_roll(qtbot)
    first, second = two_takes(model)
    other = shape(model.take_notes(first))
    seed = shape(model.seed_notes())
    assert model.current_take == second
    select(roll, model, {50, 51})
    for edit in (roll.editor.quantize, roll.editor.duplicate, roll.editor.copy, roll.editor.paste,
                 lambda: roll.editor.transpose(12), lambda: roll.editor.set_velocity(99)):
        edit()
    # the copies land after where the take leaves the seed: they join the take shown
    assert sorted((n.start, n.pitch, n.velocity) for n in model.take_notes(second) if n.start >= 2880) == [
        (2880, 62, 99), (3360, 63, 99)]
    roll.editor.cut()
    roll.view.set_playhead(0, follow=False)
    roll.editor.paste()  # at 0: before the take leaves the seed, so into the seed
    assert sorted((n.start, n.pitch) for n in model.seed_notes()) == [(0, 60), (0, 62), (480, 62), (480, 63)]
    assert shape(model.take_notes(first)) == other
    assert sorted(n.start for n in model.take_notes(second)) == [960, 1440, 1920, 2400]  # its own, duplicated
    while stack.canUndo():
        stack.undo()
    assert shape(model.take_notes(first)) == other and shape(model.seed_notes()) == seed
    assert [n.pitch for n in model.take_notes(second)] == [50, 51]


def test_the_selection_is_dragged_out_as_a_midi_file_from_its_bar(qtbot, monkeypatch):
    roll, model, _ = make_roll(qtbot)
    first, second = two_takes(model)
    carried: list[QMimeData] = []

    def exec_(drag, *args):
        carried.append(drag.mimeData())
        return Qt.DropAction.CopyAction

    monkeypatch.setattr(QDrag, "exec", exec_)
    select(roll, model, {51})  # starts at 1440, bar 1 (at 4/4, 480 ticks a quarter)
    handle = roll.drag_handle
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.mouseMove(handle, QPoint(60, 40))
    assert len(carried) == 1
    path = carried[0].urls()[0].toLocalFile()
    assert path.endswith("Partita - take 2 - selection.mid")
    notes = notes_from_score(symusic.Score(path))
    assert [(n.start, n.pitch) for n in notes] == [(1440, 51)]
    # nothing selected: the take shown with its seed
    roll.view.set_selection(())
    roll.drag_out.start(roll)
    notes = notes_from_score(symusic.Score(carried[-1].urls()[0].toLocalFile()))
    assert [n.pitch for n in notes] == [60, 62, 50, 51]
    # Alt+drag a selected note in the roll does the same
    select(roll, model, {60})
    view = roll.view
    view.centerOn(QPointF(480, 127 - 60))
    press = view.mapFromScene(QPointF(240, 127 - 60 + 0.5))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, press)
    qtbot.mouseMove(view.viewport(), press + QPoint(40, 30))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, press + QPoint(40, 30))
    assert len(carried) == 3 and [n.start for n in model.seed_notes()] == [0, 480]  # dragged out, not moved


def test_roles_of_pasted_notes_follow_where_they_land(qtbot):
    roll, model, _ = make_roll(qtbot, [Note(0, 60, 480)])
    roll.view.select_all()
    roll.editor.copy()
    roll.editor.paste()
    assert all(n.role == SEED for _, n in model.items())  # no take shown: the seed


def test_editing_keys_work_in_the_window_roll_and_are_in_the_shortcut_list(make_window, qtbot, monkeypatch):
    window = make_window(restore_session=False)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    model, view = window.model, window.roll.view
    model.set_seed([Note(0, 60, 480, 80), Note(480, 64, 470, 80)])
    view.select_all()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    keys = [(Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier),
            (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier),
            (Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier), (Qt.Key.Key_Q, Qt.KeyboardModifier.NoModifier),
            (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier), (Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier),
            (Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)]
    for key, modifier in keys:
        qtbot.keyClick(view, key, modifier)
    bar = model.meter.bar_length
    first = [(bar + 120, 73, 480, 88), (bar + 600, 77, 480, 88)]  # transposed 13, nudged, louder, quantized
    expected = sorted(first + [(s + 960, p, d, v) for s, p, d, v in first]
                      + [(s + 1920, p, d, v) for s, p, d, v in first])
    assert seed_shape(model) == expected
    for _ in keys[:-3] + keys[-2:]:  # each edit one step (Copy is none)
        window.undo_stack.undo()
    assert seed_shape(model) == [(0, 60, 480, 80), (480, 64, 470, 80)]
    listed = []
    monkeypatch.setattr("app.mainwindow.ShortcutList.open", lambda box: listed.append(box.text()))
    window.show_shortcuts()
    for words in ("Nudge later", "Nudge a bar earlier", "Transpose up an octave", "Quantize", "Paste",
                  "Duplicate", "Louder", "Shift+drag on the ruler"):
        assert words in listed[0]


def test_arrows_and_copy_leave_the_notes_alone_while_a_panel_field_has_the_focus(make_window, qtbot):
    from PySide6.QtWidgets import QAbstractSpinBox

    window = make_window(restore_session=False)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.model.set_seed([Note(0, 60, 480)])
    window.roll.view.select_all()
    box = next(b for b in window.generation_panel.findChildren(QAbstractSpinBox) if b.isVisible() and b.isEnabled())
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClick(box, Qt.Key.Key_Up)
    qtbot.keyClick(box, Qt.Key.Key_Right)
    assert seed_shape(window.model) == [(0, 60, 480, 80)]
    # with nothing selected the arrows are free for the roll to scroll
    window.roll.view.set_selection(())
    assert not window.actions.transpose_up.isEnabled() and window.actions.paste.isEnabled()


def test_the_velocity_lane_is_shown_from_the_view_menu_and_remembered(make_window, qtbot):
    window = make_window(restore_session=False)
    window.show()
    qtbot.waitExposed(window)
    assert not window.roll.velocity.isVisible()  # off at first: a 768-pixel screen needs the rows
    window.actions.velocity_lane.trigger()
    assert window.roll.velocity.isVisible()
    window.close()
    again = make_window(restore_session=False)
    again.show()
    qtbot.waitExposed(again)
    assert again.actions.velocity_lane.isChecked() and again.roll.velocity.isVisible()
