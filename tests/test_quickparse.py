"""The fast path for SHOT lines agrees with the grammar: whenever it gives a tree, Lark gives
the same one, positions included; and it gives one for the plain shots that fill shot lists."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput
from test_properties import PIECES, fragments, mutated_example

from shotlang.compiler.parser import parse_with_grammar, statement_chunks
from shotlang.compiler.quickparse import parse_shot
from shotlang.compiler.source import Source
from shotlang.compiler.trivia import mask

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.shot"))
AGREE = settings(max_examples=20 * settings.default.max_examples,  # 2,000 in CI: tests/conftest.py
                 deadline=None, suppress_health_check=list(HealthCheck))


def agree(text: str) -> int:
    """Check every statement of `text`; return how many the fast path took."""
    taken = 0
    source = Source(text)
    for start, end in statement_chunks(text):
        quick = parse_shot(source, start, end)
        if quick is None:
            continue
        taken += 1
        try:
            grammar = parse_with_grammar(source, start, end)
        except UnexpectedInput:
            raise AssertionError(f"fast path took what the grammar rejects: {text[start:end]!r}") from None
        assert quick == grammar, text[start:end]
    return taken


def test_examples_take_the_fast_path_and_agree() -> None:
    for example in EXAMPLES:
        text = mask(example.read_text(encoding="utf-8")).text  # as the compiler reads it
        shots = sum(1 for line in text.splitlines() if line.lstrip().upper().startswith("SHOT "))
        assert agree(text) == shots, example.name


def test_every_option_form_agrees() -> None:
    text = ('SHOT a: Slow PAN right 6 over "x \\" y"\n    "more" 10S Pro 16:9 model kling-v2-6 cfg 0.5 '
            'negative "n" avoid "m" image "i.png" tail "t.png" mask "k.png" id "x-1" callback "https://e"\n'
            '    sound on motion "m.png" (1, 2) ( 3 ,4) # comment\n'
            '  SHOT b : "wrapped\n      prompt" 5s\n'
            "SHOT c: dolly forward 5 through \"z\"\n")
    assert agree(text) == 3


# Every shape of number a move can end with, allowed or not: each is the NUMBER terminal to
# both, so the fast path takes the shot and must build Lark's tree.
MAGNITUDES = ["2.5", "0.5", "5.0", "10", "10.00", "2.345", "10.5", "0", "0.0", "-2.5", "+2.5", "007.50",
              "9" * 400 + ".5", "2." + "3" * 400]


def test_decimal_magnitudes_take_the_fast_path_and_agree() -> None:
    text = "".join(f'SHOT s{i}: pan right {m} over "x"\n' for i, m in enumerate(MAGNITUDES))
    assert agree(text) == len(MAGNITUDES)


@AGREE
@given(units=st.integers(0, 99), places=st.text("0123456789", max_size=5), sign=st.sampled_from(["", "-", "+"]),
       move=st.sampled_from(["pan right", "slow zoom in", "push in", "dutch"]))
def test_generated_decimal_magnitudes_agree(units: int, places: str, sign: str, move: str) -> None:
    number = f"{sign}{units}" + (f".{places}" if places else "")
    assert agree(f'SHOT a: {move} {number} on "x" 5s') == 1


@AGREE
@given(text=mutated_example())
def test_mutated_examples_agree(text: str) -> None:
    agree(text)


@AGREE
@given(body=fragments, head=st.sampled_from(["SHOT a:", "shot b :", "SHOT c: pan right", "  SHOT d:"]))
def test_random_shot_statements_agree(head: str, body: str) -> None:
    agree(f"{head} {body}")


@AGREE
@given(head=st.sampled_from(["after", "AFTER", "After", "afterglow", "after-a", "after:"]),
       name=st.sampled_from(["a", "b-2", "2b", "x.y", "ſ", "a'b", "pan", '"p"', "", "after"]),
       rest=st.sampled_from(['"x"', 'pan right "x" 5s', '"x" model kling-v3', "", '"x" "y"', 'slow "x"']))
def test_after_a_shot_agrees(head: str, name: str, rest: str) -> None:
    agree(f"SHOT b: {head} {name} {rest}")


def test_after_takes_the_fast_path() -> None:
    assert agree('SHOT b: after a pan right "x" 5s\nSHOT c: AFTER b-2 "y"\n') == 2


@AGREE
@given(parts=st.lists(st.sampled_from(PIECES + ['"p"', "5s", "pro", "model", "kling-v2-6", "(1,2)", "motion"]),
                      max_size=25))
def test_token_soups_agree(parts: list[str]) -> None:
    agree('SHOT a: "x" ' + " ".join(parts))


def test_a_name_after_after_that_runs_on_past_a_word_agrees() -> None:
    """`after in+2`: Lark's NAME is `in+2`, where the scanner sees a word and a number."""
    for shot in ('SHOT b: after in+2 "x"', 'SHOT b: after in+2 pan "x"', "SHOT b: after a.b \"x\"",
                 "SHOT b: after a'b \"x\"", 'SHOT b: after x-1 pan "x"'):
        agree(shot)
