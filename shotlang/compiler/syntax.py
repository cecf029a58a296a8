"""The syntax tree: what a .shot file says, word for word, with the span of every piece.

Nothing here is interpreted yet: move words are still words and durations still text.
lower.py gives them meaning.
"""

from __future__ import annotations

from typing import NamedTuple

from .source import Span


class Text(NamedTuple):
    """A quoted string (or several joined), escapes resolved."""

    value: str
    span: Span


class Word(NamedTuple):
    """One token of a move or a bare option: a word or a number, as written."""

    text: str
    span: Span
    is_number: bool = False


class Point(NamedTuple):
    x: str
    y: str
    span: Span


class Option(NamedTuple):
    """An option after a prompt or in DEFAULTS.

    kind is the option's kind in language.OPTIONS (duration, mode, aspect, model, negative,
    cfg, ...); value is the Word or Text that follows its keyword, or the bare token itself;
    points are a motion's trajectory; keyword is the keyword as written ("" for a bare option),
    which the formatter keeps (`avoid` stays `avoid`).
    """

    kind: str
    value: Word | Text
    span: Span
    points: tuple[Point, ...] = ()
    keyword: str = ""


class Shot(NamedTuple):
    name: Word
    move: tuple[Word, ...]
    prompt: Text
    options: tuple[Option, ...]
    span: Span
    after: Word | None = None  # `after castle`: the shot above it that this one continues


class Sequence(NamedTuple):
    """The head of a multi-shot sequence; its shots are the SHOT statements indented below it."""

    name: Word
    options: tuple[Option, ...]
    span: Span


class Cast(NamedTuple):
    """A cast member: its name, its description, and its options (its front `image`); `also`
    are its other reference images, in order."""

    name: Word
    description: Text
    options: tuple[Option, ...]
    also: tuple[Text, ...]
    span: Span


class Scene(NamedTuple):
    heading: Text
    span: Span
    options: tuple[Option, ...] = ()  # for the shots of the scene, up to the next SCENE


class Title(NamedTuple):
    title: Text
    span: Span


class ModelStatement(NamedTuple):
    name: Word
    span: Span


class Defaults(NamedTuple):
    options: tuple[Option, ...]
    span: Span


class Axes(NamedTuple):
    value: Word
    span: Span


class Backend(NamedTuple):
    value: Word
    span: Span


Statement = Shot | Sequence | Cast | Scene | Title | ModelStatement | Defaults | Axes | Backend
