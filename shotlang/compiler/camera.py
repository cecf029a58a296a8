"""How a shot's camera move reaches the model: as camera_control, as words, both, or not at all.

Kling's own capability map offers numeric camera control (camera_control) on two cells only;
the seed offers it on every model from v1.6 (models.py keeps both claims). A move must reach
the screen whatever the model, so each shot says how it is sent with `moves`:

    numeric  camera_control, the move's axis and magnitude
    words    the move in camera language at the start of the prompt, where video models read it
    both     the two together
    off      neither: the move is left out
    auto     (the default) numeric where the shot's cell offers camera control, else words

A sequence's shots take no camera_control, so their moves go as words (or `off`). The checks,
the records, `plan` and the storyboard all read the one answer given here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from . import kling
from .lower import Camera, LoweredShot, Settings, with_elements
from .models import Model
from .vocabulary import INTENSITIES, Move, nearest_intensity, phrase

# What `moves` takes, the first being the default.
CHOICES = ("auto", "numeric", "words", "both", "off")
DEFAULT = "auto"


class Sending(NamedTuple):
    """How one shot's move goes: `how` is numeric, words or both ("" when no move is written
    or `moves off` leaves it out); `words` is the sentence put before the prompt, "" when none
    is (also when the writer's prompt says the move already)."""

    how: str
    words: str = ""

    @property
    def numeric(self) -> bool:
        return self.how in ("numeric", "both")


NOTHING = Sending("")



def choice(settings: Settings) -> str:
    return settings.moves.value if settings.moves is not None else DEFAULT


def endpoint_of(settings: Settings, model: Model | None) -> kling.Endpoint:
    """Where a shot's (or a sequence's) request goes: by its model (models.Model.endpoint_for),
    text2video or image2video for a model the matrix does not know."""
    if model is not None:
        return model.endpoint_for(settings.to_image)
    return kling.IMAGE2VIDEO if settings.to_image else kling.TEXT2VIDEO


def cell(settings: Settings, model: Model | None) -> tuple[kling.Endpoint, str, str]:
    """The endpoint, mode and duration a shot's request is for, as the matrix is read by."""
    endpoint = endpoint_of(settings, model)
    duration = settings.duration.value if settings.duration else kling.DEFAULT_DURATION
    return endpoint, settings.mode_at(endpoint), duration


def kind_of(camera: Camera) -> str:
    """The camera_control type a move is sent as (a static shot is read as a simple one)."""
    return camera.move.preset or "simple"


def sending(shot: LoweredShot, model: Model | None) -> Sending:
    """How `shot`'s move is sent on `model`, its settings' model (None: a model the matrix does
    not know, reported elsewhere; its move is sent as the writer chose, `auto` as numeric).
    Worked out once per shot."""
    if shot.sent is None:
        shot.sent = _sending(shot, model)
    return shot.sent  # type: ignore[no-any-return]


def _sending(shot: LoweredShot, model: Model | None) -> Sending:
    camera = shot.camera
    wanted = choice(shot.settings)
    if camera is None or wanted == "off":
        return NOTHING
    if shot.in_sequence:
        how = "words"
    elif wanted == "auto":
        at = cell(shot.settings, model)
        offered = not excluded(shot) and at[0] != kling.OMNI_VIDEO and (  # no camera_control at omni-video
            model is None or model.offers("camera", *at, kind_of(camera)))
        how = "numeric" if offered else "words"
    else:
        how = wanted
    if how == "numeric" or said_in(camera.move, shot.prompt.value):
        return Sending(how)
    return Sending(how, words(camera))


def excluded(shot: LoweredShot) -> bool:
    """camera_control is excluded by the shot's end frame or masks (E400): under `moves auto`
    its move goes as words, whatever the model offers."""
    settings = shot.settings
    return settings.tail is not None or settings.mask is not None or bool(shot.motions)


def words(camera: Camera) -> str:
    """The move as a sentence in camera language: `The camera pans slowly to the right.`"""
    return phrase(camera.move, strength(camera))


def strength(camera: Camera) -> str | None:
    """The intensity word of a move: the one written, else the one nearest to the number
    written (`pan right 8`: fast), else None."""
    if camera.magnitude is None or camera.strength_span is None:
        return None
    span = camera.strength_span
    written = span.source.text[span.start:span.end].lower()
    return written if written in INTENSITIES else nearest_intensity(camera.magnitude)


def prompt(shot: LoweredShot, how: Sending) -> str:
    """The prompt as sent: the move's words first, then the writer's prompt (its cast named as
    `<<<element_N>>>`)."""
    text = with_elements(shot.prompt.value, shot.cast) if shot.cast else shot.prompt.value
    if how.words:
        text = f"{how.words} {text}" if text.strip() else how.words
    if shot.settings.after is not None and not shot.settings.from_frame:  # continued by its video
        text = f"{kling.NEXT_SHOT} {text}" if text.strip() else kling.NEXT_SHOT
    return text


def sequence_prompt(shot: LoweredShot, settings: Settings) -> str:
    """A sequence shot's prompt as sent: its move's words first, unless the sequence says
    `moves off` (the API takes no camera control per shot of a sequence)."""
    camera = shot.camera
    if camera is None or choice(settings) == "off" or said_in(camera.move, shot.prompt.value):
        return shot.prompt.value
    return prompt(shot, Sending("words", words(camera)))


# --- a move the writer has put in the prompt already ------------------------------------------

# Single words that say a move only in camera talk; the others (`still`, `rise`, `fixed`) are
# everyday words a prompt uses for other things.
_SAYS_ALONE = {"dutch": r"dutch[\s-]+(?:angle|tilt)", "static": r"static[\s-]+(?:shot|camera)"}
_GAP = r"(?:\W+\w+){0,3}?\W+"  # up to three words between a move's words: "pans slowly to the right"


class _Said(NamedTuple):
    alone: re.Pattern[str]  # what says a move in camera talk only: `dutch angle`, `static shot`
    exact: re.Pattern[str]  # the move's own phrase: `pan right`, `push in`, in a sentence of the camera
    loose: re.Pattern[str]  # its words inflected and apart (`pans slowly to the right`): said of a camera


@cache
def _said(move: Move) -> _Said:
    alone, exact, loose = [], [], []
    for words_of in (p.replace("_", " ").split() for p in move.phrases):
        if len(words_of) == 1:
            if words_of[0] in _SAYS_ALONE:
                alone.append(_SAYS_ALONE[words_of[0]])
            continue
        escaped = [re.escape(w) for w in words_of]
        exact.append(r"[\s-]+".join(escaped))
        loose.append(escaped[0] + r"\w*" + "".join(_GAP + w for w in escaped[1:]))
    return _Said(*(re.compile(r"\b(?:" + "|".join(found or ["(?!)"]) + r")\b", re.IGNORECASE)
                   for found in (alone, exact, loose)))


_SENTENCE = re.compile(r"[^.!?;]+")
# What makes a sentence one about the camera: `A frying pan right beside the stove`, `soldiers
# move in`, `she does not pull back` say no move.
_CAMERA = re.compile(r"\b(?:camera|lens|shot|frame)s?\b", re.IGNORECASE)


def said_in(move: Move, text: str) -> bool:
    """The writer's prompt says this move already: in camera talk only (`dutch angle`), or in a
    sentence about the camera (`the camera pans slowly to the right`, `a slow pan right shot`).
    Its words are then not put in a second time. (Not `her head tilting up`, nor `a frying pan
    right by the stove`: said of no camera.)"""
    if not text:
        return False
    said = _said(move)
    if said.alone.search(text):
        return True
    return any(_CAMERA.search(s[0]) and (said.exact.search(s[0]) or said.loose.search(s[0]))
               for s in _SENTENCE.finditer(text))
