"""Tables made from the vocabulary and the code table, for `shotlang moves` and docs/.

docs/*.md hold these tables between `<!-- generated: NAME -->` and `<!-- end: NAME -->`
markers. `python -m shotlang.tools.docs` rewrites them; a test fails when they are out of date.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from ..compiler import kling
from ..compiler.diagnostics import CODES, all_of
from ..compiler.language import (
    MODE_WORDS,
    OPTION_KEYWORDS,
    OPTIONS,
    OTHER_KEYWORDS,
    REPEATABLE,
    STATEMENT_KEYWORDS,
    STATEMENTS,
    WHOLE_WORD_KEYWORDS,
    terminal,
)
from ..compiler.models import (
    FEATURE_WORDS,
    FEATURES,
    Matrix,
    Model,
    built_in,
    claim_text,
    disputes,
    durations_text,
    offer_text,
    says,
)
from ..compiler.vocabulary import (
    ADVERBS,
    AXES,
    DEFAULT_MAGNITUDE,
    INTENSITIES,
    JERKY_FROM,
    JOINERS,
    MOVES,
    VISIBLE_FROM,
    Move,
    phrase,
)
from ..exits import EXITS


def _target(move: Move, axes: str) -> tuple[str, str]:
    if move.preset:
        return f"type {move.preset}", ""
    axis = move.axis(axes)
    if axis is None:
        return "(none)", ""
    return axis.field, "+" if axis.sign > 0 else "-"


def _range(move: Move) -> str:
    return f"{move.recommended[0]}-{move.recommended[1]}" if move.recommended else ""


def move_rows(axes: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for move in MOVES:
        field, sign = _target(move, axes)
        rows.append({
            "move": move.name, "synonyms": list(move.synonyms), "field": field, "sign": sign,
            "recommended": _range(move), "description": move.description,
            "words": phrase(move).replace("{how}", "<how>"),
            "in_words": {word: phrase(move, word) for word in INTENSITIES} if "{how}" in move.words else {},
        })  # fmt: skip
    return rows


TABLE_WIDTH = 80  # `shotlang moves` fits a standard terminal


def move_table(axes: str) -> str:
    """The cheat sheet `shotlang moves` prints, at most TABLE_WIDTH columns wide: the other
    words for a move are wrapped, whole, in the space the other columns leave."""
    head = ("MOVE", "FIELD", "RANGE")
    rows = [(r["move"], f"{r['field']} {r['sign']}".rstrip(), r["recommended"], r["synonyms"])
            for r in move_rows(axes)]
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    indent = sum(widths) + 2 * len(widths)
    lines = [f"Moves under AXES {axes} (how each sends the camera fields)", ""]
    for *cells, also in ((*head, ["ALSO"]), *rows):
        wrapped = _pack(also, TABLE_WIDTH - indent) or [""]
        lines.append(("".join(c.ljust(w + 2) for c, w in zip(cells, widths, strict=True)) + wrapped[0]).rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    lines += ["", "In words (`moves words`, and `moves auto` where the model takes no camera",
              "control), at the start of the prompt; <how> is the intensity's word, left out",
              "when none is given:", ""]
    width = max(len(m.name) for m in MOVES)
    for move in MOVES:
        lines += textwrap.wrap(f"{move.name.ljust(width)}  {phrase(move).replace('{how}', '<how>')}", TABLE_WIDTH,
                               subsequent_indent=" " * (width + 4))
    adverbs = ", ".join(f"{w} {a}" for w, a in ADVERBS.items())
    lines += [""] + textwrap.wrap(f"<how>: {adverbs}; a number: the nearest intensity's", TABLE_WIDTH,
                                  subsequent_indent="  ")
    words = ", ".join(f"{w} {v}" for w, v in INTENSITIES.items())
    lines.append("")
    for paragraph in (f"Intensity (before the move; default {DEFAULT_MAGNITUDE}): {words}",
                      f"Magnitude (after the move): a number from 0 to {kling.MAGNITUDE_MAX}, fractions too, e.g. `pan right 6` or `pan right 2.5`",
                      f"Joiners (before the prompt): {', '.join(sorted(JOINERS))}"):
        lines += textwrap.wrap(paragraph, TABLE_WIDTH, subsequent_indent="  ", break_on_hyphens=False)
    return "\n".join(lines)


def _pack(phrases: list[str], width: int) -> list[str]:
    """Phrases joined by commas into lines of at most `width`, never cutting a phrase."""
    lines: list[str] = []
    for i, item in enumerate(phrases):
        comma = i < len(phrases) - 1  # room for the comma that follows it, if one does
        if lines and len(lines[-1]) + len(", ") + len(item) + comma <= width:
            lines[-1] += f", {item}"
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return lines


# --- markdown for docs/ ------------------------------------------------------------------------


def _md(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def md_moves() -> str:
    rows = []
    for move in MOVES:
        seed, official = (" ".join(_target(move, r)).strip() for r in AXES)
        rows.append([f"`{move.name}`", ", ".join(f"`{s}`" for s in move.synonyms), seed,
                     official + (" (approximate)" if move.approximate_in_official else ""),
                     _range(move), move.description])
    return _md(["move", "also written", "AXES seed", "AXES official", "recommended",
                "what it does"], rows)


def md_shared_fields(axes: str = "seed") -> str:
    """The camera fields more than one move lowers to: those moves send the same request."""
    by_axis: dict[str, list[Move]] = {}
    for move in MOVES:
        axis = move.axis(axes)
        if axis is not None and not move.preset:
            by_axis.setdefault(f"{axis.field} {'+' if axis.sign > 0 else '-'}", []).append(move)
    rows = [[f"`{axis}`", "; ".join(", ".join(f"`{p}`" for p in m.phrases) for m in moves)]
            for axis, moves in by_axis.items() if len(moves) > 1]
    return _md([f"AXES {axes}", "sent alike by"], rows)


def md_range_warnings() -> str:
    """Which intensity words always fall outside a move's recommended range (W102). Magnitudes
    below VISIBLE_FROM and from JERKY_FROM draw W100 and W101 instead."""
    ranges: dict[tuple[int, int], list[Move]] = {}
    for move in MOVES:
        if move.recommended:
            ranges.setdefault(move.recommended, []).append(move)
    rows = []
    for (low, high), moves in ranges.items():
        outside = [f"`{w}` ({v})" for w, v in INTENSITIES.items() if VISIBLE_FROM <= v < JERKY_FROM and not low <= v <= high]
        rows.append([", ".join(f"`{m.name}`" for m in moves), f"{low}-{high}", ", ".join(outside) or "none"])
    return _md(["moves", "recommended", "intensity words that always draw W102"], rows)


def md_intensities() -> str:
    return _md(["word", "magnitude"], [[f"`{w}`", str(v)] for w, v in INTENSITIES.items()])


def md_options() -> str:
    """The options table, from the language table: how each is written, the API field it fills."""
    return _md(["option", "example", "API field", "notes"],
               [[o.written, o.example, f"`{o.field}`" if o.field else "(none)", o.note] for o in OPTIONS])


def md_fields() -> str:
    """docs/kling-mapping.md's Fields table: what each option sends, from the language table."""
    rows = [["the quoted prompt", "`prompt`",
             "the text, strings joined with one space; left out for an image shot with `\"\"`"]]
    rows += [[o.example if o.argument == "bare" else o.written, f"`{o.field.partition('.')[0]}`", o.sent_text()]
             for o in OPTIONS if o.field]
    rows += [["the move", "`camera_control` and/or the start of `prompt`",
              "see below (`moves`); no `camera_control` for no move or `static`"],
             ["`SEQUENCE name: …` and its shots", "`multi_shot`, `shot_type`, `multi_prompt`",
              '`true`, `"customize"`, and `[{"index": 1, "prompt": "…", "duration": "4"}, …]`: each shot\'s prompt '
              '(its move written first in camera language: "The camera pans slowly to the right. …") and duration; '
              "the sequence's length is `duration`. See [Sequences](language.md#sequences)"]]
    return _md(["shotlang", "API field", "value sent"], rows)


def md_body_order() -> str:
    """The order of a body's fields, as compile writes them (bodies.VideoRequest's)."""
    from ..compiler.bodies import VideoRequest

    return textwrap.fill(", ".join(f"`{name}`" for name in VideoRequest.model_fields), 100)


# What follows an option's keyword in the grammar, by the table's `argument`.
_GRAMMAR_ARGUMENT = {"text": "text", "name": "NAME", "word": "WORD", "number": "NUMBER", "points": "text point+",
                     "bare": ""}


def lark_options() -> str:
    """grammar/shot.lark's `option` rule, one alternative per row of the language table."""
    lines = []
    for i, option in enumerate(OPTIONS):
        heads = [terminal(k) for k in option.keywords]
        head = heads[0] if len(heads) == 1 else f"({' | '.join(heads)})" if heads else str(option.terminal)
        alternative = f"{head} {_GRAMMAR_ARGUMENT[option.argument]}".rstrip()
        lines.append(f"{'option:' if i == 0 else '      |'} {alternative:<26}// {option.kind}: "
                     + option.example.replace("`", ""))
    return "\n".join(lines)


def lark_keywords() -> str:
    """grammar/shot.lark's keyword terminals: the statements', then the options'."""
    words = [*STATEMENT_KEYWORDS, *(k for k in OPTION_KEYWORDS if k not in STATEMENT_KEYWORDS), *OTHER_KEYWORDS]
    # A whole-word keyword is a pattern: it is given the priority a literal keyword has over WORD.
    return "\n".join(f'{terminal(k)}.2: /{k}(?![^\\s:"#()])/i' if k in WHOLE_WORD_KEYWORDS else f'{terminal(k)}: "{k}"i'
                      for k in words)


def md_fmt_statements() -> str:
    from .fmt import INDENT

    keywords = ", ".join(f"`{s.keyword.upper()}`" for s in STATEMENTS)
    return textwrap.fill(
        f"- Statement keywords in capitals ({keywords}), one statement a line, at the left margin; the shots "
        f"of a `SEQUENCE` indented by {len(INDENT)} spaces under it.", 96, subsequent_indent="  ")


def md_fmt_options() -> str:
    written = all_of(o.keywords and f"`{o.keywords[0]}`" or ("aspect ratio" if o.kind == "aspect" else o.kind)
                     for o in OPTIONS)
    repeated = ", ".join(f"`{o.keywords[0]}`" for o in OPTIONS if o.kind in REPEATABLE)
    return textwrap.fill(
        f"- A shot's options in this order: {written} (the order of the options table below). Repeated "
        f"options ({repeated}) keep their order.", 96, subsequent_indent="  ")


def md_fmt_width() -> str:
    from .fmt import INDENT, WIDTH

    return textwrap.fill(
        f"- **Width: {WIDTH} columns.** A prompt (or a `SCENE` or `TITLE` text) that would take its line past "
        f"{WIDTH} columns is cut at spaces into adjacent strings on continuation lines, indented {len(INDENT)} "
        "spaces under the statement (a word longer than a line keeps a line of its own). The options follow the "
        "last line if they all fit there, and start a line of their own otherwise.", 96, subsequent_indent="  ")


def md_long_lines() -> str:
    from ..compiler.diagnostics import CONTEXT, QUOTED, WINDOW

    return textwrap.fill(
        f"**Long lines.** The source line under a diagnostic shows at most {WINDOW} columns. A longer line is "
        "cut to a window around the span, with `…` on each side that was cut: about half the window before the "
        f"span (at least {CONTEXT} columns when the span is long) and the rest after it. The carets stay "
        "under the span; a span longer than the window shows its start, and its carets end in `…` under the "
        "line's `…`. Wide characters (CJK) take two columns and a tab one, so the caret stays under the span "
        f"whatever the line holds. A word quoted in a message or hint (`` `…` ``) is shown up to {QUOTED} "
        "characters. The `-->` line and `--format json` keep the exact line and column however long the line "
        "is, so an editor can still jump to the spot.", 96)


def md_statements() -> str:
    return _md(["statement", "meaning"], [[s.written, s.meaning] for s in STATEMENTS])


def md_modes() -> str:
    return _md(["word", "sent as"], [[f"`{w}`", f'`"{v}"`'] for w, v in MODE_WORDS.items()])


def md_joiners() -> str:
    return ", ".join(f"`{j}`" for j in sorted(JOINERS))


def model_table_rows(matrix: Matrix) -> tuple[list[str], list[list[str]]]:
    """The capability matrix as a table: one row per model, one column per capability."""
    head = ["model", "endpoints", "modes", "durations", *(_FEATURE_HEADS[f] for f in FEATURES), "source"]
    rows = []
    for model in matrix.models.values():
        rows.append([model.name, ", ".join(model.endpoints), "/".join(model.modes),
                     durations_text(model.durations), *(_cell(model, f) for f in FEATURES),
                     model.source or "-"])
    return head, rows


def _cell(model: Model, feature: str) -> str:
    """Where the model offers the feature, and the fact's source where it is not the model's."""
    offer = model.features[feature]
    sources = sorted({c.source for c in offer.conditions} or {offer.source})
    other = [s for s in sources if s and s != model.source]
    return offer_text(model, feature) + (f" ({', '.join(other)})" if other else "")


_FEATURE_HEADS = {"camera": "camera", "image_tail": "end image", "masks": "masks", "sound": "sound",
                  "voice": "voice", "multi_shot": "multi-shot", "cfg": "cfg", "elements": "cast"}


def md_models() -> str:
    """The built-in capability matrix, from shotlang/compiler/models.toml."""
    head, rows = model_table_rows(built_in())
    return _md(head, [[f"`{r[0]}`", *r[1:]] for r in rows])


def model_table(matrix: Matrix) -> str:
    """What `shotlang models` prints: the table, then where each row comes from."""
    head, rows = model_table_rows(matrix)
    head, rows = head[:-1], [r[:-1] for r in rows]
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    lines = ["".join(c.ljust(w + 2) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in ([h.upper() for h in head], *rows)]
    lines += ["", "Where each row comes from (source: seed, official, or reported by third parties):"]
    width = max(len(m) for m in matrix.models)
    for model in matrix.models.values():
        lines.append(f"  {model.name.ljust(width)}  {matrix.source_of(model.name)}"
                     + (f" ({model.source})" if model.source else ""))
    lines += ["", *dispute_lines(matrix)]
    read = ", ".join(map(str, matrix.files)) or "none"
    lines += ["", f"Models files read: {read}"]
    return "\n".join(lines)


def dispute_lines(matrix: Matrix) -> list[str]:
    """Each feature of a model whose sources disagree somewhere, with every claim: where it
    says the feature is offered, its source and date. `shotlang models` prints them."""
    found: list[str] = []
    settled: list[str] = []
    for model in matrix.models.values():
        for feature in FEATURES:
            offer = model.features[feature]
            if offer.settled and len(offer.claims) > 1:
                settled.append(f"  {model.name}, {FEATURE_WORDS[feature]}: {_claims_text(model, feature)}")
            elif disputes(model, feature):
                found.append(f"  {model.name}, {FEATURE_WORDS[feature]}: {_claims_text(model, feature)}")
    if not found and not settled:
        return ["The sources agree on every cell."]
    lines = []
    if found:
        lines += ["Where the sources disagree (the first claim is believed, by the model's `trust`; settle a "
                  "cell with a claim of source = \"verified\" in shotlang-models.toml):", *found]
    if settled:
        lines += ["" if found else "", "Settled by your own claims (believed first):", *settled][0 if found else 1:]
    return lines


def _claims_text(model: Model, feature: str) -> str:
    parts = []
    for claim in model.features[feature].claims:
        rendered = f", rendered: {claim.rendered}" if claim.rendered else ""
        parts.append(f"{claim_text(claim)} {says(claim)} {offer_text(model, feature, claim)}{rendered}")
    return "; ".join(parts)


def md_codes() -> str:
    return _md(["code", "severity", "meaning"],
               [[f"`{c}`", v.severity.value, v.title] for c, v in CODES.items()])


def md_code_details() -> str:
    parts = []
    for code, entry in CODES.items():
        body = entry.explanation.strip("\n")
        parts.append(f"### {code}: {entry.title}\n\n*{entry.severity.value}*\n\n{body}\n")
    return "\n".join(parts)


def md_exit_codes() -> str:
    return _md(["code", "meaning"], [[str(e.code), e.meaning] for e in EXITS.values()])


def md_run_exit_codes() -> str:
    return _md(["code", "`run`", "`plan`, `status`"],
               [[str(e.code), e.run or "—", e.shown or "—"] for e in EXITS.values()])


def md_exit_summary() -> str:
    every = [e for e in EXITS.values() if e.shown]
    run_only = [e for e in EXITS.values() if not e.shown]
    said = ", ".join(f"{e.code} {e.short}" for e in every)
    return f"Exit codes: {said}; `run` adds {all_of(f'{e.code} ({e.short})' for e in run_only)}."


def md_api_errors() -> str:
    rows: list[list[str]] = []
    codes = sorted(kling.ERRORS)
    start = 0
    while start < len(codes):  # codes in a row with the same meaning are one line: 1000–1004
        end = start
        while (end + 1 < len(codes) and codes[end + 1] == codes[end] + 1
               and kling.ERRORS[codes[end + 1]] == kling.ERRORS[codes[start]]):
            end += 1
        error = kling.ERRORS[codes[start]]
        shown = str(codes[start]) if end == start else f"{codes[start]}–{codes[end]}"
        rows.append([shown, str(error.http), error.meaning, kling.ACTION_SAYS[error.action].format(**_EXIT_CODES)])
        start = end + 1
    return _md(["code", "HTTP", "meaning (Kling's)", "what shotlang does"], rows)


_EXIT_CODES = {name: e.code for name, e in EXITS.items()}


SECTIONS = {"moves": md_moves, "shared-fields": md_shared_fields, "range-warnings": md_range_warnings,
            "intensities": md_intensities, "modes": md_modes, "options": md_options,
            "statements": md_statements,
            "joiners": md_joiners, "models": md_models, "codes": md_codes,
            "code-details": md_code_details, "exit-codes": md_exit_codes, "run-exit-codes": md_run_exit_codes,
            "exit-summary": md_exit_summary, "api-errors": md_api_errors, "fields": md_fields,
            "body-order": md_body_order, "fmt-statements": md_fmt_statements, "fmt-options": md_fmt_options,
            "fmt-width": md_fmt_width, "long-lines": md_long_lines, "options-rule": lark_options, "keywords": lark_keywords}
# `<!-- generated: NAME -->` in Markdown, `// generated: NAME` (to the line's end) in the grammar.
_SECTION = re.compile(r"((?:<!-- |// )generated: ([\w-]+)(?: -->)?[^\n]*\n)(.*?)((?:<!-- |// )end: \2)", re.DOTALL)


def refresh(text: str) -> str:
    """The text with every generated section made anew from the tables."""
    return _SECTION.sub(lambda m: m[1] + SECTIONS[m[2]]() + "\n" + m[4], text)


# The JSON Schemas of compile's output the repository keeps (`shotlang schema --format FMT`).
SCHEMA_FILES = {"json": Path("docs/schema/envelope.schema.json"), "jsonl": Path("docs/schema/line.schema.json")}


def main(paths: list[str]) -> int:
    """Rewrite the generated sections of `paths`; with no paths, of every generated file of the
    repository (run from its top): README.md, docs/*.md, the grammar, and docs/schema/."""
    from .schema import schema_text

    made: dict[Path, str | None] = dict.fromkeys(map(Path, paths))
    if not paths:
        made = dict.fromkeys(p for p in (Path("README.md"), *sorted(Path("docs").glob("*.md")),
                                         Path("grammar/shot.lark")) if p.is_file())
        made |= {path: schema_text(fmt) for fmt, path in SCHEMA_FILES.items() if path.parent.is_dir()}
    for path, whole in made.items():
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = refresh(old) if whole is None else whole
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
