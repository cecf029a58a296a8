"""The shot language as data: its statements, its options, its tokens and its option words.

grammar/shot.lark is the readable spec of the language; this module is the same language as a
table, for the code that must know it without parsing: the fast path (quickparse.py), the tree
builder and the parse-error explanations (parser.py), the lowering (lower.py), the hints and the
docs (docs.py). tests/test_language_table.py compares the table with the grammar's own terminals,
so a keyword or a token pattern changed on one side only fails the suite.

Film vocabulary (moves, intensities, joiners) is in vocabulary.py; facts about the API (which
durations, modes and ratios exist, the limits) are in kling.py.

Adding an option: docs/contributing.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal, NamedTuple

from . import kling
from .vocabulary import AXES

# --- tokens ----------------------------------------------------------------------------------
# The grammar's value terminals: name -> (regular expression, case-insensitive). The grammar
# writes the same patterns (a test holds them equal); quickparse.py builds its scanner from these.
# The inside of a quoted string up to its closing quote: possessive runs of plain characters
# between escapes (see the grammar's STRING). scanner.py builds its other string scanners on it.
STRING_INSIDE = r'[^"\\]*+(?:\\.[^"\\]*+)*+'
TOKENS: dict[str, tuple[str, bool]] = {
    "NAME": (r'[^\s:"#()]+', False),
    "WORD": (r"[^\W\d][\w'-]*", False),
    "NUMBER": (r"[+-]?\d+(\.\d+)?(?![\w.:])", False),
    "DURATION": (r"\d+(\.\d+)?s(?!\w)", True),
    "ASPECT": (r"\d+:\d+", False),
    # Possessive runs of plain characters between escapes: see the grammar's STRING.
    "STRING": (f'"{STRING_INSIDE}"', False),
}


# Quotes a word processor puts in for `"`: not quotes to the lexer, which says so (E104), and
# marked in the editor grammar.
SMART_QUOTES = "\u201c\u201d\u201e\u2033\u00ab\u00bb"


def token_pattern(name: str) -> str:
    """A terminal's pattern, ready to put inside a larger one (case-insensitive where it is)."""
    pattern, no_case = TOKENS[name]
    return f"(?i:{pattern})" if no_case else pattern


# --- statements ------------------------------------------------------------------------------

# Where a shot list's requests go (`BACKEND fal`, `--backend fal`, the config's `[run] backend`),
# each with what it is: Kling's own API, or fal.ai's apps that run Kling's models (fal.py).
BACKENDS: dict[str, str] = {
    "kling": "Kling's own API (Kling's request bodies)",
    "fal": "fal.ai's Kling apps (each shot's app id and fal's input; what no fal app takes is refused)",
}
DEFAULT_BACKEND = "kling"
# fal's hosts: its queue takes requests and answers about them (fal's Inference API reference,
# https://fal.ai/docs/api-reference/inference-api), its platform API lists an app's requests
# (https://fal.ai/docs/platform-apis/v1/models/requests/by-endpoint); read 2026-12-07.
FAL_QUEUE_BASE = "https://queue.fal.run"
FAL_PLATFORM_BASE = "https://api.fal.ai"

Shape = Literal["shot", "sequence", "cast", "scene", "text", "name", "word", "options"]


class Statement(NamedTuple):
    keyword: str  # lower case; keywords are case-insensitive
    shape: Shape  # what follows the keyword
    wraps: bool  # its options may go on over lines indented deeper than it
    written: str  # how the docs write it
    meaning: str


STATEMENTS: tuple[Statement, ...] = (
    Statement("shot", "shot", True, '`SHOT <name>: [after <shot>] [move] "<prompt>" [options…]`',
              "one video to generate; `after <shot>` continues a shot above it (see [Making a film](#making-a-film))"),
    Statement("sequence", "sequence", True, "`SEQUENCE <name>: [options…]`",
              "one multi-shot generation: the `SHOT` lines indented below it are its shots, in order; "
              "see [Sequences](#sequences)"),
    # A SCENE's options are on its own line: the lines indented under it are its shots (and
    # `MODEL`, which is an option word too, must stay a statement there).
    Statement("scene", "scene", False, '`SCENE "<heading>" [options…]`',
              "the shots below it belong to this scene (carried into the output); its options are "
              "theirs up to the next `SCENE`, over `MODEL` and `DEFAULTS` lines above it (a later "
              "`MODEL` or `DEFAULTS` line, or a shot's own option, wins)"),
    Statement("model", "name", False, "`MODEL <model>`",
              "the model of the shots below it (a shot's own `model` wins)"),
    Statement("defaults", "options", True, "`DEFAULTS <options…>`",
              "options for the shots below it; a shot's own options win; a later `DEFAULTS` line adds "
              "to or replaces the earlier ones option by option"),
    Statement("title", "text", False, '`TITLE "<title>"`', "the shot list's title (once)"),
    Statement("cast", "cast", True, '`CAST <name>: "<description>" image "<front>" also "<other>"…`',
              "a cast member or an object made once as a Kling element from its images (a front image "
              "and 1 to 3 others), then named in any shot's prompt as `@name`; see "
              "[Making a film](#making-a-film)"),
    Statement("axes", "word", False, " / ".join(f"`AXES {a}`" for a in AXES),
              "how moves map to the API's camera fields (once, before the first `SHOT`); see "
              "[kling-mapping.md](kling-mapping.md)"),
    Statement("backend", "word", False, " / ".join(f"`BACKEND {b}`" for b in BACKENDS),
              "where the shots are sent: Kling's API or fal.ai's Kling apps (once, before the first `SHOT`, "
              "`SEQUENCE` or `CAST`); `--backend` wins over it, and it over the config's backend; see "
              "[Backends](#backends)"),
)
STATEMENT_KEYWORDS: tuple[str, ...] = tuple(s.keyword for s in STATEMENTS)
# Keywords that are neither a statement's nor an option's: a CAST's other images.
# Keywords that are neither a statement's nor an option's: a CAST's other images, and `after`,
# which makes a shot continue the one it names.
OTHER_KEYWORDS: tuple[str, ...] = ("also", "after")
# Keywords that begin everyday names and words (`castle: …` is a shot without its SHOT, not CAST
# `le`; `afterglow` is a word): the grammar matches them only as whole words.
WHOLE_WORD_KEYWORDS = frozenset({"cast", "after"})
# A shot's name names its video file: at most this many characters (checks.py, E308).
NAME_MAX_CHARS = 64

# --- options ---------------------------------------------------------------------------------

# What an option takes: a quoted text; a name or word or number; a mask and its trajectory
# points; or nothing, the option being a bare token (`5s`, `16:9`, `pro`).
Argument = Literal["text", "name", "word", "number", "points", "bare"]


class Bounds(NamedTuple):
    """The numbers a `number` option takes: from `low` to `high`, whole numbers only if `whole`
    (sent as an int). `hint` is said with a number outside them (E304)."""

    low: float
    high: float
    whole: bool = False
    hint: str = ""

    @staticmethod
    def number(value: float) -> str:
        """A bound as the messages write it: `0`, `0.5`, `2147483647`."""
        return str(int(value)) if float(value).is_integer() else f"{value:g}"


class Option(NamedTuple):
    """One option a shot (or DEFAULTS) may carry: its one definition.

    `kind` names it everywhere: the syntax tree's Option.kind, the lowered setting, messages.
    An option that is not `made` is sent as its value says, under `field`, and everything about
    it follows from this row: its grammar alternative (the generated part of grammar/shot.lark),
    its lowering and value check (a text is itself; a word one of `values`; a number within
    `bounds`), its field in bodies.VideoRequest, the JSON Schema, decompile's way back, the
    local server's acceptance, completion, hover, fmt and the docs tables. A `made` option's
    field is made by code of its own (records.py: images inlined, a default duration, ...).
    """

    kind: str
    keywords: tuple[str, ...]  # the words that introduce it, lower case; () for a bare token
    argument: Argument
    terminal: str | None  # the grammar's terminal of a bare option's token
    field: str  # the API body field it fills; `a.b` is field b of the object in field a; "" none
    per_shot: bool  # belongs to one shot: not allowed in DEFAULTS
    values: Mapping[str, str | bool] | None  # the words it takes and the API value of each
    written: str  # how the docs write it
    example: str
    note: str
    bounds: Bounds | None = None  # a number's range (argument "number")
    made: bool = False  # its field is made by code, not sent as the value says
    sent: str = ""  # what the API gets, for docs/kling-mapping.md; derived when ""
    source: str = ""  # where the API field is documented, if not Kling's own reference

    def sent_text(self) -> str:
        """What the API gets, in the docs' words."""
        if self.sent:
            return self.sent
        if self.values is not None:
            shown = [json_text(v) for v in dict.fromkeys(self.values.values())]
            outer, _, inner = self.field.partition(".")
            if inner:
                shown = [f'{{"{inner}": {v}}}' for v in shown]
            return " / ".join(f"`{v}`" for v in shown)
        if self.bounds is not None:
            return "the whole number" if self.bounds.whole else "the number"
        return "the text"


def json_text(value: object) -> str:
    """A value as JSON writes it: `true`, `"on"`."""
    return json.dumps(value)


# Input words for the API's values.
MODE_WORDS: dict[str, kling.Mode] = {"std": "std", "standard": "std", "pro": "pro", "professional": "pro"}
SOUND_WORDS: dict[str, kling.Sound] = {s: s for s in kling.SOUNDS}
SWITCH_WORDS: dict[str, bool] = {"on": True, "off": False}
# How a shot's camera move is sent (camera.py): the first is the default.
MOVES_WORDS: dict[str, str] = {w: w for w in ("auto", "numeric", "words", "both", "off")}


OPTIONS: tuple[Option, ...] = (
    Option("duration", (), "bare", "DURATION", "duration", False, None, "duration", "`5s`, `10s`, `15s`",
           f"whole seconds, those the model renders (the models table); default `{kling.DEFAULT_DURATION}s`",
           made=True, sent=f'the whole seconds as a string, `"5"`; `"{kling.DEFAULT_DURATION}"` when none is given; '
           "which ones a model renders is the capability matrix's"),
    Option("mode", (), "bare", "WORD", "mode", False, MODE_WORDS, "mode", ", ".join(f"`{w}`" for w in MODE_WORDS),
           f"sent as {'/'.join(f'`{m}`' for m in kling.MODES)}; left out if not given "
           f"(the API's default is `{kling.DEFAULT_MODE}`)",
           sent=" / ".join(f'`"{m}"`' for m in kling.MODES) + f"; left out when none is given (the API's default "
           f"is `{kling.DEFAULT_MODE}`; `pro` at the omni endpoint)"),
    Option("aspect", (), "bare", "ASPECT", "aspect_ratio", False, None, "aspect ratio",
           "`16:9`, `9:16`, `1:1`", "text-to-video only; those the model renders (the models table)",
           made=True, sent="as written (text-to-video only; the ratios the model's row lists); at the omni endpoint "
           f'`"{kling.DEFAULT_ASPECT}"` when none is given and no start frame gives it'),
    Option("model", ("model",), "name", None, "model_name", False, None, "`model <name>`",
           "`model kling-v2-master`", "see the models table",
           made=True, sent=f"the name; `{kling.DEFAULT_MODEL}` when none is given (`MODEL` sets it for the shots below)"),
    Option("negative", ("negative", "avoid"), "text", None, "negative_prompt", False, None,
           '`negative "<text>"` (or `avoid`)', '`negative "blur, text"`',
           f"at most {kling.TEXT_MAX_CHARS:,} characters"),
    Option("cfg", ("cfg",), "number", None, "cfg_scale", False, None,
           f"`cfg <{kling.CFG_MIN:g}–{kling.CFG_MAX:g}>`", "`cfg 0.3`", "v2 models ignore it (W104)",
           bounds=Bounds(kling.CFG_MIN, kling.CFG_MAX, hint=(
               f"{kling.CFG_MIN:g} lets the model roam, {kling.CFG_MAX:g} follows the prompt closely; "
               f"{kling.CFG_DEFAULT:g} is the default"))),
    Option("image", ("image",), "text", None, "image", True, None, '`image "<path or URL>"`',
           '`image "stills/dawn.png"`', "makes an image-to-video shot",
           made=True, sent="a URL as written, or the local file as Base64 (no `data:` prefix)"),
    Option("tail", ("tail",), "text", None, "image_tail", True, None, '`tail "<path or URL>"`',
           '`tail "stills/dusk.png"`', "the end frame; makes an image-to-video shot", made=True, sent="likewise"),
    Option("mask", ("mask",), "text", None, "static_mask", True, None, '`mask "<path or URL>"`',
           '`mask "sky-mask.png"`', "needs `image`", made=True, sent="likewise"),
    Option("motion", ("motion",), "points", None, "dynamic_masks", True, None,
           '`motion "<mask>" (x, y) (x, y)…`', '`motion "boat.png" (10, 20) (90, 40)`',
           f"needs `image`; {kling.TRAJECTORY_MIN_POINTS}–{kling.TRAJECTORY_MAX_POINTS} points, "
           f"at most {kling.DYNAMIC_MASKS_MAX} motions",
           made=True, sent='`[{"mask": <image>, "trajectories": [{"x": x, "y": y}, …]}, …]`'),
    Option("id", ("id",), "text", None, "external_task_id", True, None, '`id "<id>"`',
           '`id "ep1-castle"`', "your own task id"),
    Option("callback", ("callback",), "text", None, "callback_url", False, None,
           '`callback "<URL>"`', '`callback "https://example.com/hook"`', "http(s) only"),
    Option("sound", ("sound",), "word", None, "sound", False, SOUND_WORDS,
           "`sound on` / `sound off`", "`sound on`",
           "models with sound only, `on` in the modes the models table says"),
    Option("watermark", ("watermark",), "word", None, "watermark_info.enabled", False, SWITCH_WORDS,
           "`watermark on` / `watermark off`", "`watermark off`",
           'sent as `{"enabled": true}` / `{"enabled": false}`; left out if not given',
           source="Whether the video carries Kling's watermark. Reported by third-party documentation of "
           "2025-2026, not confirmed by Kling's own pages (../shared/kling-api.md)."),
    Option("voice", ("voice",), "text", None, "voice_list", True, None, '`voice "<voice id>"`',
           '`voice "narrator-en-1"`',
           f"up to {kling.VOICES_MAX}; needs `sound on`; the prompt says where each speaks: "
           f"`{kling.VOICE_REFERENCE.format(1)}`, `{kling.VOICE_REFERENCE.format(2)}`",
           made=True, sent=f'up to {kling.VOICES_MAX}, `[{{"voice_id": "…"}}, …]` in the order written; the prompt names them '
           f"`{kling.VOICE_REFERENCE.format(1)}`, `{kling.VOICE_REFERENCE.format(2)}`"),
    Option("moves", ("moves",), "word", None, "", False, MOVES_WORDS,
           "`moves auto` / `numeric` / `words` / `both` / `off`", "`moves words`",
           "how the camera move is sent: as camera_control (`numeric`), as words at the start of the "
           "prompt (`words`), `both`, or not at all (`off`); `auto`, the default, sends it numeric where "
           "the model offers camera control for the shot, else as words (a sequence's moves always go "
           "as words)",
           made=True, sent="nothing of its own: it says how the move is sent (see Camera moves)"),
    Option("takes", ("takes",), "number", None, "", False, None, f"`takes <1–{kling.TAKES_MAX}>`", "`takes 3`",
           "that many generations of the shot, each paid, all kept: `castle.mp4` is the chosen one (`pick`), the "
           "others `castle.take-2.mp4`, `castle.take-3.mp4`…; default 1",
           bounds=Bounds(1, kling.TAKES_MAX, whole=True, hint=(
               f"a shot has 1 to {kling.TAKES_MAX} takes, each a paid generation")),
           made=True, sent="nothing of its own: one request per take, each with its own external_task_id"),
    Option("pick", ("pick",), "number", None, "", True, None, "`pick <take>`", "`pick 2`",
           "the chosen take: its video is `castle.mp4` and what the storyboard, the timeline and `after` use "
           "(`shotlang pick castle 2` writes it); default 1",
           bounds=Bounds(1, kling.TAKES_MAX, whole=True, hint=f"a take's number, 1 to {kling.TAKES_MAX}"),
           made=True, sent="nothing: it says which take is the shot's video"),
)
# Options a shot may give more than once (each is one more of a list).
REPEATABLE = frozenset({"motion", "voice"})

# The options sent as their value says, under their field: everything about them follows from
# their row (records.py, bodies.py, decompile.py, the local server, the schema, the docs).
AS_IS: tuple[Option, ...] = tuple(o for o in OPTIONS if not o.made and o.field)

OPTION_BY_KIND: dict[str, Option] = {o.kind: o for o in OPTIONS}
OPTION_BY_KEYWORD: dict[str, Option] = {k: o for o in OPTIONS for k in o.keywords}
OPTION_KEYWORDS: tuple[str, ...] = tuple(OPTION_BY_KEYWORD)


def terminal(keyword: str) -> str:
    """The grammar's terminal for a keyword: `negative` -> NEGATIVE."""
    return keyword.upper()


# The option that a token of this terminal starts: a keyword's (NEGATIVE, AVOID, ...) or a bare
# option's own (DURATION, ASPECT, WORD).
OPTION_BY_TERMINAL: dict[str, Option] = {
    **{o.terminal: o for o in OPTIONS if o.terminal},
    **{terminal(k): o for o in OPTIONS for k in o.keywords},
}


STATEMENT_TERMINALS = frozenset(terminal(k) for k in STATEMENT_KEYWORDS)
# The terminals that can start an option: in Lark's "expected" set, they say the parser was
# reading options. (WORD is left out: a move's words are WORDs too.)
OPTION_TERMINALS = frozenset({*(terminal(k) for k in OPTION_KEYWORDS),
                              *(o.terminal for o in OPTIONS if o.terminal and o.terminal != "WORD")})

# Statements whose options may go on over deeper-indented lines; and the keywords that always
# start a statement of their own (a line starting with `model` may be an option of the SHOT above).
WRAPPING: tuple[str, ...] = tuple(s.keyword for s in STATEMENTS if s.wraps)
NEVER_CONTINUE: tuple[str, ...] = tuple(k for k in STATEMENT_KEYWORDS if k not in OPTION_BY_KEYWORD)
