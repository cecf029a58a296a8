"""The film vocabulary: the one table of every word shotlang understands in a move.

Moves map to one of the API's six camera fields with a sign, under each of the two readings
of those fields (see docs/kling-mapping.md): `seed`, the reading of the seed document and the
default, and `official`, the reading of Kling's own field descriptions in the newest copy of
its reference (2026-03: `pan` turns the camera left and right, `tilt` up and down; the 2025-12
copy had the two the other way round). Each move also has its words in camera language, for
models that take the move in the prompt. The docs and `shotlang moves` are made from these
tables, and tests check them against each other.
"""

from __future__ import annotations

from typing import NamedTuple

# The two readings of the six camera fields a file may choose with AXES (or --axes).
AXES = ("seed", "official")


class Axis(NamedTuple):
    """One camera field and the sign a direction gives it."""

    field: str
    sign: int


class Move(NamedTuple):
    name: str  # the canonical phrase, shown in docs and messages
    synonyms: tuple[str, ...]
    description: str
    seed: Axis | None = None
    official: Axis | None = None
    preset: str | None = None  # an API preset type (a compound move), instead of an axis
    recommended: tuple[int, int] | None = None  # the seed's Quick Reference range, if it has one
    # True where AXES official has no field for this move and a near one is used.
    approximate_in_official: bool = False
    # The move in camera language, for models that take it in the prompt (`moves words`):
    # `{how}` is where the strength goes ("slowly"), and goes away when none is written.
    words: str = ""

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)

    def axis(self, axes: str) -> Axis | None:
        """The field and sign this move sends under AXES seed or AXES official."""
        return self.seed if axes == "seed" else self.official

    @property
    def is_static(self) -> bool:
        return self.seed is None and self.preset is None


def _m(name: str, synonyms: str, description: str, **kw: object) -> Move:
    return Move(name, tuple(s.strip() for s in synonyms.split(",") if s.strip()), description, **kw)  # type: ignore[arg-type]


H, V, Z, R, P, T = "horizontal", "vertical", "zoom", "roll", "pan", "tilt"

MOVES: tuple[Move, ...] = (
    _m("pan right", "", "camera turns right; good for landscapes",
       seed=Axis(H, +1), official=Axis(P, +1), recommended=(5, 8),
       words="the camera pans {how} to the right"),
    _m("pan left", "", "camera turns left; a reveal from right to left",
       seed=Axis(H, -1), official=Axis(P, -1), recommended=(5, 8),
       words="the camera pans {how} to the left"),
    _m("tilt up", "", "camera tilts upward; reveals buildings, trees",
       seed=Axis(V, +1), official=Axis(T, +1), recommended=(5, 8),
       words="the camera tilts up {how}"),
    _m("tilt down", "", "camera tilts downward",
       seed=Axis(V, -1), official=Axis(T, -1), recommended=(5, 8),
       words="the camera tilts down {how}"),
    _m("zoom in", "", "focus on the subject, dramatic",
       seed=Axis(Z, +1), official=Axis(Z, -1), recommended=(5, 10), words="the camera zooms in {how}"),
    _m("zoom out", "", "reveal; an establishing shot",
       seed=Axis(Z, -1), official=Axis(Z, +1), recommended=(5, 10), words="the camera zooms out {how}"),
    _m("roll clockwise", "roll right, roll cw", "camera rolls clockwise about the lens axis",
       seed=Axis(R, +1), official=Axis(R, +1), words="the camera rolls {how} clockwise"),
    _m("roll counter-clockwise",
       "roll counterclockwise, roll anticlockwise, roll anti-clockwise, roll left, roll ccw",
       "camera rolls counter-clockwise about the lens axis",
       seed=Axis(R, -1), official=Axis(R, -1), words="the camera rolls {how} counter-clockwise"),
    _m("dutch tilt", "dutch angle, dutch", "a canted frame; unsettling, artistic",
       seed=Axis(R, +1), official=Axis(R, +1), recommended=(3, 5),
       words="the frame cants {how} into a dutch angle"),
    _m("dolly right", "truck right, track right", "camera travels sideways to the right",
       seed=Axis(P, +1), official=Axis(H, +1), words="the camera trucks {how} to the right"),
    _m("dolly left", "truck left, track left", "camera travels sideways to the left",
       seed=Axis(P, -1), official=Axis(H, -1), words="the camera trucks {how} to the left"),
    _m("dolly up", "crane up, pedestal up, boom up, rise", "camera travels upward",
       seed=Axis(T, +1), official=Axis(V, +1), words="the camera cranes up {how}"),
    _m("dolly down", "crane down, pedestal down, boom down, descend", "camera travels downward",
       seed=Axis(T, -1), official=Axis(V, -1), words="the camera cranes down {how}"),
    _m("push in", "dolly forward, dolly in, track in, move in, push forward",
       "camera travels toward the subject; depth effect",
       seed=Axis(T, +1), official=Axis(Z, -1), recommended=(3, 5), approximate_in_official=True,
       words="the camera pushes in {how} toward the subject"),
    _m("pull back", "dolly back, dolly backward, dolly out, track out, pull out, move back",
       "camera travels away from the subject; a reveal",
       seed=Axis(T, -1), official=Axis(Z, +1), recommended=(3, 5), approximate_in_official=True,
       words="the camera pulls back {how} from the subject"),
    _m("crane down and back", "down and back, descend and pull back, down back, down_back",
       "compound preset: the camera descends and pulls back", preset="down_back",
       words="the camera cranes down and pulls back"),
    _m("push in and up", "forward and up, push in and tilt up, forward up, forward_up",
       "compound preset: the camera pushes forward and tilts up", preset="forward_up",
       words="the camera pushes in and tilts up"),
    _m("turn right forward", "right turn forward, turn right and forward, right_turn_forward",
       "compound preset: the camera turns right while moving forward",
       preset="right_turn_forward", words="the camera moves forward while turning right"),
    _m("turn left forward", "left turn forward, turn left and forward, left_turn_forward",
       "compound preset: the camera turns left while moving forward",
       preset="left_turn_forward", words="the camera moves forward while turning left"),
    _m("static", "still, locked off, locked-off, fixed, no move",
       "no camera movement: no camera_control is sent", words="a static shot, the camera locked off"),
)

# Intensity words and the magnitude they give; no word means DEFAULT_MAGNITUDE. From the seed's
# Intensity Guidelines: 3 is the lowest that stays visible, 4-6 natural, 7-8 strong, 9-10 maximum.
INTENSITIES: dict[str, int] = {
    "subtle": 3, "slight": 3,
    "gentle": 4, "soft": 4,
    "slow": 5, "moderate": 5, "steady": 5, "medium": 5,
    "strong": 7, "dramatic": 7, "bold": 7,
    "fast": 8, "quick": 8, "rapid": 8,
    "extreme": 9,
    "maximum": 10, "max": 10,
}  # fmt: skip
DEFAULT_MAGNITUDE = 5
# The seed's Intensity Guidelines: below VISIBLE_FROM no visible movement (W100); NATURAL is
# the natural range, STRONG strong; from JERKY_FROM on, it may feel unnatural or jerky (W101).
VISIBLE_FROM = 3
NATURAL = (4, 6)
STRONG = (7, 8)
JERKY_FROM = 9

# Words that join the move to the prompt: "pan right over ...". They carry no meaning.
JOINERS = frozenset(
    ["over", "on", "of", "through", "across", "into", "onto", "toward", "towards", "at", "to", "around", "along", "past", "above", "below", "under", "beneath", "beside", "behind", "from", "with", "revealing", "showing", "following"]
)
# Words between two moves; two moves in one shot are an error the checks explain.
CONNECTORS = frozenset({"and", "then", "while", "&", "+"})



def _phrase_index() -> dict[tuple[str, ...], Move]:
    index: dict[tuple[str, ...], Move] = {}
    for move in MOVES:
        for phrase in move.phrases:
            key = tuple(phrase.split())
            assert key not in index, f"phrase {phrase!r} is listed twice"
            index[key] = move
    return index


PHRASES: dict[tuple[str, ...], Move] = _phrase_index()
LONGEST_PHRASE = max(len(k) for k in PHRASES)
MOVE_WORDS = frozenset(w for k in PHRASES for w in k)
ALL_WORDS = MOVE_WORDS | INTENSITIES.keys() | JOINERS
# The first word of each multi-word move name and the moves it starts: `pan` -> pan right, pan left.
MOVE_HEADS: dict[str, list[str]] = {}
for _move in MOVES:
    if " " in _move.name:
        MOVE_HEADS.setdefault(_move.name.split()[0], []).append(_move.name)

assert not (INTENSITIES.keys() & MOVE_WORDS), "an intensity word is also a move word"
assert not (JOINERS & MOVE_WORDS), "a joiner is also a move word"

# How each intensity word reads in a sentence about the camera: "the camera pans slowly".
ADVERBS: dict[str, str] = {
    "subtle": "subtly", "slight": "slightly",
    "gentle": "gently", "soft": "softly",
    "slow": "slowly", "moderate": "at a moderate pace", "steady": "steadily", "medium": "at a medium pace",
    "strong": "strongly", "dramatic": "dramatically", "bold": "boldly",
    "fast": "fast", "quick": "quickly", "rapid": "rapidly",
    "extreme": "extremely fast",
    "maximum": "as fast as it can", "max": "as fast as it can",
}  # fmt: skip
assert ADVERBS.keys() == INTENSITIES.keys(), "every intensity word needs its adverb"


def nearest_intensity(magnitude: float) -> str:
    """The intensity word whose magnitude is nearest (the weaker one on a tie): 8 -> fast."""
    return min(INTENSITIES, key=lambda w: (abs(INTENSITIES[w] - magnitude), INTENSITIES[w]))


def phrase(move: Move, strength: str | None = None) -> str:
    """The move in camera language, as a sentence to put before a prompt: `The camera pans
    slowly to the right.` `strength` is an intensity word, or None when none was written."""
    how = ADVERBS[strength] if strength else ""
    text = " ".join(move.words.replace("{how}", how).split())
    return text[:1].upper() + text[1:] + "."
