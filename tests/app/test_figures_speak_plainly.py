"""Issue 20, item 11: the evaluation panel says in words what each figure measures, and names the
copied passage: the take and its bars, the corpus file and its bars."""

from __future__ import annotations

import re

from PySide6.QtGui import QTextDocument

from app.pianoroll.model import GENERATED, Note

JARGON = re.compile(r"\bJS\b|mgeval|\bOA\b|\bKL\b|n-gram")


def plain(tooltip: str) -> str:
    """A tooltip as the user reads it (the panel's are rich text, so that Qt wraps them)."""
    document = QTextDocument()
    document.setHtml(tooltip)
    return document.toPlainText()


def report_with_every_row():
    from core.judging.report.data import LearningFigures, Report, TokenFigures

    tokens = TokenFigures(2.0, 7.4, 0.4, 100, {}, 5.0)
    return Report(title="t", training_pieces=["a"], sets={},
                  learning=LearningFigures(tokens, TokenFigures(2.5, 12.2, 0.3, 100, {}, 6.0), "4-gram", ["b"]))


def test_every_figure_says_in_words_what_it_measures(make_window):
    from app.panels.evaluation import ARROWS, ReportReady
    from core.judging.report.data import HEADLINE_ROWS

    window = make_window(restore_session=False)
    panel = window.evaluation_panel
    report = report_with_every_row()
    panel.show_report(ReportReady(report, ()))
    rows = report.headline()
    assert panel.table.rowCount() == len(rows) == len(HEADLINE_ROWS) + 3
    for r, row in enumerate(rows):
        header = panel.table.verticalHeaderItem(r)
        assert not JARGON.search(header.text()), header.text()
        said = plain(header.toolTip())
        assert ARROWS[row["better"]] in said  # which way is better, still
        words = said.replace(ARROWS[row["better"]], "").split()
        assert len(words) >= 12, f"{header.text()}: {said}"  # and what the figure measures, in sentences
    tips = {panel.table.verticalHeaderItem(r).text(): plain(panel.table.verticalHeaderItem(r).toolTip())
            for r in range(len(rows))}
    overlap = next(tip for label, tip in tips.items() if label.startswith("Blends in with the corpus"))
    assert "overlap" in overlap and "corpus pieces are to each other" in overlap
    melodic = next(tip for label, tip in tips.items() if label.startswith("Melodic steps"))
    assert "semitones" in melodic and "0 = the same" in melodic


def test_the_copy_figure_names_the_take_its_bars_and_the_corpus_file_and_bars(make_window, qtbot, tiny_data):
    from core.music.scores import load_score

    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.corpus_panel.corpusImported, timeout=60000):
        window.corpus_panel.import_source(str(tiny_data))
    prelude = next(p for p in window.evaluation_panel.corpus.pieces if p.name == "BWV1007_01_Prelude.mid")
    score = load_score(prelude.path).resample(480, min_dur=1)
    bar = 4 * 480
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (4, 4)
    # the take copies the Prelude's bars 5-12 into its own bars 3-10, after a two-bar seed of its own
    window.model.set_seed([Note(0, 40, bar), Note(bar, 45, bar)])
    take = window.model.new_take()
    window.model.add_notes([Note(n.time - 2 * bar, n.pitch, n.duration, role=GENERATED, take=take)
                            for n in score.tracks[0].notes if 4 * bar <= n.time < 12 * bar])
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.judge_button.click()

    text = panel.copies.text()
    assert panel.copies.isVisibleTo(panel)
    found = re.search(r"Take 1, bars (\d+)-(\d+): (\d+) notes follow BWV1007_01_Prelude\.mid bars (\d+)-(\d+)", text)
    assert found, text
    take_first, take_last, notes, source_first, source_last = map(int, found.groups())
    assert 3 <= take_first and take_last <= 10 and take_last - take_first >= 5  # the take's own bars
    assert (source_first - take_first, source_last - take_last) == (2, 2)  # the Prelude's bars
    assert f"(file: {prelude.path})" in text
    assert "Flagged as copies: Take 1" in text
    labels = [panel.table.verticalHeaderItem(r).text() for r in range(panel.table.rowCount())]
    row = next(r for r, label in enumerate(labels) if label.startswith("Longest passage copied"))
    assert panel.table.item(row, 0).text() == str(notes)
    assert found.group(0) in plain(panel.table.item(row, 0).toolTip())  # the figure itself names it
