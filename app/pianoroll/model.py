"""The note model behind the piano roll: seed notes plus any number of generated takes.

A `NoteModel` is a QObject over a dict of `Note`s keyed by a stable integer id, so that
selections and undo commands can name notes even while other notes come and go (a take being
streamed in, say). Every change goes through `apply()` (one call = one `notesChanged`), which
is also what the undo commands in `commands.py` call.

Times are ticks at `ticks_per_quarter` (480 by default, the engine's notation resolution);
pitches are MIDI numbers 0-127.

Chord symbols ride along as a lead sheet's would: the seed's (a WJazzD solo's `chord:` markers)
and each take's (what a chord-aware model wrote), shown over the roll by `visible_chords`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace

from PySide6.QtCore import QObject, Signal

from core.music.meter import bar_length
from core.music.scores import meter_problem, resolution_problem, tempo_problem

SEED = "seed"
GENERATED = "generated"
TICKS_PER_QUARTER = 480


@dataclass(frozen=True)
class Note:
    start: int  # ticks
    pitch: int  # MIDI 0-127
    duration: int  # ticks, > 0
    velocity: int = 80
    role: str = SEED  # SEED or GENERATED
    take: int = 0  # which take a generated note belongs to (seed notes are shared by all takes)

    @property
    def end(self) -> int:
        return self.start + self.duration

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> Note:
        return cls(int(data["start"]), int(data["pitch"]), max(1, int(data["duration"])),
                   int(data.get("velocity", 80)), str(data.get("role", SEED)), int(data.get("take", 0)))


@dataclass(frozen=True)
class Meter:
    """What the grid needs: resolution, time signature and tempo (one of each; the first wins).

    An impossible meter (0 or negative ticks, x/0, 0/4, a beat under one tick, an infinite tempo)
    cannot be made: it raises ValueError, so nothing that counts beats ever divides by zero."""

    ticks_per_quarter: int = TICKS_PER_QUARTER
    numerator: int = 4
    denominator: int = 4
    tempo_qpm: float = 100.0  # quarter notes per minute
    first_bar: int = 1  # the number the score gives its first bar: 0 where it numbers a pickup 0

    def __post_init__(self):
        if type(self.first_bar) is not int or self.first_bar not in (0, 1):
            raise ValueError(f"first_bar: a score numbers its first bar 0 or 1, not {self.first_bar!r}")
        problem = (resolution_problem(self.ticks_per_quarter) or meter_problem(self.numerator, self.denominator)
                   or tempo_problem(self.tempo_qpm))
        if not problem and self.ticks_per_quarter * 4 < self.denominator:
            problem = f"a 1/{self.denominator} beat is under one tick at {self.ticks_per_quarter} ticks per quarter"
        if problem:
            raise ValueError(problem)

    @property
    def beat_ticks(self) -> int:
        return self.ticks_per_quarter * 4 // self.denominator

    @property
    def bar_length(self) -> int:
        return bar_length(self.ticks_per_quarter, self.numerator, self.denominator)

    def bar_number(self, bar: int) -> int:
        """The number the score gives the bar `bar` bars after the roll's first (the ruler's, the
        status bar's and every message's: a pickup the score numbers 0 is bar 0)."""
        return bar + self.first_bar


@dataclass(frozen=True)
class ChordSymbol:
    """A chord change over the roll: from `start` on, `name` (core.music.chords' usual spelling) sounds."""

    start: int  # ticks
    name: str  # Dm7, G7, Cmaj7, Bm7b5, NC ...

    def to_json(self) -> list:
        return [self.start, self.name]

    @classmethod
    def from_json(cls, data) -> ChordSymbol:
        start, name = data
        return cls(int(start), str(name))


def chords_from(chords: Iterable[ChordSymbol], start: int) -> list[ChordSymbol]:
    """The changes at `start` or later, led by the chord already sounding at `start` (moved there):
    the harmony of what begins at `start` (a take leaving its seed)."""
    chords = sorted(chords, key=lambda c: c.start)
    sounding = [c for c in chords if c.start <= start]
    later = [c for c in chords if c.start > start]
    return ([ChordSymbol(start, sounding[-1].name)] if sounding else []) + later


@dataclass
class RemovedTake:
    """A deleted take, as `NoteModel.insert_take` puts it back."""

    index: int
    name: str
    uid: int
    notes: dict[int, Note]  # by note id
    cut: int | None = None  # see NoteModel.take_cut


@dataclass
class TakeSet:
    """Every take of one seed, put away while another seed is shown (see `NoteModel.swap_takes`)."""

    names: list[str] = field(default_factory=list)
    uids: list[int] = field(default_factory=list)
    cuts: list[int | None] = field(default_factory=list)
    current: int = -1
    notes: dict[int, Note] = field(default_factory=dict)  # by note id


class NoteModel(QObject):
    """Seed and generated notes, the list of takes and which one is shown."""

    # Any note added, removed or changed. It carries the ids of the notes added when the change only
    # added notes (a take being streamed in: views may add those instead of starting over), else None.
    notesChanged = Signal(object)
    takesChanged = Signal()  # the list of takes or the current take changed
    meterChanged = Signal()
    chordsChanged = Signal()  # the seed's chords or a take's changed
    takesSwapped = Signal()  # another seed's takes replaced every take (jobs writing one must stop)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._notes: dict[int, Note] = {}
        self._next_id = 1
        self._takes: list[str] = []  # take names; index = take id (what notes and the views use)
        # A take's identity that survives other takes' deletion (index ids shift): what a job that
        # fills a take over time holds on to (see take_uid / take_index).
        self._take_uids: list[int] = []
        self._next_take_uid = 1
        # per take: the tick where it leaves the seed (Continue from here), None: after the whole seed
        self._take_cuts: list[int | None] = []
        self._takes_named = 0  # the highest N of a "Take N" made so far
        # what made each take, in words ("bach-chorales, temperature 0.9, seed 42"), by take uid
        self._take_abouts: dict[int, str] = {}
        self._current_take = -1  # -1: no take (seed only)
        self._meter = Meter()
        self._seed_chords: tuple[ChordSymbol, ...] = ()  # the seed's chord changes, by start
        # each take's chord changes from where it leaves the seed (see set_take_chords), by take uid
        self._take_chords: dict[int, tuple[ChordSymbol, ...]] = {}

    # --- reading -------------------------------------------------------------------------
    @property
    def meter(self) -> Meter:
        return self._meter

    def note(self, note_id: int) -> Note:
        return self._notes[note_id]

    def items(self) -> list[tuple[int, Note]]:
        """Every note of every take, with its id."""
        return list(self._notes.items())

    def visible_items(self) -> list[tuple[int, Note]]:
        """The current take's seed notes and its own notes: what the roll shows and plays."""
        take = self._current_take
        cut = self.take_cut(take)
        return [(i, n) for i, n in self._notes.items()
                if (n.role == SEED and (cut is None or n.start < cut)) or (n.role == GENERATED and n.take == take)]

    def content(self) -> tuple:
        """What a project holds of the notes, as one comparable value (the take shown aside)."""
        notes = sorted((n.start, n.pitch, n.duration, n.velocity, n.role, n.take) for n in self._notes.values())
        return (tuple(notes), tuple(self._takes), tuple(self._take_cuts), self._meter, self._seed_chords,
                tuple(self.take_chords(take) for take in range(len(self._takes))))

    @property
    def seed_chords(self) -> tuple[ChordSymbol, ...]:
        return self._seed_chords

    def take_chords(self, take: int) -> tuple[ChordSymbol, ...]:
        """The chords take `take` was written over, from where it leaves the seed (none: unknown,
        or a model without chords)."""
        return self._take_chords.get(self._take_uids[take], ()) if 0 <= take < len(self._takes) else ()

    def visible_chords(self) -> list[ChordSymbol]:
        """The chords over what the roll shows (see `chords_with`)."""
        return self.chords_with(self._current_take)

    def chords_with(self, take: int) -> list[ChordSymbol]:
        """The chords of take `take` with its seed (-1: the seed alone): the seed's, then the take's
        from where it leaves the seed (the seed's up to its cut when the take has none); a change to
        the chord already sounding is left out."""
        own = self.take_chords(take)
        if own:
            until = own[0].start
        else:
            until = self.take_cut(take)
        shown: list[ChordSymbol] = []
        for chord in [*(c for c in self._seed_chords if until is None or c.start < until), *own]:
            if not shown or chord.name != shown[-1].name:
                shown.append(chord)
        return shown

    def take_cut(self, take: int) -> int | None:
        """Where take `take` leaves the seed: its seed is the seed's notes that start before this
        tick (None: the whole seed; also for no take)."""
        return self._take_cuts[take] if 0 <= take < len(self._take_cuts) else None

    def take_seed(self, take: int) -> list[Note]:
        """The seed notes that take `take` continues, ended at its cut (what plays and exports)."""
        cut = self.take_cut(take)
        if cut is None:
            return self.seed_notes()
        return [replace(n, duration=min(n.duration, cut - n.start)) for n in self.seed_notes() if n.start < cut]

    def seed_notes(self) -> list[Note]:
        return sorted((n for n in self._notes.values() if n.role == SEED), key=lambda n: (n.start, n.pitch))

    def take_notes(self, take: int) -> list[Note]:
        return sorted((n for n in self._notes.values() if n.role == GENERATED and n.take == take),
                      key=lambda n: (n.start, n.pitch))

    def __len__(self) -> int:
        return len(self._notes)

    def end_tick(self) -> int:
        return max((n.end for _, n in self.visible_items()), default=0)

    @property
    def takes(self) -> list[str]:
        return list(self._takes)

    @property
    def current_take(self) -> int:
        return self._current_take

    @property
    def take_cuts(self) -> list[int | None]:
        return list(self._take_cuts)

    def take_about(self, take: int) -> str:
        """What made take `take`, in words: its model and sampling settings ("" when unknown)."""
        return self._take_abouts.get(self._take_uids[take], "") if 0 <= take < len(self._takes) else ""

    @property
    def take_abouts(self) -> list[str]:
        return [self.take_about(take) for take in range(len(self._takes))]

    def take_uid(self, take: int) -> int:
        """The lasting identity of the take at index `take`."""
        return self._take_uids[take]

    def take_index(self, uid: int) -> int | None:
        """Where the take `uid` is now (None once it is deleted)."""
        return self._take_uids.index(uid) if uid in self._take_uids else None

    # --- changing ------------------------------------------------------------------------
    def new_ids(self, count: int) -> list[int]:
        ids = list(range(self._next_id, self._next_id + count))
        self._next_id += count
        return ids

    def apply(self, remove: Iterable[int] = (), add: Mapping[int, Note] | None = None) -> None:
        """Remove the notes `remove`, then put the notes of `add` under their ids."""
        remove = list(remove)
        added = [note_id for note_id in (add or {}) if note_id not in self._notes]
        for note_id in remove:
            self._notes.pop(note_id, None)
        if add:
            for note_id, note in add.items():
                self._notes[note_id] = note
                self._next_id = max(self._next_id, note_id + 1)
        # new notes only (a take being streamed): views may add them instead of starting over
        self.notesChanged.emit(added if not remove and len(added) == len(add or {}) else None)

    def add_notes(self, notes: Iterable[Note]) -> list[int]:
        """Add notes without an undo step (streaming, loading); returns their ids."""
        notes = list(notes)
        ids = self.new_ids(len(notes))
        self.apply(add=dict(zip(ids, notes, strict=True)))
        return ids

    def clear(self) -> None:
        """No notes, no takes, and the default meter (a new project)."""
        self.set_meter(Meter())
        self._notes.clear()
        self._takes.clear()
        self._take_uids.clear()
        self._take_cuts.clear()
        self._take_abouts.clear()
        self._take_chords.clear()
        self.set_seed_chords(())
        self._takes_named = 0
        self._current_take = -1
        self._notes_changed()
        self.takesChanged.emit()

    def set_seed(self, notes: Iterable[Note], meter: Meter | None = None,
                 chords: Iterable[ChordSymbol] | None = None) -> None:
        """Replace the seed, keeping the takes (building a piece in tests and scripts; a file opened
        or dropped goes through `commands.ReplaceSeed`, which puts the old seed's takes away).
        `meter` and `chords`: None keeps them."""
        seed_ids = [i for i, n in self._notes.items() if n.role == SEED]
        notes = [replace(n, role=SEED, take=0) for n in notes]
        if meter is not None:
            self.set_meter(meter)
        if chords is not None:
            self.set_seed_chords(chords)
        self.apply(remove=seed_ids, add=dict(zip(self.new_ids(len(notes)), notes, strict=True)))

    def swap_takes(self, takes: TakeSet | None = None) -> TakeSet:
        """Put every take away and bring back `takes` (None: none); returns what was put away.
        A take belongs to the seed it continues: a new seed starts without takes, and undoing it
        brings back the old seed's takes (and puts the new one's away)."""
        generated = {i: n for i, n in self._notes.items() if n.role == GENERATED}
        away = TakeSet(self._takes, self._take_uids, self._take_cuts, self._current_take, generated)
        takes = takes or TakeSet()
        self._notes = {i: n for i, n in self._notes.items() if n.role != GENERATED} | takes.notes
        self._takes, self._take_uids, self._take_cuts = list(takes.names), list(takes.uids), list(takes.cuts)
        self._current_take = takes.current
        self.takesSwapped.emit()
        self.takesChanged.emit()
        self._notes_changed()
        return away

    def set_meter(self, meter: Meter) -> None:
        if meter != self._meter:
            self._meter = meter
            self.meterChanged.emit()

    def set_seed_chords(self, chords: Iterable[ChordSymbol]) -> None:
        chords = tuple(sorted(chords, key=lambda c: c.start))
        if chords != self._seed_chords:
            self._seed_chords = chords
            self.chordsChanged.emit()

    def set_take_chords(self, take: int, chords: Iterable[ChordSymbol]) -> None:
        """The chords of take `take` from where it leaves the seed on (`chords_from` trims a whole
        decoded take's): over the seed's own bars the roll shows the seed's."""
        self._take_chords[self._take_uids[take]] = tuple(sorted(chords, key=lambda c: c.start))
        self.chordsChanged.emit()

    def new_take(self, name: str | None = None, cut: int | None = None, show: bool = True) -> int:
        """Start an empty take, make it current (unless not `show`) and return its id; `cut`: the
        take continues the seed from there (its seed is the notes that start before it). Takes are
        named "Take N" by default, N one more than any earlier "Take N" (names never repeat)."""
        if name is None:
            self._takes_named += 1
            name = f"Take {self._takes_named}"
        self._takes.append(name)
        self._take_uids.append(self._new_take_uid())
        self._take_cuts.append(cut)
        if show:
            self._current_take = len(self._takes) - 1
        self.takesChanged.emit()
        self._notes_changed()
        return len(self._takes) - 1

    def set_take_about(self, take: int, about: str) -> None:
        self._take_abouts[self._take_uids[take]] = about
        self.takesChanged.emit()

    def set_current_take(self, take: int) -> None:
        take = max(-1, min(take, len(self._takes) - 1))
        if take != self._current_take:
            self._current_take = take
            self.takesChanged.emit()
            self._notes_changed()

    def remove_take(self, take: int) -> RemovedTake | None:
        """Delete a take and its notes; later takes move down one. Returns what `insert_take`
        needs to put it back (None when there is no such take)."""
        if not 0 <= take < len(self._takes):
            return None
        removed = RemovedTake(take, self._takes.pop(take), self._take_uids.pop(take), {}, self._take_cuts.pop(take))
        kept = {}
        for note_id, note in self._notes.items():
            if note.role == GENERATED:
                if note.take == take:
                    removed.notes[note_id] = note
                    continue
                if note.take > take:
                    note = replace(note, take=note.take - 1)
            kept[note_id] = note
        self._notes = kept
        self._current_take = min(self._current_take, len(self._takes) - 1)
        self.takesChanged.emit()
        self._notes_changed()
        return removed

    def insert_take(self, removed: RemovedTake) -> None:
        """Put a deleted take back where it was, with its notes; later takes move up one."""
        index = removed.index
        for note_id, note in list(self._notes.items()):
            if note.role == GENERATED and note.take >= index:
                self._notes[note_id] = replace(note, take=note.take + 1)
        self._takes.insert(index, removed.name)
        self._take_uids.insert(index, removed.uid)
        self._take_cuts.insert(index, removed.cut)
        self._notes.update(removed.notes)
        self._current_take = index
        self.takesChanged.emit()
        self._notes_changed()

    def _notes_changed(self) -> None:
        """notesChanged for any change but an addition (views start over)."""
        self.notesChanged.emit(None)

    def is_visible(self, note: Note) -> bool:
        """Whether `note` is among `visible_items` (the current take's seed or its own)."""
        if note.role == GENERATED:
            return note.take == self._current_take
        cut = self.take_cut(self._current_take)
        return cut is None or note.start < cut

    def _new_take_uid(self) -> int:
        self._next_take_uid += 1
        return self._next_take_uid - 1

    def restore(self, notes: Iterable[Note], takes: list[str], current_take: int, meter: Meter,
                cuts: list[int | None] | None = None, abouts: list[str] | None = None,
                chords: Iterable[ChordSymbol] = (),
                take_chords: list[Iterable[ChordSymbol]] | None = None) -> None:
        """Replace everything at once (opening a project or a saved session)."""
        self._notes = {}
        self._next_id = 1
        self._takes = list(takes)
        self._take_uids = [self._new_take_uid() for _ in self._takes]
        self._take_abouts = {uid: str(about) for uid, about in zip(self._take_uids, abouts or [], strict=False) if about}
        self._seed_chords = tuple(sorted(chords, key=lambda c: c.start))
        self._take_chords = {uid: tuple(sorted(own, key=lambda c: c.start))
                             for uid, own in zip(self._take_uids, take_chords or [], strict=False) if own}
        cuts = list(cuts or [])[: len(self._takes)]
        self._take_cuts = cuts + [None] * (len(self._takes) - len(cuts))
        self._takes_named = max((int(n[5:]) for n in self._takes if n.startswith("Take ") and n[5:].isdigit()),
                                default=0)
        self._current_take = max(-1, min(current_take, len(self._takes) - 1))
        self._meter = meter
        notes = list(notes)
        self._notes = dict(zip(self.new_ids(len(notes)), notes, strict=True))
        self.meterChanged.emit()
        self.chordsChanged.emit()
        self.takesChanged.emit()
        self._notes_changed()
