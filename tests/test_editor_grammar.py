"""The editor support in editors/vscode: its TextMate grammar is current with the language
table, and highlights right in a real TextMate engine (vscode-textmate with oniguruma, what VS
Code runs); its extension starts `shotlang lsp`.

The engine tests need node and the extension's npm packages (`npm ci` in editors/vscode); they
are skipped without them, except under SHOTLANG_REQUIRE_EDITOR_TESTS=1, which .ci/run sets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import shotlang
from shotlang.compiler.language import BACKENDS, OPTIONS, STATEMENT_KEYWORDS
from shotlang.compiler.models import built_in
from shotlang.compiler.vocabulary import AXES, CONNECTORS, INTENSITIES, JOINERS, PHRASES
from shotlang.tools import editor_grammar
from shotlang.tools.editor_grammar import SCOPES, statement_scope, word_scope

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR_FILE = ROOT / editor_grammar.GRAMMAR_PATH
ANNOTATED = sorted((VSCODE / "tests").glob("*.test.shot"))
TIMEOUT = 300  # seconds; a malformed annotation can send the tester's own parser into a long loop

Token = dict[str, Any]  # {"text": str, "scopes": [str, ...]}
Tokenize = Callable[[list[str]], list[list[list[Token]]]]


def test_the_committed_grammar_is_current() -> None:
    assert GRAMMAR_FILE.read_text(encoding="utf-8") == editor_grammar.render(), (
        f"run `python -m shotlang.tools.editor_grammar {editor_grammar.GRAMMAR_PATH}`"
    )


def _grammar_scopes(rule: Any) -> Iterator[str]:
    if isinstance(rule, dict):
        for key, value in rule.items():
            if key in ("name", "contentName") and isinstance(value, str):
                yield value
            else:
                yield from _grammar_scopes(value)
    elif isinstance(rule, list):
        for item in rule:
            yield from _grammar_scopes(item)


# An annotation line of vscode-tmgrammar-test: `#`, carets or an arrow, the scopes required,
# then after ` - ` the scopes excluded.
ANNOTATION = re.compile(r"#\s*(?:\^+|<~*-+)\s+(.*)")


def _asserted_scopes() -> set[str]:
    scopes: set[str] = set()
    for path in ANNOTATED:
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := ANNOTATION.fullmatch(line):
                required = match.group(1).split(" - ")[0] if not match.group(1).startswith("- ") else ""
                scopes.update(required.split())
    return scopes


def test_every_scope_of_the_grammar_is_required_by_an_annotated_test() -> None:
    grammar = editor_grammar.grammar()
    scopes = set(_grammar_scopes(grammar["repository"])) - {""}
    assert len(ANNOTATED) >= 5
    assert scopes - _asserted_scopes() == set()


# --- in the engine ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        reason = "node is not on PATH"
    elif not (VSCODE / "node_modules" / "vscode-tmgrammar-test").is_dir():
        reason = "the npm packages are not installed (`npm ci` in editors/vscode)"
    else:
        return found
    message = f"the editor tests run node with editors/vscode's npm packages: {reason}"
    if os.environ.get("SHOTLANG_REQUIRE_EDITOR_TESTS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _run(command: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=VSCODE, input=stdin, capture_output=True, text=True,
                          encoding="utf-8", timeout=TIMEOUT, check=False)


def _grammar_tester(node: str) -> list[str]:
    """The command of vscode-tmgrammar-test, from its package's own `bin`."""
    package = VSCODE / "node_modules" / "vscode-tmgrammar-test"
    script = json.loads((package / "package.json").read_text(encoding="utf-8"))["bin"]["vscode-tmgrammar-test"]
    return [node, str(package / script)]


def test_the_annotated_tests_pass_in_a_textmate_engine(node: str) -> None:
    result = _run([*_grammar_tester(node), "tests/*.test.shot"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("run successfuly") == len(ANNOTATED), result.stdout


def test_a_wrong_annotation_fails(node: str, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.test.shot"
    wrong.write_text('# SYNTAX TEST "source.shot"\nSHOT a: pan right "x"\n#       ^^^ constant.language.intensity.shot\n',
                     encoding="utf-8")
    result = _run([*_grammar_tester(node), str(wrong)])
    assert result.returncode != 0
    assert "missing required scopes: constant.language.intensity.shot" in result.stdout


@pytest.fixture(scope="module")
def tokenize(node: str) -> Tokenize:
    """Documents' lines as tokens, each with its text and scopes, by scripts/tokenize.js."""

    def run(documents: list[str]) -> list[list[list[Token]]]:
        result = _run([node, "scripts/tokenize.js"], stdin=json.dumps(documents))
        assert result.returncode == 0, result.stderr
        tokenized: list[list[list[Token]]] = json.loads(result.stdout)
        return tokenized

    return run


def _cases() -> list[tuple[str, str, str]]:
    """(line, text, scope): in the line, exactly the text has the scope. Every word of the
    vocabulary and of the language table, in lower and upper case."""
    cases: list[tuple[str, str, str]] = []

    def both_cases(line: str, text: str, scope: str) -> None:
        cases.append((line, text, scope))
        cases.append((line.upper(), text.upper(), scope))

    for keyword in STATEMENT_KEYWORDS:
        both_cases(f"{keyword} x", keyword, SCOPES["statement"])
        cases.append((f"{keyword.title()} x", keyword.title(), SCOPES["statement"]))
    for words in PHRASES:
        phrase = " ".join(words)
        both_cases(f'SHOT s: {phrase} "p"', phrase, SCOPES["move"])
    for word in INTENSITIES:
        both_cases(f'SHOT s: {word} pan right "p"', word, SCOPES["intensity"])
    for word in JOINERS:
        both_cases(f'SHOT s: pan right {word} "p"', word, SCOPES["joiner"])
    for word in CONNECTORS - {"&", "+"}:  # those two are no token of the language (E104)
        both_cases(f'SHOT s: pan right {word} tilt up "p"', word, SCOPES["connector"])
    both_cases('SHOT s: pan right 2.5 "p"', "2.5", SCOPES["magnitude"])
    for option in OPTIONS:
        if option.terminal == "DURATION":
            for duration in ("5s", "2.5s", "15s"):
                both_cases(f'SHOT s: "p" {duration}', duration, SCOPES["duration"])
        elif option.terminal == "ASPECT":
            both_cases('SHOT s: "p" 16:9', "16:9", SCOPES["aspect"])
        for keyword in option.keywords:
            both_cases(f'SHOT s: "p" {keyword}', keyword, SCOPES["option"])
        for word in option.values or ():
            line = f'SHOT s: "p" {word}' if option.argument == "bare" else f'SHOT s: "p" {option.keywords[0]} {word}'
            both_cases(line, word, word_scope(option.kind))
    for name in built_in().names():
        cases.append((f"MODEL {name}", name, SCOPES["model"]))
        cases.append((f'SHOT s: "p" model {name}', name, SCOPES["model"]))
    for axes in AXES:
        both_cases(f"AXES {axes}", axes, SCOPES["axes"])
    for backend in BACKENDS:
        both_cases(f"BACKEND {backend}", backend, SCOPES["backend"])
    return cases


def test_every_word_of_the_vocabulary_and_the_language_table_is_highlighted(tokenize: Tokenize) -> None:
    cases = _cases()
    # One document per case: a statement's context never leaks into the next case.
    documents = tokenize([line for line, _, _ in cases])
    wrong = []
    for (line, text, scope), lines in zip(cases, documents, strict=True):
        scoped = "".join(t["text"] for t in lines[0] if scope in t["scopes"])
        if scoped != text:
            wrong.append(f"{line!r}: {scope} covers {scoped!r}, not {text!r}")
    assert wrong == []
    assert len(cases) > 200


def _shot_lists() -> dict[str, tuple[str, Path | None]]:
    """Every shot list that compiles, and its file: the examples, and the docs' ```shot blocks."""
    lists: dict[str, tuple[str, Path | None]] = {
        p.name: (p.read_text(encoding="utf-8"), p) for p in sorted((ROOT / "examples").glob("*.shot"))}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```shot\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)):
            lists[f"{doc.name}#{i}"] = (block, ROOT / "examples" / "from-the-docs.shot")  # the examples' images
    return lists


def test_shot_lists_that_compile_have_no_invalid_scope_and_every_camera_word_highlighted(
        tokenize: Tokenize) -> None:
    lists = _shot_lists()
    assert len(lists) >= 10
    problems = []
    documents = tokenize([text for text, _ in lists.values()])
    for (where, (text, path)), lines in zip(lists.items(), documents, strict=True):
        assert shotlang.compile_text(text, path).errors == [], where  # else this test proves nothing
        for number, tokens in enumerate(lines, 1):
            for token in tokens:
                scopes = token["scopes"]
                if any(s.startswith("invalid") for s in scopes):
                    problems.append(f"{where}:{number}: {token['text']!r} is {scopes[-1]}")
                if scopes[-1] == SCOPES["move-words"] and token["text"].strip():
                    problems.append(f"{where}:{number}: camera word {token['text']!r} is not highlighted")
    assert problems == []


def test_a_meta_scope_wraps_each_statement(tokenize: Tokenize) -> None:
    keywords = list(STATEMENT_KEYWORDS)
    documents = tokenize([f"{k} x" for k in keywords])
    for keyword, lines in zip(keywords, documents, strict=True):
        assert all(statement_scope(keyword) in t["scopes"] for t in lines[0]), keyword


def test_the_extension_starts_shotlang_lsp(node: str) -> None:
    result = _run([node, "--test", "tests/"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), result.stdout



# --- leading comments and continuation lines ---------------------------------------------------
# Each case is a shot list the compiler takes (test_the_shot_lists_of_these_cases_compile), and
# the engine must scope its statements as it scopes them written plainly.

# A line of each statement, as a writer would write it.
STATEMENT_LINES: dict[str, str] = {
    "shot": 'SHOT castle: slow pan right over "A castle" 5s pro',
    "sequence": "SEQUENCE chase: 15s model kling-v3 pro moves words",
    "scene": 'SCENE "EXT. QUAY - NIGHT" moves words 10s',
    "model": "MODEL kling-v2-6",
    "defaults": "DEFAULTS 10s pro 16:9",
    "title": 'TITLE "The Keeper"',
    "cast": 'CAST keeper: "a lighthouse keeper" image "images/keeper.png" also "images/keeper-side.png"',
    "axes": "AXES official",
    "backend": "BACKEND kling",
}
SHOT_LINE = STATEMENT_LINES["shot"]
# What may stand before a statement's keyword on its line: block comments and notes, several.
LEADING = ["/* draft */ ", "[[todo]] ", "/* a */ [[ b ]] /* c */ ", "/* tight */", "[[ a note with /* in it ]]  "]
# A comment or note that spans lines and closes before a statement: the text before the
# statement on its last line. It opens on a line of its own, or in a statement above.
SPANNING: dict[str, str] = {
    f"/* draft,\n   still draft */ {SHOT_LINE}": "   still draft */ ",
    f"[[ a note\n]] {SHOT_LINE}": "]] ",
    f'SHOT a: "x"\n/* cut\n*/ {SHOT_LINE}': "*/ ",
    f'SHOT a: "x"\n[[ a note\n   on two lines ]] /* and */ {SHOT_LINE}': "   on two lines ]] /* and */ ",
    f"DEFAULTS 5s\n/* cut\n*/ {SHOT_LINE}": "*/ ",
    f'SCENE "EXT. QUAY" /* a\n*/ {SHOT_LINE}': "*/ ",
    f'TITLE "The Keeper" [[ a\n]] {SHOT_LINE}': "]] ",
}
# A statement after a leading comment on the line below another one: it ends that one.
AFTER_A_STATEMENT = [f'SHOT a: "x"\n/* draft */ {SHOT_LINE}', f"DEFAULTS 5s\n  [[n]] {SHOT_LINE}",
                     f'{STATEMENT_LINES["cast"]}\n[[todo]] {SHOT_LINE}']
# A leading comment before words that are no statement: the statement above goes on.
NO_STATEMENT = ['SHOT castle: "A castle"\n/* 5s */ 10s\n    pro', 'SHOT castle: "A castle"\n/* a comment line */\n    pro']


def _split_shots() -> list[str]:
    """SHOT_LINE with its camera words and prompt cut over continuation lines, at every word."""
    parts = ["slow", "pan right", "over", '"A castle" 5s pro']
    shots = []
    for cut in range(len(parts)):
        first = " ".join(["SHOT castle:", *parts[:cut]])
        shots.append("\n".join([first, *(f"    {p}" for p in parts[cut:])]))
        shots.append(f"{first}  # a comment\n    # a comment line\n    {' '.join(parts[cut:])}")
    return [*shots, 'SHOT castle:\n    [[ a note ]] slow pan right over\n    /* a */ "A castle" 5s pro',
            'SHOT castle: slow\n\t  pan right over\n  "A castle" 5s pro']


SPLIT_SHOTS = _split_shots()
MORE_MOVES = ['SHOT a:\n    zoom in 6 "x"\nSHOT b: after a\n    fast dolly forward\n    through "y"',
              'SEQUENCE s: 10s model kling-v3\n    SHOT c: slow\n        tilt up toward\n        "z"']
# Shots with a prompt on continuation lines: on each line after the first, the text that is
# the prompt's ("" for the whole line, None for none).
PROMPTS: list[list[tuple[str, str | None]]] = [
    [('SHOT storm: fast tilt up over "Rain streams down,"', None), ('"the camera pans right over the sea,"', ""),
     ('    "slow pan right, zoom in 6" 5s', '"slow pan right, zoom in 6"')],
    [('SHOT castle: pan right "A castle,', None), ('    slow pan right over the sea, zoom in"', "")],
    [("SHOT castle: slow", None), ("    pan right", None), ('    "zoom in over the sea" 5s', '"zoom in over the sea"')],
    [("SHOT castle:", None), ('    slow pan right "over the sea, tilt up" 5s', '"over the sea, tilt up"')],
]
CAMERA_SCOPES = {SCOPES[k] for k in ("move", "intensity", "joiner", "connector", "magnitude", "move-words")}


def test_the_shot_lists_of_these_cases_compile() -> None:
    cases = [*(prefix + line for line in STATEMENT_LINES.values() for prefix in ["", *LEADING]), *SPANNING,
             *AFTER_A_STATEMENT, *NO_STATEMENT, *SPLIT_SHOTS, *MORE_MOVES,
             *("\n".join(line for line, _ in shot) for shot in PROMPTS)]
    assert STATEMENT_LINES.keys() == set(STATEMENT_KEYWORDS)
    for text in cases:
        # A shot below, indented past any comment: a SEQUENCE's, or a statement of its own.
        below = f'\n{" " * 40}SHOT below: "A harbour"'
        result = shotlang.compile_text(text + below, ROOT / "examples" / "cases.shot")
        assert result.errors == [], text


def _char_scopes(line: list[Token]) -> list[tuple[str, ...]]:
    """The scopes of each character of a tokenized line."""
    return [tuple(t["scopes"]) for t in line for _ in t["text"]]


def _words(line: list[Token]) -> dict[str, list[str]]:
    """Each token's text, blanks stripped, and its scopes."""
    return {t["text"].strip(): t["scopes"] for t in line if t["text"].strip()}


def _is_comment(scopes: tuple[str, ...] | list[str]) -> bool:
    return any(s.startswith("comment.") for s in scopes)


def test_a_statement_after_leading_block_comments_or_notes_is_scoped_as_without_them(tokenize: Tokenize) -> None:
    cases = [(prefix, line) for line in STATEMENT_LINES.values() for prefix in LEADING]
    documents = tokenize([*(prefix + line for prefix, line in cases), *STATEMENT_LINES.values()])
    plain = dict(zip(STATEMENT_LINES.values(), documents[len(cases):], strict=True))
    wrong = []
    for (prefix, line), [tokens] in zip(cases, documents[:len(cases)], strict=True):
        scopes = _char_scopes(tokens)
        if scopes[len(prefix):] != _char_scopes(plain[line][0]):
            wrong.append(f"{prefix + line!r}: {tokens}")
        if not all(_is_comment(scopes[i]) for i, c in enumerate(prefix) if c != " "):
            wrong.append(f"{prefix + line!r}: its comments are not all comment: {tokens}")
    assert wrong == []


def test_the_keyword_name_and_moves_after_a_leading_comment_or_note(tokenize: Tokenize) -> None:
    prefixes = ["/* draft */ ", "[[todo]] "]
    for prefix, [tokens] in zip(prefixes, tokenize([prefix + SHOT_LINE for prefix in prefixes]), strict=True):
        words = {w: s[-1] for w, s in _words(tokens).items()}
        assert {"SHOT": words["SHOT"], "castle": words["castle"], "slow": words["slow"],
                "pan right": words["pan right"], "over": words["over"], "5s": words["5s"]} == {
            "SHOT": SCOPES["statement"], "castle": SCOPES["shot-name"], "slow": SCOPES["intensity"],
            "pan right": SCOPES["move"], "over": SCOPES["joiner"], "5s": SCOPES["duration"]}
        assert all(statement_scope("shot") in t["scopes"] for t in tokens)
        assert "".join(t["text"] for t in tokens if _is_comment(t["scopes"])) == prefix.strip()


def test_a_statement_after_a_comment_that_spans_lines_is_scoped_as_without_it(tokenize: Tokenize) -> None:
    [[plain], *documents] = tokenize([SHOT_LINE, *SPANNING])
    wrong = [text for (text, before), lines in zip(SPANNING.items(), documents, strict=True)
             if _char_scopes(lines[-1])[len(before):] != _char_scopes(plain)]
    assert wrong == []


def test_a_statement_after_a_leading_comment_ends_the_one_above(tokenize: Tokenize) -> None:
    [[plain], *documents] = tokenize([SHOT_LINE, *AFTER_A_STATEMENT])
    assert [_char_scopes(lines[1])[-len(SHOT_LINE):] for lines in documents] == [_char_scopes(plain)] * len(documents)


def test_a_leading_comment_before_no_statement_leaves_the_one_above_going_on(tokenize: Tokenize) -> None:
    [options, comment_line] = tokenize(NO_STATEMENT)
    for lines in (options, comment_line):
        assert all(statement_scope("shot") in t["scopes"] for line in lines for t in line)
    assert _words(options[1])["10s"][-1] == SCOPES["duration"]


def test_a_move_on_a_continuation_line_is_scoped_as_on_the_first_line(tokenize: Tokenize) -> None:
    [[plain], *documents] = tokenize([SHOT_LINE, *SPLIT_SHOTS])
    expected = _words(plain)
    wrong = []
    for text, lines in zip(SPLIT_SHOTS, documents, strict=True):
        words = {w: s for line in lines for w, s in _words(line).items()}
        wrong.extend(f"{text!r}: {w!r} is {words.get(w)}, not {expected[w]}"
                     for w in ("slow", "pan right", "over", "5s", "pro") if words.get(w) != expected[w])
    assert wrong == []


def test_magnitudes_and_other_moves_on_a_continuation_line(tokenize: Tokenize) -> None:
    scoped = {(w, s[-1]) for lines in tokenize(MORE_MOVES) for line in lines[1:] for w, s in _words(line).items()}
    assert {("zoom in", SCOPES["move"]), ("6", SCOPES["magnitude"]), ("dolly forward", SCOPES["move"]),
            ("fast", SCOPES["intensity"]), ("through", SCOPES["joiner"]), ("tilt up", SCOPES["move"]),
            ("toward", SCOPES["joiner"])} <= scoped


def test_a_prompt_on_a_continuation_line_is_a_string_with_no_camera_words(tokenize: Tokenize) -> None:
    documents = tokenize(["\n".join(line for line, _ in shot) for shot in PROMPTS])
    wrong = []
    for shot, lines in zip(PROMPTS, documents, strict=True):
        for (text, prompt), tokens in zip(shot[1:], lines[1:], strict=True):
            in_string = [t for t in tokens if SCOPES["string"] in t["scopes"]]
            if "".join(t["text"] for t in in_string).strip() != (text.strip() if prompt == "" else prompt or ""):
                wrong.append(f"{text!r}: the string is {in_string}")
            if any(CAMERA_SCOPES & set(t["scopes"]) for t in in_string):
                wrong.append(f"{text!r}: camera words in the string: {in_string}")
    assert wrong == []


def test_camera_words_end_where_the_shot_ends_without_a_prompt(tokenize: Tokenize) -> None:
    [[plain], *documents] = tokenize(['SHOT b: zoom in "x"', 'SHOT a: slow pan right\nSHOT b: zoom in "x"',
                                      'SHOT a: slow pan right\n\n    pan left "x"', "SHOT a: slow\npro 5s"])
    assert _char_scopes(documents[0][1]) == _char_scopes(plain)
    assert all(CAMERA_SCOPES.isdisjoint(t["scopes"]) for lines in documents[1:] for t in lines[-1])


def test_camera_words_end_at_curly_quotes_meant_as_the_prompts(tokenize: Tokenize) -> None:
    [lines] = tokenize(["SHOT a: slow pan right \u201cA castle\u201d 5s\n    pro"])
    assert [w for line in lines for w, s in _words(line).items() if s[-1] == SCOPES["curly-quote"]] == ["\u201c", "\u201d"]
    assert _words(lines[0])["5s"][-1] == SCOPES["duration"]
    assert _words(lines[1])["pro"][-1] == word_scope("mode")
