"""Undoable edits of the note model. One command type covers every edit: it removes some
notes and adds others under given ids (a move or resize removes and re-adds the same id)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtGui import QUndoCommand

from app.pianoroll.model import Note, NoteModel


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
