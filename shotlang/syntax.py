"""The syntax tree: what a .shot file says, word for word, with the span of every piece.

Nothing here is interpreted yet: move words are still words and durations still text.
lower.py gives them meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import Span


@dataclass(frozen=True, slots=True)
class Text:
    """A quoted string (or several joined), escapes resolved."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Word:
    """One token of a move or a bare option: a word or a number, as written."""

    text: str
    span: Span
    is_number: bool = False


@dataclass(frozen=True, slots=True)
class Point:
    x: str
    y: str
    span: Span


@dataclass(frozen=True, slots=True)
class Option:
    """An option after a prompt or in DEFAULTS.

    kind is the option's name in the grammar (duration, aspect, flag, model_option, negative,
    cfg, image, tail, mask, motion, external_id, callback, sound); value is the Word or Text
    that follows it; points are a motion's trajectory.
    """

    kind: str
    value: Word | Text
    span: Span
    points: tuple[Point, ...] = ()


@dataclass(frozen=True, slots=True)
class Shot:
    name: Word
    move: tuple[Word, ...]
    prompt: Text
    options: tuple[Option, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Scene:
    heading: Text
    span: Span


@dataclass(frozen=True, slots=True)
class Title:
    title: Text
    span: Span


@dataclass(frozen=True, slots=True)
class ModelStatement:
    name: Word
    span: Span


@dataclass(frozen=True, slots=True)
class Defaults:
    options: tuple[Option, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Axes:
    reading: Word
    span: Span


Statement = Shot | Scene | Title | ModelStatement | Defaults | Axes


@dataclass
class ShotList:
    """A parsed file: its statements in order. Lines that failed to parse are left out
    (their diagnostics are reported beside this)."""

    statements: list[Statement] = field(default_factory=list)
