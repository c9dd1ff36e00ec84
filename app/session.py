"""Projects and the autosaved session: seed, takes, chosen model and panel settings as JSON.

A project file (`*.partita`) and the autosave (`session.json` in the user's state folder)
share one format. Both are written atomically (core.atomic), so a crash or a kill during a
save leaves the previous file whole; the autosave is rewritten a second or so after every
change, so the next start finds the last state.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.pianoroll.model import ChordSymbol, Meter, Note, NoteModel
from core.atomic import atomic_write_text

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
                  "denominator": meter.denominator, "tempo_qpm": meter.tempo_qpm},
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
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{Path(path).name}: no such file") from None
    except (OSError, ValueError) as error:
        raise ProjectError(f"{Path(path).name}: not a readable Partita project ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectError(f"{Path(path).name}: not a Partita project file")
    if int(data.get("version", 0)) > VERSION:
        raise ProjectError(f"{Path(path).name}: made by a newer Partita (format {data['version']}); update Partita")
    return data


def restore_project(model: NoteModel, data: dict) -> dict[str, dict]:
    """Load notes, takes, meter and chords into `model` (a project from before chords has none);
    return the panels' saved settings."""
    try:
        meter = Meter(**{k: v for k, v in data.get("meter", {}).items() if k in Meter.__dataclass_fields__})
        notes = [Note.from_json(n) for n in data.get("notes", [])]
        takes = [str(t) for t in data.get("takes", [])]
        cuts = [None if c is None else int(c) for c in data.get("take_cuts", [])]
        abouts = [str(a or "") for a in data.get("take_abouts", [])]
        chords = [ChordSymbol.from_json(c) for c in data.get("chords", [])]
        take_chords = [[ChordSymbol.from_json(c) for c in own or []] for own in data.get("take_chords", [])]
    except (TypeError, KeyError, ValueError) as error:
        raise ProjectError(f"project data is damaged ({error})") from None
    model.restore(notes, takes, int(data.get("current_take", -1)), meter, cuts, abouts, chords, take_chords)
    panels = data.get("panels", {})
    return panels if isinstance(panels, dict) else {}
