"""Diagnostics in the forms CI systems read: a SARIF 2.1.0 log (code scanning, such as GitHub's
upload-sarif) and GitHub Actions workflow commands (annotations on the changed lines).

`check --format sarif|github` prints them (docs/cli.md, "shotlang check"). Both count columns
in UTF-16 code units, as SARIF does by default and as viewers written in JavaScript do, where
`text` and `json` count characters: an emoji before a span moves its column by 2 here and by
1 there. Only json and the standard library are imported, so `check` starts as fast
in every format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from .. import __version__
from ..compiler.analysis import Reports
from ..compiler.diagnostics import CODES, TEXT_ESCAPES, Diagnostic, clip
from ..compiler.source import Source, Span

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# A relative file name is relative to this base: the folder `check` ran in, which in CI is the
# checkout's root; code scanning reads such a path as relative to the repository's root.
SOURCE_ROOT = "%SRCROOT%"
RULES = list(CODES)  # a result's ruleIndex is its code's place in this list
_RULE_INDEX = {code: i for i, code in enumerate(RULES)}

# Characters outside the Basic Multilingual Plane: one character, two UTF-16 code units.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class Place(NamedTuple):
    """Where a span is, as CI formats count: lines from 1, columns from 1 in UTF-16 code units,
    the end column one past the span's last character."""

    line: int
    column: int
    end_line: int
    end_column: int


def place(span: Span) -> Place:
    return Place(span.line, _utf16_column(span.source, span.line, span.column),
                 span.end_line, _utf16_column(span.source, span.end_line, span.end_column))


def _utf16_column(source: Source, line: int, column: int) -> int:
    """The character column `column` of line `line`, counted in UTF-16 code units: one more for
    each astral character before it, in the text as written (block comments and notes are
    blanked out of source.text). The line is searched in place, not copied."""
    start = source.line_starts()[line - 1]
    return column + sum(1 for _ in _ASTRAL.finditer(source.shown, start, start + column - 1))


def _is_pseudo(name: str) -> bool:
    """`<stdin>`: a name for what is not a file."""
    return name.startswith("<") and name.endswith(">")


def _text(d: Diagnostic) -> str:
    """The message, then the hint on a line of its own, as `text` shows them."""
    return clip(d.message) + (f"\nhelp: {clip(d.hint)}" if d.hint else "")


# --- SARIF -------------------------------------------------------------------------------------


def artifact_location(name: str) -> dict[str, object]:
    """A file as SARIF locates it: a relative name as a relative URI under %SRCROOT%, an absolute
    one as a file: URI; a pseudo-name such as `<stdin>` as itself, percent-encoded, with no base
    (it is no file under the source root) and a description saying what it is."""
    if _is_pseudo(name):
        return {"uri": quote(name, safe=""), "description": {"text": "standard input" if name == "<stdin>" else name}}
    path = Path(name)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix(), safe="/!$&'()*+,;=@"), "uriBaseId": SOURCE_ROOT}


def _physical(span: Span) -> dict[str, object]:
    where = place(span)
    return {"artifactLocation": artifact_location(span.source.name),
            "region": {"startLine": where.line, "startColumn": where.column,
                       "endLine": where.end_line, "endColumn": where.end_column}}


def _unwrapped(explanation: str) -> str:
    """An explanation with its prose paragraphs on one line each, for a viewer to wrap as it
    likes; a paragraph with indented lines (an example) keeps its lines."""
    paragraphs = explanation.strip().split("\n\n")
    return "\n\n".join(p if "\n " in p else p.replace("\n", " ") for p in paragraphs)


def _rule(code: str) -> dict[str, object]:
    entry = CODES[code]
    explanation = _unwrapped(entry.explanation)
    return {"id": code,
            "shortDescription": {"text": entry.title},
            "fullDescription": {"text": explanation},
            "help": {"text": f"{explanation}\n\n`shotlang explain {code}` prints this text."},
            "defaultConfiguration": {"level": entry.severity.value}}


def _result(d: Diagnostic) -> dict[str, object]:
    # SARIF has no place for a hint: it follows the message on a line of its own. Each related
    # place is a relatedLocation, linked from the message ([line N](id)), which is how code
    # scanning shows one.
    text = _text(d) + "".join(f"\nnote: {clip(r.message)} ([line {r.span.line}]({i}))"
                              for i, r in enumerate(d.related, 1))
    result: dict[str, object] = {
        "ruleId": d.code,
        "ruleIndex": _RULE_INDEX[d.code],
        "level": d.severity.value,  # error or warning: SARIF's names for them
        "message": {"text": text},
        "locations": [{"physicalLocation": _physical(d.span)}],
    }
    if d.related:
        result["relatedLocations"] = [{"id": i, "physicalLocation": _physical(r.span), "message": {"text": clip(r.message)}}
                                      for i, r in enumerate(d.related, 1)]
    return result


def sarif_log(results: Sequence[Reports], unread: Sequence[str], exit_code: int) -> str:
    """One SARIF run over every file: every code as a rule, every diagnostic as a result, and
    each file that could not be read as an error notification of an invocation that did not
    succeed. The same input gives the same bytes: no time, no machine's paths but those given."""
    notifications = [{"level": "error", "message": {"text": problem}} for problem in unread]
    invocation: dict[str, object] = {"executionSuccessful": not unread, "exitCode": exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "shotlang", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule(code) for code in RULES]}},
            "invocations": [invocation],
            "columnKind": "utf16CodeUnits",
            "results": [_result(d) for r in results for d in r.diagnostics],
        }],
    }
    # ASCII only: the log is valid UTF-8 whatever the encoding of standard output (a Windows
    # runner's may not take an emoji), and JSON readers restore every character.
    return json.dumps(log, indent=2)


# --- GitHub Actions workflow commands ----------------------------------------------------------


def _escape_data(text: str) -> str:
    """A command's message: the runner reads %25, %0D and %0A back as %, CR and LF, so a message
    of several lines stays one command (and cannot start another)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A property's value: also `:` and `,`, which end the value otherwise."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _shown(text: str) -> str:
    """Control characters escaped as `text` shows them (docs/diagnostics.md), so nothing from a
    file reaches the log as a control; line breaks are kept for _escape_data."""
    return text.translate(TEXT_ESCAPES)


def _command(kind: str, properties: Iterable[tuple[str, object]], message: str) -> str:
    # A property's CR and LF as the runner reads them back (a file name's own: GitHub finds the
    # file), then any other control character shown, never written raw.
    props = ",".join(f"{key}={_shown(_escape_property(str(value)))}" for key, value in properties)
    return f"::{kind}{' ' + props if props else ''}::{_escape_data(_shown(message))}"


def _at(span: Span) -> str:
    where = place(span)
    return f"{span.source.name}:{where.line}:{where.column}"


def annotation(d: Diagnostic) -> str:
    """`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.

    Columns only for a span on one line: GitHub drops them from a span over several. Standard
    input is no file GitHub can show, so its annotation has no place but says it in the message.
    """
    name = d.span.source.name
    where = place(d.span)
    title = f"shotlang {d.code}: {CODES[d.code].title}"
    message = _text(d) + "".join(f"\nnote: {clip(r.message)} ({_at(r.span)})" for r in d.related)
    properties: list[tuple[str, object]] = []
    if _is_pseudo(name):
        message = f"{_at(d.span)}: {message}"
    else:
        properties += [("file", name), ("line", where.line)]
        if where.end_line == where.line:
            properties += [("col", where.column), ("endLine", where.end_line), ("endColumn", where.end_column)]
        else:
            properties += [("endLine", where.end_line)]
    properties.append(("title", title))
    return _command(d.severity.value, properties, message)


def github_annotations(results: Sequence[Reports], unread: Sequence[str]) -> list[str]:
    """One workflow command per diagnostic, then one `::error` per file that could not be read."""
    lines = [annotation(d) for r in results for d in r.diagnostics]
    lines += [_command("error", [("title", "shotlang: file not read")], problem) for problem in unread]
    return lines
