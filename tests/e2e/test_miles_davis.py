"""The shipped miles-davis model from the command line: one trumpet line in his range, with
dynamics, over the chords the user types (issue 18)."""

from __future__ import annotations

import symusic
from test_engine_cli import env, partita  # noqa: F401  (env: a fixture)

from core.music.chords import Chord, marker_chord


def test_miles_davis_plays_one_line_over_typed_changes(tmp_path, env, jazz_beats_dir):  # noqa: F811
    out = tmp_path / "walkin.mid"
    partita("generate", "--model", "miles-davis", "--prompt", str(jazz_beats_dir / "MilesDavis_Walkin.mid"),
            "--prompt-bars", "4", "--bars", "4", "--chords", "D-7 G7 | Cmaj7", "--seed", "3", "--variations", "1",
            "--out", str(out), env_extra=env)
    score = symusic.Score(str(out))
    cut = next(m.time for m in score.markers if m.text == "continuation")
    notes = sorted((n for t in score.tracks for n in t.notes if n.time >= cut), key=lambda n: n.time)
    assert len(notes) >= 4
    assert all(a.time + a.duration <= b.time for a, b in zip(notes[:-1], notes[1:], strict=True))  # one line
    assert all(52 <= n.pitch <= 90 for n in notes)  # his range
    assert len({n.velocity for n in notes}) > 1  # dynamics, not one flattened velocity
    bar = 4 * score.tpq
    new_bars = {}
    for marker in score.markers:
        chord = marker_chord(marker.text)
        if chord is not None and marker.time >= 4 * bar:
            new_bars.setdefault(marker.time // bar, []).append(chord)
    d7, g7, c = Chord(2, "min"), Chord(7, "dom"), Chord(0, "maj")
    assert new_bars == {4: [d7, g7], 5: [c], 6: [d7, g7], 7: [c]}  # the progression, repeated to the end
