"""File > Export as a musician asks for it: PDF and PNG engraved by MuseScore (as the command line
does), and the take alone, from the bar where it leaves the seed, in every format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import symusic

from app.pianoroll.model import GENERATED, Note

BAR = 4 * 480  # ticks of a 4/4 bar at the roll's 480 ticks a quarter
SEED_PITCHES = [48, 50, 52, 53, 55, 57, 59, 60]  # two bars of quarters
TAKE_PITCHES = [62, 64, 65, 67, 69, 71, 72, 74]  # the next two bars

needs_musescore = pytest.mark.skipif(shutil.which("mscore3") is None,
                                     reason="needs MuseScore 3 (mscore3, Debian/Ubuntu package musescore3)")


def window_with_a_take(make_window):
    window = make_window(restore_session=False)
    window.seed_name = "Prelude"
    window.model.set_seed([Note(i * 480, p, 480) for i, p in enumerate(SEED_PITCHES)])
    take = window.model.new_take()
    window.model.add_notes([Note(2 * BAR + i * 480, p, 480, role=GENERATED, take=take)
                            for i, p in enumerate(TAKE_PITCHES)])
    return window


def save_to(monkeypatch, folder: Path, asked: list | None = None) -> None:
    """The save dialog answers with its proposed name in `folder` (and records what it was asked)."""

    def dialog(parent, caption, start, filters, *a, **k):
        if asked is not None:
            asked.append((caption, Path(start).name, filters))
        return str(folder / Path(start).name), ""

    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", dialog)


@needs_musescore
def test_export_pdf_engraves_the_seed_and_take_with_musescore(make_window, tmp_path, monkeypatch, qtbot):
    window = window_with_a_take(make_window)
    asked = []
    save_to(monkeypatch, tmp_path, asked)
    with qtbot.waitSignal(window.exporter.finished, timeout=120000) as blocker:
        window.actions.export_pdf.trigger()
    assert asked == [("Export PDF", "Prelude - take 1.pdf", "PDF (*.pdf)")]
    written = tmp_path / "Prelude - take 1.pdf"
    assert written.read_bytes().startswith(b"%PDF") and str(written) in blocker.args[0]


@needs_musescore
def test_export_png_writes_one_image_a_page(make_window, tmp_path, monkeypatch, qtbot):
    window = window_with_a_take(make_window)
    save_to(monkeypatch, tmp_path)
    with qtbot.waitSignal(window.exporter.finished, timeout=120000):
        window.actions.export_png.trigger()
    pages = sorted(tmp_path.glob("Prelude - take 1-*.png"))
    assert pages and all(p.read_bytes().startswith(b"\x89PNG") for p in pages)


@pytest.mark.parametrize("action", ["export_pdf", "export_png"])
def test_pdf_and_png_without_musescore_say_what_to_install(make_window, tmp_path, monkeypatch, qtbot, action):
    monkeypatch.setattr("core.music.musescore.shutil.which", lambda *a, **k: None)
    monkeypatch.delenv("PARTITA_MUSESCORE", raising=False)
    asked = []
    save_to(monkeypatch, tmp_path, asked)
    window = window_with_a_take(make_window)
    with qtbot.waitSignal(window.errorShown, timeout=10000) as blocker:
        getattr(window.actions, action).trigger()
    assert "MuseScore was not found" in blocker.args[0] and "musescore.org" in blocker.args[0]
    assert asked == [] and list(tmp_path.glob("*.p*")) == []  # refused before a file name is asked for
    assert not window.exporter.running


def test_take_alone_midi_holds_only_the_take_from_its_first_new_bar(make_window, tmp_path, monkeypatch, qtbot):
    window = window_with_a_take(make_window)
    window.actions.export_take_only.setChecked(True)
    asked = []
    save_to(monkeypatch, tmp_path, asked)
    with qtbot.waitSignal(window.exporter.finished, timeout=10000):
        window.actions.export_midi.trigger()
    assert asked[-1][1] == "Prelude - take 1 (continuation).mid"
    notes = symusic.Score(str(tmp_path / asked[-1][1])).tracks[0].notes
    assert [n.pitch for n in notes] == TAKE_PITCHES
    assert [n.time for n in notes] == [i * 480 for i in range(len(TAKE_PITCHES))]  # moved to bar 1
    assert not symusic.Score(str(tmp_path / asked[-1][1])).markers  # no boundary: it is all take

    window.actions.export_take_only.setChecked(False)  # off again: seed and take
    with qtbot.waitSignal(window.exporter.finished, timeout=10000):
        window.actions.export_midi.trigger()
    assert asked[-1][1] == "Prelude - take 1.mid"
    notes = symusic.Score(str(tmp_path / asked[-1][1])).tracks[0].notes
    assert [n.pitch for n in notes] == SEED_PITCHES + TAKE_PITCHES


def test_take_alone_starts_at_the_bar_line_where_the_take_leaves_the_seed(make_window, tmp_path, monkeypatch, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 48, BAR), Note(BAR, 50, 960)])  # ends half way through bar 2
    take = window.model.new_take()
    window.model.add_notes([Note(BAR + 960 + i * 480, 60 + i, 480, role=GENERATED, take=take) for i in range(6)])
    window.actions.export_take_only.setChecked(True)
    save_to(monkeypatch, tmp_path)
    with qtbot.waitSignal(window.exporter.finished, timeout=10000):
        window.actions.export_midi.trigger()
    (written,) = tmp_path.glob("*.mid")
    score = symusic.Score(str(written))
    # bar 2 whole (the seed's half of it, then the take), the seed's first bar gone
    assert [(n.time, n.pitch) for n in score.tracks[0].notes] == \
        [(0, 50)] + [(960 + i * 480, 60 + i) for i in range(6)]
    assert [(m.time, m.text) for m in score.markers] == [(960, "continuation")]  # where the take begins


def test_take_alone_musicxml_has_only_the_takes_bars(make_window, tmp_path, monkeypatch, qtbot):
    window = window_with_a_take(make_window)
    window.actions.export_take_only.setChecked(True)
    save_to(monkeypatch, tmp_path)
    with qtbot.waitSignal(window.exporter.finished, timeout=30000):
        window.actions.export_musicxml.trigger()
    text = (tmp_path / "Prelude - take 1 (continuation).musicxml").read_text()
    assert text.count("<measure ") == 2 and text.count("<pitch>") == len(TAKE_PITCHES)


def test_take_alone_without_a_take_shown_says_so(make_window, tmp_path, monkeypatch, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    window.actions.export_take_only.setChecked(True)
    asked = []
    save_to(monkeypatch, tmp_path, asked)
    with qtbot.waitSignal(window.errorShown, timeout=10000) as blocker:
        window.actions.export_midi.trigger()
    assert "no take is shown" in blocker.args[0] and asked == []


def test_export_menu_offers_pdf_png_and_the_take_alone(make_window):
    window = make_window(restore_session=False)
    file_menu = window.menuBar().actions()[0].menu()
    export = next(a.menu() for a in file_menu.actions() if a.menu() and "Export" in a.text())
    a = window.actions
    assert {a.export_pdf, a.export_png, a.export_take_only} <= set(export.actions())
    assert a.export_take_only.isCheckable() and not a.export_take_only.isChecked()


def test_open_in_musescore_with_take_alone_opens_only_the_take(make_window, monkeypatch, qtbot):
    from types import SimpleNamespace

    opened = []
    monkeypatch.setattr("core.music.musescore.require_musescore", lambda *a, **k: Path("/usr/bin/mscore3"))
    monkeypatch.setattr("core.music.musescore.open_in_musescore",  # returns the process, which the window reaps
                        lambda path, exe=None: opened.append(Path(path)) or SimpleNamespace(wait=lambda: 0))
    window = window_with_a_take(make_window)
    window.actions.export_take_only.setChecked(True)
    with qtbot.waitSignal(window.exporter.finished, timeout=30000):
        window.actions.open_musescore.trigger()
    text = opened[0].read_text()
    assert text.count("<measure ") == 2 and text.count("<pitch>") == len(TAKE_PITCHES)
