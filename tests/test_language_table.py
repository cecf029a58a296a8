"""The language table (shotlang/compiler/language.py) says what the grammar says.

The grammar is the readable spec; the table is the same language as data for the fast path, the
tree builder, the lowering, the hints and the docs. These tests read the grammar through Lark's
own terminals and rules and compare, so a keyword, option or token pattern changed on one side
only fails here, whatever the other tests' inputs happen to contain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from lark import Lark
from lark.lexer import PatternRE, PatternStr

from shotlang.compiler import language, parser
from shotlang.compiler.language import OPTIONS, STATEMENTS, TOKENS, terminal

# What follows an option's keyword in the grammar, by the table's `argument`.
_ARGUMENT_SYMBOLS = {"text": ["text"], "name": ["NAME"], "word": ["WORD"], "number": ["NUMBER"],
                     "points": ["text", "point+"], "bare": []}
_SHAPE_SYMBOLS = {"text": ["text"], "name": ["NAME"], "word": ["WORD"], "options": ["option+"],
                  "shot": ["NAME", "COLON", "after?", "move?", "text", "option*"], "sequence": ["NAME", "COLON", "option*"],
                  "scene": ["text", "option*"], "cast": ["NAME", "COLON", "text", "also*"]}
_NOT_TOKENS = {"COMMENT"}  # ignored by the grammar, never a token of a statement
_WHOLE_WORD = '(?![^\\s:"#()])'  # after a keyword matched only as a whole word


def _lark(grammar: str) -> Lark:
    return Lark(grammar, parser="lalr", start="statement")


def differences(lark: Lark, options: Iterable[language.Option] = OPTIONS,
                statements: Iterable[language.Statement] = STATEMENTS,
                tokens: dict[str, tuple[str, bool]] = TOKENS) -> list[str]:
    """Every way the grammar and the table disagree, in words."""
    options, statements = list(options), list(statements)
    found: list[str] = []
    keywords = {t.name: t.pattern.value for t in lark.terminals
                if isinstance(t.pattern, PatternStr) and t.pattern.value.isalpha()}
    # A keyword matched only as a whole word (language.WHOLE_WORD_KEYWORDS): `cast(?!…)`.
    keywords |= {t.name: whole[1] for t in lark.terminals if isinstance(t.pattern, PatternRE)
                 and (whole := re.fullmatch(r"([a-z]+)" + re.escape(_WHOLE_WORD), t.pattern.value))}
    table_keywords = {terminal(k): k for k in (*(s.keyword for s in statements),
                                               *(k for o in options for k in o.keywords), *language.OTHER_KEYWORDS)}
    for name in sorted(keywords.keys() - table_keywords.keys()):
        found.append(f"the grammar's keyword {name} ({keywords[name]!r}) is not in the table")
    for name in sorted(table_keywords.keys() - keywords.keys()):
        found.append(f"the table's keyword {table_keywords[name]!r} is not a grammar terminal {name}")
    for name, word in keywords.items():
        term = next(t for t in lark.terminals if t.name == name)
        if name in table_keywords and (word != table_keywords[name] or "i" not in term.pattern.flags):
            found.append(f"keyword {name} is {word!r} (flags {sorted(term.pattern.flags)}) in the grammar, "
                         f"{table_keywords[name]!r} case-insensitive in the table")

    patterns = {t.name: t for t in lark.terminals
                if isinstance(t.pattern, PatternRE) and not t.name.startswith("__") and t.name not in _NOT_TOKENS
                and t.name not in keywords}
    for name in sorted(patterns.keys() ^ tokens.keys()):
        side = "grammar" if name in patterns else "table"
        found.append(f"token {name} is only in the {side}")
    for name in sorted(patterns.keys() & tokens.keys()):
        term, (regex, no_case) = patterns[name], tokens[name]
        if term.pattern.value != regex or ("i" in term.pattern.flags) != no_case:
            found.append(f"token {name} is /{term.pattern.value}/{''.join(sorted(term.pattern.flags))} in the "
                         f"grammar, /{regex}/{'i' if no_case else ''} in the table")

    rules = _rules(lark)
    grammar_options = {tuple(r) for r in rules.get("option", [])}
    table_options = set()
    for option in options:
        heads = [terminal(k) for k in option.keywords] or [option.terminal or "?"]
        table_options |= {(head, *_ARGUMENT_SYMBOLS[option.argument]) for head in heads}
    for alternative in sorted(grammar_options - table_options):
        found.append(f"the grammar's option `{' '.join(alternative)}` is not in the table")
    for alternative in sorted(table_options - grammar_options):
        found.append(f"the table's option `{' '.join(alternative)}` is not in the grammar")

    grammar_statements = {r[0]: tuple(r) for alternatives in rules.values() for r in alternatives
                          if r and r[0] in {terminal(s.keyword) for s in statements}
                          and alternatives is not rules.get("option")}
    for statement in statements:
        want = (terminal(statement.keyword), *_SHAPE_SYMBOLS[statement.shape])
        got = grammar_statements.get(terminal(statement.keyword))
        if got != want:
            found.append(f"statement {statement.keyword.upper()} is `{' '.join(got or ('(missing)',))}` in the "
                         f"grammar, `{' '.join(want)}` in the table")
    return found


def _rules(lark: Lark) -> dict[str, list[list[str]]]:
    """Each rule's alternatives as the grammar writes them: Lark's helper rules for `x+`, `x*`
    and `x?` folded back in (an optional part doubles a rule's alternatives in Lark)."""
    helpers: dict[str, str] = {}
    for rule in lark.rules:
        name = rule.origin.name
        if name.startswith("__") and "_plus_" in name:
            helpers[name] = [s.name for s in rule.expansion if s.name != name][0] + "+"
        elif name.startswith("__") and "_star_" in name:
            helpers[name] = [s.name for s in rule.expansion if s.name != name][0] + "*"
    rules: dict[str, list[list[str]]] = {}
    for rule in lark.rules:
        name = rule.origin.name
        if name.startswith("__"):
            continue
        rules.setdefault(name, []).append([helpers.get(s.name, s.name) for s in rule.expansion])
    # `defaults: DEFAULTS option+` shares the star helper of `option*`: say it as written.
    rules["defaults"] = [[s.replace("option*", "option+") for s in r] for r in rules.get("defaults", [])]
    # `shot: SHOT NAME ":" move? text option*` is four alternatives in Lark, `sequence: SEQUENCE
    # NAME ":" option*` two (with and without the options); the longest is the rule.
    for name in ("shot", "sequence", "scene", "cast"):
        if name in rules:
            longest = max(rules[name], key=len)
            rules[name] = [[s if s not in ("move", "after") else s + "?" for s in longest]]
    return rules


@pytest.fixture(scope="module")
def grammar() -> str:
    return parser.grammar_path().read_text(encoding="utf-8")


def test_the_table_and_the_grammar_agree(grammar: str) -> None:
    assert differences(_lark(grammar)) == []


def test_a_keyword_option_added_to_the_grammar_alone_is_caught(grammar: str) -> None:
    zzprobe = grammar.replace("      | SOUND WORD", "      | SOUND WORD\n      | ZZPROBE WORD") + '\nZZPROBE: "zzprobe"i\n'
    found = differences(_lark(zzprobe))
    assert "the grammar's keyword ZZPROBE ('zzprobe') is not in the table" in found
    assert "the grammar's option `ZZPROBE WORD` is not in the table" in found


def test_an_option_added_to_the_table_alone_is_caught(grammar: str) -> None:
    zzprobe = language.Option("zzprobe", ("zzprobe",), "word", None, "zzprobe", False, None, "", "", "")
    found = differences(_lark(grammar), options=(*OPTIONS, zzprobe))
    assert "the table's keyword 'zzprobe' is not a grammar terminal ZZPROBE" in found
    assert "the table's option `ZZPROBE WORD` is not in the grammar" in found


def test_an_argument_changed_on_one_side_is_caught(grammar: str) -> None:
    changed = grammar.replace("      | CFG NUMBER", "      | CFG WORD")
    assert "the grammar's option `CFG WORD` is not in the table" in differences(_lark(changed))


def test_a_statement_or_token_changed_on_one_side_is_caught(grammar: str) -> None:
    changed = grammar.replace("axes: AXES WORD", "axes: AXES NAME").replace(r"ASPECT: /\d+:\d+/", r"ASPECT: /\d+[:x]\d+/")
    found = differences(_lark(changed))
    assert "statement AXES is `AXES NAME` in the grammar, `AXES WORD` in the table" in found
    assert any(f.startswith("token ASPECT is") for f in found)
    fewer = differences(_lark(grammar), statements=[s for s in STATEMENTS if s.keyword != "title"])
    assert "the grammar's keyword TITLE ('title') is not in the table" in fewer


def test_the_option_words_give_every_api_value() -> None:
    from shotlang.compiler import kling

    assert set(language.MODE_WORDS.values()) == set(kling.MODES)
    assert set(language.SOUND_WORDS.values()) == set(kling.SOUNDS)


def test_every_option_is_documented_and_derived_names_hold() -> None:
    kinds = [o.kind for o in OPTIONS]
    assert len(kinds) == len(set(kinds)), "an option kind is used twice"
    keywords = [k for o in OPTIONS for k in o.keywords]
    assert len(keywords) == len(set(keywords)), "an option keyword is used twice"
    # Every option fills an API field, but `moves`, which says how a SEQUENCE writes its prompts,
    # and `takes` and `pick`, which say how many requests are sent and which video is the shot's.
    assert all(o.written and o.example and (o.field or o.kind in ("moves", "takes", "pick")) for o in OPTIONS)
    assert all((o.argument == "bare") == (o.terminal is not None) for o in OPTIONS)
    # A line starting with a statement keyword that is also an option (`model`) may continue
    # the SHOT above it; the others always start a statement.
    assert "model" not in language.NEVER_CONTINUE and "scene" in language.NEVER_CONTINUE


def test_each_option_is_a_setting_and_an_api_field() -> None:
    from shotlang.compiler.bodies import VideoRequest
    from shotlang.compiler.lower import TYPED_SETTINGS, Settings, Value
    from shotlang.compiler.source import Source, Span

    kinds = {o.kind for o in OPTIONS if o.kind not in language.REPEATABLE}
    assert kinds >= TYPED_SETTINGS, "a typed setting that is no option's"
    assert {o.field.partition(".")[0] for o in OPTIONS if o.field} <= set(VideoRequest.model_fields)
    # An option sent as its value says needs no typed field: its value is kept all the same.
    span = Span(Source("x"), 0, 1)
    settings = Settings.of({"cfg": Value(0.5, span), "zzprobe": Value(7, span)})
    assert settings.cfg == settings.get("cfg") == Value(0.5, span)
    assert settings.get("zzprobe") == Value(7, span) and settings.more == {"zzprobe": Value(7, span)}
    assert settings.get("sound") is None


@pytest.mark.parametrize("option", language.AS_IS, ids=[o.kind for o in language.AS_IS])
def test_an_option_sent_as_is_has_its_body_field_made_from_its_row(option: language.Option) -> None:
    """bodies.VideoRequest's field for the option takes exactly what the row says: its words'
    values, the numbers within its bounds (whole ones if it says so), or text."""
    from pydantic import ValidationError

    from shotlang.compiler.bodies import VideoRequest

    outer, _, inner = option.field.partition(".")

    def body(value: object) -> dict[str, object]:
        return {"model_name": "m", "duration": "5", outer: {inner: value} if inner else value}

    if option.values is not None:
        good, bad = list(option.values.values()), ["maybe", 2, None if inner else "ON"]
    elif option.bounds is not None:
        low, high = option.bounds.low, option.bounds.high
        good, bad = [low, high], [low - 1, high + 1, "high"]
        if not option.bounds.whole:
            good.append((low + high) / 2)
    else:
        good, bad = ["some text", ""], [5, True]
    for value in good:
        assert VideoRequest.model_validate(body(value)).model_dump(exclude_none=True)[outer] == (
            {inner: value} if inner else value)
    for value in bad:
        with pytest.raises(ValidationError):
            VideoRequest.model_validate(body(value))


def _first_example(option: language.Option) -> str:
    return option.example.split("`")[1]  # "`5s`, `10s`" -> 5s


@pytest.mark.parametrize("option", OPTIONS, ids=[o.kind for o in OPTIONS])
def test_each_option_is_read_alike_by_the_fast_path_and_the_grammar(option: language.Option) -> None:
    """Every row's example, after a prompt: the fast path reads it (no trip to Lark for a plain
    option), Lark builds the same tree, and both call it the row's kind."""
    from shotlang.compiler.parser import parse_with_grammar
    from shotlang.compiler.quickparse import parse_shot
    from shotlang.compiler.source import Source

    text = f'SHOT a: "x" {_first_example(option)}'
    source = Source(text)
    quick = parse_shot(source, 0, len(text))
    assert quick is not None, f"the fast path does not read {text!r}"
    assert quick == parse_with_grammar(source, 0, len(text))
    assert [o.kind for o in quick.options] == [option.kind]


@pytest.mark.parametrize("keyword", language.OPTION_KEYWORDS)
def test_keywords_with_unicode_case_folds_are_read_alike(keyword: str) -> None:
    """Lark's case-insensitive keywords match by Python's rules, where `ſ` (long s) is `s` and
    `İ` is `i`; the fast path must then agree with Lark or leave the statement to it."""
    from shotlang.compiler.parser import parse_with_grammar
    from shotlang.compiler.quickparse import parse_shot
    from shotlang.compiler.source import Source

    for variant in {keyword.replace("s", "ſ"), keyword.replace("i", "İ"), keyword.upper()} - {keyword}:
        for value in ("on", '"v"', "1", "kling-v2-6", '"m.png" (1, 2) (3, 4)'):
            text = f'SHOT a: "x" {variant} {value}'
            source = Source(text)
            quick = parse_shot(source, 0, len(text))
            if quick is None:
                continue
            try:
                grammar = parse_with_grammar(source, 0, len(text))
            except Exception:  # noqa: BLE001  # Lark rejects it: the fast path must not accept it
                raise AssertionError(f"the fast path read {text!r}, which the grammar rejects") from None
            assert quick == grammar, text


def test_a_long_s_statement_keyword_starts_a_statement_as_the_grammar_reads_it() -> None:
    from shotlang.compiler.parser import statement_chunks

    text = 'SHOT a: "x"\n    ſcene "EXT. FIELD"\n'
    assert len(statement_chunks(text)) == 2  # not a continuation of the SHOT
