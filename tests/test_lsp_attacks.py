"""Edits a hostile writer makes, through the language server's check (shotlang/tools/lsp/live.py):
after each, the diagnostics are analyse()'s of the same text (for text with a NUL, those of
the file's bytes, as `check` reads them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shotlang.compiler.diagnostics import Diagnostic
from shotlang.compiler.pipeline import analyse, analyse_bytes
from shotlang.tools.lsp.live import LiveCheck


def seen(diagnostics: list[Diagnostic]) -> list[tuple[Any, ...]]:
    return [(d.code, d.message, d.span.start, d.span.end, d.hint, d.span.source.name,
             tuple((r.span.start, r.span.end, r.message, r.span.source.name) for r in d.related))
            for d in diagnostics]


def fresh(text: str, folder: Path) -> list[tuple[Any, ...]]:
    if "\0" in text:
        return seen(analyse_bytes(text.encode("utf-8", "replace"), "t.shot", folder).diagnostics)
    return seen(analyse(text, "t.shot", folder).diagnostics)


def edited(text: str, folder: Path, *edits: tuple[int, int, str]) -> LiveCheck:
    """A LiveCheck of `text` through `edits`, its diagnostics compared with a fresh read's
    after each."""
    live = LiveCheck(text, "t.shot", folder)
    assert seen(live.diagnostics) == fresh(text, folder)
    for start, end, inserted in edits:
        text = text[:start] + inserted + text[end:]
        live.edit(start, end, inserted)
        assert live.text == text
        assert seen(live.diagnostics) == fresh(text, folder), (start, end, inserted)
    return live


def test_a_sequence_broken_above_its_twin_takes_the_twins_duplicate_away(tmp_path: Path) -> None:
    """The first `chase` is added when the second SEQUENCE line closes it; once the first line
    no longer parses, the second is read again and adds nothing, and the statement that closes
    the second sequence (read as it was) must not keep its E307."""
    text = 'SEQUENCE chase: 15s\nSEQUENCE chase: 15s\n    SHOT roof: "y"\n    SHOT r2: "z"\nSHOT long: "x"\n'
    live = edited(text, tmp_path, (18, 19, "["))
    assert "E307" not in {d.code for d in live.diagnostics}



def test_lines_a_statement_is_kept_before_still_find_the_shot_they_may_continue(tmp_path: Path) -> None:
    """A SHOT read again (its MODEL changed), the stray lines under it kept: each keeps asking
    whether it continues that SHOT where the SHOT is now, not where its earlier reading was
    edits ago, so a line typed below them still says it does not continue the SHOT on line 2."""
    text = 'MODEL kling-v3 # c\nSHOT a: "x"\nb\nc\nd\ne\n'
    model = text.index("kling-v3")
    text = text.replace("kling-v3", "kling-v2-6")
    comment = text.index("# c") + 2
    end = len(text) + 8
    live = edited('MODEL kling-v3 # c\nSHOT a: "x"\nb\nc\nd\ne\n', tmp_path,
                  (model, model + len("kling-v3"), "kling-v2-6"), (comment, comment, "yyyy"),
                  (comment, comment, "zzzz"), (end, end, "x"))
    assert live.diagnostics[-1].message.endswith("not indented deeper than the SHOT on line 2, so it does not continue it")


def test_a_blank_line_typed_under_a_sequence_above_broken_lines_warns_at_its_next_shot(tmp_path: Path) -> None:
    """W111 looks at the lines from the sequence's last shot (or its SEQUENCE line) to the shot:
    a blank line typed there, statements away from the shot, makes it one (and removing it
    takes it away)."""
    text = 'SEQUENCE q: 15s model kling-v3\n    SHOT\n    SHOT\n    SHOT r: "p" 5s\n    SHOT\n    SHOT s: "q" 5s\n'
    after_sequence = text.index("\n") + 1
    after_r = text.index("5s\n") + 3
    live = edited(text, tmp_path, (after_sequence, after_sequence, "\n"), (after_sequence, after_sequence + 1, ""),
                  (after_r, after_r, "\n"))
    assert [d.message for d in live.diagnostics if d.code == "W111"] == [
        "`s` is a shot of the sequence `q`, after a blank line"]



# Shot lists of notes and block comments over lines, multi-line strings, DEFAULTS values whose
# W108 is said where they are inherited, sequences with broken and blank lines between their
# shots, duplicates far apart; and what is typed into them: delimiters of each kind opened and
# closed, quotes, line ends of each kind, control characters, statements that change the state.
NOTED = """MODEL kling-v3
DEFAULTS 5s pro cfg 0.5 [[defaults note
over lines]]
SHOT a1: pan right "one" [[n1]]
/* SHOT off: "x"
   SHOT off2: "y" */
SHOT a2: "two" 5s 10s [[n2
]]
SEQUENCE s: 15s pro
    SHOT s1: "in seq" [[n3]] 5s
    /* c */ SHOT s2: tilt up "seq two"
SHOT a1: "dup" [[n4]]
SHOT a3: "multi
line string" 5s
DEFAULTS model kling-v2-6
SHOT a4: zoom in "x" cfg 0.4 [[n5]] /* b */
SHOT a5: "y"\x1b
"""
SEQUENCES = """MODEL kling-v3
DEFAULTS cfg 0.5
SEQUENCE q: 15s pro
    SHOT
    SHOT a: pan right "x" 5s

    SHOT b: "y" 5s [[n]]
    /* c */
    SHOT c: "z" 5s
SHOT d: "w"
SEQUENCE r: 10s

  SHOT e: "v" 5s
  SHOT e: "u" 5s
"""
BASES = [NOTED, NOTED.replace("\n", "\r\n"), "\ufeff" + NOTED, SEQUENCES, SEQUENCES + NOTED,
         "\ufeff" + SEQUENCES.replace("\n", "\r\n")]
TYPED = ["\n", "\r\n", "\r", '"', '\\"', "[[", "]]", "/*", "*/", "[", "]", "/", "*", "#", "\x1b", "\x00", "\x07",
         "SHOT a1: ", 'SHOT z: pan right "p"\n', "    ", "\t", "SEQUENCE q: 15s model kling-v3\n",
         "DEFAULTS 5s pro cfg 0.5\n", "DEFAULTS model kling-v3\n", "MODEL kling-v9\n", "MODEL kling-v3\n",
         "AXES official\n", 'SCENE "s"\n', '  SHOT m: "in a sequence"\n', "x", ":", "\n\n", "é", "😀", "a1",
         "[[note]]", "/* off */", " cfg 0.5", "]]\n", "*/\n", '"\n', "<line>", "<again>", "<far twin>", "<cut>"]


def hostile(text: str, where: float, length: int, typed: str) -> tuple[int, int, str]:
    at = int(where * len(text))
    if typed in ("<line>", "<again>"):  # a whole line removed, or written twice
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end == -1 else end + 1
        return (start, end, "") if typed == "<line>" else (start, start, text[start:end])
    if typed == "<far twin>":  # a shot named as one far above or below
        return at, at, '\nSHOT a1: "twin"\n'
    if typed == "<cut>":  # a stretch of any length taken out
        return at, min(len(text), at + 40 * length), ""
    return at, min(len(text), at + length), typed


@pytest.mark.parametrize("base", range(len(BASES)))
@settings(max_examples=3 * settings.default.max_examples, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(TYPED)), min_size=1,
                        max_size=40))
def test_after_hostile_edits_the_diagnostics_are_a_fresh_reads(tmp_path: Path, base: int,
                                                              changes: list[tuple[float, int, str]]) -> None:
    text = BASES[base]
    live = LiveCheck(text, "t.shot", tmp_path)
    assert seen(live.diagnostics) == fresh(text, tmp_path)
    for where, length, typed in changes:
        start, end, inserted = hostile(text, where, length, typed)
        text = text[:start] + inserted + text[end:]
        live.edit(start, end, inserted)
        assert live.text == text
        assert seen(live.diagnostics) == fresh(text, tmp_path), (start, end, inserted)
