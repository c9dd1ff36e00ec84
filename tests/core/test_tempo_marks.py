"""A notated seed whose tempo mark is 0, negative or absurd is refused, naming the file, the tempo and
its bar, as a MIDI seed's is (issue 22, class 6): never composed at a default tempo in its place (a
MusicXML <sound tempo="0"> was, silently: music21 skips it with a warning), never a bare
ZeroDivisionError (a metronome mark of 0, or ABC's Q:1/4=0). The CLI says it in one line, without a
traceback, for generate, export, play and the corpus. The hostile files are made here, at run time."""

from __future__ import annotations

import pytest

from core.cli import main
from core.music.corpus import import_corpus
from core.music.scores import DEFAULT_QPM, ScoreError, load_score
from tests.core.test_hostile_inputs import one_line_error, run  # noqa: F401 (run: a fixture)
from tests.core.test_hostile_seeds import tiny_midi


def musicxml(direction: str = "") -> str:
    """A one-bar cello score (a C held for the bar) with `direction` in the bar before its note."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<score-partwise version="3.1"><part-list>'
            '<score-part id="P1"><part-name>Cello</part-name></score-part></part-list><part id="P1">'
            '<measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats>'
            '<beat-type>4</beat-type></time><clef><sign>F</sign><line>4</line></clef></attributes>'
            f'{direction}<note><pitch><step>C</step><octave>3</octave></pitch><duration>4</duration>'
            '<type>whole</type></note></measure></part></score-partwise>')


def sound(tempo: str) -> str:
    return f'<direction><direction-type><words>Tempo</words></direction-type><sound tempo="{tempo}"/></direction>'


def metronome(per_minute: str, beat: str = "quarter") -> str:
    return (f'<direction><direction-type><metronome><beat-unit>{beat}</beat-unit><per-minute>{per_minute}'
            '</per-minute></metronome></direction-type></direction>')


def abc(tempo: str) -> str:
    return f"X:1\nT:t\nM:4/4\nL:1/4\nQ:{tempo}\nK:C\nCDEF|GABc|\n"


HOSTILE = {  # file name: (content, what the refusal says after the file's name)
    "sound-zero.musicxml": (musicxml(sound("0")), "tempo 0 in bar 1 is impossible"),
    "sound-negative.musicxml": (musicxml(sound("-50")), "tempo -50 in bar 1 is impossible"),
    "sound-nan.musicxml": (musicxml(sound("nan")), "tempo nan in bar 1 is impossible"),
    "sound-words.musicxml": (musicxml(sound("fast")), "tempo 'fast' in bar 1 is impossible"),
    "sound-huge.musicxml": (musicxml(sound("1e9")), "tempo 1000000000 in bar 1 is impossible"),
    "metronome-zero.musicxml": (musicxml(metronome("0")), "tempo 0 in bar 1 is impossible"),
    "metronome-huge.musicxml": (musicxml(metronome("1000000000")), "tempo 1000000000 in bar 1 is impossible"),
    "metronome-negative.musicxml": (musicxml(metronome("-60", "half")), "tempo -120 in bar 1 is impossible"),
    "tempo-zero.abc": (abc("1/4=0"), "tempo 0 at the start is impossible"),
    "beat-of-nothing.abc": (abc("0/4=120"), "tempo 0 at the start is impossible"),
    "tempo-negative.abc": (abc("1/4=-60"), "tempo -60 at the start is impossible"),
    "tempo-absurd.abc": (abc("1/4=100000000"), "tempo 100000000 at the start is impossible"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_tempo_mark_that_is_no_tempo_is_refused_naming_the_file_the_tempo_and_where(tmp_path, name):
    content, says = HOSTILE[name]
    (tmp_path / name).write_text(content)
    with pytest.raises(ScoreError) as refused:
        load_score(tmp_path / name)
    assert str(refused.value).startswith(f"{name}: {says} (a tempo is 1 to 10000 quarter notes a minute)")


@pytest.mark.parametrize("name", ["sound-zero.musicxml", "metronome-zero.musicxml", "tempo-zero.abc",
                                  "sound-huge.musicxml"])
def test_generate_refuses_such_a_seed_in_one_line_and_writes_nothing(run, capsys, tmp_path, name):  # noqa: F811
    content, says = HOSTILE[name]
    (tmp_path / name).write_text(content)
    line = one_line_error(capsys, "generate", "--model", run, "--prompt", tmp_path / name, "--out",
                          tmp_path / "take.mid", "--bars", 1, names=f"{name}: {says}")
    assert line.startswith("partita generate: --prompt ")
    assert not (tmp_path / "take.mid").exists()  # never a take composed at a tempo the seed does not say


@pytest.mark.parametrize("command", [["export", "{seed}", "--midi", "{tmp}/out.mid"], ["play", "{seed}", "--wav",
                                                                                       "{tmp}/out.wav"]])
def test_export_and_play_refuse_it_in_one_line_naming_the_file(capsys, tmp_path, command):
    seed = tmp_path / "sound-zero.musicxml"
    seed.write_text(HOSTILE[seed.name][0])
    argv = [part.format(seed=seed, tmp=tmp_path) for part in command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Warning" not in err
    assert err.strip() == f"partita {command[0]}: sound-zero.musicxml: tempo 0 in bar 1 is impossible " \
                          "(a tempo is 1 to 10000 quarter notes a minute)"
    assert not any(tmp_path.glob("out.*"))


def test_a_corpus_skips_such_a_piece_with_the_reason_and_keeps_the_others(tmp_path):
    (tmp_path / "broken.musicxml").write_text(HOSTILE["sound-zero.musicxml"][0])
    (tmp_path / "sound.musicxml").write_text(musicxml(sound("72")))
    corpus = import_corpus(tmp_path)
    assert [(r.name, r.imported) for r in corpus.report] == [("broken.musicxml", False), ("sound.musicxml", True)]
    assert corpus.report[0].reason.startswith("tempo 0 in bar 1 is impossible")


def test_sound_tempos_and_metronome_marks_in_range_are_kept_and_no_mark_means_the_default(tmp_path):
    for name, content, qpm in (("sound.musicxml", musicxml(sound("72")), 72), ("half.musicxml",
                               musicxml(metronome("40", "half")), 80), ("none.musicxml", musicxml(), DEFAULT_QPM),
                               ("dotted.abc", abc("3/8=60"), 90),
                               ("allegro.abc", abc('"Allegro"'), 132)):  # music21's tempo for the word
        (tmp_path / name).write_text(content)
        assert [round(t.qpm) for t in load_score(tmp_path / name).tempos] == [qpm], name


def test_a_corpus_skips_a_midi_piece_whose_beat_cannot_be_counted_as_a_seed_would_be(tmp_path):
    """A corpus read the 43-byte MIDI (4/0), a 0/4 and a tempo of 0 as pieces ("ok", time 4/0),
    though the same files are refused as seeds."""
    for name, data in (("over-zero.mid", tiny_midi(4, 8)), ("zero-beats.mid", tiny_midi(0, 2)),
                       ("tempo-zero.mid", tiny_midi(tempo_us=0)), ("seven-eight.mid", tiny_midi(7, 3, tempo_us=500_000))):
        (tmp_path / name).write_bytes(data)
    corpus = import_corpus(tmp_path)
    assert {r.name: (r.imported, r.reason.split(" at tick")[0]) for r in corpus.report} == {
        "over-zero.mid": (False, "time signature 4/0"), "zero-beats.mid": (False, "time signature 0/4"),
        "tempo-zero.mid": (False, "tempo inf"), "seven-eight.mid": (True, "")}
