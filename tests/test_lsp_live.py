"""The language server's check after an edit (shotlang/tools/lsp/live.py) says exactly what analyse()
says of the same text, while reading again only what the edit touched.

In process, without the protocol: tests/test_lsp.py drives the real server.
"""

from __future__ import annotations

import functools
import importlib
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shotlang.compiler import checks, lower
from shotlang.compiler.diagnostics import Diagnostic
from shotlang.compiler.images import ImageStore
from shotlang.compiler.models import built_in
from shotlang.compiler.pipeline import analyse
from shotlang.tools.lsp.live import CHECKER_FIELDS, CHECKER_MEMOS, LOWERING_FIXED, LOWERING_STATE, LiveCheck

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# Every kind of statement and the state they carry: MODEL, DEFAULTS, AXES, SCENE, TITLE,
# BACKEND (in the snippets: `BACKEND fal` on top checks every shot against fal's apps),
# sequences (and their indentation), duplicate names, options given twice, errors of each
# stage, notes and block comments, continuation lines, a stray line, wide characters.
MIXED = '''TITLE "Mixed"
MODEL kling-v2-6
DEFAULTS 10s pro negative "blur"
SCENE "INT. HALL - DAY"
SHOT hall: slow pan right over "A long hall, 😀 candles" [[a note]]
SHOT dup: pan right "x" 5s 10s
SHOT Dup: zoom in 12 "y"
/* SHOT off: tilt up "switched off" */
SHOT bad: wobble "z" sound on
    5s model kling-v1-6
SHOT noprompt: pan left
"stray continuation"
AXES official
TITLE "again"
DEFAULTS 5s model kling-v3 cfg 0.5
SEQUENCE chase: 15s pro 16:9 moves words
    SHOT alley: slow pan right over "A runner darts into an alley" 4s
    SHOT roof: "She leaps the gap between two rooftops"
	SHOT tabbed: "a tab"
SHOT after: static "é à ü" 7s
SHOT long: push in 3.5 toward "Pedestrians cross under a sign,"
    "their umbrellas bright in the rain" 7s sound on voice "narrator"
'''
SNIPPETS = ["\n", '"', "SHOT dup: ", 'SHOT x: pan right "p"\n', "    ", "\t", "SEQUENCE q: 15s model kling-v3\n",
            "DEFAULTS 5s pro\n", "# c\n", "AXES seed\n", "BACKEND fal\n", "BACKEND kling\n", 'TITLE "t"\n', "MODEL kling-v2-1\n", " 10s", " pro",
            'SCENE "s"\n', '  SHOT m: "in a sequence"\n', "x", ":", "\n\n", "é", "😀", "\x1b", "hall", "/*", "*/",
            "[[", "]]", "[[note]]", "/* off */", "model ", "0", "<line>", "<again>"]


@functools.cache
def _bench() -> Any:
    """bench/run.py, which makes the benchmark's shot lists (and imports what lies beside it)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module("run")
    finally:
        sys.path.remove(str(ROOT / "bench"))


def shot_text(count: int) -> str:
    """A realistic generated shot list, the benchmark's."""
    bench = _bench()
    return str(bench.to_shot_text(bench.generate(count)))


@functools.cache
def _bases() -> list[str]:
    return [MIXED, shot_text(40) + MIXED, MIXED + shot_text(30), (EXAMPLES / "chase.shot").read_text()]


def seen(diagnostics: list[Diagnostic]) -> list[tuple[Any, ...]]:
    return [(d.code, d.message, d.span.start, d.span.end, d.hint, d.span.source.name,
             tuple((r.span.start, r.span.end, r.message, r.span.source.name) for r in d.related))
            for d in diagnostics]


def apply(text: str, rng_value: float, length: int, snippet: str) -> tuple[int, int, str]:
    """An edit of `text`: where, how much is removed, what is put there."""
    at = int(rng_value * len(text))
    if snippet in ("<line>", "<again>"):  # remove a whole line, or write it twice
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end == -1 else end + 1
        return (start, end, "") if snippet == "<line>" else (start, start, text[start:end])
    return at, min(len(text), at + length), snippet


edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 30), st.sampled_from(SNIPPETS)), min_size=1, max_size=20)


@settings(max_examples=3 * settings.default.max_examples, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(base=st.integers(0, 3), changes=edits)
def test_after_any_edits_the_diagnostics_are_analyses(tmp_path_factory: pytest.TempPathFactory, base: int,
                                                      changes: list[tuple[float, int, str]]) -> None:
    folder = tmp_path_factory.getbasetemp()
    text = _bases()[base]
    live = LiveCheck(text, "t.shot", folder)
    assert seen(live.diagnostics) == seen(analyse(text, "t.shot", folder).diagnostics)
    for where, length, snippet in changes:
        start, end, inserted = apply(text, where, length, snippet)
        text = text[:start] + inserted + text[end:]
        got = live.edit(start, end, inserted)
        assert live.text == text
        assert seen(got) == seen(analyse(text, "t.shot", folder).diagnostics), (start, end, inserted)


@pytest.mark.slow
def test_random_edits_of_a_long_list_read_little_again(tmp_path: Path) -> None:
    """Typing in a 400-shot list: each edit keeps the outcome of almost every statement, and
    the diagnostics still equal analyse's."""
    text = shot_text(400) + MIXED
    live = LiveCheck(text, "t.shot", tmp_path)
    rng = random.Random(11)
    kept = []
    for _ in range(60):
        start, end, inserted = apply(text, rng.random(), rng.randrange(4), rng.choice(["x", " ", "\n", "", "é"]))
        text = text[:start] + inserted + text[end:]
        got = live.edit(start, end, inserted)
        assert seen(got) == seen(analyse(text, "t.shot", tmp_path).diagnostics)
        kept.append(live.reused / len(live.steps))
    assert sorted(kept)[len(kept) // 2] > 0.9


def test_a_new_line_renumbers_the_lines_messages_name(tmp_path: Path) -> None:
    """`the first is on line 3`: a line added above moves the number in a kept statement's
    message too."""
    text = 'TITLE "t"\n\nSHOT a: "x" 5s 10s\nSHOT b: "y"\nSHOT a: "z"\n'
    live = LiveCheck(text, "t.shot", tmp_path)
    assert any("line 3" in d.hint for d in live.diagnostics if d.code == "E309")
    live.edit(0, 0, "# a comment\n")
    assert [d.hint for d in live.diagnostics if d.code == "E309"] == ["keep one duration; the first is on line 4"]
    assert [d.message for d in live.diagnostics if d.code == "E307"] == ["a shot named `a` is already on line 4"]


def test_renaming_a_shot_makes_and_unmakes_a_later_duplicate(tmp_path: Path) -> None:
    text = shot_text(200)
    live = LiveCheck(text, "t.shot", tmp_path)
    first = text.index("SHOT shot-000010:") + len("SHOT ")
    name = "shot-000150"
    live.edit(first, first + len(name), name)
    duplicates = [d for d in live.diagnostics if d.code == "E307"]
    assert [d.span.source.text[d.span.start:d.span.end] for d in duplicates] == [name]
    assert duplicates[0].related[0].span.start == first
    live.edit(first, first + len(name), "shot-000010")
    assert not [d for d in live.diagnostics if d.code == "E307"]


def test_an_open_block_comment_switches_off_the_rest_until_closed(tmp_path: Path) -> None:
    text = MIXED
    live = LiveCheck(text, "t.shot", tmp_path)
    at = text.index("SHOT bad")
    live.edit(at, at, "/* ")
    assert [d.code for d in live.diagnostics if d.span.start >= at] == ["E107"]
    assert seen(live.diagnostics) == seen(analyse(live.text, "t.shot", tmp_path).diagnostics)
    end = live.text.index("SHOT noprompt")
    live.edit(end, end, "*/ ")
    assert seen(live.diagnostics) == seen(analyse(live.text, "t.shot", tmp_path).diagnostics)
    assert "E107" not in {d.code for d in live.diagnostics}


def test_a_byte_order_mark_and_a_nul_are_read_as_check_reads_them(tmp_path: Path) -> None:
    text = "\ufeff" + MIXED
    live = LiveCheck(text, "t.shot", tmp_path)
    assert seen(live.diagnostics) == seen(analyse(text, "t.shot", tmp_path).diagnostics)
    live.edit(10, 10, "\0")
    assert [d.code for d in live.diagnostics] == ["E001"]
    live.edit(10, 11, "")
    assert seen(live.diagnostics) == seen(analyse(live.text, "t.shot", tmp_path).diagnostics)


def test_a_models_file_written_beside_the_list_is_read_at_the_next_edit(tmp_path: Path) -> None:
    text = 'SHOT a: "x" model kling-v9\n'
    live = LiveCheck(text, "t.shot", tmp_path)
    assert [d.code for d in live.diagnostics] == ["E300"]
    (tmp_path / "shotlang-models.toml").write_text('[models.kling-v9]\nlike = "kling-v2-6"\nsource = "reported"\n')
    live.edit(len(text), len(text), "\n")
    assert [d.code for d in live.diagnostics] == []


def test_the_resolver_and_checker_carry_no_state_the_server_does_not_know() -> None:
    """live.py saves and restores the Lowering's fields by name, and stands in for the
    Checker's names: a field added to either must be added there too."""
    lowering = lower.Lowering([], models=built_in())
    assert set(vars(lowering)) == set(LOWERING_STATE + LOWERING_FIXED)
    checker = checks.Checker(Path("."), ImageStore(), built_in())
    assert set(vars(checker)) == set(CHECKER_FIELDS + CHECKER_MEMOS)


@given(text=st.text("ab\n\r😀é", max_size=40), data=st.data())
def test_the_line_index_after_an_edit_is_the_one_counted_afresh(text: str, data: st.DataObject) -> None:
    from shotlang.tools.lsp.positions import ENCODINGS, Lines

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    inserted = data.draw(st.text("x\n\r😀", max_size=4))
    new = text[:start] + inserted + text[end:]
    encoding = data.draw(st.sampled_from(ENCODINGS))
    edited = Lines(text, encoding).edited(start, end, inserted, new)
    fresh = Lines(new, encoding)
    assert edited.starts == fresh.starts
    for offset in range(len(new) + 1):  # and a position leads back to its offset
        line, character = fresh.position(offset)
        back = fresh.offset(line, character)
        assert back == offset or new[back:offset] in ("\r", "\n", "\r\n")


@given(common=st.text("ab\n", max_size=5000), old=st.text("abc", max_size=8), new=st.text("abc", max_size=8),
       tail=st.text("ab\n", max_size=5000))
def test_the_difference_of_two_texts_is_one_edit_between_their_common_ends(common: str, old: str, new: str,
                                                                            tail: str) -> None:
    from shotlang.tools.lsp.live import difference

    before, after = common + old + tail, common + new + tail
    edit = difference(before, after)
    assert before[: edit.start] + after[edit.start : edit.new_end] + before[edit.end :] == after
    assert edit.start >= len(common)
    assert edit.end - edit.start <= len(old) and edit.length <= len(new)  # no longer than what differs


def test_in_a_file_of_sequences_an_edit_reads_little_again(tmp_path: Path) -> None:
    """Each shot of a sequence asks for its line (to compare its indent with the SEQUENCE's):
    that is no line number in a message, so a line added above keeps them too."""
    text = 'MODEL kling-v3\n' + "".join(
        f'SEQUENCE seq-{i}: 15s pro moves words\n'
        + "".join(f'    SHOT s{i}-{j}: slow pan right over "A runner in alley {i}, take {j}" 3s\n' for j in range(5))
        for i in range(40))
    live = LiveCheck(text, "s.shot", tmp_path)
    for inserted in ("x", "# a note\n"):
        at = text.index('"', len(text) // 3) + 3
        text = text[:at] + inserted + text[at:]
        live.edit(at, at, inserted)
        assert seen(live.diagnostics) == seen(analyse(text, "s.shot", tmp_path).diagnostics)
        # The shot edited and the rest of its sequence, whose state holds it, and the statement
        # that closes the sequence (it checks it): the other 235 statements keep their outcome.
        assert live.reused >= len(live.steps) - 6
