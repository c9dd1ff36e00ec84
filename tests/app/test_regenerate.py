"""Issue 19, in the window: Regenerate selection (bars rewritten between the music around them, N
variations streamed into the span, heard, one kept in one undo step) and the Generate panel's bar
controls, against a tiny model trained here with infill and controls."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from conftest import tiny_config
from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from app.pianoroll.commands import replace_notes
from app.pianoroll.model import GENERATED, SEED, Note
from core.music.controls import BarControls

BAR = 1920  # ticks of a 4/4 bar at the roll's 480 a quarter


@pytest.fixture(scope="module")
def infill_run(tiny_data, tmp_path_factory):
    """A run trained for 20 steps with this version's tokenizer: it learned infill and bar controls."""
    from core.learning.training import train

    out = tmp_path_factory.mktemp("runs") / "infill"
    for _ in train(tiny_config(tiny_data, out, steps=20)):
        pass
    tokenizer = json.loads((out / "config.json").read_text())["tokenizer"]
    assert tokenizer["use_infill"] and tokenizer["use_controls"]
    return out


def piece(bars: int = 6) -> list[Note]:
    """A cello line of quarter notes, `bars` bars of 4/4."""
    return [Note(i * 480, 43 + (i * 5) % 17, 480, 80) for i in range(4 * bars)]


def in_span(note: Note, first: int, last: int) -> bool:
    return (first - 1) * BAR <= note.start < last * BAR


def shown(model) -> list[tuple]:
    return sorted((n.start, n.pitch, n.duration, n.velocity, n.role, n.take) for _, n in model.visible_items())


def window_with_run(make_window, run, variations: int = 2, seed: int = 5):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(str(run), select=True)
    panel.variations.setValue(variations)
    panel.random_seed.setValue(seed)
    panel.voices.setValue(0)  # (the barely trained model holds notes long: no instrument limit here)
    return window


def test_regenerating_bars_rewrites_only_them_and_keeping_one_is_one_undo_step(make_window, qtbot, infill_run):
    window = window_with_run(make_window, infill_run)
    model, regenerator = window.model, window.regenerator
    model.set_seed(piece())
    # the user's own edit outside the span: it must survive regenerating and keeping
    edited = next(i for i, n in model.items() if n.start == 3 * BAR + 480)
    window.undo_stack.push(replace_notes(model, "Move", {edited: replace(model.note(edited), pitch=70, duration=240)}))
    before = shown(model)
    outside = [n for n in before if not (BAR <= n[0] < 3 * BAR)]
    steps = window.undo_stack.count()
    assert not window.actions.regenerate.isEnabled()  # nothing selected yet
    window.roll.editor.select_bars(2, 3)
    assert window.actions.regenerate.isEnabled() and window.roll.ruler.selected_bars == (2, 3)
    growth = []
    regenerator.runner.event.connect(lambda _: growth.append(len(regenerator.overlay.notes)))
    with qtbot.waitSignal(regenerator.runner.finished, timeout=120000):
        window.actions.regenerate.trigger()
        assert regenerator.running and not window.actions.generate.isEnabled()  # one writer at a time
        assert window.actions.stop_generation.isEnabled()
    assert len(set(growth)) > 2  # the variation shown grew note by note as the model wrote it
    assert shown(model) == before and window.undo_stack.count() == steps  # nothing changes until Keep
    variations = regenerator.variations
    assert len(variations) == 2 and all(variations), "each variation writes notes into bars 2-3"
    assert all(in_span(n, 2, 3) and n.end <= 3 * BAR for v in variations for n in v)
    assert variations[0] != variations[1]
    assert regenerator.bar.isVisibleTo(window) and regenerator.bar.keep_button.isEnabled()

    regenerator.choose(1)
    assert regenerator.overlay.notes == variations[1]
    played = []
    regenerator.player = lambda score, tick: played.append((score, tick))
    regenerator.bar.play_button.click()
    score, tick = played[-1]
    assert tick == 0  # from a bar before the span
    heard = sorted((n.time, n.pitch) for n in score.tracks[0].notes)
    assert sorted((n.start, n.pitch) for n in variations[1]) == [h for h in heard if BAR <= h[0] < 3 * BAR]
    assert max(t for t, _ in heard) < 4 * BAR  # ...to a bar after it
    assert (3 * BAR + 480, 70) in heard  # with the user's edit around it

    regenerator.bar.keep_button.click()
    after = shown(model)
    assert [n for n in after if not (BAR <= n[0] < 3 * BAR)] == outside  # not a tick or a pitch moved
    assert [n for n in after if BAR <= n[0] < 3 * BAR] == sorted(
        (n.start, n.pitch, n.duration, n.velocity, SEED, 0) for n in variations[1])
    assert window.undo_stack.count() == steps + 1 and "bars 2-3" in window.undo_stack.undoText()
    assert not regenerator.overlay.isVisible() and not regenerator.bar.isVisibleTo(window)
    assert window.roll.editor.selected_bars() == (2, 3)  # Ctrl+R again rewrites them again
    window.undo_stack.undo()
    assert shown(model) == before
    window.undo_stack.redo()
    assert shown(model) == after


def test_regenerating_in_a_take_keeps_the_seed_and_writes_into_the_take(make_window, qtbot, infill_run):
    window = window_with_run(make_window, infill_run, variations=1, seed=11)
    model, regenerator = window.model, window.regenerator
    notes = piece(4)
    model.set_seed([n for n in notes if n.start < 2 * BAR])
    take = model.new_take()
    model.add_notes([replace(n, role=GENERATED, take=take) for n in notes if n.start >= 2 * BAR])
    other = model.new_take(show=False)
    model.add_notes([Note(0, 60, 480, role=GENERATED, take=other)])
    seed_before, other_before = model.seed_notes(), model.take_notes(other)
    take_outside = [n for n in model.take_notes(take) if not in_span(n, 3, 3)]
    window.roll.editor.select_bars(3, 3)
    with qtbot.waitSignal(regenerator.runner.finished, timeout=120000):
        window.actions.regenerate.trigger()
    variation = regenerator.variations[0]
    assert variation
    regenerator.keep()
    assert model.seed_notes() == seed_before and model.take_notes(other) == other_before
    assert [n for n in model.take_notes(take) if not in_span(n, 3, 3)] == take_outside
    written = [n for n in model.take_notes(take) if in_span(n, 3, 3)]
    assert written == sorted((replace(n, role=GENERATED, take=take) for n in variation), key=lambda n: (n.start, n.pitch))


def test_a_span_past_the_end_is_refused_in_one_line(make_window, qtbot, infill_run):
    window = window_with_run(make_window, infill_run)
    window.model.set_seed(piece(4))
    before = shown(window.model)
    window.roll.editor.select_bars(9, 10)  # empty bars, past the piece's four
    assert window.actions.regenerate.isEnabled()
    with qtbot.waitSignal(window.errorShown, timeout=120000) as blocker:
        window.actions.regenerate.trigger()
    message = blocker.args[0]
    assert "outside the piece: its last bar is 4" in message, message
    assert "\n" not in message and "Traceback" not in message and "InfillError" not in message
    assert not window.regenerator.overlay.isVisible() and not window.regenerator.bar.isVisibleTo(window)
    assert shown(window.model) == before and not window.regenerator.running
    assert "failed" in window.generation_panel.info.text()


def test_regenerate_without_a_selection_says_how_to_select(make_window, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed(piece(2))
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        window.regenerator.regenerate()
    assert "Select the bars" in blocker.args[0] and not window.regenerator.running


def test_the_selected_bars_are_the_bars_swept_or_those_of_the_selected_notes(make_window):
    window = make_window(restore_session=False)
    window.model.set_seed(piece(4))
    editor, view = window.roll.editor, window.roll.view
    editor.select_bars(4, 2)
    assert editor.selected_bars() == (2, 4)
    view.set_selection(())  # a click in the roll: nothing is selected any more
    assert editor.selected_bars() is None and window.roll.ruler.selected_bars is None
    assert not window.actions.regenerate.isEnabled()
    view.set_selection(i for i, n in window.model.items() if n.start in (BAR + 480, 2 * BAR))
    assert editor.selected_bars() == (2, 3) and window.actions.regenerate.isEnabled()


def test_regenerate_selection_has_a_shortcut_a_toolbar_button_and_a_context_menu_entry(make_window, qtbot):
    window = make_window(restore_session=False)
    action = window.actions.regenerate
    assert action.shortcut().toString(QKeySequence.SequenceFormat.PortableText) == "Ctrl+R"
    assert action in window.generate_bar.actions() and action in window.roll_menu.actions()
    window.show()
    viewport = window.roll.view.viewport()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(40, 40),
                                                     viewport.mapToGlobal(QPoint(40, 40))))
    qtbot.waitUntil(window.roll_menu.isVisible, timeout=5000)
    window.roll_menu.close()
    window.show_shortcuts()
    from app.dialogs import ShortcutList

    assert "Regenerate selection" in window.findChild(ShortcutList).text()


def test_stop_ends_regenerating_and_what_is_written_can_still_be_kept(make_window, qtbot, infill_run):
    window = window_with_run(make_window, infill_run, variations=1, seed=3)
    model, regenerator = window.model, window.regenerator
    model.set_seed(piece(10))
    before = shown(model)
    window.roll.editor.select_bars(2, 9)
    window.actions.regenerate.trigger()
    qtbot.waitUntil(lambda: len(regenerator.overlay.notes) >= 2, timeout=120000)
    window.actions.stop_generation.trigger()  # Esc
    assert not regenerator.running and window.actions.generate.isEnabled()
    assert regenerator.bar.keep_button.isEnabled()
    count = len(regenerator.variations[0])
    assert regenerator.runner.wait(60000)  # the cancelled job's thread is done: whatever it sent is queued
    QApplication.processEvents()
    assert len(regenerator.variations[0]) == count  # late notes are dropped
    regenerator.keep()
    assert [n for n in shown(model) if not (BAR <= n[0] < 9 * BAR)] == [n for n in before if not (BAR <= n[0] < 9 * BAR)]


def test_showing_another_take_discards_the_variations(make_window, qtbot, infill_run):
    window = window_with_run(make_window, infill_run, variations=1)
    model, regenerator = window.model, window.regenerator
    model.set_seed(piece(4))
    take = model.new_take(show=False)
    model.add_notes([Note(4 * BAR, 60, 480, role=GENERATED, take=take)])
    window.roll.editor.select_bars(2, 2)
    with qtbot.waitSignal(regenerator.runner.finished, timeout=120000):
        window.actions.regenerate.trigger()
    model.set_current_take(take)
    assert regenerator.span is None and not regenerator.overlay.isVisible()


# --- the Generate panel's bar controls -------------------------------------------------------
def test_bar_controls_are_enabled_only_for_a_model_trained_with_them(make_window, infill_run, tmp_path):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    box = panel.bar_controls
    without = tmp_path / "without-controls"
    shutil.copytree(infill_run, without)
    config = json.loads((without / "config.json").read_text())
    config["tokenizer"]["use_controls"] = False
    (without / "config.json").write_text(json.dumps(config))
    panel.add_run(str(without), select=True)
    assert not box.isEnabled() and "trained without bar controls" in box.density.toolTip()
    box.density.setCurrentIndex(box.density.findData(5))
    assert panel.settings().controls == BarControls()  # greyed out: nothing is asked
    panel.add_run(str(infill_run), select=True)
    assert box.isEnabled() and "trained without" not in box.toolTip()
    box.polyphony.setCurrentIndex(box.polyphony.findData(1))
    box.range.setText("C3-G4")
    assert panel.settings().controls == BarControls(density=5, voices=1, lowest=48, highest=67)
    from app.generating import take_about

    assert take_about("run", panel.settings()).endswith(", busy bars, 1 note at once, C3-G4")
    state = panel.state()
    again = make_window(restore_session=False).generation_panel
    again.restore(state)  # the next session asks the same of every bar
    assert again.settings().controls == BarControls(density=5, voices=1, lowest=48, highest=67)


def test_bar_controls_a_model_did_not_learn_are_greyed_out_one_by_one(make_window, infill_run, tmp_path):
    panel = make_window(restore_session=False).generation_panel
    box = panel.bar_controls
    some = tmp_path / "some-controls"
    shutil.copytree(infill_run, some)
    config = json.loads((some / "config.json").read_text())
    config["tokenizer"]["control_kinds"] = ["density", "voices"]  # (only what the window reads: not loaded)
    (some / "config.json").write_text(json.dumps(config))
    panel.add_run(str(some), select=True)
    assert box.isEnabled() and box.density.isEnabled() and box.polyphony.isEnabled()
    assert not box.range.isEnabled() and "Range above keeps the notes inside one" in box.range.toolTip()
    box.density.setCurrentIndex(box.density.findData(2))
    box.range.setText("C3-G4")
    assert panel.settings().controls == BarControls(density=2)  # the range is not asked of the bars
    panel.add_run(str(infill_run), select=True)  # a model that learned all three
    assert box.range.isEnabled() and panel.settings().controls == BarControls(density=2, lowest=48, highest=67)


def test_a_hugging_face_export_offers_the_controls_of_the_model_it_holds(infill_run, tmp_path):
    from app.panels.shipped import model_controls
    from core.learning.checkpoint import load_model
    from core.learning.hf import export_hf

    export_hf(load_model(infill_run), tmp_path / "hf")  # (its config.json is GPT-2's, the tokenizer beside it)
    assert model_controls(str(tmp_path / "hf")) == model_controls(str(infill_run)) == ("density", "voices", "range")
    assert model_controls(str(tmp_path / "nowhere")) == ()


def test_the_bar_range_is_checked_as_it_is_typed(make_window, qtbot, infill_run):
    window = window_with_run(make_window, infill_run)
    box = window.generation_panel.bar_controls
    box.show()
    box.range.setFocus()
    qtbot.keyClicks(box.range, "C3-G4x!")  # letters no pitch is written with are not taken
    assert box.range.text() == "C3-G4" and box.range.hasAcceptableInput()
    box.range.setText("G4-C3")
    assert not box.range.hasAcceptableInput() and "G4 is above C3" in box.problem.text()
    assert box.problem.isVisibleTo(box)
    window.model.set_seed(piece(2))
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        window.actions.generate.trigger()
    assert blocker.args[0].startswith("Bar controls") and not window.generation_panel.runner.running
    box.range.setText("")
    assert box.problem.text() == "" and box.controls() == BarControls()


def test_the_bar_controls_reach_generate_and_regenerate(make_window, qtbot, infill_run, monkeypatch):
    import app.generating as generation
    import app.regenerating as regenerating

    asked = []
    for module, name in ((generation, "stream_generation"), (regenerating, "stream_infill")):
        real = getattr(module, name)

        def spy(loaded, score, *args, _real=real, _name=name, **kwargs):
            asked.append(args[-1] if _name == "stream_generation" else args[2])
            return _real(loaded, score, *args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    window = window_with_run(make_window, infill_run, variations=1)
    window.model.set_seed(piece(4))
    box = window.generation_panel.bar_controls
    box.density.setCurrentIndex(box.density.findData(3))
    box.polyphony.setCurrentIndex(box.polyphony.findData(1))
    window.generation_panel.bars.setValue(1)
    with qtbot.waitSignal(window.generation_panel.runner.finished, timeout=120000):
        window.actions.generate.trigger()
    window.model.set_current_take(-1)
    window.roll.editor.select_bars(2, 2)
    with qtbot.waitSignal(window.regenerator.runner.finished, timeout=120000):
        window.actions.regenerate.trigger()
    wanted = BarControls(density=3, voices=1)
    assert [settings.controls for settings in asked] == [wanted, wanted]
    assert "moderate bars, 1 note at once" in window.model.take_about(0)


def test_the_shortcut_list_lays_out_an_even_or_odd_number_of_shortcuts(qtbot):
    from app.dialogs import ShortcutList

    for count in (2, 3):
        shortcuts = ShortcutList([(f"Action {i}", f"Ctrl+{i}") for i in range(count)])
        qtbot.addWidget(shortcuts)
        assert all(f"Action {i}" in shortcuts.text() for i in range(count))


def test_a_pickup_numbered_0_names_the_bars_as_the_score_does(make_window, qtbot, infill_run):
    from app.pianoroll.model import Meter

    window = window_with_run(make_window, infill_run, variations=1)
    window.model.set_seed(piece(), Meter(first_bar=0))
    window.roll.editor.select_bars(2, 3)  # the roll's second and third bars: the score's 1 and 2
    with qtbot.waitSignal(window.regenerator.runner.finished, timeout=120000):
        window.actions.regenerate.trigger()
    assert window.regenerator.bar.label.text().startswith("Bars 1-2:")
    window.regenerator.bar.keep_button.click()
    assert "bars 1-2" in window.undo_stack.undoText()
    window.roll.editor.select_bars(7, 7)  # past the piece's last bar (5, counted from 0)
    failures = []
    window.regenerator.failed.connect(lambda text, _todo: failures.append(text))
    with qtbot.waitSignal(window.regenerator.runner.finished, timeout=120000, raising=False):
        window.actions.regenerate.trigger()
    qtbot.waitUntil(lambda: bool(failures), timeout=30000)
    assert "bars 6-6" in failures[0] and "last bar is 5" in failures[0], failures[0]  # the engine counts as the roll does
