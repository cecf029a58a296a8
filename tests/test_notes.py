"""From screenplay habits (Fountain): [[notes]] carried into the output, /* block comments */
that switch shots off. Both are read past by the compiler, at the same places as written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shotlang
from shotlang.compiler.trivia import mask
from shotlang.engine.state import body_hash


def records(text: str) -> list[dict[str, Any]]:
    result = shotlang.compile_text(text)
    assert result.output is not None, [d.code for d in result.diagnostics]
    return result.output.records


def test_a_note_goes_to_its_shot_and_never_into_the_body() -> None:
    [shot] = records('SHOT a: pan right "A castle" [[ask about the flag]] 5s\n')
    assert shot["notes"] == ["ask about the flag"]
    assert "ask" not in json.dumps(shot["body"])
    assert shot["body"]["prompt"] == "A castle" and shot["body"]["duration"] == "5"


def test_notes_after_a_shot_and_over_lines_belong_to_it() -> None:
    made = records('SHOT a: "x"\n  [[one]]\n[[ two\n   over lines ]]\n\nSHOT b: "y"\n')
    assert made[0]["notes"] == ["one", "two over lines"]
    assert "notes" not in made[1]


def test_notes_above_the_first_shot_are_the_files() -> None:
    result = shotlang.compile_text('[[draft 3]]\nTITLE "T"\nSHOT a: "x"\n')
    assert result.output is not None
    envelope = json.loads(result.output.to_json())
    assert envelope["notes"] == ["draft 3"]
    assert list(envelope) == ["shotlang_format", "source", "title", "axes", "notes", "shots"]
    assert "notes" not in json.loads(shotlang.compile_text('SHOT a: "x"\n').output.to_json())  # type: ignore[union-attr]


def test_a_sequence_gathers_its_shots_notes() -> None:
    made = records('SEQUENCE q: 10s model kling-v3 [[q]]\n    SHOT a: "x" [[a]]\n    SHOT b: "y"\n    [[b]]\n')
    assert made[0]["notes"] == ["q", "a", "b"]
    assert "[[" not in json.dumps(made[0]["body"])


def test_a_changed_note_changes_no_request() -> None:
    """Notes are never sent, so `run` must not pay again for a shot whose note changed."""
    one = records('SHOT a: pan right "x" [[first]]\n')[0]
    two = records('SHOT a: pan right "x" [[second thoughts]]\n')[0]
    assert body_hash(one["endpoint"], one["body"]) == body_hash(two["endpoint"], two["body"])


def test_block_comments_switch_shots_off() -> None:
    made = records('SHOT a: "x"\n/* SHOT b: "y"\nSHOT c: pan rigt "z" */\nSHOT d: /* slow */ pan left "w"\n')
    assert [m["name"] for m in made] == ["a", "d"]
    assert made[1]["body"]["camera_control"]["config"]["horizontal"] == -5


def test_a_masked_line_neither_ends_nor_starts_a_statement() -> None:
    made = records('SHOT a: pan right "one"\n  /* an aside */\n  "two" 10s\n')
    assert made[0]["body"]["prompt"] == "one two" and made[0]["body"]["duration"] == "10"


@pytest.mark.parametrize("text", ['SHOT a: "a /* b */ [[c]] d"\n', 'SHOT a: "x"  # /* [[ not either\n'])
def test_inside_strings_and_comments_they_are_text(text: str) -> None:
    made = records(text)
    assert "notes" not in made[0]
    assert made[0]["body"]["prompt"] == text.split('"')[1]


def test_diagnostics_show_the_line_as_written_and_point_past_comments() -> None:
    result = shotlang.compile_text('SHOT a: /* slow */ pan rigt "x" [[n]]\n', "x.shot")
    [d] = result.diagnostics
    assert (d.code, d.span.column) == ("E200", 24)
    shown = result.render()
    assert "SHOT a: /* slow */ pan rigt \"x\" [[n]]" in shown


def test_unclosed_block_comment_and_note_are_one_error_each() -> None:
    block = shotlang.compile_text('SHOT a: "x"\n/* SHOT b: "y"\nSHOT c: rigt "z"\n')
    assert [(d.code, d.span.line, d.span.column) for d in block.diagnostics] == [("E107", 2, 1)]
    note = shotlang.compile_text('SHOT a: "x" [[ call\nSHOT b: "y"\n')
    assert [(d.code, d.span.line, d.span.column) for d in note.diagnostics] == [("E108", 1, 13)]


def test_stray_closers_are_unexpected_characters() -> None:
    assert [d.code for d in shotlang.compile_text('SHOT a: "x" */\n').diagnostics] == ["E104"]
    assert [d.code for d in shotlang.compile_text('SHOT a: "x" ]]\n').diagnostics] == ["E104"]


@settings(max_examples=10 * settings.default.max_examples, deadline=None)
@given(st.text(alphabet='ab "\\#/*[]\n\r\t', max_size=60))
def test_masking_keeps_length_lines_and_the_rest(text: str) -> None:
    masked = mask(text, comments=True)
    assert len(masked.text) == len(text)
    assert [i for i, c in enumerate(masked.text) if c == "\n"] == [i for i, c in enumerate(text) if c == "\n"]
    inside = {i for t in masked.trivia if t.kind != "comment" for i in range(t.start, t.end)}
    for i, c in enumerate(text):
        if i not in inside:
            assert masked.text[i] == c
        else:
            assert masked.text[i] in " #\n"
    shotlang.compile_text(text)  # and never raises


def test_check_from_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "shotlang", "check", "-"], input='SHOT a: "x"\n/* unclosed\n',
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60)
    assert done.returncode == 1 and "error[E107]" in done.stdout and "2 | /* unclosed" in done.stdout


def test_a_note_under_every_shot_is_masked_in_one_pass() -> None:
    """A line a note leaves blank is marked once, not by rebuilding the text for each (20,000
    notes took 30 s a re-check in the language server; now a tenth of a second)."""
    import time

    from shotlang.compiler.trivia import mask

    text = "".join(f'SHOT s{i}: "a castle {i}"\n    [[note {i}]]\n' for i in range(20_000))
    started = time.perf_counter()
    masked = mask(text).text
    assert time.perf_counter() - started < 3.0  # a bound far above the linear cost, far below the quadratic
    assert masked.count("\n    #") == 20_000 and len(masked) == len(text)


# --- masking again after an edit (the language server's keystrokes) ----------------------------

_PIECES = ["[[", "]]", "/*", "*/", '"', "#", "\n", " ", "x", "SHOT a: ", '"p"', "\\", "[", "/", "*"]


@settings(max_examples=20 * settings.default.max_examples, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.data())
def test_masking_again_after_an_edit_is_masking_afresh(pieces: list[str], data: st.DataObject) -> None:
    from shotlang.compiler.trivia import mask, remask

    text = "".join(pieces)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    inserted = "".join(data.draw(st.lists(st.sampled_from(_PIECES), max_size=4)))
    new = text[:start] + inserted + text[end:]
    assert remask(mask(text), new, start, end, len(inserted)) == mask(new)


@settings(max_examples=10 * settings.default.max_examples, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=60))
def test_masking_by_regions_is_masking_token_by_token(pieces: list[str]) -> None:
    from shotlang.compiler.trivia import mask

    text = "".join(pieces)
    by_tokens = mask(text, comments=True)  # the scan that takes each string and comment
    fast = mask(text)
    assert fast.text == by_tokens.text
    assert fast.trivia == [t for t in by_tokens.trivia if t.kind != "comment"]
    assert fast.unclosed == by_tokens.unclosed


@pytest.mark.parametrize("text", [
    "[[a]]\nx", 'SHOT a: "p"\n[[a]]\nx\n[[b]] y\n', '/* a\nb */\n"[[no]]" # [[no]]\n[[c\n]]\n',
    'SHOT a: "x\n  [[in string]]"\n[[n]][[m]]\n  /*z*/ 5s\n',
    # A quote that closes no string, before notes: a quote typed after it makes it a string's
    # start, which takes the notes between in (the scan cannot restart after them).
    '"""[[]]/**/', 'SHOT a: "x" [[n]]\nSHOT b: "y [[m]]\nz [[o]]\n',
])
def test_masking_again_at_every_place_of_small_texts(text: str) -> None:
    # Every edit of up to two characters, at every place, inserting each piece: the places
    # where a scan restarts and where it meets the old one are all tried.
    from shotlang.compiler.trivia import mask, remask

    old = mask(text)
    for start in range(len(text) + 1):
        for end in range(start, min(start + 2, len(text)) + 1):
            for inserted in ("", "y", "\n", "[[", "]]", '"', "#", "*/"):
                new = text[:start] + inserted + text[end:]
                assert remask(old, new, start, end, len(inserted)) == mask(new), (start, end, inserted)
