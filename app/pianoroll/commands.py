"""Undoable edits of the note model: `ChangeNotes` removes some notes and adds others under given
ids (a move or resize removes and re-adds the same id); `DeleteTake` removes a take, which
renumbers the takes after it, and puts it back. The stack's order keeps every command's notes
numbered as the takes were when it was made: a command made before a deletion is undone only
after the deletion is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from PySide6.QtGui import QUndoCommand

from app.pianoroll.model import SEED, ChordSymbol, Meter, Note, NoteModel, RemovedTake, TakeSet


class ChangeNotes(QUndoCommand):
    def __init__(self, model: NoteModel, text: str, old: Mapping[int, Note], new: Mapping[int, Note]):
        super().__init__(text)
        self.model = model
        self.old = dict(old)  # id -> note before the edit (absent: the note is new)
        self.new = dict(new)  # id -> note after the edit (absent: the note is deleted)

    def redo(self) -> None:
        self.model.apply(remove=self.old.keys(), add=self.new)

    def undo(self) -> None:
        self.model.apply(remove=self.new.keys(), add=self.old)


def add_notes(model: NoteModel, notes: list[Note], text: str = "Add note") -> ChangeNotes:
    return ChangeNotes(model, text, {}, dict(zip(model.new_ids(len(notes)), notes, strict=True)))


def delete_notes(model: NoteModel, ids: list[int]) -> ChangeNotes:
    old = {i: model.note(i) for i in ids}
    return ChangeNotes(model, "Delete notes" if len(ids) > 1 else "Delete note", old, {})


def replace_notes(model: NoteModel, text: str, new: Mapping[int, Note]) -> ChangeNotes:
    old = {i: model.note(i) for i in new}
    return ChangeNotes(model, text, old, new)


class DeleteTake(QUndoCommand):
    def __init__(self, model: NoteModel, take: int):
        super().__init__(f"Delete {model.takes[take]}")
        self.model, self.take = model, take
        self.removed: RemovedTake | None = None

    def redo(self) -> None:
        self.removed = self.model.remove_take(self.take)

    def undo(self) -> None:
        if self.removed is not None:
            self.model.insert_take(self.removed)


class ReplaceSeed(QUndoCommand):
    """A new seed (a file opened or dropped, a phrase recorded) in place of the old one, meter and
    chords and all. The old seed's takes go with it (a take is only ever shown, played, exported or
    judged with the seed it continues); Undo brings the old seed back with its takes."""

    def __init__(self, model: NoteModel, notes: list[Note], meter: Meter | None, text: str = "Replace seed",
                 chords: Iterable[ChordSymbol] = ()):
        super().__init__(text)
        self.model = model
        self.old = {i: n for i, n in model.items() if n.role == SEED}
        self.new = dict(zip(model.new_ids(len(notes)), (replace(n, role=SEED, take=0) for n in notes), strict=True))
        self.old_meter, self.new_meter = model.meter, meter or model.meter
        self.old_chords, self.new_chords = model.seed_chords, tuple(chords)  # a seed without chords has none
        self.other_takes: TakeSet | None = None  # the takes of the seed not shown (none at first)

    def redo(self) -> None:
        self.model.set_meter(self.new_meter)
        self.model.set_seed_chords(self.new_chords)
        self.model.apply(remove=self.old.keys(), add=self.new)
        self.other_takes = self.model.swap_takes(self.other_takes)

    def undo(self) -> None:
        self.model.set_meter(self.old_meter)
        self.model.set_seed_chords(self.old_chords)
        self.model.apply(remove=self.new.keys(), add=self.old)
        self.other_takes = self.model.swap_takes(self.other_takes)
