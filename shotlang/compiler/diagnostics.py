"""Diagnostics: the stable codes, the Diagnostic record, and how both are shown.

Every code a user can meet is in CODES, the one table of them: `shotlang explain`, the docs and
the tests all read it. A code never changes meaning once released; retired codes stay listed.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from . import kling
from .language import BACKENDS, MODE_WORDS, NAME_MAX_CHARS, OPTIONS, STATEMENTS
from .source import Source, Span
from .vocabulary import AXES, JERKY_FROM, VISIBLE_FROM


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(NamedTuple):
    severity: Severity
    title: str
    explanation: str


E, W = Severity.ERROR, Severity.WARNING
# From the language table: `model`, `negative` (or `avoid`), ...; and each word-valued option's words.
_KEYWORD_OPTIONS = ", ".join(
    o.keywords[0] + (f" (or {', '.join(o.keywords[1:])})" if len(o.keywords) > 1 else "") for o in OPTIONS if o.keywords)


def either(words: Iterable[str]) -> str:
    """a, b or c: choices in a message or an explanation."""
    listed = list(words)
    return ", ".join(listed[:-1]) + " or " + listed[-1] if len(listed) > 1 else "".join(listed)


def all_of(words: Iterable[str]) -> str:
    """a, b and c."""
    listed = list(words)
    return ", ".join(listed[:-1]) + " and " + listed[-1] if len(listed) > 1 else "".join(listed)


def _fill(paragraph: str) -> str:
    """A generated paragraph of an explanation, broken into lines as the written ones are."""
    return textwrap.fill(paragraph, 92, break_on_hyphens=False, break_long_words=False)


_WORD_VALUES = ", ".join(f"`{o.keywords[0]}` is {either(f'`{w}`' for w in o.values)}"
                         for o in OPTIONS if o.keywords and o.values)


# The API's limits as the explanations write them (kling.py holds the numbers).
_MAX = kling.MAGNITUDE_MAX
# The options that take a number, and their bounds (E304), from the language table.
_NUMBERS = "; ".join(
    f"`{o.keywords[0]}` takes {'a whole number' if b.whole else 'a number'} from {b.number(b.low)} to "
    f"{b.number(b.high)}" + (f" ({b.hint})" if b.hint else "") for o in OPTIONS if (b := o.bounds) is not None) + "."
# The statements as E100 and E105 list them, from the language table (SEQUENCE included).
_STATEMENT_SHAPES = "\n".join("    " + s.written.replace("`", "") for s in STATEMENTS)

_STATEMENT_WORDS = either(s.keyword.upper() for s in STATEMENTS)
_WRAPPING_WORDS = either(s.keyword.upper() for s in STATEMENTS if s.wraps)
_RATIO = f"{kling.IMAGE_MAX_RATIO:g}"

CODES: dict[str, Code] = {
    # --- E0xx: the file as a whole -------------------------------------------------------
    "E001": Code(E, "file is not UTF-8", """
A .shot file is read as UTF-8 (a leading byte-order mark is allowed), or as UTF-16 when it
starts with UTF-16's byte-order mark (Notepad's "Unicode"). The byte at the reported position
is not valid in that encoding, often because the file was saved as Latin-1 or Windows-1252;
or the file holds NUL bytes, so it is not text at all (a binary file, or UTF-16 saved
without its mark). Re-save it as UTF-8 in your editor."""),
    "E002": Code(E, "control character in the file", """
Control characters (ESC, BEL, NUL and the rest of U+0000-U+001F, U+007F-U+009F, except tab,
newline and carriage return) make a terminal change colour, ring or move its cursor, and
the API would receive them inside a prompt. They usually come from copying text out of a
terminal or another program. Remove them; shotlang shows them escaped, as `\\x1b`."""),
    # --- E1xx: syntax ----------------------------------------------------------------------
    "E100": Code(E, "syntax error", f"""
The line does not follow the shape of any statement. Statements are:

{_STATEMENT_SHAPES}

The caret shows the first token that does not fit; the message says what was expected."""),
    "E101": Code(E, "unterminated string", """
A quoted string must end with a `"` on the same line. To continue a long prompt, close the
string at the end of the line and open a new one at the start of the next line:

    SHOT forest: push in through "Walking through a dark forest,"
        "trees on both sides, moonlight filtering through" 5s

Adjacent strings are joined with one space. Write \\" for a quote inside a string."""),
    "E102": Code(E, "missing prompt", """
Every shot needs a prompt in double quotes, after the move and before the options:

    SHOT castle: slow pan right over "A medieval castle on a cliff" 5s pro

When words after the move read as a description (`... over A castle at dawn 5s`), the prompt
is there but has no quotes: the help shows the line with them."""),
    "E103": Code(E, "missing `:` after the shot name", """
A shot's name ends with a colon: `SHOT castle: slow pan right over "..."`."""),
    "E104": Code(E, "unexpected character", """
This character cannot start any word of the language. Prompts and paths go in double
quotes; names use letters, digits, `-` and `_`."""),
    "E105": Code(E, "unknown statement", f"""
A statement starts with one of {_STATEMENT_WORDS} (in any case).
A line that starts with a quoted string continues the statement above it; it must follow
that statement directly (comment lines may come between, blank lines may not).

A line of options continues a {_WRAPPING_WORDS} line only when it is indented deeper than
that line's first line. Each tab counts as one column, like a space, so a line indented
with one tab under a SHOT indented with four spaces is not deeper: it is read as a statement
of its own, and `10s` or `pro` is no statement. Indent with spaces."""),
    "E106": Code(E, "option before the prompt", """
Options (duration, mode, aspect, model, ...) come after the prompt:

    SHOT castle: pan right over "A castle" 5s pro"""),
    "E107": Code(E, "block comment not closed", """
A block comment starts with /* and ends with the next */, on the same line or a later one.
This one never ends, so the rest of the file would be switched off. Close it where the text
to switch off ends:

    /* SHOT draft: pan left "An older take" */"""),
    "E108": Code(E, "note not closed", """
A note starts with [[ and ends with the next ]], on the same line or a later one. This one
never ends, so the rest of the file would be read as the note. Close it:

    SHOT castle: pan right "A castle" 5s [[ask the client about the flag]]"""),
    # --- E2xx: camera moves ----------------------------------------------------------------
    "E200": Code(E, "unknown word", f"""
The words between the shot's colon and its prompt are an optional intensity (slow,
dramatic, ...), a camera move (pan right, zoom in, push in, ...), an optional magnitude
up to {_MAX} and an optional joiner (over, on, through, ...). This word is none of them.
`shotlang moves` lists the whole vocabulary. A suggestion is offered only when a known move
is within a few typing slips of what was written (see "Did you mean" in docs/language.md),
and always as a whole move (`zoomin` -> `zoom in`)."""),
    "E201": Code(E, "more than one camera movement in one shot", """
The Kling API's simple camera control moves along exactly one of its six axes: a config
with more than one non-zero field is rejected with `400 invalid camera config`. Split the
shot into one shot per movement, or use one of the preset compound moves (crane down and
back, push in and up, turn right forward, turn left forward)."""),
    "E202": Code(E, "magnitude out of range", f"""
A magnitude is a number above 0 and at most {_MAX}: whole (`6`) or with up to two decimal
places (`2.5`). The seed's scale is 1 to {_MAX}, and below {VISIBLE_FROM} the movement is hard to see
(W100). The direction word (left/right, up/down, in/out) gives the sign, so a magnitude
has none: `pan left 6` already sends -6 (horizontal under AXES seed), and `pan right 6`
sends +6. For no movement at all leave the move out or write `static`."""),
    "E203": Code(E, "magnitude has more than two decimal places", f"""
The API takes numbers from -{_MAX} to {_MAX} for each camera field, fractions included.
shotlang keeps a magnitude to two decimal places, so that what is sent is exactly what was
written: round it (`2.345` to `2.35` or `2.34`)."""),
    "E204": Code(E, "strength given twice", """
A move takes either an intensity word before it (`slow pan right`) or a magnitude after it
(`pan right 5`), not both, and at most one of each."""),
    "E205": Code(E, "this move takes no strength", """
`static` and the preset compound moves (crane down and back, push in and up, turn
right/left forward) have no magnitude in the API: leave out the intensity word and number."""),
    "E206": Code(E, "intensity or joiner without a move", """
An intensity word (slow, dramatic, ...) or a magnitude describes a camera move, so it
needs one: `slow pan right over "..."`. A shot with no camera move is written with just
its prompt, or with `static`."""),
    # --- E3xx: options and values ----------------------------------------------------------
    "E300": Code(E, "unknown model", """
The model is not in the capability matrix: shotlang's built-in table (`shotlang models`
prints it) with any models file over it. Check the spelling; model names look like
`kling-v2-6`. A near spelling of a known model is suggested only when its version numbers
are the same: a new version is never taken for an old one. To use a model shotlang does not
know yet, add it to shotlang-models.toml beside the shot list (docs/language.md, "Models")."""),
    "E301": Code(E, "unknown option", "\n" + _fill(
        f"After the prompt come options: a duration in whole seconds (`5s`), a mode ({', '.join(MODE_WORDS)}), "
        f"an aspect ratio (`16:9`), and keyword options: {_KEYWORD_OPTIONS}.")),
    "E302": Code(E, "unsupported aspect ratio", """
Each model renders the aspect ratios its row of the capability matrix lists
(`shotlang models`); text-to-video only, an image shot takes the image's."""),
    "E303": Code(E, "unsupported duration", """
A duration is a whole number of seconds (`5s`), and each model renders the durations its
row of the capability matrix lists (`shotlang models`): a list such as 5 and 10 seconds, or
a range of whole seconds. In a SEQUENCE the total is checked."""),
    "E304": Code(E, "number outside its option's range", f"""
An option that takes a number takes those the API does, and shotlang refuses any other before
it is sent. {_NUMBERS}"""),
    "E305": Code(E, "empty prompt", """
Text-to-video needs a prompt that says what to show. An image-to-video shot may leave the
prompt empty (`""`) only if it has an image."""),
    "E306": Code(E, "text too long", f"""
The API takes at most {kling.TEXT_MAX_CHARS:,} characters for a prompt and for a negative prompt, and
at most {kling.MULTI_PROMPT_MAX_CHARS:,} for the prompt of a shot in a SEQUENCE, counted with the camera words
written into it."""),
    "E307": Code(E, "duplicate shot name", """
Shot names are unique within a file, ignoring case, because each names its output file
(`castle.mp4`) and file systems on macOS and Windows ignore case."""),
    "E308": Code(E, "shot name not safe as a file name", f"""
A shot name becomes a file name, so it is one word: it may use only ASCII letters, digits,
`-` and `_` (no spaces: `castle-at-dawn`, not `castle at dawn`), start with a letter or
digit, be at most {NAME_MAX_CHARS} characters long, and not be a name Windows reserves (con, prn, aux,
nul, com1-9, lpt1-9)."""),
    "E309": Code(E, "option given twice", """
Each option may appear once in a shot (or in one DEFAULTS line). Remove one of them."""),
    "E310": Code(E, "not a valid URL", """
A callback must be an http:// or https:// URL; so must an image given by address rather
than by a local path."""),
    "E311": Code(E, "unknown value", "\n" + _fill(
        f"The value is not one this setting takes: {_WORD_VALUES}, `AXES` is {either(f'`{a}`' for a in AXES)}, "
        f"`BACKEND` is {either(f'`{b}`' for b in BACKENDS)}.")),
    "E312": Code(E, "file setting misplaced or repeated", """
TITLE, AXES and BACKEND apply to the whole file: each may appear once. AXES must come before
the first SHOT, and BACKEND before the first SHOT, SEQUENCE and CAST (each request is made for
the backend in effect where it is written)."""),
    "E313": Code(E, "option not allowed in DEFAULTS or on a SCENE", "\n" + _fill(
        f"DEFAULTS and SCENE take options that make sense for many shots: {all_of(o.kind for o in OPTIONS if not o.per_shot)}. "
        f"{all_of(f'`{o.kind}`' for o in OPTIONS if o.per_shot)} belong to one shot.")),
    "E314": Code(E, "id not valid", f"""
An external task id is your own id for the task, unique per account: 1 to {kling.EXTERNAL_ID_MAX_CHARS} characters
of letters, digits, `-`, `_` and `.`."""),
    "E315": Code(E, "statement inside a SEQUENCE", """
A SEQUENCE holds the SHOT lines indented below it, and nothing else: a SCENE, MODEL,
DEFAULTS, TITLE, AXES or BACKEND line indented under it ends the sequence and is an error. Put such
lines before the SEQUENCE, at its indentation."""),
    "E316": Code(E, "option in the wrong place for a sequence", """
A multi-shot request has one model, mode, aspect ratio, negative prompt, sound and so on
for all its shots: they go on the SEQUENCE line. A shot inside a sequence takes its prompt,
its camera words and a duration only. A sequence takes a start image at most: no end image,
mask or motion. A sequence's shots take no camera control of their own, so a sequence sends
its moves as words (`moves words`, or `auto`) or leaves them out (`moves off`): `moves
numeric` and `moves both` are errors on a SEQUENCE, and `moves` on a shot inside one too."""),
    "E317": Code(E, "sequence with too few or too many shots", f"""
A multi-shot generation has {kling.MULTI_SHOT_MIN} to {kling.MULTI_SHOT_MAX} shots: the SHOT lines indented under the SEQUENCE line.
Split a longer sequence in two."""),
    "E318": Code(E, "sequence durations do not add up", """
A sequence's length is its own duration (`SEQUENCE chase: 15s`), or the sum of its shots'.
The shots' durations must add up to it. Shots without a duration share what the others
leave, in whole seconds, the earlier ones taking a second more when it does not divide
evenly (15s over 4 shots: 4, 4, 4 and 3); each needs at least a second."""),
    # --- E4xx: rules of the Kling API ------------------------------------------------------
    "E319": Code(E, "tabs and spaces mixed around a SEQUENCE", """
A SEQUENCE's shots are the lines indented deeper than it. When the SEQUENCE line and a line
below it are indented one with tabs and the other with spaces, whether that line is deeper
depends on how wide a tab is in each editor, so shotlang does not guess: a shot pulled into a
sequence by mistake would be paid for as part of another video. Indent with spaces only, or
tabs only."""),
    "E320": Code(E, "id given to two shots", """
An `id` is the request's external_task_id: Kling keeps one task per id in an account. Two shots
with one id would be one task: one video saved for both, and a run waiting for the other until
its timeout. Give each shot its own id, or none: shotlang then makes one from the shot's name
and body."""),
    "E321": Code(E, "cast member not valid", f"""
A CAST declares a cast member or an object once: `CAST keeper: "a lighthouse keeper, grey
beard" image "keeper.png" also "keeper-side.png"`. `run` makes it a Kling element from its
images, and shots name it in their prompts as `@keeper`. Its name is the element's name: a
letter, then letters, digits, `-` or `_`, at most {kling.ELEMENT_NAME_MAX_CHARS} characters, each name cast once. Its
description says who or what it is in 1 to {kling.ELEMENT_DESCRIPTION_MAX_CHARS} characters. It takes one front
`image` and {kling.ELEMENT_REFER_IMAGES[0]} to {kling.ELEMENT_REFER_IMAGES[1]} other views (`also`), and no other option: a shot's options go on the shot."""),
    "E322": Code(E, "`@name` names no cast member", """
A prompt names a cast member as `@name`, after its CAST line. `@kepper` close to a cast name
is taken for a typo of it; a CAST line below the first shot that names it must move above it.
An `@word` that is not close to any cast name is sent as written, with a warning (W109)."""),
    "E400": Code(E, "options that exclude each other", """
For image-to-video, the API takes at most one of three groups: a camera move
(camera_control), an end frame (image_tail), or masks (static_mask / dynamic_masks).
Keep one group per shot and split the rest into other shots."""),
    "E401": Code(E, "camera move sent where no source offers camera control", """
A shot sends its move as camera_control (`moves numeric` or `moves both`) on a model, mode,
duration or endpoint where no source offers numeric camera control: not the seed (v1.6 and
later), not Kling's own capability map (kling-v1 std 5s text-to-video, kling-v1-5 pro 5s
image-to-video, `simple` moves only), not a third-party report. Write `moves words` to put the
move into the prompt in camera language, or `moves auto` (the default), which does so where
camera control is not offered; or pick a model with `model ...`."""),
    "E402": Code(E, "model does not offer this kind of shot", """
Each model offers text-to-video, image-to-video or both (the capability matrix, `shotlang
models`). An image-to-video only model needs an `image`; otherwise pick a text-to-video
model."""),
    "E403": Code(E, "image-to-video option on a text shot", """
`mask` and `motion` animate parts of a start image, so they need `image "..."` in the same
shot (or use `tail` for an end frame)."""),
    "E404": Code(E, "text-to-video option on an image shot", """
An image-to-video shot takes its frame from the image: `aspect` applies to text-to-video
only. Remove it (an aspect from DEFAULTS is simply not applied to image shots)."""),
    "E405": Code(E, "motion path not valid", f"""
A dynamic mask (`motion "mask.png" (x, y) (x, y) ...`) has a trajectory of {kling.TRAJECTORY_MIN_POINTS} to {kling.TRAJECTORY_MAX_POINTS}
points in whole, non-negative pixels, origin at the image's bottom-left; a shot takes at
most {kling.DYNAMIC_MASKS_MAX} of them."""),
    "E406": Code(E, "sound not offered by this model", """
Generated audio (`sound on`) is offered by the models, and in the modes and durations, the
capability matrix lists (`shotlang models`). A model without sound refuses the field itself,
so `sound off` is an error there too: remove it."""),
    "E407": Code(E, "combination the model does not offer", """
The capability matrix says which features (an end image, masks, multi-shot, ...) a model
offers on which endpoint, in which mode and at which duration. This shot asks for one in a
combination its model's row does not list. The message names the combination; the help names
the nearest one that works (often: add `pro`). If Kling has changed, correct the matrix in
shotlang-models.toml beside the shot list."""),
    "E408": Code(E, "mode not offered by this model", """
Each model renders in the modes its row of the capability matrix lists (`shotlang models`)."""),
    "E409": Code(E, "voices not valid", f"""
`voice "<id>"` gives a voice of your Kling account to the shot (voice_list). A request takes
at most {kling.VOICES_MAX}, they need `sound on`, and the prompt says where each speaks:
`{kling.VOICE_REFERENCE.format(1)}` for the first declared, `{kling.VOICE_REFERENCE.format(2)}` for the second. A voice the prompt never names,
or a name with no voice declared, is an error, since the API would not say so."""),
    "E410": Code(E, "cfg refused by this model", """
The capability matrix says this model does not take `cfg_scale` at all (the API refuses it),
where older v2 models only ignore it (W104). Remove `cfg`."""),
    "E411": Code(E, "field the omni endpoint does not take", f"""
kling-v3-omni and kling-video-o1 (and any model a models file sends there) take their requests
at the omni endpoint (`{kling.OMNI_VIDEO}`), whose body has no {", ".join(f"`{f}`" for f in kling.OMNI_WITHOUT)}
(Kling's reference, "Omni video"). A negative prompt has nowhere to go there: say in the prompt
what to avoid. A camera move goes as words in the prompt (`moves auto` does so at this
endpoint); `cfg`, masks and voices, where a model's row would let them through, are refused
here too."""),
    "E412": Code(E, "end frame without a start frame", """
At the omni endpoint an end frame (`tail`) needs a start frame (`image`) in the same request."""),
    # --- E5xx: images ----------------------------------------------------------------------
    "E500": Code(E, "image file not found", """
A local image path is read relative to the .shot file's folder (or the working folder
when the shot list comes from standard input)."""),
    "E501": Code(E, "image type not supported", f"""
The API takes JPEG and PNG images ({', '.join(kling.IMAGE_SUFFIXES)}). shotlang checks both the file name
and the file's first bytes."""),
    "E502": Code(E, "image file too large", f"""
The API takes images of at most {kling.IMAGE_MAX_BYTES // 1024 // 1024} MB. Re-encode the image smaller (JPEG at quality 85
usually suffices)."""),
    "E503": Code(E, "image too small", f"""
The API takes images at least {kling.IMAGE_MIN_SIDE} pixels wide and high."""),
    "E504": Code(E, "image aspect ratio out of range", f"""
The API takes images whose width-to-height ratio is between 1:{_RATIO} and {_RATIO}:1."""),
    "E505": Code(E, "mask size differs from the image", """
A static or dynamic mask must have exactly the pixel size of the shot's start image."""),
    "E506": Code(E, "image cannot be read", """
The file's header could not be read as a JPEG or PNG image; it may be damaged."""),
    # --- E7xx: models files -----------------------------------------------------------------
    "E507": Code(E, "an image outside what this compile may read", """
Through the Python API (`shotlang.compile_text`, `compile_bytes`, `compile_file`) a shot list's
local images are read from its own folder only: the folder of the `path` it is given (or
`folder`), and none at all for text with neither. An absolute path, a `~` path or `..` that
leaves the folder, or a link that points out of it, is refused, so a service compiling text it
did not write never reads other files. Put the image in the folder, or give an https://
address; a caller that trusts the text can pass `ImageStore(anywhere=True)` (docs/api.md)."""),
    "E700": Code(E, "models file not readable", """
A models file (shotlang-models.toml beside the shot list, or models.toml in shotlang's config
folder) must be UTF-8 TOML. The message says what the TOML reader found and where; the
format of a models file is in docs/language.md, "Models"."""),
    "E701": Code(E, "unknown key in a models file", """
A models file holds `[defaults]` and one `[models.<name>]` table per model, with the keys
docs/language.md ("Teaching shotlang a model") lists; the message's help lists those the
table takes. A misspelt key would otherwise be ignored in silence, so it is an error."""),
    "E702": Code(E, "value not valid in a models file", """
A value in a models file is of the wrong kind or names something that does not exist: a
mode, endpoint or camera type shotlang does not know, a duration that is not whole seconds,
a `like` or `priced_as` naming no model, a price that is not a number of credits. The
message names the key; docs/language.md, "Models", shows each entry's form."""),
    "E413": Code(E, "cast members where the request takes no elements", f"""
A shot that names a cast member (`@keeper`) sends its element in element_list. Kling takes
elements on kling-v3 image-to-video (a shot with a start image) and on the omni models
(kling-v3-omni, kling-video-o1), per the capability matrix (`shotlang models`); a request names
at most {kling.ELEMENTS_MAX} of them, {kling.ELEMENTS_MAX_WITH_FRAME} when it has a start frame (../shared/kling-api.md, "Elements")."""),
    "E414": Code(E, "a shot that cannot continue the one it names", f"""
`SHOT b: after a …` continues the shot `a`, which must stand above it (a shot list reads in
story order, so a chain of shots never loops) and be a whole video: a shot of its own or a
SEQUENCE, not one shot of a sequence. On a model with a video reference (the omni models) the
request refers to `a`'s video with Kling's documented wording ("{kling.NEXT_SHOT}"), and then
renders in `a`'s aspect ratio and without sound (Kling turns sound off whenever a video is
given). On the others it starts from `a`'s last frame, as image-to-video: it takes no start
image of its own, and its aspect ratio is the frame's."""),
    "E415": Code(E, "takes that cannot be made or chosen", f"""
`takes N` (1 to {kling.TAKES_MAX}) makes N generations of a shot, each a paid request with an external id of
its own; `pick K` says which is the shot's video. K must be one of the takes: a take that
`run --force` added counts once `takes` says so. An `id` names one task at Kling, so a shot with
several takes cannot have one: shotlang gives each take its own."""),
    "E416": Code(E, "no fal app for this model, kind of shot and mode", """
With `--backend fal` (or `backend = "fal"` in the config) a shot goes to one of fal.ai's Kling
apps, one per model, text- or image-to-video and mode (the master models: one for every
mode). The capability matrix's `[backends.fal.<model>]` rows say which exist, from fal's client
map (@fal-ai/client 1.10.1); an id seen only elsewhere is kept with `listed = false` and used
once a models file says `listed = true`. The help names what fal runs of the model: change the
mode or the model, or compile for Kling."""),
    "E417": Code(E, "option the fal app does not take", """
Each fal app takes its own inputs (the matrix's `[backends.fal.<model>.<cell>]` `inputs`):
most take no end frame, masks, voices or generated audio, image-to-video apps no aspect ratio,
several no `negative` or `cfg`, and only kling-v1's standard text-to-video app a camera move as
a field (`moves auto` sends the move as words elsewhere; `moves numeric` there is this error:
write `moves words`). A sequence goes as fal's `multi_prompt` on the kling-v3 and kling-v3-omni
apps only. fal takes no `callback` (its webhook is a queue parameter), `id` or `watermark` in the
input. Every fal image-to-video app needs its start frame, so an end frame alone is this error
too; and every app but kling-v3's and the omni ones needs a prompt (an image shot with an empty
one is). Remove the option, give what the app needs, or compile for Kling."""),
    "E418": Code(E, "duration the fal app does not render", """
A fal app's `duration` is a list of its own (`"5"` and `"10"` for most; 3 to 15 seconds on
kling-v3; 3 to 10 on kling-video-o1), in the matrix's `[backends.fal.<model>.<cell>]` rows."""),
    "E419": Code(E, "a Kling feature fal does not have", """
Cast members (CAST, `@name`) are made as Kling elements at Kling's own API, and `after NAME`
hands one shot's video or last frame to the next through Kling's tasks: fal's queue has
neither. Describe the character in the prompt and give the shot its own start image, or
compile for Kling (`--backend kling`)."""),
    # --- W: warnings, from the seed's guidance ---------------------------------------------
    "W100": Code(W, "movement too weak to see", f"""
Magnitudes below {VISIBLE_FROM} (`2`, `2.5`, `0.5`) give no visible movement. Use {VISIBLE_FROM} or more
(`subtle` is {VISIBLE_FROM})."""),
    "W101": Code(W, "movement may look jerky", f"""
Magnitudes {JERKY_FROM}-{_MAX} may feel unnatural or jerky. 4-6 is the natural range; go higher only for
dramatic reveals or action."""),
    "W102": Code(W, "outside the recommended range for this shot type", """
The seed's Shot Type Quick Reference recommends a range per move (pan 5-8, tilt 5-8,
zoom 5-10, dutch tilt 3-5, push in / pull back 3-5). `shotlang moves` lists them."""),
    "W103": Code(W, "move approximated under AXES official", """
Under AXES official (the official reading of the camera fields) the camera has no forward or
backward travel; push in / pull back are lowered to the nearest move, a zoom."""),
    "W104": Code(W, "cfg scale ignored by this model", """
Kling's v2 models ignore cfg_scale; the option is sent but has no effect."""),
    "W107": Code(W, "camera move sent as words", """
The API takes no camera control for each shot of a multi-shot request, so the move is
written at the start of that shot's prompt in camera language ("The camera pans slowly to the
right. ..."; a number becomes the nearest intensity word). Write `moves words` on the
SEQUENCE line to keep this and silence the warning, or `moves off` to send the prompts without
the moves."""),
    "W108": Code(W, "the shot list relies on a disputed capability", """
The sources of the capability matrix disagree about a cell this shot list uses: the seed says
camera control works on every model from v1.6, Kling's own capability map offers it on two
legacy cells only, third parties report other things (`shotlang models` shows every disputed
cell with each claim and its date). shotlang follows the model's `trust` (the seed for the
models of its time, kling-v1-6 to kling-v2-6; Kling's map for the others) and says so once per
shot list. Settle it: `moves words` for a camera move (the move in the prompt, which every
model reads; `moves both` still sends camera_control, which a model that takes none may refuse,
so it still relies on the dispute); or, once a render has shown what the model does, a claim
with `source = "verified"`, its `date` and what you `rendered`, in shotlang-models.toml."""),
    "W109": Code(W, "`@word` that names no cast member", """
A prompt's `@word` names a cast member only when a CAST line above declares it. In a shot list
with a cast, an `@word` that is no cast name (and close to none) is sent as written: declare it
with CAST if it is one."""),
    "W110": Code(W, "an image outside the shot list's folder", """
A shot names a local image outside its shot list's folder (an absolute path, a `~` path, `..`,
or a link that points out): the command line reads it as the writer asked, and says so. Copy
the image beside the shot list, so the two travel together in version control; the Python API
reads no file outside a shot list's folder (E507)."""),
    "W111": Code(W, "a shot of a sequence after a blank line", """
A SEQUENCE's shots are the SHOT lines indented deeper than it, blank lines or not: a SHOT meant
to stand on its own but indented under a sequence (after a blank line that seemed to end it)
is one more shot of that multi-shot request, paid within it. Write it at the SEQUENCE's
indentation to make it a shot of its own; remove the blank line to keep it in the sequence."""),
    "W106": Code(W, "no shots in the file", """
The file is empty, or holds only comments and file settings, so it compiles to nothing.
Write a shot: `SHOT castle: pan right over "A castle at dawn" 5s`."""),
}


class Related(NamedTuple):
    """Another place a diagnostic points at, such as the first use of a duplicated name."""

    span: Span
    message: str


class Diagnostic(NamedTuple):
    code: str
    message: str
    span: Span
    hint: str = ""
    related: tuple[Related, ...] = ()

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment (restricted Damerau-Levenshtein) distance: the fewest single
    insertions, deletions, substitutions and swaps of two neighbours that turn `a` into `b`."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)
        before = prev
    return row[-1]


def max_edits(word: str) -> int:
    """How far a suggestion may be from what was typed (docs/language.md, "Did you mean"):
    none for 1-2 characters, 1 edit up to 4, 2 up to 8, 3 beyond."""
    n = len(word)
    return 0 if n <= 2 else 1 if n <= 4 else 2 if n <= 8 else 3


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to `word` in spelling (ignoring case), if one is within max_edits;
    of equally near choices, the first in alphabetical order, so the answer never depends on
    the order of a set."""
    typed = word.lower()
    limit = max_edits(typed)
    best: tuple[int, str] | None = None
    for choice in choices:
        if abs(len(choice) - len(typed)) > limit:
            continue  # the distance is at least the difference in length (and a long word is cheap)
        distance = edit_distance(typed, choice.lower())
        if distance <= limit and (best is None or (distance, choice) < best):
            best = (distance, choice)
    return best[1] if best else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest choice, or "" when nothing is close."""
    match = closest(word, choices)
    return f"did you mean `{match}`?" if match else ""


def sort_key(d: Diagnostic) -> tuple[int, int, str]:
    return (d.span.start, d.span.end, d.code)


# --- rendering -------------------------------------------------------------------------------

_STYLE = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "blue": "\x1b[1;34m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"

# The source line under a diagnostic shows at most this many columns (docs/diagnostics.md,
# "Long lines"): a longer line is cut to a window around the span, with … on the cut sides.
WINDOW = 120
# Columns of the line kept before the span when the line has to be cut on the left.
CONTEXT = 30
_CUT = "…"
# A word quoted in a message (`…`) is shown up to this many characters.
QUOTED = 60
_MESSAGE = 1000

# Characters a terminal would obey rather than show: C0 and C1 controls (ESC, BEL, NUL, ...),
# DEL, the line and paragraph separators, and the bidirectional controls (a U+202E can make
# a line read backwards). They are shown escaped, as Python writes them.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
_ESCAPES = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [*range(0x20), *range(0x7F, 0xA0), *map(ord, _BIDI)]
}
TEXT_ESCAPES = {c: e for c, e in _ESCAPES.items() if c != ord("\n")}


def _shown(c: str) -> str:
    """How one character of a source line is shown: a tab as one space (columns count it as
    one), a control character escaped, anything else as itself."""
    return " " if c == "\t" else _ESCAPES.get(ord(c), c)


def _cells(c: str) -> int:
    """Columns a terminal gives character `c` as shown (wide East Asian characters take two)."""
    shown = _shown(c)
    if len(shown) > 1:
        return len(shown)
    return 2 if unicodedata.east_asian_width(c) in "WF" else 1


def _columns(text: str, start: int, end: int, limit: int) -> int:
    """Columns of text[start:end] as shown, counting no further than just past `limit`."""
    used = 0
    for i in range(start, end):
        used += _cells(text[i])
        if used > limit:
            break
    return used


class Window(NamedTuple):
    """The part of a source line shown under a diagnostic, and where its caret goes."""

    shown: str  # the visible text, escaped, with … where it is cut
    pad: int  # columns before the first caret
    carets: int  # columns of carets
    cut: bool  # the span goes on past the right edge (the caret line ends in …)


def source_window(text: str, line_start: int, line_end: int, start: int, end: int,
                  width: int = WINDOW) -> Window:
    """The window of text[line_start:line_end] shown for the span [start, end).

    The shown text takes at most `width` columns. A line that fits is shown whole; a longer
    one keeps some context before the span and as much of the span as fits, and each cut side
    gets a …. Only the window is ever copied or measured, so a line of 50 MB costs no more
    than a short one.
    """
    start = min(max(start, line_start), line_end)
    end = min(max(end, start), line_end)
    if _PLAIN.fullmatch(text, line_start, line_end):
        return _plain_window(text, line_start, line_end, start, end, width)
    return _measured_window(text, line_start, line_end, start, end, width)


def _measured_window(text: str, line_start: int, line_end: int, start: int, end: int, width: int) -> Window:
    """source_window for any line: each character measured (wide ones take two columns,
    controls their escape's)."""
    if _columns(text, line_start, line_end, width) <= width:
        left, right = line_start, line_end
    else:
        before = _columns(text, line_start, start, width)
        span = _columns(text, start, end, width)
        left = start
        if before + span <= width - 1:  # the span fits with a … after it: no cut on the left
            left = line_start
        else:
            # Some context before the span, half of what the span leaves, but not so much
            # that the span's first character and a … on each side no longer fit.
            first = _cells(text[start]) if start < line_end else 1
            context, used = min(max(CONTEXT, (width - 2 - span) // 2), width - 2 - first), 0
            while left > line_start and used + _cells(text[left - 1]) <= context:
                left -= 1
                used += _cells(text[left])
        budget = width - (left > line_start)
        right, used = left, 0
        while right < line_end and used + _cells(text[right]) <= budget:
            used += _cells(text[right])
            right += 1
        while right < line_end and used > budget - 1 and right > start:  # room for the …
            right -= 1
            used -= _cells(text[right])
    head = _CUT if left > line_start else ""
    tail = _CUT if right < line_end else ""
    shown = head + "".join(_shown(c) for c in text[left:right]) + tail
    pad = len(head) + _columns(text, left, start, 2 * width)
    carets = _columns(text, start, min(end, right), 2 * width)
    return Window(shown, pad, max(1, carets), end > right)


# A line of printable ASCII (a tab is shown as one space): a character is a column, so the
# window is arithmetic. Most lines of most shot lists; the general path measures each character.
_PLAIN = re.compile(r"[\t -~]*")


def _plain_window(text: str, line_start: int, line_end: int, start: int, end: int, width: int) -> Window:
    """source_window for a line of printable ASCII: the same window, by counting."""
    if line_end - line_start <= width:
        left, right = line_start, line_end
    else:
        before, span = min(start - line_start, width + 1), min(end - start, width + 1)
        left = start
        if before + span > width - 1:
            context = min(max(CONTEXT, (width - 2 - span) // 2), width - 3)
            left = max(line_start, start - max(context, 0))
        else:
            left = line_start
        budget = width - (left > line_start)
        right = min(line_end, left + budget)
        if right < line_end and right - left > budget - 1 and right > start:  # room for the …
            right -= 1
    head = _CUT if left > line_start else ""
    tail = _CUT if right < line_end else ""
    shown = head + text[left:right].replace("\t", " ") + tail
    pad = len(head) + min(start - left, 2 * width + 1)
    carets = min(max(min(end, right) - start, 0), 2 * width + 1)
    return Window(shown, pad, max(1, carets), end > right)


_QUOTE = re.compile(r"`([^`]*)`")


def clip(message: str) -> str:
    """A message or hint with each long `quoted` word shortened to its start and …, and no
    more than a screenful in all: a 50 MB word is quoted as its first 60 characters."""
    if len(message) <= QUOTED:
        return message

    def shorten(m: re.Match[str]) -> str:
        start, end = m.span(1)
        if end - start <= QUOTED:
            return m[0]
        return f"`{message[start : start + QUOTED]}{_CUT}`"  # slices only what is kept

    message = _QUOTE.sub(shorten, message)
    return message if len(message) <= _MESSAGE else message[:_MESSAGE] + _CUT


def render_text(d: Diagnostic, source: Source, color: bool = False) -> str:
    """rustc-style: what, where, the source line with a caret under the span, and help.

    The source line is shown through a window (source_window) and, like the message, with
    control characters escaped: a diagnostic can neither flood nor steer the terminal.
    """

    def paint(style: str, s: str) -> str:
        return f"{_STYLE[style]}{s}{_RESET}" if color else s

    def safe(text: str) -> str:
        return clip(text).translate(TEXT_ESCAPES)

    sev = d.severity.value
    line_start, line_end = source.line_bounds(d.span.line)
    end = d.span.end if d.span.end_line == d.span.line else line_end
    window = source_window(source.shown, line_start, line_end, d.span.start, end)
    gutter = " " * len(str(d.span.line))
    carets = "^" * window.carets + (_CUT if window.cut else "")
    out = [
        paint(sev, f"{sev}[{d.code}]") + paint("bold", f": {safe(d.message)}"),
        f"{gutter}{paint('blue', '-->')} {safe(source.name)}:{d.span.line}:{d.span.column}",
        f"{gutter} {paint('blue', '|')}",
        f"{paint('blue', str(d.span.line))} {paint('blue', '|')} {window.shown}",
        f"{gutter} {paint('blue', '|')} {' ' * window.pad}{paint(sev, carets)}",
    ]
    if d.hint:
        out.append(f"{gutter} {paint('blue', '=')} {paint('bold', 'help')}: {safe(d.hint)}")
    return "\n".join(out)


def to_json(d: Diagnostic, source: Source) -> dict[str, object]:
    """The record editors and CI read: stable keys, 1-based lines and columns (exact, however
    long the line; only a long word quoted in the message is shortened, as in the text)."""
    return {
        "file": source.name,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "severity": d.severity.value,
        "code": d.code,
        "message": clip(d.message),
        "hint": clip(d.hint),
        # Other places it points at (the first use of a duplicated name): same file, 1-based.
        "related": [{"line": r.span.line, "column": r.span.column, "end_line": r.span.end_line,
                     "end_column": r.span.end_column, "message": r.message} for r in d.related],
    }
