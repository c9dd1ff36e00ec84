"""The piano roll: model, conversion to and from symusic, and editing through real mouse events."""

from __future__ import annotations

import pytest
import symusic
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QUndoStack

from app.pianoroll.convert import meter_of, notes_from_score, score_from_notes
from app.pianoroll.model import GENERATED, SEED, Meter, Note, NoteModel
from app.pianoroll.widget import PianoRoll, note_name


def make_roll(qtbot, notes=(), height: int = 500):
    model = NoteModel()
    stack = QUndoStack()
    roll = PianoRoll(model, stack)
    roll.resize(900, height)
    qtbot.addWidget(roll)
    roll.show()
    qtbot.waitExposed(roll)
    if notes:
        model.set_seed(notes)
    roll._stack = stack  # keep it alive with the widget
    return roll, model, stack


def viewport_point(roll, tick: float, pitch: int) -> QPoint:
    return roll.view.mapFromScene(QPointF(tick, 127 - pitch + 0.5))


def test_score_round_trip_scales_ticks_and_keeps_meter():
    score = symusic.Score(96)
    track = symusic.Track(program=42)
    track.notes.append(symusic.Note(96, 48, 60, 90))
    track.notes.append(symusic.Note(0, 96, 55, 70))
    score.tracks.append(track)
    notes = notes_from_score(score)
    assert [(n.start, n.pitch, n.duration) for n in notes] == [(0, 55, 480), (480, 60, 240)]
    back = score_from_notes(notes, Meter(numerator=3, denominator=4, tempo_qpm=90))
    assert back.tpq == 480 and back.time_signatures[0].numerator == 3 and round(back.tempos[0].qpm, 3) == 90
    assert [(n.time, n.pitch, n.velocity) for n in back.tracks[0].notes] == [(0, 55, 70), (480, 60, 90)]


def test_takes_are_switchable_and_seed_is_shared():
    model = NoteModel()
    model.set_seed([Note(0, 60, 480)])
    first = model.new_take()
    model.add_notes([Note(480, 62, 480, role=GENERATED, take=first)])
    second = model.new_take()
    model.add_notes([Note(480, 64, 480, role=GENERATED, take=second), Note(960, 65, 480, role=GENERATED, take=second)])
    assert [n.pitch for _, n in model.visible_items()] == [60, 64, 65]
    model.set_current_take(first)
    assert sorted(n.pitch for _, n in model.visible_items()) == [60, 62]
    model.remove_take(first)
    assert model.takes == ["Take 2"] and [n.pitch for n in model.take_notes(0)] == [64, 65]


def test_deleting_a_take_is_undone_with_every_note_back_in_its_own_take():
    """An edit made before a take was deleted names the takes as they were numbered then: undo
    brings the take back first, then the edit (a deleted note came back in the wrong take)."""
    from app.pianoroll.commands import DeleteTake, delete_notes

    model, stack = NoteModel(), QUndoStack()
    for pitches in ([60, 62, 64, 65], [70, 72, 74, 76]):
        take = model.new_take()
        model.add_notes([Note(480 * i, p, 480, role=GENERATED, take=take) for i, p in enumerate(pitches)])
    first_ids = [i for i, n in model.items() if n.take == 0]
    stack.push(delete_notes(model, first_ids[-1:]))
    stack.push(DeleteTake(model, 0))
    assert model.takes == ["Take 2"] and [n.pitch for n in model.take_notes(0)] == [70, 72, 74, 76]
    stack.undo()
    stack.undo()
    assert model.takes == ["Take 1", "Take 2"]
    assert [n.pitch for n in model.take_notes(0)] == [60, 62, 64, 65]
    assert [n.pitch for n in model.take_notes(1)] == [70, 72, 74, 76]
    stack.redo()
    stack.redo()
    assert model.takes == ["Take 2"] and [n.pitch for n in model.take_notes(0)] == [70, 72, 74, 76]
    assert len(model) == 4  # no note of the deleted take left behind


def test_a_take_keeps_its_identity_when_an_earlier_one_is_deleted():
    model = NoteModel()
    takes = [model.take_uid(model.new_take()) for _ in range(3)]
    model.remove_take(0)
    assert [model.take_index(uid) for uid in takes] == [None, 0, 1]


def test_draw_note_with_mouse_then_undo_and_redo(qtbot):
    roll, model, stack = make_roll(qtbot)
    view = roll.view
    view.tool = view.DRAW
    view.centerOn(QPointF(960, 127 - 60))
    start = viewport_point(roll, 500, 60)
    end = viewport_point(roll, 1400, 60)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    notes = model.seed_notes()
    assert len(notes) == 1
    assert notes[0].pitch == 60 and notes[0].start == 480  # snapped down to the 16th grid
    assert notes[0].end == 1440  # extended to the snapped drag end
    stack.undo()
    assert len(model) == 0
    stack.redo()
    assert len(model) == 1


def test_move_resize_and_delete_selected_notes(qtbot):
    roll, model, stack = make_roll(qtbot, [Note(0, 60, 480), Note(480, 64, 480)])
    view = roll.view
    view.centerOn(QPointF(960, 127 - 62))
    # click the first note's middle and drag it a quarter later and two semitones up
    press = viewport_point(roll, 240, 60)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=press)
    target = viewport_point(roll, 240 + 480, 62)
    qtbot.mouseMove(view.viewport(), target)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert sorted((n.start, n.pitch) for n in model.seed_notes()) == [(480, 62), (480, 64)]
    # drag the moved note's right edge a quarter further
    edge = viewport_point(roll, 480 + 465, 62)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=edge)
    further = viewport_point(roll, 480 + 465 + 480, 62)
    qtbot.mouseMove(view.viewport(), further)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=further)
    moved = [n for n in model.seed_notes() if n.pitch == 62][0]
    assert moved.duration == 960
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert [n.pitch for n in model.seed_notes()] == [64]
    stack.undo()
    stack.undo()
    stack.undo()
    assert sorted((n.start, n.pitch, n.duration) for n in model.seed_notes()) == [(0, 60, 480), (480, 64, 480)]


def test_rubber_band_selects_notes_inside(qtbot):
    roll, model, _ = make_roll(qtbot, [Note(0, 60, 240), Note(480, 62, 240), Note(3840, 72, 240)])
    view = roll.view
    view.centerOn(QPointF(960, 127 - 62))
    a = viewport_point(roll, -0.0, 63)
    b = viewport_point(roll, 900, 59)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=a + QPoint(1, 0))
    qtbot.mouseMove(view.viewport(), b)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=b)
    assert sorted(model.note(i).pitch for i in view.selection) == [60, 62]


def test_ctrl_wheel_zooms_time(qtbot):
    roll, _, _ = make_roll(qtbot)
    before = roll.view.pixels_per_quarter
    roll.view.zoom_time(1.15)
    assert roll.view.pixels_per_quarter > before


def test_zoom_limits_are_the_same_on_screen_at_any_ticks_per_quarter(qtbot):
    """The zoom's range is in pixels per quarter note: a 960-tick score zooms as far as a 480-tick one."""
    limits = {}
    for tpq in (480, 960):
        roll, model, stack = make_roll(qtbot)
        model.set_meter(Meter(ticks_per_quarter=tpq))
        roll.view.set_zoom(10_000.0, 14.0)
        far_in = roll.view.pixels_per_quarter
        roll.view.set_zoom(0.01, 14.0)
        limits[tpq] = (round(far_in, 6), round(roll.view.pixels_per_quarter, 6))
    assert limits[480] == limits[960] and limits[480][0] > 100 * limits[480][1]


def test_note_names_use_middle_c_as_c4():
    assert note_name(60) == "C4" and note_name(69) == "A4" and note_name(21) == "A0"


def test_seed_and_generated_notes_paint_in_distinct_colours(qtbot):
    roll, model, _ = make_roll(qtbot, [Note(0, 60, 960)])
    take = model.new_take()
    model.add_notes([Note(960, 60, 960, role=GENERATED, take=take)])
    roll.view.centerOn(QPointF(960, 127 - 60))
    image = roll.view.viewport().grab().toImage()
    seed_px = image.pixelColor(viewport_point(roll, 480, 60))
    gen_px = image.pixelColor(viewport_point(roll, 1440, 60))
    assert seed_px != gen_px
    assert seed_px.blue() > seed_px.red() and gen_px.red() > gen_px.blue()


def test_a_note_saved_without_a_role_and_a_take_made_the_seed_come_back_as_seed_notes():
    assert Note.from_json({"start": 0, "pitch": 60, "duration": 1}).role == SEED  # an older project's note
    model = NoteModel()
    model.set_seed([Note(0, 60, 480, role=GENERATED, take=3)])  # a take kept as the new seed
    assert [(n.role, n.take) for n in model.seed_notes()] == [(SEED, 0)]


def test_arrow_keys_transpose_and_move_the_selection(qtbot):
    roll, model, stack = make_roll(qtbot, [Note(480, 60, 240)])
    roll.view.select_all()
    qtbot.keyClick(roll.view, Qt.Key.Key_Up)
    qtbot.keyClick(roll.view, Qt.Key.Key_Right)
    qtbot.keyClick(roll.view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)  # a bar back: clamped at 0
    assert [(n.start, n.pitch) for n in model.seed_notes()] == [(0, 61)]
    stack.undo()
    stack.undo()
    stack.undo()
    assert [(n.start, n.pitch) for n in model.seed_notes()] == [(480, 60)]


def test_streamed_notes_join_the_painted_index_as_a_full_rebuild_would(qtbot):
    roll, model, stack = make_roll(qtbot, [Note(i * 240, 50 + i % 7, 240) for i in range(40)])
    item = roll.view.notes_item
    item._ensure_index()
    take = model.new_take()
    item._ensure_index()
    for i in range(30):  # as a take is streamed: one note at a time, some inside the seed's span
        model.add_notes([Note(i * 333 % 9000, 60 + i % 5, 120 + i, role=GENERATED, take=take)])
    model.add_notes([Note(20000, 61, 480, role=GENERATED, take=take)])  # past the seed: the roll grows
    model.add_notes([Note(100, 70, 50, role=GENERATED, take=take + 1)])  # another take's: not shown
    streamed = (list(item._index), list(item._starts), [r.getRect() for r in item._rects], item._longest)
    item.invalidate(item.boundingRect().width())
    item._ensure_index()
    assert streamed == (item._index, item._starts, [r.getRect() for r in item._rects], item._longest)
    assert len(item._index) == 71
    assert roll.view.sceneRect().width() >= 20480


def test_notes_changed_carries_the_ids_added_and_none_for_any_other_change():
    model = NoteModel()
    heard = []
    model.notesChanged.connect(heard.append)
    ids = model.add_notes([Note(0, 60, 480), Note(480, 62, 480)])
    model.apply(remove=[ids[0]])
    model.apply(add={ids[1]: Note(480, 64, 480)})  # a note changed in place is no addition
    model.set_seed([Note(0, 48, 480)])  # replaces the seed: removes as it adds
    assert heard == [ids, None, None, None]


def test_a_new_meter_after_notes_were_added_rebuilds_the_roll_from_the_notes_there_are(qtbot):
    """Opening a project (or a seed with another meter) right after a note was drawn: the roll must
    not take the model's last addition for new notes (it raised KeyError, or indexed notes twice)."""
    roll, model, stack = make_roll(qtbot, [Note(i * 480, 60 + i, 480) for i in range(5)])
    item = roll.view.notes_item
    model.add_notes([Note(2400, 70, 480)])
    item._ensure_index()
    model.restore([Note(0, 48, 960)], [], -1, Meter(numerator=3, denominator=4))
    item._ensure_index()
    assert [(e[0], e[2]) for e in item._index] == [(0, 48)]
    take = model.new_take()
    model.add_notes([Note(0, 60, 480, role=GENERATED, take=take)])
    model.set_meter(Meter(numerator=6, denominator=8))
    item._ensure_index()
    assert sorted((e[0], e[2]) for e in item._index) == [(0, 48), (0, 60)]  # each note once


def test_a_take_made_without_being_shown_keeps_the_view_and_its_selection(qtbot):
    roll, model, stack = make_roll(qtbot)
    take = model.new_take()
    model.add_notes([Note(0, 60, 480, role=GENERATED, take=take)])
    roll.view.select_all()
    chosen = set(roll.view.selection)
    later = model.new_take(show=False)  # a second variation's first note arrived
    assert later == 1 and model.current_take == take and roll.view.selection == chosen


def test_a_pickup_the_score_numbers_0_is_bar_0_in_the_roll_and_back_in_the_score():
    from core.music.markers import PICKUP_MARKER, first_bar_number

    score = symusic.Score(480)
    track = symusic.Track()
    track.notes.append(symusic.Note(1440, 480, 55, 80))  # the pickup's quarter, before bar 1's downbeat
    score.tracks.append(track)
    assert meter_of(score).first_bar == 1 and meter_of(score).bar_number(0) == 1
    score.markers.append(symusic.TextMeta(0, PICKUP_MARKER))
    meter = meter_of(score)
    assert meter.first_bar == 0 and [meter.bar_number(b) for b in range(3)] == [0, 1, 2]
    back = score_from_notes(notes_from_score(score), meter)
    assert first_bar_number(back) == 0  # the engine (infill's bars, its messages) counts as the roll does
    assert first_bar_number(score_from_notes(notes_from_score(score), Meter())) == 1
    for wrong in (2, -1, 0.0, "0", True):
        with pytest.raises(ValueError, match="first_bar"):
            Meter(first_bar=wrong)
