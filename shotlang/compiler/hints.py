"""What a writer probably meant: the suggestions behind the commonest slips.

A suggestion is only made when it is close (diagnostics.max_edits: within 1 edit up to 4
letters, 2 up to 8, 3 beyond) and when following it fixes the line: a misspelt move is offered
as a whole phrase (`zoomin` -> `zoom in`, never a bare `zoom` that then fails for want of a
direction), and a word with nothing close gets an explanation instead of a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from . import kling
from .diagnostics import closest, edit_distance, either, max_edits
from .language import MODE_WORDS, OPTION_BY_KEYWORD, OPTION_KEYWORDS, STATEMENT_KEYWORDS
from .models import built_in
from .vocabulary import (
    ALL_WORDS,
    CONNECTORS,
    INTENSITIES,
    JOINERS,
    LONGEST_PHRASE,
    MOVE_WORDS,
    MOVES,
    PHRASES,
)


def _squeeze(text: str) -> str:
    """A phrase with its spaces, hyphens and underscores left out: `zoom in` -> `zoomin`."""
    return re.sub(r"[\s_-]+", "", text.lower())


# Every phrase a move may be written as, canonical names first (so they are offered first).
_ALL_PHRASES: tuple[str, ...] = tuple(
    dict.fromkeys([m.name for m in MOVES] + [p for m in MOVES for p in m.synonyms])
)
_SQUEEZED: dict[str, str] = {}
for _phrase in _ALL_PHRASES:
    _SQUEEZED.setdefault(_squeeze(_phrase), _phrase)


def phrases_starting(word: str) -> list[str]:
    """`track` -> track right, track left, track in, track out."""
    return [p for p in _ALL_PHRASES if " " in p and p.split()[0] == word]


def phrases_ending(tail: Sequence[str]) -> list[str]:
    """(`left`,) -> pan left, roll left, dolly left, ...: one phrase per move."""
    found: dict[str, str] = {}
    for key, move in PHRASES.items():
        if len(key) > len(tail) and key[-len(tail):] == tuple(tail):
            found.setdefault(move.name, " ".join(key))
    return [found[name] for name in (m.name for m in MOVES) if name in found]


def _stem(word: str) -> str:
    """`panning` -> pan, `zooming` -> zoom, `tracking` -> track: film writers' -ing forms."""
    if word in ALL_WORDS:
        return word
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            base = word[: -len(suffix)]
            for candidate in (base, base + "e", base[:-1] if base[-1:] == base[-2:-1] else ""):
                if candidate in MOVE_WORDS:
                    return candidate
    return word


class MoveGuess(NamedTuple):
    """A phrase the words at a place were probably meant to be, and how many words it covers."""

    phrase: str
    covers: int
    wrong: tuple[int, ...]  # which of the covered words differ from the phrase (indexes from i)


def guess_move(words: Sequence[str], i: int) -> MoveGuess | None:
    """The move phrase closest to words[i:] (lower case, no numbers), covering as many words as
    possible: `pann right` -> pan right (2), `zoomin` -> zoom in (1), `pan rihgt` -> pan right."""
    window = list(words[i : i + LONGEST_PHRASE])
    stems = [_stem(w) for w in window]
    for n in range(len(window), 0, -1):
        typed = window[:n]
        if tuple(stems[:n]) in PHRASES:
            phrase = " ".join(stems[:n])
            return MoveGuess(phrase, n, tuple(k for k in range(n) if typed[k] != stems[k]))
        if n == 1 and stems[0] in MOVE_WORDS:
            return None  # a move word on its own (`pan`, `tracking`): word_hint offers its phrases
        squeezed = _squeeze("".join(typed))
        limit = max_edits(squeezed)
        best: tuple[int, str] | None = None
        for key, phrase in _SQUEEZED.items():
            if abs(len(key) - len(squeezed)) <= limit:
                distance = edit_distance(squeezed, key)
                if distance <= limit and (best is None or distance < best[0]):
                    best = (distance, phrase)
        if best is not None:
            return MoveGuess(best[1], n, _differing(typed, best[1].split()))
    return None


def _differing(typed: Sequence[str], parts: Sequence[str]) -> tuple[int, ...]:
    """Which typed words are not the phrase's: all but a shared start and a shared end
    (`roll counter clockwise` against `roll counter-clockwise`: the last two)."""
    first = 0
    while first < min(len(typed), len(parts)) - 1 and typed[first] == parts[first]:
        first += 1
    last = len(typed) - 1
    while last > first and len(parts) - len(typed) + last > 0 and typed[last] == parts[len(parts) - len(typed) + last]:
        last -= 1
    return tuple(range(first, last + 1))


def offer(phrases: Sequence[str], most: int = 4) -> str:
    """`a`, `b` or `c` (and the first `most` of a longer list)."""
    shown = [f"`{p}`" for p in phrases[:most]]
    if len(phrases) > most:
        shown.append("...")
    return either(shown)


def statements_in_words() -> str:
    """The statement keywords as a hint lists them: `SHOT, SCENE, ... or AXES`."""
    return either(k.upper() for k in STATEMENT_KEYWORDS)


def intensity_meant(word: str) -> str | None:
    """The intensity word a word is close to (`slowly` -> `slow`), if it is one."""
    guess = closest(_stem(word), ALL_WORDS)
    return guess if guess in INTENSITIES else None


def word_hint(word: str) -> str:
    """A hint for one word between a shot's colon and its prompt that is no move word."""
    guess = closest(_stem(word), ALL_WORDS)
    if guess is None:
        return ("`shotlang moves` lists every camera move and intensity word; words about the "
                "picture belong inside the prompt's quotes")
    if guess in INTENSITIES or guess in JOINERS:
        return f"did you mean `{guess}`?"
    starting = phrases_starting(guess)
    if starting:
        return f"did you mean {offer(starting)}?"
    ending = phrases_ending((guess,))
    if ending:
        return f"did you mean {offer(ending)}?"
    return f"did you mean `{guess}`?"


# Words writers try as options, and where what they mean is written instead.
_OPTION_IDEAS = {
    **dict.fromkeys(("speed", "strength", "intensity", "magnitude", "power", "amount"),
                    "the camera's strength goes with the move, before the prompt: an intensity "
                    "word (`fast pan right`) or a number after the move (`pan right 8`)"),
    **dict.fromkeys(("duration", "length", "seconds", "secs", "sec", "time", "dur"),
                    "a duration is written in whole seconds, such as `5s` or `10s`, with no keyword"),
    **dict.fromkeys(("aspect", "ratio", "ar", "size"),
                    "an aspect ratio is written width:height, such as `16:9` or `9:16`, with no keyword"),
    **dict.fromkeys(("mode", "quality"),
                    f"a mode is written {either(f'`{m}`' for m in kling.MODES)}, with no keyword"),
}


def option_hint(word: str, value: str | None = None) -> str:
    """A hint for a bare word after the prompt that is no option (`speed`, `fog`, `prof`),
    `value` being the number written after it, if any."""
    low = word.lower()
    if low in _OPTION_IDEAS:
        return _OPTION_IDEAS[low]
    if low in MOVE_WORDS or low in INTENSITIES:
        return "camera moves go before the prompt: `SHOT a: pan right over \"...\"`"
    guess = closest(low, [*MODE_WORDS, *OPTION_KEYWORDS])
    if guess is not None:
        takes_value = guess in OPTION_BY_KEYWORD and OPTION_BY_KEYWORD[guess].argument in ("name", "word", "number")
        return f"did you mean `{guess} {value}`?" if value is not None and takes_value else f"did you mean `{guess}`?"
    return (f"options are a duration (`5s`), a mode "
            f"({either(f'`{m}`' for m in kling.MODES)}), an aspect ratio (`16:9`) or a "
            "keyword option such as `negative \"...\"`; `shotlang explain E301` lists them")


def number_option_hint(number: str) -> str:
    """A bare number after the prompt: a duration without its `s`, or a magnitude astray."""
    if number in {d for m in built_in().models.values() for d in m.durations}:
        return f"a duration is written with an s: `{number}s`"
    return ("a duration is whole seconds with an s (`5s`); a magnitude goes right after the move, "
            f"before the prompt: `pan right {number.lstrip('+-')}`")


def model_hint(name: str, known: Sequence[str], files: Sequence[Path] = ()) -> str:
    """A hint for an unknown model: a near spelling of a known one (same version numbers),
    or the list of models shotlang knows and where to add one. A version is never guessed:
    `kling-v4` is not a misspelt `kling-v1`."""

    def key(model: str) -> str:
        return re.sub(r"[^a-z0-9]", "", model.lower()).removeprefix("kling")

    def digits(model: str) -> str:
        return re.sub(r"\D", "", model)

    typed = key(name)
    near = [m for m in known if digits(m) == digits(name)
            and edit_distance(typed, key(m)) <= max(1, max_edits(typed))]
    if near:
        return f"did you mean `{min(near, key=lambda m: edit_distance(typed, key(m)))}`?"
    read = f" (read: {', '.join(map(str, files))})" if files else ""
    return ("the models shotlang knows are " + ", ".join(f"`{m}`" for m in known)
            + f"; teach it a new one in shotlang-models.toml beside the shot list{read}: "
            "`shotlang models` shows the table, docs/language.md#models the format")


# --- an unquoted prompt ------------------------------------------------------------------------


def move_prefix(words: Sequence[str]) -> int:
    """How many of `words` (lower case) read as a shot's camera words: intensities, a move,
    a magnitude, connectors, then one joiner. The rest would be the prompt."""
    i = 0
    while i < len(words) and words[i] in INTENSITIES:
        i += 1
    while i < len(words):
        if words[i] in CONNECTORS or re.fullmatch(r"[+-]?\d+(\.\d+)?", words[i]):
            i += 1
            continue
        for n in range(min(LONGEST_PHRASE, len(words) - i), 0, -1):
            if tuple(words[i : i + n]) in PHRASES:
                i += n
                break
        else:
            break
    if i < len(words) and words[i] in JOINERS:
        i += 1
    return i


def looks_like_prose(words: Sequence[str], after_joiner: bool) -> bool:
    """Whether words where a prompt should be read as a description rather than misspelt move
    words: after a joiner, anything; otherwise at least two words that are no move word and
    not close to one (`A castle at dawn` yes, `pann right` no)."""
    if not words:
        return False
    if after_joiner:
        return True
    strange = [w for w in words if w not in ALL_WORDS and closest(_stem(w), ALL_WORDS) is None]
    return len(strange) >= 2
