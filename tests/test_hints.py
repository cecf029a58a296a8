"""Hints that a writer can follow: each one, applied, gives the line that was meant.

For the commonest slips (issue 8, "Hints that mislead"): the code, the place, the message and
the hint, and where a hint offers a fix, that the fix compiles and does what the hint says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import shotlang
from shotlang.compiler.diagnostics import Diagnostic, closest, edit_distance, max_edits
from shotlang.compiler.models import built_in

DOCS = Path(__file__).resolve().parent.parent / "docs"


def only(text: str, axes: str | None = None) -> Diagnostic:
    """The one diagnostic `text` draws."""
    # W108 aside: every camera_control cell is disputed (tests/test_kling_map.py).
    found = [d for d in shotlang.compile_text(text, axes=axes).diagnostics if d.code != "W108"]
    assert len(found) == 1, [(d.code, d.message, d.hint) for d in found]
    return found[0]


def where(d: Diagnostic) -> tuple[int, int, int]:
    return d.span.line, d.span.column, d.span.end_column


def clean(text: str) -> shotlang.CompileResult:
    result = shotlang.compile_text(text)
    found = [d for d in result.diagnostics if d.code != "W108"]
    assert not found, [(d.code, d.message) for d in found]
    return result


def camera(text: str, axes: str | None = None) -> dict[str, int]:
    result = shotlang.compile_text(text, axes=axes)
    assert result.output is not None
    config = result.output.shots[0].body.camera_control.config  # type: ignore[union-attr]
    assert config is not None
    return {k: v for k, v in config.model_dump().items() if v}


# --- a signed magnitude ------------------------------------------------------------------------


@pytest.mark.parametrize("axes, field", [(None, "horizontal"), ("official", "pan")])
def test_a_negative_magnitude_is_told_what_the_direction_word_already_sends(axes: str | None, field: str) -> None:
    d = only('SHOT a: pan left -6 "x"', axes)
    assert (d.code, where(d)) == ("E202", (1, 18, 20))
    assert d.message == "magnitude -6 is signed"
    assert f"`pan left 6` sends {field}: -6" in d.hint
    assert "`pan right 6`" in d.hint
    assert "opposite direction" not in d.hint
    # The hint is true: both fixes it names send what it says.
    assert camera('SHOT a: pan left 6 "x"', axes) == {field: -6}
    assert camera('SHOT a: pan right 6 "x"', axes) == {field: 6}


def test_a_plus_sign_is_told_the_same() -> None:
    d = only('SHOT a: zoom in +6 "x"')
    assert d.code == "E202"
    assert "`zoom in 6` sends zoom: 6" in d.hint and "`zoom out 6`" in d.hint


# --- a number after the prompt -----------------------------------------------------------------


def test_an_unknown_option_and_its_number_are_flagged_together() -> None:
    d = only('SHOT a: "x" speed 2')
    assert (d.code, where(d)) == ("E301", (1, 13, 20))
    assert d.message == "unknown option `speed 2`"
    assert "`fast pan right`" in d.hint and "`pan right 8`" in d.hint
    clean('SHOT a: fast pan right "x"')


@pytest.mark.parametrize("text", ['SHOT a: "x" 2', 'SHOT a: "x" 7', 'SHOT a: "x" speed 2', 'SHOT a: "x" 5'])
def test_no_hint_suggests_a_duration_kling_does_not_make(text: str) -> None:
    d = only(text)
    offered = set(re.findall(r"`(\d+)s`", d.hint))
    assert offered <= {s for m in built_in().models.values() for s in m.durations}, d.hint


def test_a_bare_number_names_the_durations_and_where_a_magnitude_goes() -> None:
    d = only('SHOT a: "x" 2')
    assert (d.code, where(d)) == ("E301", (1, 13, 14))
    assert "`5s`" in d.hint and "`pan right 2`" in d.hint
    assert "`7s`" in only('SHOT a: "x" 7').hint


def test_a_misspelt_value_keyword_keeps_its_value() -> None:
    assert only('SHOT a: "x" cgf 0.5').hint == "did you mean `cfg 0.5`?"


# --- did you mean ------------------------------------------------------------------------------


def test_edit_distance_counts_a_swap_as_one_slip() -> None:
    assert edit_distance("rihgt", "right") == 1
    assert edit_distance("pann", "pan") == 1
    assert edit_distance("shot", "soft") == 2
    assert edit_distance("orbit", "right") == 4
    assert [max_edits("x" * n) for n in (1, 2, 3, 4, 5, 8, 9, 20)] == [0, 0, 1, 1, 2, 2, 3, 3]


@pytest.mark.parametrize("word, choices, expected", [
    ("shot", ["soft"], None),
    ("orbit", ["right"], None),
    ("a", ["at"], None),
    ("pann", ["pan"], "pan"),
    ("PROF", ["pro", "professional"], "pro"),
    ("professionel", ["pro", "professional"], "professional"),
])  # fmt: skip
def test_closest_offers_only_words_within_the_documented_distance(
    word: str, choices: list[str], expected: str | None
) -> None:
    assert closest(word, choices) == expected


@pytest.mark.parametrize("text, at, message, hint", [
    ('SHOT a: zoomin "x"', (1, 9, 15), "unknown word `zoomin`", "did you mean `zoom in`?"),
    ('SHOT a: zoom-in "x"', (1, 9, 16), "unknown word `zoom-in`", "did you mean `zoom in`?"),
    ('SHOT a: panleft "x"', (1, 9, 16), "unknown word `panleft`", "did you mean `pan left`?"),
    ('SHOT a: dollyin "x"', (1, 9, 16), "unknown word `dollyin`", "did you mean `dolly in`?"),
    ('SHOT a: pann right "x"', (1, 9, 13), "unknown word `pann`", "did you mean `pan right`?"),
    ('SHOT a: pan rihgt "x"', (1, 13, 18), "unknown word `rihgt`", "did you mean `pan right`?"),
    ('SHOT a: tilt upp "x"', (1, 14, 17), "unknown word `upp`", "did you mean `tilt up`?"),
    ('SHOT a: panning left "x"', (1, 9, 16), "unknown word `panning`", "did you mean `pan left`?"),
    ('SHOT a: roll counter clockwise "x"', (1, 14, 31), "unknown words `counter clockwise`",
     "did you mean `roll counter-clockwise`?"),
])  # fmt: skip
def test_a_misspelt_move_is_suggested_as_a_whole_phrase_that_compiles(
    text: str, at: tuple[int, int, int], message: str, hint: str
) -> None:
    d = only(text)
    assert (d.code, where(d), d.message, d.hint) == ("E200", at, message, hint)
    phrase = re.fullmatch(r"did you mean `(.*)`\?", d.hint)[1]  # type: ignore[index]
    clean(f'SHOT a: {phrase} "x"')


def test_an_unknown_move_before_a_direction_names_the_moves_that_go_that_way() -> None:
    d = only('SHOT a: orbit left "x"')
    assert (d.code, where(d), d.message) == ("E200", (1, 9, 19), "unknown move `orbit left`")
    assert "did you mean" not in d.hint and "`right`" not in d.hint
    assert "`pan left`" in d.hint and "`dolly left`" in d.hint and "shotlang moves" in d.hint


def test_a_far_word_gets_no_guess_but_a_pointer() -> None:
    found = shotlang.compile_text('SHOT a: tracking shot "x"').diagnostics
    assert [(d.code, d.message) for d in found] == [
        ("E200", "unknown word `tracking`"), ("E200", "unknown word `shot`")]
    assert found[0].hint == "did you mean `track right`, `track left`, `track in` or `track out`?"
    assert "soft" not in found[1].hint and "did you mean" not in found[1].hint
    assert "`shotlang moves`" in found[1].hint and "inside the prompt's quotes" in found[1].hint


def test_a_move_word_without_its_direction_offers_its_moves() -> None:
    assert only('SHOT a: pan over "x"').hint == "write `pan right` or `pan left`"
    d = only('SHOT a: left "x"')
    assert "`pan left`" in d.hint and "turn forward" not in d.hint


def test_an_unknown_model_version_lists_the_models_instead_of_guessing() -> None:
    d = only('MODEL kling-v4\nSHOT a: "x"')
    assert (d.code, where(d), d.message) == ("E300", (1, 7, 15), "unknown model `kling-v4`")
    assert "kling-v1`?" not in d.hint and "did you mean" not in d.hint
    assert all(f"`{name}`" in d.hint for name in built_in().models)
    assert "shotlang-models.toml" in d.hint


@pytest.mark.parametrize("written, meant", [
    ("kling-v2.6", "kling-v2-6"), ("klingv26", "kling-v2-6"), ("kling-v2-mastr", "kling-v2-master"),
    ("Kling-V2-1-Master", None),
])  # fmt: skip
def test_a_misspelt_model_with_the_right_version_is_suggested(written: str, meant: str | None) -> None:
    result = shotlang.compile_text(f'SHOT a: "x" model {written} image "https://example.com/a.jpg"')
    if meant is None:
        assert not result.diagnostics  # names are read ignoring case
        return
    d = only(f'SHOT a: "x" model {written}')
    assert (d.code, d.hint) == ("E300", f"did you mean `{meant}`?")


# --- an unquoted prompt ------------------------------------------------------------------------


@pytest.mark.parametrize("text, at, fix", [
    ("SHOT c: slow pan right over A castle at dawn 5s", (1, 29, 45),
     'SHOT c: slow pan right over "A castle at dawn" 5s'),
    ("SHOT c: A castle at dawn 5s pro", (1, 9, 25), 'SHOT c: "A castle at dawn" 5s pro'),
    ("SHOT c: pan right over a castle", (1, 24, 32), 'SHOT c: pan right over "a castle"'),
    ("SHOT c: pan right over A castle, at dawn", (1, 24, 41), 'SHOT c: pan right over "A castle, at dawn"'),
])  # fmt: skip
def test_an_unquoted_prompt_is_told_to_take_quotes(text: str, at: tuple[int, int, int], fix: str) -> None:
    d = only(text)
    assert (d.code, where(d), d.message) == ("E102", at, "the prompt is not in double quotes")
    assert d.hint == f"put the prompt in quotes: `{fix}`"
    clean(fix)


def test_misspelt_move_words_before_an_option_are_not_taken_for_a_prompt() -> None:
    d = only('SHOT a: pan right 5s "x"')
    assert (d.code, d.message) == ("E106", "option `5s` before the prompt")


# --- a name with spaces ------------------------------------------------------------------------


def test_a_name_with_spaces_is_told_names_are_one_word() -> None:
    d = only('SHOT castle at dawn: pan right "x"')
    assert (d.code, where(d)) == ("E308", (1, 6, 20))
    assert d.message == "shot name `castle at dawn` has spaces: a name is one word"
    assert "`SHOT castle-at-dawn: ...`" in d.hint
    clean('SHOT castle-at-dawn: pan right "x"')


def test_a_missing_colon_is_still_a_missing_colon() -> None:
    assert only('SHOT a "x"').code == "E103"


# --- continuation lines ------------------------------------------------------------------------


def test_a_tab_under_spaces_is_told_how_tabs_count() -> None:
    text = 'SCENE "s"\n    SHOT a: pan right "x"\n\t10s\n'
    d = only(text)
    assert (d.code, where(d)) == ("E105", (3, 2, 5))
    assert d.message == ("unknown statement `10s`: not indented deeper than the SHOT on line 2, "
                         "so it does not continue it")
    assert "a tab counts as one column" in d.hint
    assert "(1 tab)" in d.hint and "(4 spaces)" in d.hint
    clean(text.replace("\t", " " * 8))


def test_a_tab_indented_word_that_is_no_option_is_told_the_same() -> None:
    d = only('SCENE "s"\n    SHOT a: pan right "x"\n\tfog\n')
    assert d.message.startswith("unknown statement `fog`: not indented deeper")
    assert "tab" in d.hint


def test_an_option_line_not_indented_is_told_to_indent() -> None:
    text = 'SHOT a: pan right "x"\n10s pro\n'
    d = only(text)
    assert (d.code, where(d)) == ("E105", (2, 1, 4))
    assert "not indented deeper than the SHOT on line 1" in d.message
    assert "`    10s`" in d.hint
    clean(text.replace("\n10s", "\n    10s"))


def test_an_option_line_after_a_blank_line_is_told_the_blank_line_ended_it() -> None:
    d = only('SHOT a: pan right "x"\n\n    10s\n')
    assert (d.code, where(d)) == ("E105", (3, 5, 8))
    assert "a blank line ended the SHOT above" in d.message


def test_an_unknown_statement_after_a_title_says_nothing_of_indentation() -> None:
    d = only('TITLE "s"\nfog\n')  # a TITLE takes no options (a SCENE does: E105 there)
    assert d.message == "unknown statement `fog`"


def test_the_docs_say_how_close_a_suggestion_is() -> None:
    language = (DOCS / "language.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| (\d+)(?:-(\d+)| or more) \| (none|\d+) \|$", language, re.MULTILINE)
    assert table, "the Did you mean table is missing"
    for low, high, allowed in table:
        for n in (int(low), int(high or low)):
            assert max_edits("x" * n) == (0 if allowed == "none" else int(allowed))
