"""The TextMate grammar of `.shot` files, for editors: editors/vscode/syntaxes/shot.tmLanguage.json.

Every word list in it comes from the language table (language.py) and the film vocabulary
(vocabulary.py), so a move, intensity or option added there is highlighted once the file is
written again:

    python -m shotlang.tools.editor_grammar editors/vscode/syntaxes/shot.tmLanguage.json

tests/test_editor_grammar.py fails when the committed file differs from what this module makes,
and runs the file through a real TextMate engine (vscode-textmate with oniguruma).

A TextMate grammar reads one line at a time with regular expressions, so it only approximates
the language; the language server gives the exact diagnostics. What it follows:

- A statement starts a line, after its indent and any block comments and notes that close on
  it (`/* draft */ SHOT castle: …`), or after the `*/` or `]]` of one that opened on an earlier
  line. `SHOT`, `SEQUENCE` and `DEFAULTS` go on over the lines indented deeper than their first
  line, over comment lines and over lines that start with a string, until a blank line, a
  shallower line or a statement that never continues another (language.NEVER_CONTINUE), as the
  parser does; their options are read as options there.
- A SHOT's camera words are those between its colon and its prompt, over continuation lines
  too; only there are moves, intensities, joiners and magnitudes read as such (longest phrase
  first, so `push in and up` is one preset and not `push in` and a connector).
- A string goes on over the following lines while they are indented, and an escape is `\\"` or
  `\\\\`; any other backslash is plain text.
- Model names are read by the grammar's NAME pattern, not from a list: models files add models.

What a TextMate grammar cannot follow (the compiler and the language server do):

- Widths. The compiler reads a comment or note before a keyword as blanks, so a statement after
  one goes on only over lines deeper than its keyword; a regular expression can compare a line's
  indent with the text of an earlier one but not with its width, so the grammar holds such a
  statement to the blanks before its comments (the lines between, E105 to the compiler, read as
  continuing it).
- Where a comment opened. After a `*/` or `]]`, a statement keyword starts a statement: right
  when the comment opened on an earlier line, and an error the grammar does not flag when it
  opened on the same line after other words.
- A SHOT's indent, inside its camera words. The rule that reads them begins at the colon, so it
  has no indent to hold lines to: they end at the prompt, a statement, or a blank or unindented
  line. A SHOT with no prompt yet (E102), indented under a SCENE or SEQUENCE, has the lines at
  its own indent below it read as its camera words up to there.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..compiler import kling
from ..compiler.language import (
    BACKENDS,
    NEVER_CONTINUE,
    OPTIONS,
    OTHER_KEYWORDS,
    SMART_QUOTES,
    STATEMENT_KEYWORDS,
    TOKENS,
    token_pattern,
)
from ..compiler.scanner import DELIMITERS
from ..compiler.vocabulary import AXES, CONNECTORS, INTENSITIES, JOINERS, PHRASES

# Where the committed grammar lives, from the repository's top.
GRAMMAR_PATH = "editors/vscode/syntaxes/shot.tmLanguage.json"
SCOPE_NAME = "source.shot"

Rule = dict[str, Any]

# The scope of each thing the grammar recognises. Names follow TextMate's conventions, so that
# any colour theme has a colour for them; the last part is always `shot`.
SCOPES: dict[str, str] = {
    "comment": "comment.line.number-sign.shot",
    "comment-mark": "punctuation.definition.comment.shot",
    "block-comment": "comment.block.shot",
    "block-comment-begin": "punctuation.definition.comment.begin.shot",
    "block-comment-end": "punctuation.definition.comment.end.shot",
    # A Fountain-style note: kept out of the prompt, so it looks like a remark, not like text sent.
    "note": "comment.block.note.shot",
    "note-begin": "punctuation.definition.note.begin.shot",
    "note-end": "punctuation.definition.note.end.shot",
    "statement": "keyword.control.statement.shot",
    "shot-name": "entity.name.function.shot.shot",
    "sequence-name": "entity.name.function.sequence.shot",
    "cast-name": "entity.name.type.cast.shot",
    "cast-reference": "variable.other.cast.shot",
    "after-name": "entity.name.function.shot.after.shot",
    "colon": "punctuation.separator.colon.shot",
    "move-words": "meta.move.shot",
    "move": "support.function.move.shot",
    "intensity": "constant.language.intensity.shot",
    "magnitude": "constant.numeric.magnitude.shot",
    "joiner": "keyword.other.joiner.shot",
    "connector": "keyword.operator.connector.shot",
    "string": "string.quoted.double.shot",
    "string-begin": "punctuation.definition.string.begin.shot",
    "string-end": "punctuation.definition.string.end.shot",
    "escape": "constant.character.escape.shot",
    "voice-reference": "constant.other.placeholder.voice.shot",
    "option": "keyword.other.option.shot",
    "duration": "constant.numeric.duration.shot",
    "aspect": "constant.numeric.aspect-ratio.shot",
    "model": "support.constant.model.shot",
    "number": "constant.numeric.shot",
    "point": "meta.point.shot",
    "point-begin": "punctuation.section.parens.begin.shot",
    "point-end": "punctuation.section.parens.end.shot",
    "comma": "punctuation.separator.comma.shot",
    "coordinate": "constant.numeric.coordinate.shot",
    "axes": "constant.language.axes.shot",
    "backend": "constant.language.backend.shot",
    "curly-quote": "invalid.illegal.curly-quote.shot",
    "stray-comment-end": "invalid.illegal.stray-comment-end.shot",
    "stray-note-end": "invalid.illegal.stray-note-end.shot",
}


def word_scope(kind: str) -> str:
    """The scope of the words an option takes: `pro` is constant.language.mode.shot."""
    return f"constant.language.{kind}.shot"


def statement_scope(keyword: str) -> str:
    """The scope around a whole statement, continuation lines included."""
    return f"meta.statement.{keyword}.shot"


# --- regular expressions ---------------------------------------------------------------------


def _word_characters() -> str:
    """The characters a WORD goes on with after its first letter, as a class: `[\\w'-]`."""
    match = re.fullmatch(r"\[\^\\W\\d\](\[[^]]*\])\*", TOKENS["WORD"][0])
    assert match, f"WORD is no longer `letter, then a class*`: {TOKENS['WORD'][0]}"
    return match.group(1)


WORD_CHAR = _word_characters()
BEFORE_WORD = f"(?<!{WORD_CHAR})"  # not inside a longer word
AFTER_WORD = f"(?!{WORD_CHAR})"


def _group_free(terminal: str) -> str:
    """A terminal's pattern, checked to have no capturing group of its own (it goes inside
    patterns whose captures are numbered)."""
    pattern = token_pattern(terminal)
    assert re.compile(pattern).groups == 0, f"{terminal}'s pattern has a capturing group: {pattern}"
    return pattern


def words(phrases: Iterable[str]) -> str:
    """Whole words or phrases, in any case, with any spaces or tabs between their words.

    Longest phrases first, by words and then letters: an alternation takes the first that
    matches, and `push in` would otherwise win over `push in and up`.
    """
    ordered = sorted(set(phrases), key=lambda p: (-len(p.split()), -len(p), p))
    alternatives = "|".join(r"[ \t]+".join(re.escape(w) for w in p.split()) for p in ordered)
    return f"{BEFORE_WORD}(?i:{alternatives}){AFTER_WORD}"


def _is_word(text: str) -> bool:
    return re.fullmatch(TOKENS["WORD"][0], text) is not None


# A number that is not the tail of a word or of another number (`v3`, `1.5` in `1.5.2`).
NUMBER = rf"(?<![\w.]){token_pattern('NUMBER')}"
NAME = _group_free("NAME")


def _closed_comment(opener: str, closer: str) -> str:
    """A block comment or a note that opens and closes on the line; not nested, so it ends at
    its first closer."""
    return rf"{re.escape(opener)}(?:(?!{re.escape(closer)}).)*{re.escape(closer)}"


# What may stand between a line's indent and its statement's keyword: block comments and notes,
# each with the blanks after it (`/* draft */ [[todo]] SHOT castle: …`). The compiler reads them
# as blanks.
LEADING_COMMENTS = r"(?:(?:{})[ \t]*)*".format("|".join(_closed_comment(*d) for d in DELIMITERS.values()))
# Just after a block comment or a note closed: a statement may begin there too, when the comment
# opened on an earlier line (`/* cut …`, then `… */ SHOT castle: …`: the compiler reads the line
# as blanks, then the SHOT). One line is all a regular expression sees, so it cannot tell that
# closer from one whose comment opened on the same line after a statement's words
# (`SHOT a: "x" /* … */ SHOT b: …`, which the compiler refuses).
AFTER_COMMENT = "(?<={})".format("|".join(re.escape(closer) for _, closer in DELIMITERS.values()))


def _statement_begin(keyword: str) -> str:
    """The start of a statement: at the start of a line or after a comment that closes there,
    then blanks, then any block comments and notes. Group 1 is its blanks, group 2 the comments
    and notes, group 3 its keyword."""
    return rf"(?:^|{AFTER_COMMENT})([ \t]*)({LEADING_COMMENTS})({words([keyword])})"


def _statement_ahead(keywords: Iterable[str]) -> str:
    """A statement's start just ahead (blanks, comments, notes, then one of the keywords)."""
    return rf"(?=[ \t]*{LEADING_COMMENTS}{words(keywords)})"


def _one_line_end() -> str:
    """Where a statement of one line ends: at its line's end, or where a comment that it opened
    closes on a later line before a statement (the compiler reads that as the next line)."""
    return f"$|{AFTER_COMMENT}{_statement_ahead(STATEMENT_KEYWORDS)}"


def _wrapping_end(indent: str = "\\1") -> str:
    """Where a SHOT, SEQUENCE or DEFAULTS ends: before a statement that never continues another
    (at a line's start, or after a comment that closes there), or at a line that neither is
    indented deeper than `indent` (by default the begin pattern's group 1, the blanks before the
    statement's comments and keyword) nor starts with a string, a comment or a note."""
    own_statement = f"^{_statement_ahead(NEVER_CONTINUE)}|{AFTER_COMMENT}{_statement_ahead(NEVER_CONTINUE)}"
    openers = "|".join(re.escape(opener) for opener, _ in DELIMITERS.values())
    not_continued = rf'^(?![ \t]*(?:"|#|{openers}))(?!{indent}[ \t]+\S)'
    return f"{own_statement}|{not_continued}"


# --- the rules -------------------------------------------------------------------------------


def _repository() -> dict[str, Rule]:
    repo: dict[str, Rule] = {
        "trivia": {"patterns": [{"include": f"#{r}"} for r in (
            "comment", "block-comment", "note", "stray-ends", "curly-quote")]},
        "comment": {
            "match": r"(#).*$",
            "name": SCOPES["comment"],
            "captures": {"1": {"name": SCOPES["comment-mark"]}},
        },
        "block-comment": {
            "comment": "/* ... */ switches lines off; not nested; may span lines",
            "begin": re.escape(DELIMITERS["block"][0]),
            "end": re.escape(DELIMITERS["block"][1]),
            "name": SCOPES["block-comment"],
            "beginCaptures": {"0": {"name": SCOPES["block-comment-begin"]}},
            "endCaptures": {"0": {"name": SCOPES["block-comment-end"]}},
        },
        "note": {
            "comment": "[[ a note ]], from Fountain: kept out of the prompt; may span lines",
            "begin": re.escape(DELIMITERS["note"][0]),
            "end": re.escape(DELIMITERS["note"][1]),
            "name": SCOPES["note"],
            "beginCaptures": {"0": {"name": SCOPES["note-begin"]}},
            "endCaptures": {"0": {"name": SCOPES["note-end"]}},
        },
        "stray-ends": {"patterns": [
            {"match": re.escape(DELIMITERS["block"][1]), "name": SCOPES["stray-comment-end"]},
            {"match": re.escape(DELIMITERS["note"][1]), "name": SCOPES["stray-note-end"]},
        ]},
        "curly-quote": {
            "comment": "typographic quotes are not quotes in the language (E104)",
            "match": f"[{re.escape(SMART_QUOTES)}]",
            "name": SCOPES["curly-quote"],
        },
        "string": {
            "comment": "goes on over indented lines; ends at a blank or unindented line if unclosed",
            "begin": '"',
            "end": r'(")|^(?![ \t]+\S)',
            "name": SCOPES["string"],
            "beginCaptures": {"0": {"name": SCOPES["string-begin"]}},
            "endCaptures": {"1": {"name": SCOPES["string-end"]}},
            "patterns": [
                {"match": r'\\["\\]', "name": SCOPES["escape"]},
                {"match": re.escape(kling.VOICE_REFERENCE).replace(r"\{\}", r"\d+"),
                 "name": SCOPES["voice-reference"]},
                {"match": r"(?<![\w@])@[A-Za-z][A-Za-z0-9_-]*(?!\w)", "name": SCOPES["cast-reference"]},
            ],
        },
        "move-words": {
            "comment": "a SHOT's camera words, from its colon to its prompt, over continuation lines",
            "begin": r"\G[ \t]*(:)",
            # At the prompt, or at curly quotes meant as its quotes (E104). Its own begin has no
            # indent to hold the lines to: it ends where its SHOT would at an unindented line,
            # and the SHOT then ends or goes on as its indent says.
            "end": f'(?=["{re.escape(SMART_QUOTES)}])|{_wrapping_end(indent="")}',
            "name": SCOPES["move-words"],
            "beginCaptures": {"1": {"name": SCOPES["colon"]}},
            "patterns": [
                {"include": "#trivia"},
                {"comment": "`after NAME`: the shot this one continues",
                 "match": rf"(?i:\b(after)\b)[ \t]+({NAME})",
                 "captures": {"1": {"name": SCOPES["option"]}, "2": {"name": SCOPES["after-name"]}}},
                {"match": NUMBER, "name": SCOPES["magnitude"]},
                {"match": words(" ".join(k) for k in PHRASES), "name": SCOPES["move"]},
                {"match": words(INTENSITIES), "name": SCOPES["intensity"]},
                {"match": words(JOINERS), "name": SCOPES["joiner"]},
                # `&` and `+` are connectors to the checks, but no token of the language.
                {"match": words(c for c in CONNECTORS if _is_word(c)), "name": SCOPES["connector"]},
            ],
        },
        "point": {
            "comment": "a motion's trajectory point: (x, y)",
            "begin": r"\(",
            "end": r"\)|$",
            "name": SCOPES["point"],
            "beginCaptures": {"0": {"name": SCOPES["point-begin"]}},
            "endCaptures": {"0": {"name": SCOPES["point-end"]}},
            "patterns": [
                {"match": ",", "name": SCOPES["comma"]},
                {"match": NUMBER, "name": SCOPES["coordinate"]},
            ],
        },
        "number": {"match": NUMBER, "name": SCOPES["number"]},
    }
    repo["options"] = {"patterns": [
        {"include": "#trivia"}, {"include": "#string"}, *_option_rules(),
        {"include": "#point"}, {"include": "#number"},
    ]}
    repo.update(_statements())
    return repo


def _option_rules() -> list[Rule]:
    """One rule per option of the language table, by what it takes."""
    rules: list[Rule] = []
    plain_keywords: list[str] = []  # options whose value is matched on its own: a text, a number
    for option in OPTIONS:
        if option.argument == "bare":
            if option.terminal in ("DURATION", "ASPECT"):
                scope = SCOPES["duration" if option.terminal == "DURATION" else "aspect"]
                rules.append({"match": f"(?<![\\w.]){token_pattern(option.terminal)}{AFTER_WORD}", "name": scope})
            elif option.terminal == "WORD" and option.values:
                rules.append({"match": words(option.values), "name": word_scope(option.kind)})
            else:
                raise ValueError(f"the editor grammar has no rule for a bare {option.terminal} option")
        elif option.argument == "name":
            rules.append({
                "match": f"({words(option.keywords)})(?:[ \\t]+({NAME}))?",
                "captures": {"1": {"name": SCOPES["option"]}, "2": {"name": SCOPES["model"]}},
            })
        elif option.argument == "word" and option.values:
            rules.append({
                "match": f"({words(option.keywords)})(?:[ \\t]+({words(option.values)}))?",
                "captures": {"1": {"name": SCOPES["option"]}, "2": {"name": word_scope(option.kind)}},
            })
        elif option.argument in ("text", "number", "points"):
            plain_keywords.extend(option.keywords)
        else:
            raise ValueError(f"the editor grammar has no rule for a {option.argument} option")
    rules.append({"match": words(plain_keywords), "name": SCOPES["option"]})
    return rules


def _statements() -> dict[str, Rule]:
    """A rule per statement keyword, named `statement-<keyword>`; each statement's shape says
    what follows its keyword (language.STATEMENTS)."""
    keyword_capture = {"2": {"patterns": [{"include": "#trivia"}]}, "3": {"name": SCOPES["statement"]}}
    wrapping_end = _wrapping_end()
    one_line_end = _one_line_end()
    name = f"(?:[ \\t]+({NAME}))?"
    rules: dict[str, Rule] = {
        "statement-shot": {
            "begin": _statement_begin("shot") + name,
            "end": wrapping_end,
            "name": statement_scope("shot"),
            "beginCaptures": {**keyword_capture, "4": {"name": SCOPES["shot-name"]}},
            "patterns": [{"include": "#move-words"}, {"include": "#options"}],
        },
        "statement-sequence": {
            "begin": _statement_begin("sequence") + name + r"(?:[ \t]*(:))?",
            "end": wrapping_end,
            "name": statement_scope("sequence"),
            "beginCaptures": {**keyword_capture, "4": {"name": SCOPES["sequence-name"]},
                              "5": {"name": SCOPES["colon"]}},
            "patterns": [{"include": "#options"}],
        },
        # A CAST: its name, its description, its front image and `also` images.
        "statement-cast": {
            "begin": _statement_begin("cast") + name + r"(?:[ \t]*(:))?",
            "end": wrapping_end,
            "name": statement_scope("cast"),
            "beginCaptures": {**keyword_capture, "4": {"name": SCOPES["cast-name"]},
                              "5": {"name": SCOPES["colon"]}},
            "patterns": [{"match": words(OTHER_KEYWORDS), "name": SCOPES["option"]}, {"include": "#options"}],
        },
        "statement-defaults": {
            "begin": _statement_begin("defaults"),
            "end": wrapping_end,
            "name": statement_scope("defaults"),
            "beginCaptures": keyword_capture,
            "patterns": [{"include": "#options"}],
        },
        # A SCENE's heading, then options for its shots, on its own line.
        "statement-scene": {
            "begin": _statement_begin("scene"),
            "end": one_line_end,
            "name": statement_scope("scene"),
            "beginCaptures": keyword_capture,
            "patterns": [{"include": "#options"}],
        },
        # The others are one line, and a string that follows on the next lines.
        "statement-title": {
            "begin": _statement_begin("title"),
            "end": one_line_end,
            "name": statement_scope("title"),
            "beginCaptures": keyword_capture,
            "patterns": [{"include": "#trivia"}, {"include": "#string"}],
        },
        "statement-model": {
            "begin": _statement_begin("model") + name,
            "end": one_line_end,
            "name": statement_scope("model"),
            "beginCaptures": {**keyword_capture, "4": {"name": SCOPES["model"]}},
            "patterns": [{"include": "#trivia"}],
        },
        "statement-axes": {
            "begin": _statement_begin("axes"),
            "end": one_line_end,
            "name": statement_scope("axes"),
            "beginCaptures": keyword_capture,
            "patterns": [{"include": "#trivia"}, {"match": words(AXES), "name": SCOPES["axes"]}],
        },
        "statement-backend": {
            "begin": _statement_begin("backend"),
            "end": one_line_end,
            "name": statement_scope("backend"),
            "beginCaptures": keyword_capture,
            "patterns": [{"include": "#trivia"}, {"match": words(BACKENDS), "name": SCOPES["backend"]}],
        },
    }
    missing = {f"statement-{k}" for k in STATEMENT_KEYWORDS} ^ rules.keys()
    assert not missing, f"the editor grammar and language.STATEMENTS differ: {sorted(missing)}"
    return rules


def grammar() -> dict[str, Any]:
    """The TextMate grammar, as the JSON object VS Code reads."""
    return {
        "comment": f"Made by `python -m shotlang.tools.editor_grammar {GRAMMAR_PATH}` from shotlang/compiler/language.py "
                   "and shotlang/compiler/vocabulary.py: change those, not this file.",
        "name": "shotlang",
        "scopeName": SCOPE_NAME,
        "fileTypes": ["shot"],
        "patterns": [
            # Statements first: a line's leading comments and notes are part of its statement.
            *({"include": f"#statement-{k}"} for k in STATEMENT_KEYWORDS),
            {"include": "#trivia"},
            # Lines no statement above takes (an option line after a SCENE): read as options.
            {"include": "#options"},
        ],
        "repository": _repository(),
    }


def render() -> str:
    """The grammar file's text, as committed."""
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


def main(paths: list[str]) -> int:
    """Write the grammar to each path given, or print it."""
    text = render()
    if not paths:
        sys.stdout.write(text)
    for path in map(Path, paths):
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
