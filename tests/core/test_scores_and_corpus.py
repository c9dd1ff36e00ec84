"""Reading files and importing corpora: real data, bad files, splits, the cache."""

from __future__ import annotations

import re

import pytest
import symusic

from core.music.corpus import ScoreCache, import_corpus, split_by_piece, transposition_range
from core.music.scores import ScoreError, load_score, load_scores


@pytest.fixture
def cache(tmp_path):
    return ScoreCache(tmp_path / "cache")


def source_table_notes(source_md, column: int) -> dict[str, int]:
    """Notes per file from a SOURCE.md table (the given column holds the count)."""
    counts = {}
    for line in source_md.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > column and re.fullmatch(r"\d+", cells[column]) and cells[0].endswith((".mxl", ".mid")):
            counts[cells[0]] = int(cells[column])
    return counts


def test_cello_musicxml_imports_every_movement_with_the_documented_notes(cello_xml_dir, cache):
    corpus = import_corpus(cello_xml_dir, cache=cache)
    expected = source_table_notes(cello_xml_dir / "SOURCE.md", 6)
    assert len(expected) == 42 and not corpus.skipped
    got = {p.name: p.info.notes for p in corpus.pieces}
    assert set(got) == set(expected)
    for name, notes in expected.items():
        # SOURCE counts tied continuations as separate noteheads; we merge ties into one note.
        assert notes * 0.9 <= got[name] <= notes, name  # BWV1010 Sarabande ties 20 of 216
    assert sum(got.values()) == pytest.approx(17508, rel=0.01)
    prelude = next(p for p in corpus.pieces if p.name == "BWV1007_01_Prelude.mxl")
    assert prelude.info.key == "G major" and prelude.info.time_signature == "4/4" and prelude.info.bars == 42
    keys = {p.name: p.info.key for p in corpus.pieces}
    # the analysed key, not the signature's major reading: G minor under one flat (a Dorian signature)
    assert keys["BWV1007_06_MenuetII.mxl"] == "G minor"
    assert keys["BWV1008_01_Prelude.mxl"] == "D minor" and keys["BWV1009_04_Sarabande.mxl"] == "C major"


def test_cello_midi_and_jazz_import_with_the_documented_counts(cello_midi_dir, jazz_dir, cache):
    cello = import_corpus(cello_midi_dir, cache=cache)
    expected = source_table_notes(cello_midi_dir.parent / "SOURCE.md", 3)
    assert len(cello.pieces) == 41 and not cello.skipped
    for piece in cello.pieces:
        assert abs(piece.info.notes - expected[piece.name]) <= 2, piece.name
    jazz = import_corpus(jazz_dir, cache=cache)
    assert len(jazz.pieces) == 453 and not jazz.skipped
    assert jazz.stats()["notes"] == 199213


def test_bad_files_are_skipped_with_a_reason_and_good_ones_import(tmp_path, cello_midi_dir, cache):
    good = (cello_midi_dir / "BWV1007_04_Sarabande.mid").read_bytes()
    (tmp_path / "good.mid").write_bytes(good)
    (tmp_path / "empty.mid").write_bytes(b"")
    (tmp_path / "truncated.mid").write_bytes(good[:60])
    (tmp_path / "corrupt.mid").write_bytes(b"MThd" + bytes(range(200)))
    (tmp_path / "text.mid").write_text("this is not music")
    (tmp_path / "broken.musicxml").write_text("<score-partwise><part>")
    (tmp_path / "notes.txt").write_text("ignored: not a music suffix")
    silent = symusic.Score(480)
    silent.tracks.append(symusic.Track())
    (tmp_path / "silent.mid").write_bytes(silent.dumps_midi())
    corpus = import_corpus(tmp_path, cache=cache)
    by_name = {entry.name: entry for entry in corpus.report}
    assert [p.name for p in corpus.pieces] == ["good.mid"]
    assert set(by_name) == {"good.mid", "empty.mid", "truncated.mid", "corrupt.mid", "text.mid",
                            "broken.musicxml", "silent.mid"}
    for name, entry in by_name.items():
        if name != "good.mid":
            assert not entry.imported and entry.reason, name
    assert "empty" in by_name["empty.mid"].reason
    assert "not a MIDI file" in by_name["text.mid"].reason
    assert by_name["silent.mid"].reason == "no notes"
    report = tmp_path / "report.json"
    corpus.save_report(report)
    assert "truncated.mid" in report.read_text()


def test_files_are_named_as_they_are_now_and_a_copy_is_imported_once(tmp_path, cello_midi_dir, cache):
    """The cache is keyed on content: a renamed file, a copy, or the same bytes under another
    suffix must still be reported by their own names and parsed by their own parser."""
    good = (cello_midi_dir / "BWV1007_04_Sarabande.mid").read_bytes()
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "old-name.mid").write_bytes(good)
    (folder / "x.krn").write_text("garbage")
    assert [p.name for p in import_corpus(folder, cache=cache).pieces] == ["old-name.mid"]
    (folder / "old-name.mid").rename(folder / "Sarabande.mid")
    (folder / "z-copy.mid").write_bytes(good)
    corpus = import_corpus(folder, cache=cache)
    by_name = {entry.name: entry for entry in corpus.report}
    assert [p.name for p in corpus.pieces] == ["Sarabande.mid"]
    assert set(by_name) == {"Sarabande.mid", "z-copy.mid", "x.krn"}
    assert by_name["z-copy.mid"].reason == "the same file as Sarabande.mid (imported once)"
    other = tmp_path / "other"
    other.mkdir()
    (other / "y.musicxml").write_text("garbage")  # the bytes of x.krn, for the MusicXML reader
    (entry,) = import_corpus(other, cache=cache).report
    assert entry.name == "y.musicxml" and entry.reason != by_name["x.krn"].reason


def test_load_score_errors_name_the_file(tmp_path):
    path = tmp_path / "nothing.mid"
    path.write_bytes(b"RIFF....")
    with pytest.raises(ScoreError, match="nothing.mid: not a MIDI file"):
        load_score(path)
    with pytest.raises(ScoreError, match="suffix"):
        load_score(tmp_path / "a.wav")
    with pytest.raises(ScoreError, match=f"{tmp_path / 'gone.mid'}: no such file"):  # the whole path
        load_score(tmp_path / "gone.mid")
    empty = tmp_path / "empty.xml"
    empty.write_text('<?xml version="1.0"?><score-partwise version="3.1"><part-list/></score-partwise>')
    with pytest.raises(ScoreError, match="empty.xml: a score without parts"):
        load_score(empty)


def test_notation_keeps_pickups_on_the_bar_grid_and_repeats_once(cello_xml_dir):
    gigue = load_score(cello_xml_dir / "BWV1007_07_Gigue.mxl")
    bar = gigue.tpq * 3  # 6/8: three quarters
    first = gigue.tracks[0].notes[0]
    assert first.time == bar - gigue.tpq // 2  # an eighth-note pickup ends on the first bar line
    allemande = cello_xml_dir / "BWV1007_02_Allemande.mxl"
    once = load_score(allemande)
    twice = load_score(allemande, expand_repeats=True)
    assert len(once.tracks[0].notes) == 473
    assert len(twice.tracks[0].notes) > 1.9 * len(once.tracks[0].notes)


def test_builtin_folk_tunes_come_one_piece_per_tune():
    from core.music.corpus import builtin_files

    first_file = builtin_files("oneills-1850")[0]
    tunes = load_scores(first_file)
    assert len(tunes) == 50 and tunes[0].name.startswith(first_file.name + "#1")
    assert all(sum(len(t.notes) for t in tune.score.tracks) > 10 for tune in tunes)


def test_reopening_a_corpus_reads_the_cache_not_the_files(cello_xml_dir, tmp_path, monkeypatch):
    cache = ScoreCache(tmp_path / "cache")
    files = sorted(cello_xml_dir.glob("*.mxl"))[:3]
    first = import_corpus(files, cache=cache)
    import core.music.corpus

    def fail(*args, **kwargs):
        raise AssertionError("parsed again despite the cache")

    monkeypatch.setattr(core.music.corpus, "load_scores", fail)
    again = import_corpus(files, cache=cache)
    assert [p.info for p in again.pieces] == [p.info for p in first.pieces]


def test_split_is_by_piece_deterministic_and_disjoint(cello_midi_dir, cache):
    pieces = import_corpus(cello_midi_dir, cache=cache).pieces
    a, b = split_by_piece(pieces, seed=7), split_by_piece(list(reversed(pieces)), seed=7)
    assert a.names() == b.names()
    names = a.names()
    assert not set(names["train"]) & set(names["validation"]) and not set(names["train"]) & set(names["test"])
    assert len(names["train"]) + len(names["validation"]) + len(names["test"]) == 41
    assert names != split_by_piece(pieces, seed=8).names()


def test_transposition_stays_inside_the_corpus_range_plus_margin():
    assert transposition_range((40, 70), (36, 72), max_shift=5, margin=2) == [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]
    assert transposition_range((36, 74), (36, 74), max_shift=5, margin=0) == [0]
