"""Projects and the autosaved session: seed, takes, chosen model and panel settings as JSON.

A project file (`*.partita`) and the autosave (`session.json` in the user's state folder)
share one format. Both are written atomically (core.atomic), so a crash or a kill during a
save leaves the previous file whole; the autosave is rewritten a second or so after every
change, so the next start finds the last state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.pianoroll.model import GENERATED, SEED, ChordSymbol, Meter, Note, NoteModel
from core.atomic import atomic_write_text
from core.reading import FileRefused, read_bytes

FORMAT = "partita-project"
VERSION = 1
PROJECT_SUFFIX = ".partita"


class ProjectError(ValueError):
    """A project file that cannot be read; the message names the file and the problem."""


def default_state_dir() -> Path:
    """Where the autosaved session lives (`core.userdata`: XDG state folder, or PARTITA_HOME)."""
    from core.userdata import user_dirs

    return user_dirs().sessions


def project_data(model: NoteModel, panels: dict[str, dict]) -> dict:
    meter = model.meter
    return {
        "format": FORMAT,
        "version": VERSION,
        "meter": {"ticks_per_quarter": meter.ticks_per_quarter, "numerator": meter.numerator,
                  "denominator": meter.denominator, "tempo_qpm": meter.tempo_qpm,
                  "first_bar": meter.first_bar},
        "chords": [c.to_json() for c in model.seed_chords],  # the seed's chord changes: [tick, name]
        "takes": model.takes,
        "take_cuts": model.take_cuts,  # where each take leaves the seed (null: after all of it)
        "take_abouts": model.take_abouts,  # what made each take: model and sampling settings, in words
        # each take's chord changes from where it leaves the seed ([] : none known)
        "take_chords": [[c.to_json() for c in model.take_chords(take)] for take in range(len(model.takes))],
        "current_take": model.current_take,
        "notes": [n.to_json() for _, n in sorted(model.items(), key=lambda item: (item[1].start, item[1].pitch))],
        "panels": panels,
    }


def save_project(path: Path, model: NoteModel, panels: dict[str, dict]) -> None:
    atomic_write_text(path, json.dumps(project_data(model, panels), separators=(",", ":")))


def read_project(path: Path) -> dict:
    """Read a project or session file, checked whole before anything uses it: a regular file of at
    most MAX_PROJECT_BYTES, JSON nested no deeper than Python can parse, every field of the right
    type and range (see `parse_project`). Raises `ProjectError` naming the file and the problem."""
    path = Path(path)
    name = path.name
    try:
        raw = _bounded_bytes(path)
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{name}: no such file") from None
    except RecursionError:
        raise ProjectError(f"{name}: not a Partita project (JSON nested thousands deep)") from None
    except ProjectError:
        raise
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProjectError(f"{name}: not a readable Partita project ({_short(error)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectError(f"{name}: not a Partita project file")
    try:
        parse_project(data)
    except ProjectError as error:
        raise ProjectError(f"{name}: {error}") from None
    return data


def _bounded_bytes(path: Path) -> bytes:
    """The file's bytes, if it is a regular file of at most MAX_PROJECT_BYTES (a FIFO would block,
    /dev/zero never end, a huge file fill the memory), read as every file someone else made is
    (`core.reading.read_bytes`: checked before opening, on the opened file, and while reading)."""
    try:
        return read_bytes(path, MAX_PROJECT_BYTES, what="a Partita project")
    except FileRefused as error:
        raise ProjectError(f"{path.name}: {error}") from None


def restore_project(model: NoteModel, data: dict) -> dict[str, dict]:
    """Load notes, takes, meter and chords into `model` (a project from before chords has none);
    return the panels' saved settings. Damaged data raises `ProjectError` and leaves `model` as
    it was."""
    project = parse_project(data)
    model.restore(project.notes, project.takes, project.current_take, project.meter, project.cuts,
                  project.abouts, project.chords, project.take_chords)
    return project.panels


# --- checking what a file holds --------------------------------------------------------------
# A project is read by the window at start (the autosave) and from File > Open; whatever it holds,
# it must not stop, hang or mislead the window. Partita writes ints for ticks, pitches and indexes,
# so anything else (a string take index, a float pitch) is damage, not something to guess at.
MAX_PROJECT_BYTES = 32 * 1024 * 1024  # about 350,000 notes
MAX_TAKES = 1000
MAX_TICK = 480 * 4 * 100_000  # 100,000 bars of 4/4 at the roll's resolution
MAX_TEXT = 10_000  # characters in a name, a description, a path
PANEL_KEYS = ("corpus", "training", "generation")


@dataclass(frozen=True)
class Project:
    """What a project file holds, checked (see `parse_project`)."""

    notes: list[Note]
    takes: list[str]
    current_take: int
    meter: Meter
    cuts: list[int | None]
    abouts: list[str]
    chords: list[ChordSymbol]
    take_chords: list[list[ChordSymbol]]
    panels: dict  # the panels' settings by panel (checked against each panel in app.documents) and
    # "program", "project", "seed_name", "unsaved"


def parse_project(data: dict) -> Project:
    """Check every field of a project's JSON and build what it holds; raises `ProjectError` saying
    which field is wrong and how (absent optional fields take their defaults, as older projects
    lack some)."""
    if not isinstance(data, dict):
        raise ProjectError(f"not a Partita project (the file holds {_kind(data)})")
    version = data.get("version", VERSION)
    _need(_is_int(version) and version >= 1, "version", version, "a format number")
    if version > VERSION:
        raise ProjectError(f"made by a newer Partita (format {_shown(version)}); update Partita")
    takes = [_text(t, f"takes[{i}]") for i, t in enumerate(_list(data, "takes", MAX_TAKES))]
    current = data.get("current_take", -1)
    _need(_is_int(current), "current_take", current, "a take index")
    meter_data = data.get("meter", {})
    _need(isinstance(meter_data, dict), "meter", meter_data, "an object")
    try:
        meter = Meter(**{k: v for k, v in meter_data.items() if k in Meter.__dataclass_fields__})
    except ValueError as error:
        raise ProjectError(f"meter: {error}") from None
    cuts = []
    for i, cut in enumerate(_list(data, "take_cuts", MAX_TAKES)):
        _need(cut is None or _tick(cut), f"take_cuts[{i}]", cut, "a tick or null")
        cuts.append(cut)
    abouts = [_text(a or "", f"take_abouts[{i}]") for i, a in enumerate(_list(data, "take_abouts", MAX_TAKES))]
    chords = _chords(data.get("chords", []), "chords")
    take_chords = [_chords(own or [], f"take_chords[{i}]")
                   for i, own in enumerate(_list(data, "take_chords", MAX_TAKES))]
    notes = [_note(n, f"notes[{i}]", len(takes)) for i, n in enumerate(_list(data, "notes"))]
    return Project(notes, takes, max(-1, min(current, len(takes) - 1)), meter, cuts, abouts, chords,
                   take_chords, _panels(data.get("panels", {})))


def _note(data, where: str, takes: int) -> Note:
    _need(isinstance(data, dict), where, data, "a note")
    missing = [key for key in ("start", "pitch", "duration") if key not in data]
    if missing:
        raise ProjectError(f"{where} has no {missing[0]}")
    start, pitch, duration = data["start"], data["pitch"], data["duration"]
    velocity, role, take = data.get("velocity", 80), data.get("role", SEED), data.get("take", 0)
    _need(_tick(start), f"{where}.start", start, f"a tick 0 to {MAX_TICK}")
    _need(_is_int(pitch) and 0 <= pitch <= 127, f"{where}.pitch", pitch, "a MIDI pitch 0 to 127")
    _need(_is_int(duration) and duration <= MAX_TICK - start, f"{where}.duration", duration,
          f"a length in ticks ending by tick {MAX_TICK}")
    _need(_is_int(velocity) and 0 <= velocity <= 127, f"{where}.velocity", velocity, "a velocity 0 to 127")
    _need(role in (SEED, GENERATED), f"{where}.role", role, f"{SEED!r} or {GENERATED!r}")
    _need(_is_int(take) and (role == SEED or 0 <= take < takes), f"{where}.take", take,
          f"the index of one of the {takes} takes")
    return Note(start, pitch, max(1, duration), velocity or 80, role, take if role == GENERATED else 0)


def _chords(data, where: str) -> list[ChordSymbol]:
    _need(isinstance(data, list), where, data, "a list of [tick, name]")
    chords = []
    for i, chord in enumerate(data):
        _need(isinstance(chord, list) and len(chord) == 2 and _tick(chord[0]) and isinstance(chord[1], str)
              and 0 < len(chord[1]) <= 40, f"{where}[{i}]", chord, "a chord [tick, name]")
        chords.append(ChordSymbol(chord[0], chord[1]))
    return chords


def _panels(data) -> dict:
    """The window's part: each panel's settings an object of plain values (their types are checked
    against the panel's own when restored), the seed's program, project and name."""
    _need(isinstance(data, dict), "panels", data, "an object")
    for key in PANEL_KEYS:
        if key in data:
            _need(isinstance(data[key], dict), f"panels.{key}", data[key], "an object")
    program = data.get("program", 0)
    _need(_is_int(program) and 0 <= program <= 127, "panels.program", program, "a MIDI program 0 to 127")
    for key in ("project", "seed_name"):
        _text(data.get(key, ""), f"panels.{key}")
    _need(isinstance(data.get("unsaved", False), bool), "panels.unsaved", data.get("unsaved"), "true or false")
    return data


def _list(data: dict, key: str, most: int | None = None) -> list:
    value = data.get(key, [])
    _need(isinstance(value, list), key, value, "a list")
    if most is not None and len(value) > most:
        raise ProjectError(f"{key} has {len(value):,} items, more than the {most:,} Partita keeps")
    return value


def _text(value, where: str) -> str:
    _need(isinstance(value, str) and len(value) <= MAX_TEXT and "\0" not in value, where, value,
          f"text of at most {MAX_TEXT} characters")
    return value


def _tick(value) -> bool:
    return _is_int(value) and 0 <= value <= MAX_TICK


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _need(ok: bool, where: str, value, expected: str) -> None:
    if not ok:
        raise ProjectError(f"{where} is {_shown(value)}, not {expected}")


def _shown(value) -> str:
    """A value as a message quotes it: short, one line, its kind when it is big."""
    if isinstance(value, dict | list) and len(repr(value)) > 40:
        return f"{_kind(value)} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:120]
