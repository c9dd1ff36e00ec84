"""A notation file music21 reads only in part (a kern event it cannot parse, say) is imported with a
note saying so, never silently whole: music21 wrote its warnings straight to stderr, where the CLI's
progress bars and the window lost them (issue 22). The files are made here, at run time."""

from __future__ import annotations

import sys
import threading

from core.cli import main
from core.music.corpus import import_corpus
from core.music.scores import load_score, load_scores

WHOLE = "**kern\n*M4/4\n4c\n4d\n4e\n4f\n=\n4g\n4a\n4b\n4cc\n*-\n"
BROKEN = "**kern\n*M4/4\n4c\n4d\n4e\n4f\n=\n4g\n4zz\n4x\n4cc\n*-\n"  # two events music21 cannot parse


def test_a_partly_read_file_says_what_was_left_out_and_stderr_stays_quiet(tmp_path, capfd):
    (tmp_path / "broken.krn").write_text(BROKEN)
    (named,) = load_scores(tmp_path / "broken.krn")
    assert named.partial.startswith("read in part: Error in parsing event ('4zz') at line 9")
    assert named.partial.endswith("(and 1 more)")
    assert sum(len(track.notes) for track in named.score.tracks) == 6  # what could be read is kept
    (tmp_path / "whole.krn").write_text(WHOLE)
    assert load_scores(tmp_path / "whole.krn")[0].partial == ""
    warnings: list[str] = []
    load_score(tmp_path / "broken.krn", warnings=warnings)
    assert warnings == [f"broken.krn: {named.partial}"]
    assert "WARNING" not in capfd.readouterr().err


def test_other_threads_music21_warnings_still_reach_stderr(tmp_path, capfd):
    """Only the reading thread's warnings are kept; music21 used elsewhere warns as before."""
    from music21 import environment

    (tmp_path / "broken.krn").write_text(BROKEN)
    load_scores(tmp_path / "broken.krn")  # the hook is in place
    thread = threading.Thread(target=lambda: environment.Environment("elsewhere").warn("a warning of its own"))
    thread.start()
    thread.join()
    sys.stderr.flush()
    assert "a warning of its own" in capfd.readouterr().err


def test_the_corpus_report_and_the_commands_say_a_file_was_read_in_part(tmp_path, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "broken.krn").write_text(BROKEN)
    (folder / "whole.krn").write_text(WHOLE)
    corpus = import_corpus(folder, cache=None)
    notes = {entry.name: entry.note for entry in corpus.report}
    assert notes["whole.krn"] == "" and notes["broken.krn"].startswith("read in part: ")
    assert "read in part: Error in parsing event ('4zz')" in corpus.report_table()
    assert main(["export", str(folder / "broken.krn"), "--midi", str(tmp_path / "out.mid")]) == 0
    err = capsys.readouterr().err
    assert "warning: broken.krn: read in part: Error in parsing event ('4zz')" in err
