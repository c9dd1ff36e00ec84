"""Seeded, time-bounded fuzz of the two documents the window reads: `.partita` projects and the
autosaved `session.json` (issue 22, class 1). Valid documents are damaged at run time in the ways a
hostile or broken file is: a field's type swapped, a value nested thousands deep, numbers too large
for any field (or for a float), a format version from elsewhere, keys renamed, repeated or cut, the
bytes themselves cut or garbled. Whatever the damage, reading gives a project or one `ProjectError`
naming the file, restoring gives the document or leaves the model as it was, and the window opens
the project or says why and keeps the work on screen: nothing else escapes.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from app.pianoroll.model import GENERATED, NoteModel
from app.session import ProjectError, parse_project, project_data, read_project, restore_project, save_project
from tests.app.test_hostile_files import valid_session

pytestmark = pytest.mark.timeout(120)

SECONDS = 3.0  # each fuzz test's budget, past building its windows: a few hundred documents
LONG = "x" * 5000  # text within a project's limit, too long for a file name
# values of every JSON kind, and the extremes of each
SWAPS = [0, -1, 1, 2**31, 2**63, -(2**63), 0.5, -0.0, 1e308, "", "0", "1", "seed", LONG, "\0", "../" * 50,
         None, True, False, [], {}, [0], {"0": 0}, [[0, "Dm7"]], [None]]
# numbers written as text, for what json.dumps cannot write: a float overflowing to inf, an integer
# of 5,000 digits (past Python's int-from-text limit), NaN, and one of 400
HUGE_NUMBERS = ["1e999", "-1e999", "1" + "0" * 5000, "NaN", "Infinity", "-Infinity", "1" + "0" * 400, "-" + "9" * 400,
                "4.9e-324", "123456789012345678901234567890.5"]
VERSIONS = [0, -1, 2, 99, "1", 1.0, 1.5, None, True, [1], {"major": 1}, "1" + "0" * 400]
DEPTHS = [10, 400, 990, 1_100, 5_000, 100_000]


def _paths(node, depth: int = 0):
    """(parent, key) of every value in `node`, breadth no matter, depth at most 12."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        yield node, key
        if depth < 12:
            yield from _paths(value, depth + 1)


def damaged(document: dict, rng: random.Random) -> bytes:
    """`document` with one to four kinds of damage, as the bytes of a file."""
    data = json.loads(json.dumps(document))
    raw = {}  # placeholder -> JSON text put in after dumping (what json.dumps cannot or should not write)

    def placeholder(text: str) -> str:
        key = f"@@raw{len(raw)}@@"
        raw[key] = text
        return key

    for _ in range(rng.randint(1, 4)):
        # a third of the damage goes to the panels' settings: a few fields among the notes' many
        panels = data.get("panels") if isinstance(data.get("panels"), dict) and rng.random() < 0.33 else None
        paths = list(_paths(panels if panels is not None else data))
        if not paths:
            break
        parent, key = rng.choice(paths)
        roll = rng.random()
        if roll < 0.3:  # a type swapped
            parent[key] = json.loads(json.dumps(rng.choice(SWAPS)))  # a copy: the lists are damaged in turn
        elif roll < 0.42:  # nested deep
            depth = rng.choice(DEPTHS)
            parent[key] = placeholder("[" * depth + json.dumps(parent[key]) + "]" * depth)
        elif roll < 0.54:  # a number too large for any field, or for a float
            parent[key] = placeholder(rng.choice(HUGE_NUMBERS))
        elif roll < 0.64:  # another format version
            data["version"] = json.loads(json.dumps(rng.choice(VERSIONS)))
            if isinstance(data["version"], str) and len(data["version"]) > 100:
                data["version"] = placeholder(data["version"])
        elif roll < 0.72 and isinstance(parent, dict):  # a key renamed (an older or a newer Partita)
            parent[f"{key}_"] = parent.pop(key)
        elif roll < 0.8:  # repeated: a list where one value was, or the list longer
            parent[key] = [parent[key]] * rng.choice([2, 3, 1001])
        elif roll < 0.88 and isinstance(parent, dict):  # a key missing
            del parent[key]
        else:  # the format's own name damaged
            data["format"] = rng.choice(["partita-project ", "PARTITA-PROJECT", "", None, 1])
    text = json.dumps(data, separators=(",", ":"))
    text = re.sub(r'"(@@raw\d+@@)"', lambda match: raw[match.group(1)], text)
    content = text.encode()
    cut = rng.random()
    if cut < 0.06:  # cut short
        content = content[: rng.randrange(len(content))]
    elif cut < 0.1:  # a byte garbled
        at = rng.randrange(len(content))
        content = content[:at] + bytes([rng.randrange(256)]) + content[at + 1:]
    elif cut < 0.12:  # another encoding
        content = rng.choice([b"\xef\xbb\xbf" + content, text.encode("utf-16"), content + b"\0"])
    return content


def a_document() -> dict:
    """A project of a seed, two takes (the second with chords and a cut) and every panel's settings."""
    from app.pianoroll.model import ChordSymbol, Note

    model = NoteModel()
    model.set_seed([Note(0, 60, 480), Note(480, 64, 480), Note(960, 67, 240, velocity=100)])
    for index in range(2):
        take = model.new_take()
        model.add_notes([Note(1440 + 240 * i, 62 + index + i, 240, role=GENERATED, take=take) for i in range(4)])
    data = project_data(model, {"corpus": {"source": "builtin:bach-chorales"},
                                "training": {"data": "/music", "steps": 2000, "learning_rate": 0.0003},
                                "generation": {"model": "bach-chorales", "runs": ["/runs/a"], "bars": 8,
                                               "temperature": 0.9, "range": "C2-G5", "chords": ""},
                                "program": 42, "project": "/p/x.partita", "seed_name": "x"})
    data["chords"] = [ChordSymbol(0, "Dm7").to_json(), ChordSymbol(960, "G7").to_json()]
    data["take_cuts"] = [None, 1440]
    data["take_chords"] = [[], [[1440, "Cmaj7"]]]
    parse_project(data)
    return data


def one_line_naming(error: ProjectError, name: str) -> None:
    text = str(error)
    assert text.startswith(f"{name}: ") and "\n" not in text and len(text) < 600, text


def test_reading_a_damaged_project_gives_the_project_or_one_error_naming_the_file(tmp_path):
    """Without a window: read_project then restore_project, for a few seconds of seeded damage. A
    document read is restored and saves as one that reads back the same; a refused one leaves the
    model as it was."""
    rng = random.Random(2022)
    valid = a_document()
    path = tmp_path / "fuzzed.partita"
    read = refused = 0
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline and read + refused < 3000:
        content = damaged(valid, rng)
        path.write_bytes(content)
        model = NoteModel()
        try:
            data = read_project(path)
        except ProjectError as error:
            one_line_naming(error, path.name)
            refused += 1
            continue
        restore_project(model, data)  # read_project checked it whole: restoring cannot fail
        read += 1
        again = tmp_path / "again.partita"
        save_project(again, model, data.get("panels", {}))
        assert project_data(model, data.get("panels", {})) == project_data(*_reopened(again))
    print(f"fuzz: {read} read, {refused} refused")
    assert read > 20 and refused > 100  # both ways were tried


def _reopened(path: Path) -> tuple[NoteModel, dict]:
    model = NoteModel()
    panels = restore_project(model, read_project(path))
    return model, panels


def test_the_window_opens_or_restores_exactly_what_the_reader_accepts(make_window, tmp_path):
    """In the window, for a few seconds of seeded damage, each document in turn opened as a project
    (File > Open) and restored as the autosaved session. The reader is the oracle: what it accepts,
    the window opens (its notes on screen, its name in the title, no message) or restores (never
    set aside, its panel settings left out where a panel cannot take them); what it refuses, the
    window refuses with one message naming the file, keeping the seed on screen and the project
    file untouched, and moves the session aside. Then it autosaves a session that reads back."""
    from app.pianoroll.model import Note

    rng = random.Random(1850)
    valid = valid_session(make_window(restore_session=False))
    valid["panels"]["generation"]["runs"] = [str(tmp_path)]
    valid["panels"]["corpus"] = {"source": str(tmp_path / "corpus")}
    window = make_window(restore_session=False)
    window.confirm = lambda *args: True
    counts = {"opened": 0, "refused": 0, "restored": 0, "set aside": 0}
    deadline = time.monotonic() + SECONDS - 0.5  # (the windows took a second or two to build)
    for case in range(400):
        if time.monotonic() > deadline:
            break
        content = damaged(valid, rng)
        path = tmp_path / f"fuzzed-{case}.partita"
        path.write_bytes(content)
        try:
            read_project(path)
            accepted = True
        except ProjectError:
            accepted = False
        window.model.set_seed([Note(0, 55, 960)])
        window.project_path = None
        window.error_boxes.clear()
        if case % 2 == 0:
            window.open_file(str(path))
            if accepted:
                counts["opened"] += 1
                assert window.error_boxes == [] and window.project_path == path, content[:300]
                assert path.name in window.windowTitle()
            else:
                counts["refused"] += 1
                assert len(window.error_boxes) == 1 and window.error_boxes[0].text().startswith(f"{path.name}: ")
                assert [n.pitch for n in window.model.seed_notes()] == [55] and window.project_path is None
            assert path.read_bytes() == content
        else:
            window.session_path.write_bytes(content)
            restored = window.restore_session()
            assert restored == accepted, (window.error_boxes[0].text() if window.error_boxes else "", content[:300])
            if restored:
                counts["restored"] += 1
                assert window.error_boxes == []
            else:
                counts["set aside"] += 1
                assert len(window.error_boxes) == 1 and "session.json: " in window.error_boxes[0].text()
                for aside in window.session_path.parent.glob("session.json.broken-*"):
                    assert aside.read_bytes() == content
                    aside.unlink()
        window.autosave()
        read_project(window.session_path)
        path.unlink()
    print("fuzz:", ", ".join(f"{count} {what}" for what, count in counts.items()))
    assert all(count > 3 for count in counts.values()), counts  # every way was tried


@pytest.mark.parametrize("where", ["corpus source", "generation runs"])
def test_settings_a_panel_cannot_take_are_left_out_and_the_music_opens(make_window, tmp_path, where):
    """What the fuzz found: a path of 5,000 characters (text a project may hold) that a panel looks
    up raised OSError out of File > Open, the notes already replaced and the project not named, and
    set the whole session aside at start."""
    document = valid_session(make_window(restore_session=False))
    if where == "corpus source":
        document["panels"]["corpus"] = {"source": LONG}
    else:
        document["panels"]["generation"]["runs"] = [LONG]
    project = tmp_path / "long.partita"
    project.write_text(json.dumps(document))
    window = make_window(restore_session=False)
    window.confirm = lambda *args: True
    window.open_file(str(project))
    assert window.error_boxes == [] and window.project_path == project
    assert [n.pitch for n in window.model.seed_notes()] == [60, 64] and window.model.takes == ["Take 1"]
    window.session_path.write_text(json.dumps(document))
    again = make_window()
    assert again.error_boxes == [] and [n.pitch for n in again.model.seed_notes()] == [60, 64]
