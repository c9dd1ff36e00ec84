"""MIDI export, the `partita export` command, and finding MuseScore (no MuseScore needed)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import symusic

from core.cli import main
from core.music import musescore
from core.music.export import export_midi

TPQ = 480


def small_score(program: int = 0, name: str = "Piano", key: bool = True) -> symusic.Score:
    score = symusic.Score(TPQ)
    score.time_signatures.append(symusic.TimeSignature(0, 3, 4))
    score.tempos.append(symusic.Tempo(0, 72.0))
    if key:
        score.key_signatures.append(symusic.KeySignature(0, -1, 1))
    track = symusic.Track(name=name, program=program)
    for i, pitch in enumerate([50, 52, 53, 55, 57, 58]):
        track.notes.append(symusic.Note(i * TPQ, TPQ, pitch, 80))
    score.tracks.append(track)
    return score


def test_midi_keeps_tempo_meter_key_and_takes_the_instrument_override(tmp_path):
    path = export_midi(small_score(), tmp_path / "take.mid", program=42, seed_end_tick=3 * TPQ)
    back = symusic.Score(str(path))
    assert [(t.numerator, t.denominator) for t in back.time_signatures] == [(3, 4)]
    assert round(back.tempos[0].qpm) == 72
    assert [(k.key, k.tonality) for k in back.key_signatures] == [(-1, 1)]
    assert back.tracks[0].program == 42 and back.tracks[0].name == "Violoncello"
    assert [(m.time * TPQ // back.ticks_per_quarter, m.text) for m in back.markers] == [
        (3 * TPQ, "continuation")
    ]
    assert [n.pitch for n in back.tracks[0].notes] == [50, 52, 53, 55, 57, 58]


def test_midi_without_key_gets_an_analysed_key_signature(tmp_path):
    score = small_score(key=False)
    back = symusic.Score(str(export_midi(score, tmp_path / "k.mid")))
    assert len(back.key_signatures) == 1 and back.key_signatures[0].key == -1  # D minor / F major


def test_midi_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "keep.mid"
    target.write_bytes(b"old")

    class HalfWriter:
        def dump_midi(self, path):
            Path(path).write_bytes(b"half")
            raise OSError("disk full")

    monkeypatch.setattr("core.music.export.prepare_midi", lambda *a, **k: HalfWriter())
    with pytest.raises(OSError):
        export_midi(small_score(), target)
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]


def test_cli_exports_midi_and_musicxml(tmp_path, capsys):
    source = tmp_path / "in.mid"
    small_score().dump_midi(str(source))
    out_mid, out_xml = tmp_path / "o.mid", tmp_path / "o.musicxml"
    code = main(
        [
            "export",
            str(source),
            "--midi",
            str(out_mid),
            "--musicxml",
            str(out_xml),
            "--instrument",
            "cello",
            "--title",
            "Minuet",
            "--corpus-name",
            "Bach",
        ]
    )
    assert code == 0
    assert symusic.Score(str(out_mid)).tracks[0].program == 42
    text = out_xml.read_text()
    assert "Minuet" in text and "after Bach" in text and "Violoncello" in text
    assert "2 bars" in capsys.readouterr().out


def test_cli_user_errors_name_the_problem(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing.mid"), "--midi", str(tmp_path / "x.mid")]) == 2
    assert "missing.mid" in capsys.readouterr().err
    source = tmp_path / "in.mid"
    small_score().dump_midi(str(source))
    assert main(["export", str(source)]) == 2
    assert "nothing to do" in capsys.readouterr().err
    assert main(["export", str(source), "--midi", str(tmp_path / "y.mid"), "--instrument", "kazoo"]) == 2
    assert "unknown instrument" in capsys.readouterr().err


def test_missing_musescore_gives_the_download_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(musescore.ENV_VARIABLE, raising=False)
    monkeypatch.setattr(musescore, "candidate_paths", lambda: [])
    assert musescore.find_musescore() is None
    with pytest.raises(musescore.MuseScoreNotFound, match="https://musescore.org/download"):
        musescore.require_musescore()
    source = tmp_path / "in.mid"
    small_score().dump_midi(str(source))
    assert main(["export", str(source), "--pdf", str(tmp_path / "o.pdf")]) == 2
    assert "musescore.org/download" in capsys.readouterr().err


def test_musescore_path_from_preference_or_environment_wins(tmp_path, monkeypatch):
    fake = tmp_path / "MuseScore4"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert musescore.find_musescore(fake) == fake
    monkeypatch.setenv(musescore.ENV_VARIABLE, str(fake))
    assert musescore.find_musescore() == fake
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(musescore.ENV_VARIABLE)
    assert musescore.find_musescore() == fake  # found by name on PATH


def test_failed_file_in_a_batch_is_reported_and_the_rest_still_convert(tmp_path, monkeypatch):
    """MuseScore stops a job file at the first unreadable input; convert resumes after it."""
    script = tmp_path / "mscore"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        "jobs = json.load(open(sys.argv[2]))\n"
        "for job in jobs:\n"
        "    print(f\"convert <{job['in']}>...\")\n"
        "    if 'bad' in job['in']:\n"
        "        print('cannot read file'); sys.exit(1)\n"
        "    for out in job['out']:\n"
        "        open(out, 'w').write('x')\n"
        "    print('... success!')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    jobs = [(tmp_path / f"{name}.musicxml", tmp_path / f"{name}.pdf") for name in ("a", "bad", "c")]
    results = musescore.convert(jobs, executable=script)
    assert [r.ok for r in results] == [True, False, True]
    assert "cannot read file" in results[1].message
    assert (tmp_path / "c.pdf").exists() and not (tmp_path / "bad.pdf").exists()
