"""Issue 20, item 12: a chart with one point has a sensible axis, and a run trained from the form
shows its first validation point early (a tenth of the way to the first regular pass)."""

from __future__ import annotations

import math

import pytest


@pytest.mark.parametrize("event, plot, value", [
    ({"event": "EvalResult", "step": 200, "loss": 2.0, "accuracy": 0.4, "perplexity": 7.4}, "accuracy", 0.4),
    ({"event": "TrainStep", "step": 200, "loss": 2.0, "learning_rate": 1e-3}, "lr", 1e-3),
])
def test_a_chart_with_one_point_shows_steps_from_zero_and_its_value_within_ten_percent(qtbot, event, plot, value):
    from app.panels.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 600)
    curves.show()
    curves.add_record(event)
    curves.refresh()
    qtbot.wait(20)
    (x_low, x_high), (y_low, y_high) = curves.plots[plot].viewRange()
    assert x_low == 0 and 200 < x_high <= 250  # not 199.5-200.5
    assert y_low < value < y_high and y_high - y_low == pytest.approx(0.2 * value)  # not value ± 0.5
    # once the points spread, pyqtgraph's own range follows them again
    curves.add_record({**event, "step": 400, "loss": 1.0, "accuracy": 0.5, "perplexity": 3.4,
                       "learning_rate": 2e-3})
    curves.refresh()
    qtbot.wait(20)
    (x_low, x_high), (y_low, y_high) = curves.plots[plot].viewRange()
    assert 150 < x_low < 200 and 400 < x_high < 450
    top = 2e-3 if plot == "lr" else 0.5
    assert y_low < value < top < y_high


def test_a_run_from_the_form_shows_a_validation_point_early(make_window, qtbot, tiny_data, tmp_path):
    from app.panels.training import first_validation_step
    from core.learning.training import EvalResult

    window = make_window(restore_session=False)
    panel = window.training_panel
    defaults = panel.config()
    assert 0 < defaults.first_eval <= defaults.eval_every // 10  # 20 steps, not 200, with the defaults
    panel.data_edit.setText(str(tiny_data))
    panel.out_edit.setText(str(tmp_path / "run"))
    panel.layers.setValue(1)
    panel.heads.setValue(2)
    panel.width.setValue(32)
    panel.batch.setValue(4)
    panel.steps.setValue(20)
    panel.eval_every.setValue(200)  # the only regular pass: at the last step
    validations = []
    panel.runner.event.connect(lambda e: validations.append(e.step) if isinstance(e, EvalResult) else None)
    with qtbot.waitSignal(panel.runner.finished, timeout=180000):
        panel.start()
    assert validations == [first_validation_step(200, 20), 20] == [2, 20]
    panel.curves.refresh()
    xs, ys = panel.curves.curves["val_loss"].getData()
    assert list(xs) == [2, 20] and all(math.isfinite(y) for y in ys)
