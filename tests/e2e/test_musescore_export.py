"""Proof against the real MuseScore (issue 6): every cello-suite movement, a jazz solo and a dozen
takes are exported to MusicXML; MuseScore engraves each to PDF and writes its own MusicXML back;
music21 reads back the same notes, exactly, and every measure is full.

All conversions go through one MuseScore job file per fixture (one process start, not 100).
Skips with a reason where MuseScore or the data are absent.
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest
import symusic

from core.music.export import export_engraving, export_musicxml
from core.music.musescore import convert, find_musescore
from core.music.notation import NotationOptions
from core.music.notation.build import written_notes
from core.music.notation.verify import read_notes
from core.music.scores import load_score

pytestmark = pytest.mark.slow

MUSESCORE = find_musescore()
needs_musescore = pytest.mark.skipif(
    MUSESCORE is None, reason="MuseScore not installed (Debian: apt install musescore3; else musescore.org)"
)
CELLO = NotationOptions(program=42, corpus_name="Bach cello suites")


def source_notes(score: symusic.Score) -> list[tuple[Fraction, Fraction, int]]:
    """The score's own notes in quarters; one-tick notes are grace notes (duration 0)."""
    tpq = score.ticks_per_quarter
    return sorted(
        (Fraction(n.time, tpq), Fraction(n.duration, tpq) if n.duration > 1 else Fraction(0), n.pitch)
        for track in score.tracks
        for n in track.notes
    )


class Batch:
    """Scores exported to MusicXML, then one MuseScore run to PDF + MusicXML for all of them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items: dict[str, tuple[symusic.Score, NotationOptions]] = {}

    def add(self, name: str, score: symusic.Score, options: NotationOptions) -> None:
        export_musicxml(score, self.folder / f"{name}.musicxml", options)
        self.items[name] = (score, options)

    def run(self) -> dict:
        jobs = [
            (self.folder / f"{n}.musicxml", [self.folder / f"{n}.pdf", self.folder / f"{n}.back.musicxml"])
            for n in self.items
        ]
        return {
            name: result for name, result in zip(self.items, convert(jobs, executable=MUSESCORE), strict=True)
        }


@pytest.fixture(scope="module")
def cello_batch(tmp_path_factory, cello_xml_dir, cello_midi_dir):
    if MUSESCORE is None:
        pytest.skip("MuseScore not installed (Debian: apt install musescore3; else musescore.org)")
    batch = Batch(tmp_path_factory.mktemp("cello"))
    for path in sorted(cello_xml_dir.glob("*.mxl")) + sorted(cello_midi_dir.glob("*.mid")):
        batch.add(f"{path.stem}{path.suffix.replace('.', '_')}", load_score(path), CELLO)
    return batch, batch.run()


@needs_musescore
def test_every_cello_movement_engraves_to_pdf(cello_batch):
    batch, results = cello_batch
    assert len(results) == 83  # 42 MusicXML movements + 41 Mutopia MIDI files
    failed = {name: r.message for name, r in results.items() if not r.ok}
    assert failed == {}
    for name in results:
        assert (batch.folder / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"


@needs_musescore
def test_musescore_round_trip_keeps_every_note_and_fills_every_measure(cello_batch):
    batch, results = cello_batch
    mismatched, not_full, exact_sources = [], [], 0
    for name, (score, options) in batch.items.items():
        back = read_notes(batch.folder / f"{name}.back.musicxml")
        written = written_notes(score, options)
        if back.notes != written:
            mismatched.append(name)
        not_full.extend(f"{name}: {m}" for m in back.not_full)
        exact_sources += name.endswith("_mxl") and back.notes == source_notes(score)
    assert mismatched == [] and not_full == []
    # notation sources are already on the grid: MuseScore's copy has exactly the source's notes
    assert exact_sources == 42


@needs_musescore
def test_clefs_keys_and_part_names_survive_musescore(cello_batch):
    batch, _ = cello_batch
    back = read_notes(batch.folder / "BWV1007_03_Courante_mxl.back.musicxml")
    assert back.part_names == ["Violoncello"] and back.key_sharps[0] == 1
    assert back.clefs[0] == "F4" and "C4" in back.clefs  # bass, then tenor for the high passages
    assert back.time_signatures == ["3/4"]


def perturbed_takes(cello_midi_dir: Path, count: int = 12) -> list[symusic.Score]:
    """Stand-ins for generated takes: real cello bars, re-timed on a REMI-like grid (1/8 quarter)
    with jittered onsets and lengths, random overlaps and a continuation marker."""
    rng = random.Random(6)
    takes = []
    paths = sorted(cello_midi_dir.glob("*.mid"))
    for index in range(count):
        source = symusic.Score(str(paths[(index * 7) % len(paths)]))
        tpq = source.ticks_per_quarter
        step = tpq // 8
        bars = source.get_downbeats()
        stop = int(bars[8]) if len(bars) > 8 else source.end()
        take = symusic.Score(tpq)
        take.time_signatures = source.time_signatures
        take.tempos = source.tempos
        take.key_signatures = source.key_signatures
        track = symusic.Track(name="", program=42)
        for note in source.tracks[0].notes:
            if note.time >= stop:
                break
            time = max(0, note.time + step * rng.choice([-1, 0, 0, 0, 1]))
            duration = max(step, note.duration + step * rng.choice([-2, -1, 0, 0, 1, 3]))
            track.notes.append(symusic.Note(time, duration, note.pitch + rng.choice([0, 0, 0, 12]), 80))
        take.tracks.append(track)
        take.markers.append(symusic.TextMeta(int(bars[4]) if len(bars) > 4 else 0, "continuation"))
        takes.append(take)
    return takes


@needs_musescore
def test_takes_engrave_and_round_trip(tmp_path, cello_midi_dir):
    """A dozen takes: from the shipped default model when it exists, else perturbed stand-ins."""
    takes = generated_takes(cello_midi_dir) or perturbed_takes(cello_midi_dir)
    assert len(takes) == 12
    batch = Batch(tmp_path)
    for index, take in enumerate(takes):
        batch.add(f"take{index:02d}", take, NotationOptions(title=f"Take {index + 1}", corpus_name="Bach"))
    results = batch.run()
    assert {n: r.message for n, r in results.items() if not r.ok} == {}
    for name, (score, options) in batch.items.items():
        back = read_notes(batch.folder / f"{name}.back.musicxml")
        assert back.notes == written_notes(score, options), name
        assert back.not_full == [], name
        assert "continuation" in (batch.folder / f"{name}.musicxml").read_text()


def generated_takes(cello_midi_dir: Path) -> list[symusic.Score]:
    """Twelve takes from the shipped default model, or [] while no model is shipped."""
    try:
        from core.composing.generation import GenerationSettings, generate_variations
        from core.learning.checkpoint import DEFAULT_MODEL_DIR, load_model
    except ImportError:
        return []
    if not (Path(DEFAULT_MODEL_DIR) / "config.json").exists():
        return []
    loaded = load_model()
    prompt = symusic.Score(str(sorted(cello_midi_dir.glob("*.mid"))[0]))
    settings = GenerationSettings(bars=4, random_seed=6, prompt_bars=4)
    return [take.score for take in generate_variations(loaded, prompt, settings, 12)]


@needs_musescore
def test_jazz_solo_engraves_and_round_trips(tmp_path, jazz_dir):
    score = symusic.Score(str(jazz_dir / "ChetBaker_JustFriends_FINAL.mid"))
    batch = Batch(tmp_path)
    options = NotationOptions(corpus_name="Weimar Jazz Database")
    batch.add("solo", score, options)
    (result,) = batch.run().values()
    assert result.ok, result.message
    back = read_notes(tmp_path / "solo.back.musicxml")
    assert back.notes == written_notes(score, options) and back.not_full == []


@needs_musescore
def test_png_pages_of_a_movement(tmp_path, cello_xml_dir):
    score = load_score(cello_xml_dir / "BWV1007_01_Prelude.mxl")
    pages, report = export_engraving(score, tmp_path / "prelude.png", CELLO)
    assert [p.name for p in pages][:2] == ["prelude-1.png", "prelude-2.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pages)
    assert report.exact and report.key_sharps == 1
