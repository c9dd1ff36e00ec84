"""The window and hostile files (issue 22, class 1): a seed whose beat cannot be counted, a session
or project damaged in any field, nested 100,000 deep or too big. The window always starts; a session
that cannot be restored is moved aside with a message, so the next start is clean; a project opened
by hand that cannot be read leaves the work on screen. Every hostile file is made here, at run time.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.pianoroll.convert import meter_of
from app.pianoroll.model import GENERATED, Meter, Note
from app.session import ProjectError, parse_project
from tests.core.test_hostile_seeds import tiny_midi

pytestmark = pytest.mark.timeout(120)  # a hang (the zoom loop of a negative resolution) fails, not stalls


def valid_session(window) -> dict:
    """What the window autosaves for a seed, a take and chords, as JSON data."""
    window.model.set_seed([Note(0, 60, 480), Note(480, 64, 480)])
    take = window.model.new_take()
    window.model.add_notes([Note(960, 67, 480, role=GENERATED, take=take)])
    window.autosave()
    return json.loads(window.session_path.read_text())


def broken_files(window) -> list[Path]:
    return sorted(window.session_path.parent.glob("session.json.broken-*"))


def set_in(data: dict, path: str, value) -> dict:
    """`data` with the field at `path` ("meter.numerator", "notes.0.take") set to `value`."""
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


DEEP = 100_000
# name: (change to a valid session (a function of its data, giving JSON text or bytes), what the message says)
HOSTILE_SESSIONS = {
    "zero numerator": (lambda d: set_in(d, "meter.numerator", 0), "time signature 0/4 is impossible"),
    "zero denominator": (lambda d: set_in(d, "meter.denominator", 0), "time signature 4/0 is impossible"),
    "denominator not a power of two": (lambda d: set_in(d, "meter.denominator", 3), "4/3 is impossible"),
    "absurd numerator": (lambda d: set_in(d, "meter.numerator", 10**12), "is impossible"),
    "negative ticks per quarter": (lambda d: set_in(d, "meter.ticks_per_quarter", -480),
                                   "-480 ticks per quarter note is impossible"),
    "zero ticks per quarter": (lambda d: set_in(d, "meter.ticks_per_quarter", 0), "0 ticks per quarter"),
    "tempo NaN": (lambda d: set_in(d, "meter.tempo_qpm", float("nan")), "tempo nan is impossible"),
    "tempo as text": (lambda d: set_in(d, "meter.tempo_qpm", "fast"), "tempo 'fast' is impossible"),
    "meter a list": (lambda d: set_in(d, "meter", [4, 4]), "meter is [4, 4], not an object"),
    "non-numeric version": (lambda d: set_in(d, "version", "two"), "version is 'two', not a format number"),
    "version from the future": (lambda d: set_in(d, "version", 10**400), "made by a newer Partita"),
    "string take index": (lambda d: set_in(d, "current_take", "0"), "current_take is '0', not a take index"),
    "string take of a note": (lambda d: set_in(d, "notes.2.take", "0"), "notes[2].take is '0'"),
    "note of a missing take": (lambda d: set_in(d, "notes.2.take", 7), "notes[2].take is 7"),
    "pitch 300": (lambda d: set_in(d, "notes.0.pitch", 300), "notes[0].pitch is 300, not a MIDI pitch"),
    "negative start": (lambda d: set_in(d, "notes.0.start", -5), "notes[0].start is -5"),
    "float duration": (lambda d: set_in(d, "notes.1.duration", 0.5), "notes[1].duration is 0.5"),
    "notes an object": (lambda d: set_in(d, "notes", {"start": 0}), "notes is {'start': 0}, not a list"),
    "take names numbers": (lambda d: set_in(d, "takes", [1]), "takes[0] is 1, not text"),
    "take cut as text": (lambda d: set_in(d, "take_cuts", ["x"]), "take_cuts[0] is 'x'"),
    "chords a string": (lambda d: set_in(d, "chords", "Dm7 G7"), "chords is 'Dm7 G7', not a list"),
    "chord without a name": (lambda d: set_in(d, "chords", [[0]]), "chords[0] is [0], not a chord"),
    "take chords of numbers": (lambda d: set_in(d, "take_chords", [[[0, 7]]]), "take_chords[0][0] is [0, 7]"),
    "panels a list": (lambda d: set_in(d, "panels", []), "panels is [], not an object"),
    "panels text": (lambda d: set_in(d, "panels", "generation"), "panels is 'generation', not an object"),
    "a panel a number": (lambda d: set_in(d, "panels.generation", 5), "panels.generation is 5, not an object"),
    "program as text": (lambda d: set_in(d, "panels.program", "cello"), "panels.program is 'cello'"),
    "not an object": (lambda d: [d], "not a Partita project"),
    "100k-deep nesting": (lambda d: '{"format": "partita-project", "panels": ' + "[" * DEEP + "]" * DEEP + "}",
                          "nested thousands deep"),
    "100k-deep file": (lambda d: "[" * DEEP + "]" * DEEP, "nested thousands deep"),
    "truncated": (lambda d: json.dumps(d)[:-20], "not a readable Partita project"),
    "not UTF-8": (lambda d: b"\xff\xfe" + json.dumps(d).encode("utf-16-le"), "not a readable Partita project"),
}


def write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))


def start_after(make_window, content, tmp_path) -> tuple:
    """Write `content` as the session, start a window; returns the window and the messages it showed."""
    first = make_window(restore_session=False)
    write(first.session_path, content)
    window = make_window()  # restores the session while it is built, as at start
    return window, [box.text() for box in window.error_boxes]


@pytest.mark.parametrize("case", HOSTILE_SESSIONS)
def test_a_session_that_cannot_be_restored_is_set_aside_with_a_message_and_the_next_start_is_clean(
        make_window, tmp_path, case):
    change, said = HOSTILE_SESSIONS[case]
    content = change(valid_session(make_window(restore_session=False)))
    started = time.monotonic()
    window, messages = start_after(make_window, content, tmp_path)
    assert time.monotonic() - started < 30
    assert len(window.model) == 0 and window.model.takes == [] and window.model.meter == Meter()
    assert len(messages) == 1 and messages[0].startswith("The last session could not be restored: session.json: ")
    assert said in messages[0], messages[0]
    aside = broken_files(window)
    assert len(aside) == 1 and not window.session_path.exists()
    assert aside[0].name in window.error_boxes[0].informativeText()
    expected = content if isinstance(content, bytes | str) else json.dumps(content)
    assert aside[0].read_bytes() == (expected if isinstance(expected, bytes) else expected.encode())
    window.roll.grab()  # the roll paints its grid: nothing left divides by zero
    again = make_window()
    assert again.error_boxes == [] and len(again.model) == 0


def test_a_session_that_is_not_a_regular_file_is_set_aside_without_blocking(make_window, tmp_path):
    first = make_window(restore_session=False)
    first.session_path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(first.session_path)  # reading it would block for ever
    window = make_window()
    assert "session.json: a FIFO, not a regular file" in window.error_boxes[0].text()
    assert len(broken_files(window)) == 1 and not window.session_path.exists()


def test_a_session_larger_than_a_project_may_be_is_refused_before_it_is_parsed(make_window, tmp_path, monkeypatch):
    content = valid_session(make_window(restore_session=False))
    monkeypatch.setattr("app.session.MAX_PROJECT_BYTES", len(json.dumps(content)) - 1)
    parsed = []
    monkeypatch.setattr("app.session.json", SimpleNamespace(loads=lambda text: parsed.append(text) or json.loads(text),
                                                            dumps=json.dumps))
    window, messages = start_after(make_window, content, tmp_path)
    assert "too large" in messages[0] and "a Partita project may have" in messages[0] and parsed == []
    assert len(broken_files(window)) == 1


def test_a_panel_setting_of_the_wrong_kind_is_left_out_and_the_music_is_restored(make_window, tmp_path, caplog):
    data = valid_session(make_window(restore_session=False))
    data["panels"]["generation"].update(temperature="hot", top_k=10**40, bars=[4], seed=None)
    data["panels"]["training"]["data"] = "corpus\0name"
    data["panels"]["generation"]["top_p"] = 0.85
    window, messages = start_after(make_window, data, tmp_path)
    assert messages == [] and broken_files(window) == []
    assert [n.pitch for n in window.model.seed_notes()] == [60, 64] and window.model.takes == ["Take 1"]
    assert window.generation_panel.top_p.value() == pytest.approx(0.85)  # what fits is restored
    said = caplog.text  # (also in the status bar, until the window's own start message replaces it)
    assert "generation.temperature" in said and "generation.top_k" in said and "training.data" in said
    assert "generation.seed" not in said  # null: the panel's default, not worth a word


def test_a_seed_whose_meter_is_impossible_is_refused_and_the_work_is_kept(make_window, qtbot, tmp_path):
    """The 43-byte MIDI: a time-signature byte of 8 reads as 4/0; once it reached the roll, and the
    autosave stored it, so that every later start died."""
    window = make_window()
    window.model.set_seed([Note(0, 62, 480)])
    for name, data in (("over-zero.mid", tiny_midi(4, 8)), ("zero-beats.mid", tiny_midi(0, 2)),
                       ("no-division.mid", tiny_midi(division=0))):
        path = tmp_path / name
        path.write_bytes(data)
        with qtbot.waitSignal(window.errorShown, timeout=20000) as shown:
            window.open_file(str(path))
        assert shown.args[0].startswith(f"{name}: "), shown.args[0]
        assert "is impossible" in shown.args[0]
        assert [n.pitch for n in window.model.seed_notes()] == [62] and window.model.meter == Meter()
    window.autosave()
    again = make_window()
    assert again.error_boxes == [] and [n.pitch for n in again.model.seed_notes()] == [62]


@pytest.mark.parametrize("case", ["zero denominator", "negative ticks per quarter", "string take index",
                                  "a panel a number", "100k-deep nesting", "not UTF-8"])
def test_a_damaged_project_opened_says_which_file_and_what_and_keeps_the_work(make_window, tmp_path, case):
    change, said = HOSTILE_SESSIONS[case]
    project = tmp_path / "broken.partita"
    write(project, change(valid_session(make_window(restore_session=False))))
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 55, 960)])
    window.confirm = lambda *args: True  # discard the unsaved seed: the file is read first anyway
    window.open_file(str(project))
    assert window.error_boxes[-1].text().startswith("broken.partita: ") and said in window.error_boxes[-1].text()
    assert [n.pitch for n in window.model.seed_notes()] == [55] and window.project_path is None
    assert project.exists()  # a project the user opened is theirs: never moved


def test_the_meter_cannot_be_made_with_a_beat_of_zero_or_less():
    for bad in (dict(numerator=0), dict(denominator=0), dict(denominator=3), dict(ticks_per_quarter=-480),
                dict(ticks_per_quarter=0), dict(ticks_per_quarter=1, denominator=8), dict(tempo_qpm=0.0),
                dict(tempo_qpm=float("inf")), dict(numerator="4")):
        with pytest.raises(ValueError):
            Meter(**bad)
    assert Meter(numerator=7, denominator=8).beat_ticks == 240 and Meter(numerator=7, denominator=8).bar_length == 1680


def test_a_recorded_score_with_an_impossible_meter_falls_back_to_four_four():
    import symusic

    score = symusic.Score(96)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 0))
    score.tempos.append(symusic.Tempo(0, 100.0))
    score.tempos[0].mspq = 0  # an infinite tempo
    assert meter_of(score) == Meter()


# --- fuzz ------------------------------------------------------------------------------------
HOSTILE_VALUES = [0, -1, -480, 1, 3, 8, 127, 128, 2**31, 10**30, 0.5, float("nan"), float("inf"), "", "x", "0",
                  None, True, False, [], {}, [[]], {"a": 1}, [0, "Dm7"], [-1, "G7"], "\0"]


def mutated(data: dict, rng: random.Random) -> str:
    """`data` with one to three fields replaced, removed or duplicated at random, as JSON text (one
    case in eight also cut short)."""
    data = json.loads(json.dumps(data))
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(data))
        parent, key = rng.choice(paths)
        action = rng.random()
        if action < 0.7:
            parent[key] = rng.choice(HOSTILE_VALUES)
        elif action < 0.85 and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = [parent[key]] * rng.randint(2, 4)
    text = json.dumps(data)
    return text[: rng.randrange(len(text))] if rng.random() < 0.125 else text


def _paths(node):
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield node, key
        yield from _paths(value)


def test_the_session_reader_survives_random_damage(make_window, tmp_path):
    """Seeded random damage to a real autosave, for a few seconds: each start either restores a
    session that saves and reads back, or sets it aside with one message; nothing else happens."""
    rng = random.Random(22)
    valid = valid_session(make_window(restore_session=False))
    window = make_window(restore_session=False)
    window.confirm = lambda *args: True
    restored = refused = 0
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and restored + refused < 400:
        text = mutated(valid, rng)
        window.session_path.write_text(text)
        window.error_boxes.clear()
        if window.restore_session():
            restored += 1
            assert window.error_boxes == [], text
            window.roll.grab()
            window.autosave()  # what was restored saves in a form that restores
            parse_project(json.loads(window.session_path.read_text()))
        else:
            refused += 1
            assert len(window.error_boxes) == 1 and "could not be restored" in window.error_boxes[0].text(), text
            assert not window.session_path.exists() and len(window.model) == 0
            for path in broken_files(window):
                path.unlink()
    print(f"fuzz: {restored} restored, {refused} set aside")
    assert restored > 10 and refused > 10  # both ways were tried


def test_parse_project_raises_only_project_error():
    """The reader's own contract, without a window: a project or ProjectError, for any value."""
    for value in [*HOSTILE_VALUES, *({"notes": [v]} for v in HOSTILE_VALUES),
                  *({"meter": {"numerator": v}} for v in HOSTILE_VALUES), *({"takes": v} for v in HOSTILE_VALUES)]:
        try:
            parse_project(value)
        except ProjectError as error:
            assert str(error)
