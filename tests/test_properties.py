"""Property tests: whatever the input, the compiler reports and never raises; and shots built
from the vocabulary lower to exactly the values the tables give."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shotlang
from shotlang.compiler import kling
from shotlang.compiler.diagnostics import CODES
from shotlang.compiler.language import MODE_WORDS
from shotlang.compiler.models import built_in
from shotlang.compiler.vocabulary import INTENSITIES, JOINERS, MOVES

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.shot"))
EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in EXAMPLES]
FUZZ = settings(max_examples=20 * settings.default.max_examples,  # 2,000 in CI: tests/conftest.py
                deadline=None, suppress_health_check=list(HealthCheck))

# Characters that matter to the lexer and the line splitter, and some that matter to nothing.
PIECES = ['"', "\\", "#", ":", "\n", "\r\n", " ", "    ", "(", ")", ",", "5s", "16:9", "-", ".", "0",
          "10", "SHOT", "shot", "SCENE", "MODEL", "DEFAULTS", "AXES", "BACKEND", "fal", "TITLE", "image", "tail", "mask",
          "motion", "cfg", "pan", "right", "zoom", "in", "slow", "over", "pro", "\u201c", "\ufeff",
          "\x00", "東", "é", "\t", "\x0b", "\u2028"]
fragments = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=40).map("".join)


def assert_sound(result: shotlang.CompileResult) -> None:
    """What every result must be, however bad the input."""
    lines = result.source.text.count("\n") + 1
    for d in result.diagnostics:
        assert d.code in CODES
        assert d.message and d.hint
        assert 1 <= d.span.line <= d.span.end_line <= lines
        assert d.span.column >= 1 and d.span.start <= d.span.end
        result.render()  # rendering never fails either
    if result.errors:
        assert result.output is None
    else:
        assert result.output is not None
        json.loads(result.output.to_json())
        # Every body the compiler writes passes the API schema, and reads back the same.
        assert [s.model_dump(mode="json") for s in result.output.shots] == result.output.records


@FUZZ
@given(text=fragments)
def test_any_text_gives_diagnostics_not_exceptions(text: str) -> None:
    assert_sound(shotlang.compile_text(text, "fuzz.shot"))


@FUZZ
@given(data=st.binary(max_size=64))
def test_any_bytes_give_diagnostics_not_exceptions(data: bytes) -> None:
    assert_sound(shotlang.compile_bytes(data, "fuzz.shot"))


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate-line"]))
        if kind == "insert":
            text = text[:at] + draw(fragments) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif kind == "replace":
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at + 1 :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])
    return text


@FUZZ
@given(text=mutated_example())
def test_mutated_examples_give_diagnostics_not_exceptions(text: str) -> None:
    # Compiled as if in examples/, so the image paths of harbour.shot resolve.
    assert_sound(shotlang.compile_text(text, EXAMPLES[0].parent / "mutant.shot"))


# --- meaning is preserved --------------------------------------------------------------------

SIMPLE_MOVES = [m for m in MOVES if m.seed is not None]
prompts = st.text(st.characters(exclude_categories=["Cs", "Cc"], exclude_characters='"\\'),
                  min_size=1, max_size=60).filter(lambda s: s.strip())


# The shots below use the default model: the durations and ratios its row of the matrix lists.
DEFAULT_MODEL = built_in().models[kling.DEFAULT_MODEL]


@settings(max_examples=5 * settings.default.max_examples, deadline=None)
@given(
    move=st.sampled_from(SIMPLE_MOVES),
    phrase_index=st.integers(0, 10),
    # A magnitude: whole, or with up to two decimal places as a writer may put them (`2.50`, `5.0`).
    strength=st.one_of(st.none(), st.sampled_from(sorted(INTENSITIES)), st.integers(1, 10),
                       st.decimals(Decimal("0.01"), Decimal(kling.MAGNITUDE_MAX), places=2).map(str),
                       st.integers(1, 10).map(lambda n: f"{n}.0")),
    joiner=st.one_of(st.just(""), st.sampled_from(sorted(JOINERS))),
    prompt=prompts,
    duration=st.sampled_from(DEFAULT_MODEL.durations),
    mode=st.sampled_from(sorted(MODE_WORDS)),
    aspect=st.sampled_from(DEFAULT_MODEL.aspect_ratios),
    reading=st.sampled_from(["seed", "official"]),
    upper=st.booleans(),
)
def test_generated_shots_lower_to_the_tables_values(
    move, phrase_index, strength, joiner, prompt, duration, mode, aspect, reading, upper  # type: ignore[no-untyped-def]
) -> None:
    phrase = move.phrases[phrase_index % len(move.phrases)]
    words = phrase
    number = isinstance(strength, int) or (isinstance(strength, str) and strength[0].isdigit())
    if number:
        words = f"{phrase} {strength}"
    elif isinstance(strength, str):
        words = f"{strength} {phrase}"
    options = f"{duration}s {mode} {aspect}"
    if upper:
        words, options = words.upper(), options.upper()
    text = f'SHOT generated: {words} {joiner} "{prompt}" {options}'
    result = shotlang.compile_text(text, axes=reading)
    assert result.errors == [], result.render()
    assert result.output is not None
    body = result.output.shots[0].body
    magnitude = (5 if strength is None else Decimal(str(strength)) if number else INTENSITIES[strength])
    axis = move.axis(reading)
    config = body.camera_control.config.model_dump()  # type: ignore[union-attr]
    assert config == {**dict.fromkeys(kling.CAMERA_FIELDS, 0), axis.field: axis.sign * float(magnitude)}
    # Sent as written: the JSON number reads back as exactly the magnitude, and a whole one is an integer.
    sent = json.loads(result.output.to_json(), parse_float=Decimal)["shots"][0]["body"]["camera_control"]["config"]
    assert sent[axis.field] == axis.sign * magnitude
    assert isinstance(sent[axis.field], int) == (magnitude == int(magnitude))
    assert body.prompt == prompt
    assert (body.duration, body.mode, body.aspect_ratio) == (duration, MODE_WORDS[mode], aspect)
