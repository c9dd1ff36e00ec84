"""The tokenizer: exact round trips on quantized music, transposition on ids, persistence."""

from __future__ import annotations

import numpy as np
import symusic

from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings, settings_for
from core.music.scores import load_score


def notes_at(score, tpq):
    return sorted((n.time * tpq // score.tpq, n.pitch, n.duration * tpq // score.tpq)
                  for t in score.tracks for n in t.notes)


def test_cello_movements_round_trip_exactly_including_32nds_triplets_and_cut_time(cello_xml_dir):
    tokenizer = PartitaTokenizer.create()
    for name in ("BWV1007_01_Prelude", "BWV1007_07_Gigue", "BWV1009_02_Allemande", "BWV1011_03_Courante"):
        score = load_score(cello_xml_dir / f"{name}.mxl")
        decoded = tokenizer.decode(tokenizer.encode(score))
        expected = notes_at(score, decoded.tpq)
        got = notes_at(decoded, decoded.tpq)
        assert len(got) == len(expected)
        mismatches = sum(a != b for a, b in zip(expected, got, strict=True))
        assert mismatches <= 2, (name, mismatches)  # grace notes (zero duration) get the shortest length


def test_polyphonic_tracks_merge_into_one_stream(tmp_path):
    import symusic

    score = symusic.Score(480)
    for pitch in (60, 64):
        track = symusic.Track(program=0)
        track.notes.append(symusic.Note(0, 480, pitch, 80))
        score.tracks.append(track)
    tokenizer = PartitaTokenizer.create()
    decoded = tokenizer.decode(tokenizer.encode(score))
    assert sorted(n.pitch for n in decoded.tracks[0].notes) == [60, 64]


def test_transpose_ids_moves_only_pitches(cello_xml_dir):
    tokenizer = PartitaTokenizer.create()
    score = load_score(cello_xml_dir / "BWV1007_04_Sarabande.mxl")
    ids = np.array(tokenizer.encode(score))
    up = tokenizer.decode(list(tokenizer.transpose_ids(ids, 3)))
    original = tokenizer.decode(list(ids))
    assert [n.pitch + 3 for n in original.tracks[0].notes] == [n.pitch for n in up.tracks[0].notes]
    assert [n.time for n in original.tracks[0].notes] == [n.time for n in up.tracks[0].notes]


def test_settings_choose_velocities_for_performed_music_only(cello_midi_dir, jazz_dir, tmp_path):
    cello = load_score(cello_midi_dir / "BWV1007_01_Prelude.mid")
    jazz = load_score(jazz_dir / "MilesDavis_SoWhat_FINAL.mid")
    assert settings_for([cello]).use_velocities is False
    assert settings_for([jazz]).use_velocities is True
    tokenizer = PartitaTokenizer.create(TokenizerSettings(use_velocities=True))
    tokenizer.save(tmp_path)
    assert PartitaTokenizer.load(tmp_path).settings == tokenizer.settings
    assert "Velocity" in set(PartitaTokenizer.load(tmp_path).token_types)


def test_token_cache_is_keyed_by_piece_and_settings(tmp_path, cello_xml_dir, monkeypatch):
    score = load_score(cello_xml_dir / "BWV1007_04_Sarabande.mxl")
    tokenizer = PartitaTokenizer.create()
    first = tokenizer.encode_cached(score, "digest-a", tmp_path)
    monkeypatch.setattr(tokenizer, "encode", lambda s: (_ for _ in ()).throw(AssertionError("not cached")))
    assert tokenizer.encode_cached(score, "digest-a", tmp_path) == first
    other = PartitaTokenizer.create(TokenizerSettings(use_velocities=True))
    assert other.settings_digest() != tokenizer.settings_digest()
    assert other.encode_cached(score, "digest-a", tmp_path) != first  # velocities: other tokens


def test_a_token_cache_file_not_written_by_partita_is_encoded_afresh(tmp_path, monkeypatch):
    """The cache is a folder anyone can write to: a file too large to be a piece's (it was read whole,
    whatever its size), a link to /dev/zero, ids past the vocabulary (they would fail deep inside
    training), a 2-d or float array or a pickle are all passed over, and the piece encoded again."""
    import core.learning.tokenizer

    score = symusic.Score(480)
    track = symusic.Track(program=42)
    track.notes.append(symusic.Note(0, 480, 60, 80))
    score.tracks.append(track)
    tokenizer = PartitaTokenizer.create()
    expected = tokenizer.encode(score)
    path = tmp_path / "tokens" / f"planted-{tokenizer.settings_digest()}.npy"
    path.parent.mkdir()
    monkeypatch.setattr(core.learning.tokenizer, "TOKEN_CACHE_BYTES", 10_000)
    plants = {
        "too large": lambda: np.save(open(path, "wb"), np.zeros(5000, dtype=np.int32)),
        "past the vocabulary": lambda: np.save(open(path, "wb"), np.array([1, len(tokenizer.tokens)], dtype=np.int32)),
        "negative": lambda: np.save(open(path, "wb"), np.array([-1, 3], dtype=np.int64)),
        "two-dimensional": lambda: np.save(open(path, "wb"), np.ones((2, 2), dtype=np.int32)),
        "floats": lambda: np.save(open(path, "wb"), np.ones(3)),
        "a pickle": lambda: np.save(open(path, "wb"), np.array([{"x": 1}], dtype=object), allow_pickle=True),
        "not numpy": lambda: path.write_bytes(b"garbage"),
        "a link to /dev/zero": lambda: path.symlink_to("/dev/zero"),
    }
    for what, plant in plants.items():
        path.unlink(missing_ok=True)
        plant()
        assert tokenizer._cached_ids(path) is None, what
        assert tokenizer.encode_cached(score, "planted", tmp_path) == expected, what
