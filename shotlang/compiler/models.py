"""The capability matrix: which model offers what, in which endpoint, mode and duration.

The facts are data (shotlang/compiler/models.toml, with the source of each); a project's
`shotlang-models.toml` beside its shot lists, then the user's `models.toml` in the config
folder, may add a model or override any entry without a new release. Later files win, key by
key. A models file that cannot be used is reported like a shot list: E700-E702 with
file:line:column and a caret.

The checks (checks.py), the prices of `plan` and `run`, `shotlang models`, the docs and the
local Kling server (testing/) all read the one effective table made here.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import threading
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeVar, get_args

from . import kling
from .diagnostics import Diagnostic, all_of, closest, did_you_mean, either
from .source import Source, Span

PROJECT_FILE = "shotlang-models.toml"  # beside the shot list
USER_FILE = "models.toml"  # in the config folder, beside config.toml
BUILT_IN = "built-in"

# What a model may offer. `cfg` is cfg_scale; `voice` is voice_list; `masks` static and dynamic.
Feature = Literal["camera", "image_tail", "masks", "sound", "voice", "multi_shot", "cfg", "elements"]
FEATURES: tuple[Feature, ...] = get_args(Feature)
# How messages name a feature: "takes an end image", "has no end image".
FEATURE_WORDS: dict[str, str] = {
    "camera": "camera control", "image_tail": "an end image", "masks": "masks", "sound": "sound",
    "voice": "voices", "multi_shot": "multi-shot sequences", "cfg": "cfg", "elements": "cast members (elements)",
}


def no(feature: str) -> str:
    """`no end image`, `no sound`: a feature's words after "no"."""
    words = FEATURE_WORDS[feature]
    return "no " + words.removeprefix("an ").removeprefix("a ")
# Endpoints by their last path segment, as models files write them.
ENDPOINT_KEYS: dict[str, kling.Endpoint] = {e.rsplit("/", 1)[-1]: e for e in kling.ENDPOINTS}
# Where a claim comes from: the seed document, Kling's own reference (a dated copy), third
# parties (reported, not confirmed by Kling), and `verified`: a user who rendered it. A source
# shotlang does not know (a models file's own name for it) is the user's word, like `verified`.
SOURCES = ("seed", "official", "reported")
VERIFIED = "verified"
# The order sources are believed in where a model's entry does not say (`trust`): Kling's map
# first. The models of the seed's time (kling-v1-6 to kling-v2-6) trust the seed first.
TRUST = ("official", "seed", "reported")
SOURCE_WORDS = {"seed": "the seed", "official": "Kling's reference", "reported": "third-party reports",
                VERIFIED: "verified by a render"}


def says(claim: Claim) -> str:
    """The verb after claim_text: "third-party reports say", "the seed says"."""
    return "say" if claim.source == "reported" else "says"


def claim_text(claim: Claim) -> str:
    """A claim's source in words: `Kling's reference (2026-03)`, `the seed`."""
    words = SOURCE_WORDS.get(claim.source, claim.source)
    return f"{words} ({claim.date})" if claim.date else words
# Features that only a request with a start image can carry: on image2video, and on omni-video
# (which takes text and images alike).
IMAGE_ONLY = ("image_tail", "masks")
OMNI = "omni-video"


def endpoint_key(endpoint: str) -> str:
    return endpoint.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Condition:
    """One set of circumstances in which a feature is offered; None: any."""

    endpoints: frozenset[str] | None = None
    modes: frozenset[str] | None = None
    durations: frozenset[str] | None = None
    types: frozenset[str] | None = None  # camera_control types (camera only)
    since: tuple[int, int] | None = None  # the model's version, at least
    # Offered only in requests that do not use these features (kling-v2-6's end frame: no sound).
    without: frozenset[str] = frozenset()
    source: str = ""
    note: str = ""

    def holds(self, version: tuple[int, int] | None, endpoint: str, mode: str, duration: str,
              kind: str | None) -> bool:
        return ((self.endpoints is None or endpoint in self.endpoints)
                and (self.modes is None or mode in self.modes)
                and (self.durations is None or duration in self.durations)
                and (self.types is None or kind is None or kind in self.types)
                and (self.since is None or (version is not None and version >= self.since)))


@dataclass(frozen=True)
class Claim:
    """What one source says of a feature on one model: offered under any of `conditions`
    (none: nowhere). `ignored`: the API takes it and it does nothing. `date`: of the copy or
    report the claim was read in; `rendered`: for a `verified` claim, what the user rendered
    to learn it."""

    source: str
    conditions: tuple[Condition, ...]
    ignored: bool = False
    date: str = ""
    note: str = ""
    rendered: str = ""
    origin: str = ""  # BUILT_IN, or the models file that wrote it

    def holds(self, version: tuple[int, int] | None, endpoint: str, mode: str, duration: str,
              kind: str | None) -> bool:
        return any(c.holds(version, endpoint, mode, duration, kind) for c in self.conditions)


@dataclass(frozen=True)
class Offer:
    """Where a model offers a feature: every source's claim, the one believed first (by the
    model's `trust`). The first claim is the answer; the others are kept, to be shown."""

    claims: tuple[Claim, ...]

    @property
    def answer(self) -> Claim:
        return self.claims[0] if self.claims else _SILENT

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.answer.conditions

    @property
    def ignored(self) -> bool:
        return self.answer.ignored

    @property
    def source(self) -> str:
        return self.answer.source

    @property
    def note(self) -> str:
        return self.answer.note

    @property
    def settled(self) -> bool:
        """The answer is the user's own (`verified`, or a source shotlang does not know): no
        dispute among the other claims is shown."""
        return self.answer.source not in SOURCES


_SILENT = Claim("", ())


T = TypeVar("T")
_MISSING = object()  # Model.kept: not worked out yet


@dataclass(frozen=True)
class Model:
    """One model's row of the effective matrix, and where it was written."""

    name: str
    version: tuple[int, int] | None
    source: str
    note: str
    endpoints: tuple[str, ...]
    modes: tuple[str, ...]
    durations: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    features: Mapping[str, Offer]
    prices: Mapping[PriceSlot, float]  # credits, as written
    prices_source: str
    priced_as: str | None
    origin: str  # BUILT_IN, or file:line of the entry that added the model
    changed: tuple[str, ...] = ()  # file:line of each later entry that changed it
    # combinations() answers, kept: a hint asks them over every model, mode and duration.
    _memo: dict[tuple[str, str, str | None], list[tuple[str, str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    _offers: dict[tuple[str, str, str, str, str | None], bool] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    # Other answers about one cell, kept by what asked and the cell: what the checks ask of
    # every shot (10,000 shots are a handful of cells), such as its disputes (see kept()).
    known: dict[tuple[Any, ...], Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def kept(self, key: tuple[Any, ...], make: Callable[..., T], *args: Any) -> T:
        """`make(*args)`, worked out once per key (in `known`)."""
        found = self.known.get(key, _MISSING)
        if found is _MISSING:
            found = self.known[key] = make(*args)
        return found  # type: ignore[no-any-return]

    @cached_property
    def contested(self) -> bool:
        """Some feature of it has sources that disagree somewhere (and the user has not settled
        it): the checks look for the disputes a shot relies on only then."""
        return any(not offer.settled and len(offer.claims) > 1 for offer in self.features.values())

    @cached_property
    def omni(self) -> bool:
        """It takes its requests at the omni endpoint, text and images alike (kling-v3-omni)."""
        return OMNI in self.endpoints

    @property
    def text2video(self) -> bool:
        return "text2video" in self.endpoints or self.omni

    @property
    def image2video(self) -> bool:
        return "image2video" in self.endpoints or self.omni

    def endpoint_for(self, to_image: bool) -> kling.Endpoint:
        """Where a request for this model goes: the omni endpoint if the model takes its
        requests there, else image2video for a shot with an image, text2video otherwise."""
        if self.omni and ("image2video" if to_image else "text2video") not in self.endpoints:
            return kling.OMNI_VIDEO
        return kling.IMAGE2VIDEO if to_image else kling.TEXT2VIDEO

    def offers(self, feature: str, endpoint: str, mode: str, duration: str, kind: str | None = None) -> bool:
        """Whether `feature` is offered (or ignored, which the API takes) in this combination."""
        key = (feature, endpoint, mode, duration, kind)
        found = self._offers.get(key)
        if found is None:
            found = self.features[feature].answer.holds(self.version, endpoint_key(endpoint), mode, duration, kind)
            self._offers[key] = found
        return found

    def excludes(self, feature: str, endpoint: str, mode: str, duration: str, kind: str | None = None) -> frozenset[str]:
        """The features a request may not use beside `feature` here (kling-v2-6's end frame
        comes without sound): those every condition that offers it excludes."""
        def make() -> frozenset[str]:
            at = endpoint_key(endpoint)
            holding = [c.without for c in self.features[feature].conditions
                       if c.holds(self.version, at, mode, duration, kind)]
            return frozenset.intersection(*holding) if holding else frozenset()

        return self.kept(("excludes", feature, endpoint, mode, duration, kind), make)

    def claims(self, feature: str, endpoint: str, mode: str, duration: str,
               kind: str | None = None) -> list[tuple[Claim, bool]]:
        """Every source's answer in this combination, the believed one first."""
        at = endpoint_key(endpoint)
        return [(c, c.holds(self.version, at, mode, duration, kind)) for c in self.features[feature].claims]

    def disputed(self, feature: str, endpoint: str, mode: str, duration: str,
                 kind: str | None = None) -> list[Claim]:
        """The claims that answer otherwise than the believed one here, unless the user has
        settled the feature (`verified`): [] when the sources agree."""
        offer = self.features[feature]
        if offer.settled or len(offer.claims) < 2:
            return []

        def make() -> list[Claim]:
            (_, said), *others = self.claims(feature, endpoint, mode, duration, kind)
            return [c for c, says in others if says != said]

        return list(self.kept(("disputed", feature, endpoint, mode, duration, kind), make))

    def offered_by_any(self, feature: str, endpoint: str, mode: str, duration: str, kind: str | None = None) -> bool:
        """Some source says the feature is offered here (the believed one or not); where the user
        has settled the feature, only the user's answer counts."""
        if self.features[feature].settled:
            return self.offers(feature, endpoint, mode, duration, kind)
        return any(says for _, says in self.claims(feature, endpoint, mode, duration, kind))

    def combinations(self, feature: str, endpoint: str, kind: str | None = None) -> list[tuple[str, str]]:
        """Every (mode, duration) of this model in which `feature` is offered on `endpoint`."""
        key = (feature, endpoint_key(endpoint), kind)
        found = self._memo.get(key)
        if found is None:
            found = [(m, d) for m in self.modes for d in self.durations if self.offers(feature, endpoint, m, d, kind)
                     ] if key[1] in self.endpoints else []
            self._memo[key] = found
        return found

    def anywhere(self, feature: str, kind: str | None = None) -> bool:
        return any(self.combinations(feature, ENDPOINT_KEYS[e], kind) for e in self.endpoints)


# What a price is for: (mode, whole seconds or PER_SECOND, audio): audio is "" (none asked for),
# "sound" (`sound on`) or "voice" (sound with voices), as Kling prices them.
PriceSlot = tuple[str, str, str]
PER_SECOND = "per-second"
AUDIO = ("", "sound", "voice")
# Written in models and config files as std-5s, pro-10s-sound, pro-per-second-voice.
PRICE_SLOT = re.compile(r"(?P<mode>[a-z0-9]+)-(?:(?P<seconds>[1-9]\d{0,3})s|(?P<per>per-second))"
                        r"(?:-(?P<audio>sound|voice))?")
PRICE_SLOT_EXAMPLE = "std-5s, pro-10s-sound, pro-per-second-voice"


def price_slot(text: str) -> PriceSlot | None:
    """`pro-10s-sound` -> ("pro", "10", "sound"); None if it is not a slot of a known mode."""
    found = PRICE_SLOT.fullmatch(text)
    if found is None or found["mode"] not in kling.MODES:
        return None
    return found["mode"], found["seconds"] or PER_SECOND, found["audio"] or ""


def slot_text(slot: PriceSlot) -> str:
    mode, seconds, audio = slot
    return "-".join(filter(None, (mode, seconds if seconds == PER_SECOND else f"{seconds}s", audio)))


def audio_of(body: Mapping[str, Any]) -> str:
    """What a request body asks of audio, as prices tell it apart."""
    if body.get("sound") != "on":
        return ""
    return "voice" if body.get("voice_list") else "sound"


class Price(NamedTuple):
    """An estimate's credits; `assumed` says how they were worked out when the model has no
    price of its own and is `priced_as` another ("as kling-v2-6"), else ""."""

    credits: float
    assumed: str = ""

    @property
    def published(self) -> bool:
        return not self.assumed


@dataclass(frozen=True)
class Matrix:
    """The effective table: the built-in one with every models file read over it."""

    models: Mapping[str, Model]
    files: tuple[Path, ...] = ()  # the models files read, first to last
    # Other ways to reach the models (fal.ai): backend -> model -> cell -> the app's entry, as
    # the files wrote it (BACKEND_APP_KEYS); fal.py reads them. The `kling` backend is `models`.
    backends: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]] = field(
        default_factory=lambda: MappingProxyType({}))

    def get(self, name: str) -> Model | None:
        return self.models.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.models

    def names(self) -> list[str]:
        return list(self.models)

    def price(self, name: str, mode: str, duration: str, audio: str = "") -> Price | None:
        """Credits for one generation: the price written for this mode, length and audio, else
        the model's price per second of it. A model with no price of its own in this mode is
        priced as its `priced_as`, if a models file names one. None: no price is known, and
        none is guessed."""
        model = self.models.get(name)
        if model is None:
            return None
        how = ""
        seen: set[str] = set()
        while not any(m == mode for m, _, _ in model.prices):
            seen.add(model.name)
            if model.priced_as is None or model.priced_as in seen or model.priced_as not in self.models:
                return None
            model = self.models[model.priced_as]
            how = f"as {model.name}"
        exact = model.prices.get((mode, duration, audio))
        if exact is not None:
            return Price(exact, how)
        rate = model.prices.get((mode, PER_SECOND, audio))
        if rate is not None:
            return Price(round(rate * int(duration), 6), how)
        return None

    def offering(self, feature: str, endpoint: str | None = None) -> list[str]:
        """The models that offer `feature` somewhere (on `endpoint`, if given)."""
        return [m.name for m in self.models.values()
                if (m.combinations(feature, endpoint) if endpoint else m.anywhere(feature))
                and not m.features[feature].ignored]

    def with_prices(self, prices: Mapping[str, Mapping[PriceSlot, float]]) -> Matrix:
        """This matrix with `prices` (credits by model, then slot) over its own, as the config
        file's [prices] are."""
        models = dict(self.models)
        for name, slots in prices.items():
            if name in models:
                models[name] = replace(models[name], prices=MappingProxyType({**models[name].prices, **slots}))
        return replace(self, models=MappingProxyType(models))

    def offering_endpoint(self, endpoint: str) -> list[str]:
        """The models that offer `endpoint` (text2video or image2video)."""
        return [m.name for m in self.models.values() if endpoint in m.endpoints]

    def source_of(self, name: str) -> str:
        model = self.models[name]
        return ", ".join([model.origin, *model.changed])


# --- reading the files ---------------------------------------------------------------------

_TOP_KEYS = ("defaults", "models", "backends")
# A backend's row of a model: one app per cell, `<endpoint>-<mode>` (`text2video-pro`), or
# `<endpoint>` alone for an app that serves every mode (Kling's master models on fal).
BACKEND_NAMES = ("fal",)
BACKEND_CELL = re.compile(r"(?P<endpoint>text2video|image2video)(?:-(?P<mode>std|pro))?")
BACKEND_APP_KEYS = ("app", "inputs", "durations", "audio_default", "listed", "prices", "prices_source", "source",
                    "date", "note")
# A backend's price, in US$: per second (of video, by audio), or per video of N seconds.
BACKEND_PRICE_SLOT = re.compile(r"(?:per-second|[1-9]\d{0,3}s)(?:-(?:sound|voice))?")
_MODEL_KEYS = ("like", "version", "source", "note", "endpoints", "modes", "durations", "aspect_ratios",
               "features", "prices", "prices_source", "priced_as", "trust")
_DEFAULT_KEYS = ("source", "endpoints", "modes", "durations", "aspect_ratios", "features", "priced_as", "trust")
_CONDITION_KEYS = ("offered", "ignored", "endpoints", "modes", "durations", "types", "since", "without", "source",
                   "date", "note", "rendered")
MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
ASPECT = re.compile(r"[1-9]\d*:[1-9]\d*")
MAX_SECONDS = kling.DURATION_MAX


# --- what a mistake leaves unknown ---------------------------------------------------------------
# A mistake in a models file is reported once, where it is written. What the mistaken entry would
# have said is then unknown, and an unknown is not a "no": the model is still known by name, the
# rest of its table is used, and no shot is refused by the entry as well (nothing compiles until
# the file is fixed, so nothing is sent on these guesses).


class _UnreadMark:
    """An entry a models file has but could not give (its error is reported at it)."""

    def __repr__(self) -> str:
        return "UNREAD"


UNREAD: Any = _UnreadMark()
# The keys whose unknown value is stood in for (below); any other key with a mistake is left out:
# a note or a source says nothing a shot is checked against, and a price is not guessed.
_STANDS_IN = ("endpoints", "modes", "durations", "aspect_ratios", "like", "features")
# The source of the claim that stands in for a feature whose entry could not be read.
UNREAD_SOURCE = "unread entry"


class Unread(tuple[str, ...]):
    """Modes, durations or aspect ratios an entry with a mistake failed to give: every value is
    in it (no shot is refused by it), and it lists, for messages, those it stands in for."""

    __slots__ = ()

    def __contains__(self, item: object) -> bool:
        return True


# What a list stands in for when nothing was written under it.
_UNDER: dict[str, tuple[str, ...]] = {"endpoints": ("text2video", "image2video"), "modes": kling.MODES,
                                      "durations": (kling.DEFAULT_DURATION,), "aspect_ratios": ()}


def _unread(key: str, under: Any) -> Any:
    """What `key` (endpoints, modes, durations, aspect_ratios) is when the entry written over
    `under` could not be read; UNREAD while `under` is not known yet (the defaults come last)."""
    if under is None or under is UNREAD:
        return UNREAD
    if key != "endpoints":
        return under if isinstance(under, Unread) else Unread(under)
    # Where requests go cannot be "anywhere": text and image requests both, or the omni endpoint
    # if it was that.
    return tuple(under) if OMNI in under else tuple(e for e in ENDPOINT_KEYS if e in under or e != OMNI)


def _unread_offer() -> dict[str, Claim]:
    """A feature whose entry could not be read: offered everywhere, believed before any other
    claim, and no dispute shown."""
    return {UNREAD_SOURCE: Claim(UNREAD_SOURCE, (Condition(source=UNREAD_SOURCE),))}


def _unread_features() -> dict[str, dict[str, Claim]]:
    return {f: _unread_offer() for f in FEATURES}


def _unknown_base() -> dict[str, Any]:
    """What a model is `like` when its `like` names no model, goes round in a circle or could not
    be read: its own entries over nothing known."""
    return {**{key: UNREAD for key in _UNDER}, "features": _unread_features()}


def _over(key: str, under: Any, over: Any) -> Any:
    """An entry's value written over the one before it (a later file's, a model's over the model
    it is like): features source by source, prices slot by slot, the rest replaced."""
    if key == "features":
        return _features_over(under, over)
    if key == "prices":
        return {**under, **over}
    if over is UNREAD and key in _UNDER:
        return _unread(key, under)
    return over


@dataclass
class _Layer:
    """One file's entries, checked, still partial: merged over the layers before it."""

    source: Source
    origin: str
    defaults: dict[str, Any] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    backends: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)  # as Matrix.backends
    lines: dict[str, int] = field(default_factory=dict)  # model name -> line of its entry
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model name -> its table's keys
    mended: set[int] = field(default_factory=set)  # lines not read, for a TOML error: nothing more said there


class _Reader:
    """Checks one models file's data, reporting each problem at the key that has it."""

    def __init__(self, source: Source, report: list[Diagnostic]) -> None:
        self.source = source
        self.report = report
        self._places: dict[tuple[str, ...], tuple[int, int]] | None = None

    def span(self, path: tuple[str, ...]) -> Span:
        """Where the key `path` is written (or the nearest table or key above it that is). Keys
        are found only when asked, which is when there is something to report, or a models
        file's entry to place."""
        if self._places is None:
            self._places = _key_places(self.source.text)
        for n in range(len(path), 0, -1):
            place = self._places.get(path[:n])
            if place is not None:
                return self.source.span(*place)
        return self.source.span(0, min(1, len(self.source.text)))

    def error(self, code: str, path: tuple[str, ...], message: str, hint: str) -> None:
        self.report.append(Diagnostic(code, message, self.span(path), hint))

    def unknown_keys(self, table: Mapping[str, Any], allowed: Iterable[str], path: tuple[str, ...],
                     what: str) -> list[str]:
        allowed = tuple(allowed)
        bad = [k for k in table if k not in allowed]
        for key in bad:
            self.error("E701", (*path, key), f"unknown key `{key}` in {what}",
                       did_you_mean(key, allowed) or f"{what} takes {either(f'`{k}`' for k in allowed)}")
        return bad

    def strings(self, value: Any, path: tuple[str, ...], choices: Iterable[str] | None = None,
                pattern: re.Pattern[str] | None = None, what: str = "value") -> tuple[str, ...] | None:
        options = tuple(choices) if choices is not None else None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            example = f'["{options[0]}"]' if options else '["..."]'
            self.error("E702", path, f"`{path[-1]}` should be a list of strings, not {_shown(value)}",
                       f"write e.g. `{path[-1]} = {example}`")
            return None
        for item in value:
            if options is not None and item not in options:
                self.error("E702", path, f"unknown {what} `{item}` in `{path[-1]}`",
                           did_you_mean(item, options) or f"write {either(f'`{o}`' for o in options)}")
                return None
            if pattern is not None and not pattern.fullmatch(item):
                self.error("E702", path, f"`{item}` is not a valid {what}", f"write it like `{_EXAMPLES[what]}`")
                return None
        return tuple(dict.fromkeys(value))

    def durations(self, value: Any, path: tuple[str, ...]) -> tuple[str, ...] | None:
        """A list of whole seconds ("5", 10), or a range {from = 3, to = 15}."""
        hint = 'write a list such as `durations = ["5", "10"]`, or a range: `durations = { from = 3, to = 15 }`'
        if isinstance(value, dict):
            if self.unknown_keys(value, ("from", "to"), path, "a duration range"):
                return None
            low, high = value.get("from"), value.get("to")
            if not (_whole(low) and _whole(high) and 1 <= int(low) <= int(high) <= MAX_SECONDS):  # type: ignore[arg-type]
                self.error("E702", path, f"the range {_shown(value)} is not from one whole number of seconds "
                           "to a larger one", hint)
                return None
            return tuple(str(s) for s in range(int(low), int(high) + 1))  # type: ignore[arg-type]
        if isinstance(value, list) and value and all(_whole(v) and 1 <= int(v) <= MAX_SECONDS for v in value):
            return tuple(dict.fromkeys(str(int(v)) for v in value))
        self.error("E702", path, f"`durations` should be whole seconds, not {_shown(value)}", hint)
        return None

    def version(self, value: Any, path: tuple[str, ...]) -> tuple[int, int] | None:
        if isinstance(value, float):  # 2.10 would read as 2.1
            self.error("E702", path, f"write the version {value!r} as text", f'write `{path[-1]} = "{value!r}"`')
            return None
        parsed = _version(value)
        if parsed is None:
            self.error("E702", path, f"{_shown(value)} is not a version", 'write it as `"2.6"` or `"3"`')
        return parsed

    def text(self, value: Any, path: tuple[str, ...]) -> str | None:
        if isinstance(value, str):
            return value
        self.error("E702", path, f"`{path[-1]}` should be text, not {_shown(value)}", f'write `{path[-1]} = "..."`')
        return None

    def offer(self, value: Any, path: tuple[str, ...], model_source: str, origin: str) -> dict[str, Claim] | None:
        """A feature's entry: true, false, "ignored", a table of conditions, or a list of them;
        as the claims it makes, by source (the conditions of one source are one claim: offered
        if any of them holds)."""
        if isinstance(value, bool):
            return {model_source: Claim(model_source, (Condition(source=model_source),) if value else (),
                                        origin=origin)}
        if value == "ignored":
            return {model_source: Claim(model_source, (Condition(source=model_source),), ignored=True, origin=origin)}
        tables = value if isinstance(value, list) else [value]
        if not tables or not all(isinstance(t, dict) for t in tables):
            self.error("E702", path, f"`{path[-1]}` should be true, false, \"ignored\" or a table of "
                       f"conditions, not {_shown(value)}",
                       f'write e.g. `{path[-1]} = {{ modes = ["pro"], source = "reported" }}`')
            return None
        claims: dict[str, dict[str, Any]] = {}
        for table in tables:
            if self.unknown_keys(table, _CONDITION_KEYS, path, f"feature `{path[-1]}`"):
                return None
            for flag in ("offered", "ignored"):
                if flag in table and not isinstance(table[flag], bool):
                    self.error("E702", (*path, flag), f"`{flag}` should be true or false", f"write `{flag} = true`")
                    return None
            condition = self.condition(table, path, model_source)
            if condition is None:
                return None
            said = claims.setdefault(condition.source, {"conditions": [], "ignored": False, "date": "", "note": "",
                                                        "rendered": ""})
            if table.get("offered", True) is not False:
                said["conditions"].append(condition)
            said["ignored"] = said["ignored"] or table.get("ignored") is True
            for key in ("date", "note", "rendered"):
                if key in table:
                    text = self.text(table[key], (*path, key))
                    if text is None:
                        return None
                    said[key] = said[key] or text
            if condition.source == VERIFIED and not (said["date"] and said["rendered"]):
                missing = " and ".join(f"`{k}`" for k in ("date", "rendered") if not said[k])
                self.error("E702", (*path, "source"), f"a `verified` claim needs {missing}",
                           'say when and what you rendered to learn it: `date = "2026-11-30"`, '
                           '`rendered = "slow pan right, kling-v3 pro 5s: the camera panned"`')
                return None
        return {source: Claim(source, tuple(said["conditions"]), said["ignored"], said["date"], said["note"],
                              said["rendered"], origin)
                for source, said in claims.items()}

    def condition(self, table: Mapping[str, Any], path: tuple[str, ...], model_source: str) -> Condition | None:
        found: dict[str, Any] = {}
        if "types" in table and path[-1] != "camera":
            self.error("E702", (*path, "types"), "`types` is for the camera only",
                       "remove it: it names camera_control types (`simple`, `down_back`, ...)")
            return None
        for key, choices, pattern, what in (("endpoints", ENDPOINT_KEYS, None, "endpoint"),
                                            ("modes", kling.MODES, None, "mode"),
                                            ("types", kling.CAMERA_TYPES, None, "camera type"),
                                            ("without", FEATURES, None, "feature")):
            if key in table:
                values = self.strings(table[key], (*path, key), choices, pattern, what)
                if values is None:
                    return None
                found[key] = frozenset(values)
        if "durations" in table:
            durations = self.durations(table["durations"], (*path, "durations"))
            if durations is None:
                return None
            found["durations"] = frozenset(durations)
        if "since" in table:
            since = self.version(table["since"], (*path, "since"))
            if since is None:
                return None
            found["since"] = since
        for key in ("source", "note"):
            if key in table:
                text = self.text(table[key], (*path, key))
                if text is None:
                    return None
                found[key] = text
        source = found.get("source")
        meant = None if source is None or source in (*SOURCES, VERIFIED) else _meant_source(source)
        if meant:
            # A source of the user's own is believed before any other: a misspelt known one is not.
            self.error("E702", (*path, "source"), f"unknown source `{source}`",
                       f"did you mean `{meant}`? (a source shotlang does not know is your own word, "
                       "believed first)")
            return None
        found.setdefault("source", model_source)
        return Condition(**found)


_EXAMPLES = {"aspect ratio": "16:9"}  # for a value that breaks its pattern


def _meant_source(source: str) -> str | None:
    """The known source a user's own is a misspelling of: `offical`, `verifed` (not a name that
    has `verified` in it, such as `unverified`: that is a name of the user's own)."""
    return closest(source, SOURCES) or (
        VERIFIED if VERIFIED not in source.lower() and closest(source, (VERIFIED,)) else None)


def _guessed(value: Any, choices: Iterable[str]) -> tuple[str, ...] | None:
    """A list with a misspelt item, as its hint reads it (`imag2video` is image2video); None if
    some item is near nothing."""
    options = tuple(choices)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None
    read = [v if v in options else closest(v, options) for v in value]
    return tuple(dict.fromkeys(read)) if all(read) else None  # type: ignore[arg-type]


def _whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6


def _version(value: Any) -> tuple[int, int] | None:
    if isinstance(value, bool):
        return None
    text = str(value)
    found = re.fullmatch(r"(\d{1,4})(?:\.(\d{1,4}))?", text)
    return (int(found[1]), int(found[2] or 0)) if found else None


def version_from_name(name: str) -> tuple[int, int] | None:
    """kling-v2-6 -> (2, 6); kling-v3 -> (3, 0); kling-v2-1-master -> (2, 1)."""
    found = re.match(r"kling-v(\d+)(?:-(\d+)(?![a-z]))?", name)
    return (int(found[1]), int(found[2] or 0)) if found else None


def _shown(value: Any) -> str:
    if isinstance(value, datetime.date | datetime.time):  # TOML reads an unquoted date as one
        return f"the date `{value.isoformat()}` (put it in quotes)"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return f"`{text if len(text) <= 40 else text[:37] + '...'}`"


def _read_layer(source: Source, origin: str, report: list[Diagnostic]) -> _Layer:
    layer = _Layer(source, origin)
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as e:
        report.append(_toml_error(source, e))
        try:  # the rest of the file, reported once: the error at its line, not every model it names
            data, layer.mended = _readable_part(source.text)
        except RecursionError:
            return layer
    except RecursionError:  # tables in tables hundreds deep: no models file looks like that
        report.append(Diagnostic("E700", "this models file nests tables too deeply to read",
                                 source.span(0, min(1, len(source.text))),
                                 "a models file is [defaults] and [models.<name>] tables, a few levels deep"))
        return layer
    reader = _Reader(source, report if not layer.mended else [])
    # Each top-level table by the key it is written under: `[modles.kling-v9]` is reported, and
    # read as the models it was meant to be.
    written: dict[str, list[str]] = {key: [key] for key in _TOP_KEYS}
    for key in reader.unknown_keys(data, _TOP_KEYS, (), "a models file"):
        meant = closest(key, _TOP_KEYS)
        if meant:
            written[meant].append(key)
    for top in written["defaults"]:
        defaults = data.get(top, {})
        if not isinstance(defaults, dict):
            reader.error("E702", (top,), "`defaults` should be a table",
                         "write `[defaults]` and the entries a model has when its own say nothing")
            continue
        reader.unknown_keys(defaults, _DEFAULT_KEYS, (top,), "[defaults]")
        said = defaults.get("source")
        layer.defaults.update(_entry(reader, defaults, (top,), said if isinstance(said, str) else origin,
                                     _DEFAULT_KEYS))
    for top in written["models"]:
        models = data.get(top, {})
        if not isinstance(models, dict):
            reader.error("E702", (top,), "`models` should hold a table per model",
                         "write `[models.kling-v3]` and the model's entries under it")
            continue
        for name, entry in models.items():
            path = (top, name)
            if not MODEL_NAME.fullmatch(name):
                reader.error("E702", path, f"`{name}` is not a model name Kling uses",
                             "model names are lower case letters, digits, `-`, `.` and `_`, such as `kling-v3`")
                continue
            if not isinstance(entry, dict):
                reader.error("E702", path, f"`models.{name}` should be a table",
                             f"write `[models.{name}]` and the model's entries under it")
                continue
            reader.unknown_keys(entry, _MODEL_KEYS, path, f"model `{name}`")
            said = entry.get("source")
            checked = _entry(reader, entry, path, said if isinstance(said, str) else origin, _MODEL_KEYS)
            if name in layer.models:  # under `models` and a misspelt `modles` both
                checked = {**layer.models[name], **checked}
            layer.models[name] = checked
            layer.paths.setdefault(name, path)
            if origin != BUILT_IN:  # `shotlang models` says file:line for a models file's entries
                layer.lines.setdefault(name, reader.span(path).line)
    for top in written["backends"]:
        _read_backends(reader, data.get(top, {}), (top,), layer)
    if layer.mended:  # nothing more is said on a line the TOML error left out or mended: its error is said
        report.extend(d for d in reader.report if d.span.line not in layer.mended)
    return layer


def _read_backends(reader: _Reader, value: Any, path: tuple[str, ...], layer: _Layer) -> None:
    """`[backends.fal.<model>.<cell>]` tables: each app's entry, checked key by key; one with a
    mistake is reported where it is and left out."""
    hint = 'write `[backends.fal.kling-v2-6.text2video-pro]` and the app\'s `app = "..."`, `inputs = [...]` under it'
    if not isinstance(value, dict):
        reader.error("E702", path, "`backends` should hold a table per backend", hint)
        return
    for backend in reader.unknown_keys(value, BACKEND_NAMES, path, "`backends`"):
        value = {k: v for k, v in value.items() if k != backend}
    for backend, models in value.items():
        if not isinstance(models, dict):
            reader.error("E702", (*path, backend), f"`backends.{backend}` should hold a table per model", hint)
            continue
        for name, cells in models.items():
            at = (*path, backend, name)
            if not MODEL_NAME.fullmatch(name) or not isinstance(cells, dict):
                reader.error("E702", at, f"`{name}` should be a model's table of apps", hint)
                continue
            row = layer.backends.setdefault(backend, {}).setdefault(name, {})
            for cell, entry in cells.items():
                where = (*at, cell)
                if not BACKEND_CELL.fullmatch(cell):
                    reader.error("E702", where, f"`{cell}` is not a cell of a backend's row",
                                 "write `text2video-std`, `text2video-pro`, `image2video-std`, `image2video-pro`, "
                                 "or `text2video` / `image2video` for an app that serves every mode")
                    continue
                checked = _backend_app(reader, entry, where)
                if checked is not None:
                    row[cell] = {**row.get(cell, {}), **checked}


def _backend_app(reader: _Reader, entry: Any, path: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        reader.error("E702", path, f"`{path[-1]}` should be a table: the app's entry",
                     'write `app = "fal-ai/..."` and `inputs = [...]` under it')
        return None
    reader.unknown_keys(entry, BACKEND_APP_KEYS, path, f"the app entry `{path[-1]}`")
    out: dict[str, Any] = {}
    for key, value in entry.items():
        at = (*path, key)
        checked: Any = None
        if key == "inputs":
            checked = reader.strings(value, at, what="input")
        elif key == "durations":
            checked = reader.durations(value, at)
        elif key in ("audio_default", "listed"):
            if isinstance(value, bool):
                checked = value
            else:
                reader.error("E702", at, f"`{key}` should be true or false, not {_shown(value)}", f"write `{key} = true`")
        elif key == "prices":
            if isinstance(value, dict) and all(BACKEND_PRICE_SLOT.fullmatch(k) and isinstance(v, int | float)
                                               and not isinstance(v, bool) and v >= 0 for k, v in value.items()):
                checked = dict(value)
            else:
                reader.error("E702", at, f"`prices` should be US$ by slot, not {_shown(value)}",
                             "write e.g. `prices = { per-second = 0.07, per-second-sound = 0.14, 5s = 1.4 }`")
        elif key in BACKEND_APP_KEYS:
            checked = reader.text(value, at)
        if checked is not None:
            out[key] = checked
    return out


def _entry(reader: _Reader, entry: Mapping[str, Any], path: tuple[str, ...], model_source: str,
           allowed: tuple[str, ...]) -> dict[str, Any]:
    """A model's (or the defaults') entries, checked and in the form the matrix holds. One with a
    mistake (reported where it is) stands as UNREAD, or is left out (see _STANDS_IN); so does
    the key a misspelt one (reported by unknown_keys) was meant to be."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in allowed:
            meant = closest(key, allowed)
            if meant in _STANDS_IN and meant not in entry:
                out.setdefault(meant, _unread_features() if meant == "features" else UNREAD)
            continue
        at = (*path, key)
        checked: Any = None
        if value is UNREAD:  # a line TOML could not read (reported as such)
            pass
        elif key == "endpoints":
            checked = reader.strings(value, at, ENDPOINT_KEYS, what="endpoint") or _guessed(value, ENDPOINT_KEYS)
        elif key == "modes":
            checked = reader.strings(value, at, kling.MODES, what="mode")
        elif key == "aspect_ratios":
            checked = reader.strings(value, at, pattern=ASPECT, what="aspect ratio")
        elif key == "durations":
            checked = reader.durations(value, at)
        elif key == "version":
            checked = reader.version(value, at)
        elif key in ("source", "note", "prices_source"):
            checked = reader.text(value, at)
        elif key in ("like", "priced_as"):
            checked = reader.text(value, at)
            if checked is not None and not MODEL_NAME.fullmatch(checked):
                reader.error("E702", at, f"`{checked}` is not a model name", "write a model's name, such as `kling-v3`")
                checked = None
        elif key == "features":
            checked = _features(reader, value, at, model_source)
        elif key == "trust":  # the sources shotlang knows: the user's own word is believed first anyway
            checked = reader.strings(value, at, SOURCES, what="source")
        else:  # prices
            checked = _prices(reader, value, at)
        if checked is not None:
            out[key] = checked
        elif key == "features":
            out[key] = _unread_features()
        elif key in _STANDS_IN:
            out[key] = UNREAD
    return out


def _features(reader: _Reader, value: Any, path: tuple[str, ...],
              model_source: str) -> dict[str, dict[str, Claim]] | None:
    """Each feature's claims; a feature whose entry has a mistake (or whose name is misspelt)
    stands as unread."""
    if not isinstance(value, dict):
        reader.error("E702", path, "`features` should be a table", "write e.g. `features.sound = true`")
        return None
    found: dict[str, dict[str, Claim]] = {}
    for name in reader.unknown_keys(value, FEATURES, path, "`features`"):
        meant = closest(name, FEATURES)
        if meant and meant not in value:
            found[meant] = _unread_offer()
    for name, entry in value.items():
        if name in FEATURES:
            offer = None if entry is UNREAD else reader.offer(entry, (*path, name), model_source, reader.source.name)
            found[name] = _unread_offer() if offer is None else offer
    return found


def _prices(reader: _Reader, value: Any, path: tuple[str, ...]) -> dict[PriceSlot, float] | None:
    """The prices written; a slot with a mistake is reported and has none (no price is guessed)."""
    hint = ("write e.g. `prices = { std-5s = 1, pro-10s-sound = 10, pro-per-second = 0.8 }` (credits per "
            "generation, or per second of video)")
    if not isinstance(value, dict):
        reader.error("E702", path, f"`prices` should be a table, not {_shown(value)}", hint)
        return None
    found: dict[PriceSlot, float] = {}
    for slot, amount in value.items():
        parsed = price_slot(slot)
        if parsed is None:
            reader.error("E702", (*path, slot), f"`{slot}` is not a price slot", hint)
        elif isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 <= amount < 1e9:
            reader.error("E702", (*path, slot), f"the price `{slot}` should be a number of credits, not "
                         f"{_shown(amount)}", hint)
        else:
            found[parsed] = float(amount)
    return found


def _toml_error(source: Source, error: tomllib.TOMLDecodeError) -> Diagnostic:
    """tomllib says where in its message: "... (at line 3, column 7)"."""
    found = re.search(r"\(at line (\d+), column (\d+)\)|\(at end of document\)", str(error))
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(error))
    if found and found[1]:
        line = min(int(found[1]), len(source.line_starts()))
        start, end = source.line_bounds(line)
        offset = min(start + int(found[2]) - 1, end)
    else:
        offset = len(source.text)
    span = source.span(max(0, min(offset, len(source.text) - 1)), max(0, min(offset, len(source.text) - 1)) + 1)
    return Diagnostic("E700", f"this models file is not valid TOML: {message[:1].lower()}{message[1:]}", span,
                      "see https://toml.io; the format of a models file is in docs/language.md")


# Tries at reading one table of a models file that is not valid TOML, a line left out each time.
_TRIES = 50


def _readable_part(text: str) -> tuple[dict[str, Any], set[int]]:
    """What a models file that is not valid TOML still says, its error reported once: each
    table read on its own (a header missing its `]` mended), less the lines TOML cannot read;
    and those lines (1-based), where nothing more is reported. The entry each line left out
    writes stands as UNREAD, so that the models the file names are still known, and no shot is
    refused by a line that did not say what it meant to."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _header_keys(line) is not None]
    data: dict[str, Any] = {}
    lost: list[tuple[str, ...]] = []
    mended: set[int] = set()
    for start, end in zip([0, *starts], [*starts, len(lines)], strict=True):
        if start < end:
            table, lost_here, mended_here = _readable_table(lines[start:end], start in starts)
            _merged_into(data, table)
            lost += lost_here
            mended.update(start + i + 1 for i in mended_here)
    for path in lost:
        _mark_unread(data, path)
    return data, mended


def _readable_table(lines: list[str], headed: bool) -> tuple[dict[str, Any], list[tuple[str, ...]], list[int]]:
    """One table (the lines from its header to the next); the keys of the lines left out; and
    the lines left out or mended."""
    assign = _patterns().assign
    lines = list(lines)
    table: tuple[str, ...] = ()
    first = 0  # the first line of entries
    mended: list[int] = []
    if headed:
        table = _header_keys(lines[0]) or ()
        if not _is_toml(lines[0]):
            mended.append(0)
        lines[0], first = "[" + ".".join(_quoted(k) for k in table) + "]\n", 1
    written = list(lines)
    lost: list[tuple[str, ...]] = []
    for _ in range(_TRIES):
        try:
            return tomllib.loads("".join(lines)), lost, mended
        except tomllib.TOMLDecodeError as e:
            at = re.search(r"\(at line (\d+),", str(e))
            keyed = [i for i in range(first, len(lines)) if assign.match(lines[i])]
            index = int(at[1]) - 1 if at else (keyed[-1] if keyed else -1)  # at the end: the last entry
            if not first <= index < len(lines):
                break
            # The entry the line writes: its own key, else that of the entry it continues.
            owner = next((i for i in range(index, first - 1, -1) if assign.match(written[i])), None)
            if owner is not None:
                lost.append((*table, *_split(assign.match(written[owner])["keys"])))  # type: ignore[index]
            lines[index] = "\n"
            mended.append(index)
    # Nothing of it could be read: the model is still known, and wholly unknown.
    return (_nested(table, {}) if table else {}), [(*table, "like")] if table else [], list(range(len(lines)))


def _header_keys(line: str) -> tuple[str, ...] | None:
    """The keys of a line that is, or was meant to be, a table header: `[models.kling-v9]`, and
    one missing a bracket or with one too many (`[models.kling-v9`, `models.kling-v9]`,
    `[[models.kling-v9]`: a models file has no arrays of tables)."""
    found = _header(line)
    return found[0] if found else None


def _header(line: str) -> tuple[tuple[str, ...], int, int] | None:
    """_header_keys, and where in the line they are written."""
    found = _patterns().header.match(line)
    if found is None:
        return None
    group = next(g for g in ("closed", "open", "bare") if found[g] is not None)
    text = found[group]
    # Dotted keys as TOML reads them; else each part between the dots (or, with no dot, either
    # side of the first slip: `[models kling-v9]`), less what a name cannot have.
    parts = text.split(".") if "." in text else re.split(r"[^A-Za-z0-9_-]+", text.strip(" \t\"'"), maxsplit=1)
    keys = _split(text) if _patterns().keys.fullmatch(text) else tuple(
        filter(None, (re.sub(r"[^A-Za-z0-9_-]", "", part) for part in parts)))
    if not keys or group == "bare" and not closest(keys[0], _TOP_KEYS):
        return None  # `10]`, `"pro"]`: the end of a list, not a header missing its `[`
    return keys, found.start(group), found.end(group)


def _is_toml(text: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return True


def _quoted(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value  # type: ignore[no-any-return]


def _merged_into(data: dict[str, Any], more: Mapping[str, Any]) -> None:
    """Tables read apart, put together as one file's data."""
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            _merged_into(data[key], value)
        else:
            data[key] = value


def _mark_unread(data: dict[str, Any], path: tuple[str, ...]) -> None:
    """The entry at `path` (a line TOML could not read) stands as UNREAD: the model's key, or
    the feature, it was meant to be (a misspelt one as the key it is nearest, if any)."""
    top = path[0] if path[0] in _TOP_KEYS else closest(path[0], _TOP_KEYS)
    if top == "backends":  # an app's entry with a mistake is left out: nothing stands in for it
        return
    table = data.setdefault(path[0], {}) if top and len(path) >= 2 else None
    if not isinstance(table, dict):
        return
    allowed: tuple[str, ...]
    if top == "models":
        entry, rest, allowed = table.setdefault(path[1], {}), path[2:], _MODEL_KEYS
    else:
        entry, rest, allowed = table, path[1:], _DEFAULT_KEYS
    if not isinstance(entry, dict):
        return
    key = "like" if not rest else rest[0] if rest[0] in allowed else closest(rest[0], allowed)
    if key == "features" and len(rest) > 1 and isinstance(entry.get("features", {}), dict):
        feature = rest[1] if rest[1] in FEATURES else closest(rest[1], FEATURES)
        if feature:
            entry.setdefault("features", {})[feature] = UNREAD
    elif key in _STANDS_IN:
        entry[key] = UNREAD


# A TOML key (bare or quoted), dotted keys, a table header, a `key =`: what _key_places reads.
_KEY = r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'"
_KEYS = rf"(?P<keys>(?:{_KEY})(?:\s*\.\s*(?:{_KEY}))*)"


class _Patterns(NamedTuple):
    header: re.Pattern[str]  # a table header, or a line meant to be one: `[models.x`, `models.x]`
    assign: re.Pattern[str]  # `key =` at the start of a line
    key: re.Pattern[str]
    inline: re.Pattern[str]  # `key =` inside an inline table
    keys: re.Pattern[str]  # dotted keys, as TOML reads them


@cache
def _patterns() -> _Patterns:
    """Compiled when a models file has something to report (not at every start-up)."""
    return _Patterns(
        # `[keys]...` (anything in the brackets, what follows them lost), `[keys` up to a comment,
        # or `keys]` alone on its line
        re.compile(r"[ \t]*(?:\[+[ \t]*(?:(?P<closed>[^\]\r\n]*?)[ \t]*\].*|(?P<open>[^\]#\r\n]*?)[ \t]*(?:#.*)?\r?\n?$)"
                   r"|(?P<bare>[^\[\]#=\r\n]*?)[ \t]*\]+[ \t]*(?:#.*)?\r?\n?$)"),
        re.compile(rf"\s*{_KEYS}\s*="), re.compile(_KEY), re.compile(rf"{_KEYS}\s*="), re.compile(rf"\s*{_KEYS}\s*"))


def _split(keys: str) -> tuple[str, ...]:
    return tuple(k.strip("\"'") for k in _patterns().key.findall(keys))


def _key_places(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """Where each key is written: (start, end) of the key, by its full path. tomllib gives the
    data only; this finds the places a diagnostic points at (tables, keys, and keys inside an
    inline table on the same line)."""
    assign_pattern, inline_pattern = _patterns().assign, _patterns().inline
    places: dict[tuple[str, ...], tuple[int, int]] = {}
    table: tuple[str, ...] = ()
    offset = 0
    for line in text.splitlines(keepends=True):
        header = _header(line) if line.lstrip(" \t")[:1] == "[" or "]" in line else None
        if header:
            table, start, end = header
            for n in range(1, len(table) + 1):  # `[modles.x]` is where `modles` is written too
                places.setdefault(table[:n], (offset + start, offset + end))
        else:
            assign = assign_pattern.match(line)
            if assign:
                path = (*table, *_split(assign["keys"]))
                places.setdefault(path, (offset + assign.start("keys"), offset + assign.end("keys")))
                brace = line.find("{", assign.end())
                if brace != -1:  # `name = { key = ..., key = ... }` on one line
                    for inner in inline_pattern.finditer(line, brace + 1):
                        places.setdefault((*path, *_split(inner["keys"])),
                                          (offset + inner.start("keys"), offset + inner.end("keys")))
        offset += len(line)
    return places


# --- merging the layers ------------------------------------------------------------------------


def _merge(layers: list[_Layer], report: list[Diagnostic]) -> dict[str, Model]:
    """Every layer over the ones before it, key by key; then each model made whole from the
    model it is `like` and from the defaults."""
    defaults: dict[str, Any] = {"features": {}}
    entries: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    changed: dict[str, list[str]] = {}
    where: dict[str, tuple[_Layer, tuple[str, ...]]] = {}  # the layer that wrote it last, and its table there
    for layer in layers:
        for key, value in layer.defaults.items():
            defaults[key] = _over(key, defaults[key], value) if key in defaults else value
        for name, entry in layer.models.items():
            place = layer.origin if layer.origin == BUILT_IN else f"{layer.origin}:{layer.lines[name]}"
            if name in entries:
                old = entries[name]
                for key, value in entry.items():
                    old[key] = _over(key, old[key], value) if key in old else value
                changed[name].append(place)
            else:
                entries[name] = {k: dict(v) if isinstance(v, dict) else v for k, v in entry.items()}
                origins[name], changed[name] = place, []
            where[name] = (layer, layer.paths.get(name, ("models", name)))
    readers: dict[int, _Reader] = {}

    def error(name: str, key: str, message: str, hint: str) -> None:  # at a model's key, in the file that wrote it
        layer, path = where[name]
        reader = readers.setdefault(id(layer), _Reader(layer.source, report))  # made only to report
        span = reader.span((*path, key) if key else path)
        if span.line not in layer.mended:
            report.append(Diagnostic("E702", message, span, hint))

    def line(name: str, key: str) -> int:
        layer, path = where[name]
        return readers.setdefault(id(layer), _Reader(layer.source, report)).span((*path, key)).line

    _named_nowhere(entries, origins, changed, where, error, line)
    models: dict[str, Model] = {}
    done: dict[str, dict[str, Any]] = {}
    circles: list[list[str]] = []
    for name in entries:
        models[name] = _model(name, _made(name, entries, done, circles), defaults, origins[name], tuple(changed[name]))
    order = {name: n for n, name in enumerate(entries)}
    for circle in circles:  # once a circle, at the model on it written first; not at the models below it
        first = circle.index(min(circle, key=order.__getitem__))
        circle = circle[first:] + circle[:first]
        error(circle[0], "like", f"model `{circle[0]}` is `like` itself, through {' and '.join(f'`{m}`' for m in circle)}",
              "make `like` name a model that is not like this one")
    for name, model in models.items():
        if not model.prices and name in _circle(name, {m: {"priced_as": models[m].priced_as} for m in models},
                                                "priced_as"):
            error(name, "priced_as", f"model `{name}` is `priced_as` itself, through `{model.priced_as}`",
                  "give the model `prices`, or name a model that has some")
    return models


def _named_nowhere(entries: dict[str, dict[str, Any]], origins: dict[str, str], changed: dict[str, list[str]],
                   where: dict[str, tuple[_Layer, tuple[str, ...]]], error: Callable[[str, str, str, str], None],
                   line: Callable[[str, str], int]) -> None:
    """Each name a `like` or `priced_as` gives that no model has, reported once, at the name that
    is misspelt. When a models file's model has a name near it, one of the two is: the entries
    that give the name are read as naming that model, and shot lists may use either name."""
    named: dict[str, list[tuple[str, str]]] = {}
    for name, entry in entries.items():
        for key in ("like", "priced_as"):
            target = entry.get(key)
            if isinstance(target, str) and target not in entries:
                named.setdefault(target, []).append((name, key))
    for target, users in named.items():
        # Near a models file's model (a built-in model's name is not misspelt), not one like these.
        own = _through({name for name, _ in users}, entries)
        near = closest(target, [n for n in entries if origins[n] != BUILT_IN and n not in own])
        if near is None:
            for name, key in users:
                error(name, key, f"`{key}` names `{target}`, which is not a model here",
                      did_you_mean(target, entries) or f"the models are {', '.join(entries)}")
            continue
        entries[target], origins[target], changed[target], where[target] = (
            entries[near], origins[near], changed[near], where[near])
        # The header is the misspelt one when the entries agree on the name, or a model is
        # named after the model it is like (kling-v3-1-fast, like kling-v3-1).
        if len(users) > 1 or any(name.startswith(target) for name, _ in users):
            said = all_of(f"`{name}` is `{key}` `{target}` (line {line(name, key)})" for name, key in users)
            error(near, "", f"model `{near}` is named `{target}` where it is used",
                  f"did you mean `{target}`? {said}")
        else:
            [(name, key)] = users
            error(name, key, f"`{key}` names `{target}`, which is not a model here",
                  f"did you mean `{near}`? (or, if `{near}` is misspelt where it is defined, name it `{target}` there)")


def _through(names: set[str], entries: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """`names`, and the models whose `like` leads through one of them, each chain walked once."""
    leads: dict[str, bool] = {}
    for start in entries:
        walked: list[str] = []
        seen: set[str] = set()
        step: Any = start
        while step in entries and step not in leads and step not in names and step not in seen:
            walked.append(step)
            seen.add(step)
            step = entries[step].get("like")
        answer = step in names or leads.get(step, False)
        for each in walked:
            leads[each] = answer
    return names | {name for name, yes in leads.items() if yes}


def _features_over(under: Mapping[str, Mapping[str, Claim]],
                   over: Mapping[str, Mapping[str, Claim]]) -> dict[str, dict[str, Claim]]:
    """Features' claims with `over`'s written over `under`'s, source by source: a later entry
    replaces what its sources said and keeps what the others said, except an unread entry's
    stand-in, which what is written over it replaces."""
    merged = {feature: dict(claims) for feature, claims in under.items()}
    for feature, claims in over.items():
        kept = {source: c for source, c in merged.get(feature, {}).items() if source != UNREAD_SOURCE}
        merged[feature] = {**kept, **claims}
    return merged


def _circle(name: str, entries: Mapping[str, Mapping[str, Any]], key: str) -> list[str]:
    """The models `key` (like, priced_as) leads through from `name` until one comes round again:
    the circle, or [] if the chain ends."""
    seen: list[str] = []
    step: Any = name
    while step in entries and step not in seen:
        seen.append(step)
        step = entries[step].get(key)
    return seen[seen.index(step):] if step in seen else []


def _made(name: str, entries: Mapping[str, dict[str, Any]], made: dict[str, dict[str, Any]],
          circles: list[list[str]]) -> dict[str, Any]:
    """A model's entries over those of the model it is `like` (and so on up a chain of any
    length, walked without recursion; `made` keeps each model's result). Under a `like` that
    names no model, could not be read or goes round in a circle (into `circles`, each found
    once), nothing is known: the model's own entries are over an unknown base."""
    chain: list[str] = []
    on_chain: set[str] = set()
    step = name
    while True:
        if step in made:
            under = made[step]
            break
        if step in on_chain:
            circles.append(chain[chain.index(step):])
            under = _unknown_base()
            break
        chain.append(step)
        on_chain.add(step)
        base = entries[step].get("like")
        if base is None or base not in entries:
            under = {} if base is None else _unknown_base()
            break
        step = base
    for each in reversed(chain):
        entry = entries[each]
        merged = {k: v for k, v in under.items() if k not in ("prices", "prices_source")}  # a price is the model's own
        # A version: the entry's, else its name's (kling-v3-1), else that of the model it is like.
        merged["version"] = entry.get("version") or version_from_name(each) or under.get("version")
        for key, value in entry.items():
            if key != "version":
                merged[key] = _over(key, merged[key], value) if key in merged else value
        under = made[each] = merged
    return made[name]


def _model(name: str, entry: Mapping[str, Any], defaults: Mapping[str, Any], origin: str,
           changed: tuple[str, ...]) -> Model:
    claims = _features_over(defaults.get("features", {}), entry.get("features", {}))
    trust: tuple[str, ...] = tuple(entry.get("trust", defaults.get("trust", TRUST)))

    def believed(claim: Claim) -> int:  # an unread entry's stand-in, the user's own word, the trust, the rest
        if claim.source == UNREAD_SOURCE:
            return -1
        if claim.source in trust:
            return trust.index(claim.source) + 1
        return len(trust) + 1 if claim.source in SOURCES else 0

    def listed(key: str, fallback: tuple[str, ...]) -> Any:
        value = entry.get(key, defaults.get(key, fallback))
        if value is UNREAD:  # over the defaults, which are known by now
            under = defaults.get(key, fallback)
            value = _unread(key, _UNDER[key] if under is UNREAD else under)
        return value

    features: dict[str, Offer] = {f: Offer(tuple(sorted(claims.get(f, {}).values(), key=believed)))
                                  for f in FEATURES}
    return Model(
        name=name,
        version=entry.get("version") or version_from_name(name),
        source=entry.get("source", origin if origin != BUILT_IN else ""),
        note=entry.get("note", ""),
        endpoints=tuple(e for e in ENDPOINT_KEYS if e in listed("endpoints", ())),
        modes=listed("modes", kling.MODES),
        durations=listed("durations", (kling.DEFAULT_DURATION,)),
        aspect_ratios=listed("aspect_ratios", ()),
        features=MappingProxyType(features),
        prices=MappingProxyType(dict(entry.get("prices", {}))),
        prices_source=entry.get("prices_source", ""),
        priced_as=entry.get("priced_as", defaults.get("priced_as")),
        origin=origin,
        changed=changed,
    )


# --- the entry points -------------------------------------------------------------------------


def user_file(env: Mapping[str, str]) -> Path:
    """$SHOTLANG_MODELS, else models.toml in shotlang's config folder."""
    if env.get("SHOTLANG_MODELS"):
        return Path(env["SHOTLANG_MODELS"])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "shotlang" / USER_FILE


def model_files(shot_dir: Path | None, env: Mapping[str, str] | None = None, *, user: bool = True) -> list[Path]:
    """The models files that apply to shot lists in `shot_dir`, weakest first; the user's
    ($SHOTLANG_MODELS, the config folder's) only with `user`."""
    env = os.environ if env is None else env
    files = [user_file(env)] if user else []
    if shot_dir is not None:
        files.append(shot_dir / PROJECT_FILE)
    # A file that is there but is not a regular file (a folder, a dangling link) is read, and
    # reported: a project's corrections must not vanish in silence. So is $SHOTLANG_MODELS naming
    # a file that is not there: the user asked for it.
    named = Path(env["SHOTLANG_MODELS"]) if user and env.get("SHOTLANG_MODELS") else None
    return [f for f in files if os.path.lexists(f) or f == named]


@cache
def _built_in_layer() -> _Layer:
    # Beside this module, in the package (not importlib.resources: it costs `check` 20 ms to import).
    text = (Path(__file__).parent / "models.toml").read_text(encoding="utf-8")
    report: list[Diagnostic] = []
    layer = _read_layer(Source(text, BUILT_IN), BUILT_IN, report)
    assert not report, f"the built-in models.toml is broken: {report}"
    return layer


@cache
def built_in() -> Matrix:
    """The built-in table alone."""
    report: list[Diagnostic] = []
    matrix = Matrix(MappingProxyType(_merge([_built_in_layer()], report)), backends=_backends([_built_in_layer()]))
    assert not report, report
    return matrix


def read(files: Iterable[Path], report: list[Diagnostic]) -> Matrix:
    """The built-in table with `files` read over it in order; each problem goes to `report`."""
    return _read_contents([(path, _contents(path)) for path in files], report)


def _contents(path: Path) -> bytes | OSError:
    try:
        return path.read_bytes()
    except OSError as e:
        return e


def _read_contents(files: list[tuple[Path, bytes | OSError]], report: list[Diagnostic]) -> Matrix:
    if not files:
        return built_in()
    layers = [_built_in_layer()]
    for path, data in files:
        if isinstance(data, OSError):
            source = Source(" ", str(path))
            what = "is a folder" if path.is_dir() else f"cannot be read: {data.strerror or data}"
            named = os.environ.get("SHOTLANG_MODELS") == str(path) or path.name != PROJECT_FILE
            report.append(Diagnostic("E700", f"this models file {what}", source.span(0, 1),
                                     "make it a readable TOML file, or remove it" if not named or path.exists() else
                                     "$SHOTLANG_MODELS (or the config folder) names it: create it, or unset "
                                     "SHOTLANG_MODELS"))
            continue
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as e:
            # Shown at the bad byte, in a copy of the text with undecodable bytes replaced.
            before = data[: e.start].decode("utf-8", "replace")
            source = Source(data.decode("utf-8", "replace"), str(path))
            report.append(Diagnostic("E700", "this models file is not UTF-8", source.span(len(before), len(before) + 1),
                                     "save it as UTF-8"))
            continue
        layers.append(_read_layer(Source(text, str(path)), str(path), report))
    return Matrix(MappingProxyType(_merge(layers, report)), tuple(path for path, _ in files), _backends(layers))


def _backends(layers: list[_Layer]) -> Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]]:
    """Every layer's backend rows over the ones before it, app entry by app entry, key by key."""
    merged: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for layer in layers:
        for backend, models in layer.backends.items():
            for name, cells in models.items():
                row = merged.setdefault(backend, {}).setdefault(name, {})
                for cell, entry in cells.items():
                    row[cell] = {**row.get(cell, {}), **entry}
    return MappingProxyType({b: MappingProxyType({m: MappingProxyType({c: MappingProxyType(e) for c, e in cells.items()})
                                                  for m, cells in models.items()}) for b, models in merged.items()})


def for_folder(folder: Path | None, env: Mapping[str, str] | None = None, *,
               user: bool = True) -> tuple[Matrix, list[Diagnostic]]:
    """The matrix for the shot lists in `folder`, and what is wrong with its models files (the
    user's too, with `user`: $SHOTLANG_MODELS or the config folder's).

    The files are read each time (a few hundred bytes), and parsed once per content: compiling a
    folder of shot lists parses them once, and a file changed in place, however quickly, is
    read anew. What comes back is shared: the matrix's mappings are read-only."""
    files = [(path, _contents(path)) for path in model_files(folder, env, user=user)]
    readable = [(path, data) for path, data in files if not isinstance(data, OSError)]
    if len(readable) < len(files):  # reported each time, not kept
        report: list[Diagnostic] = []
        return _read_contents(files, report), report
    key = tuple((path, hashlib.blake2b(data, digest_size=16).digest()) for path, data in readable)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None:
        report = []
        cached = (_read_contents(files, report), tuple(report))
        with _CACHE_LOCK:
            _CACHE[key] = cached
            while len(_CACHE) > 16:
                _CACHE.pop(next(iter(_CACHE)))
    return cached[0], list(cached[1])


# Parsed matrices by their files' paths and contents, a few at most.
_CACHE: dict[tuple[tuple[Path, bytes], ...], tuple[Matrix, tuple[Diagnostic, ...]]] = {}
_CACHE_LOCK = threading.Lock()


# --- the table as rows, for `shotlang models` and the docs ------------------------------------


def durations_text(durations: Iterable[str]) -> str:
    """5, 10 -> `5s`, `10s`; 3..15 -> `3s`–`15s`."""
    seconds = sorted(int(d) for d in durations)
    if len(seconds) > 2 and seconds == list(range(seconds[0], seconds[-1] + 1)):
        return f"{seconds[0]}s–{seconds[-1]}s"
    return ", ".join(f"{s}s" for s in seconds)


def offer_text(model: Model, feature: str, claim: Claim | None = None) -> str:
    """Where a model offers a feature (by the believed claim, or by `claim`), in a few words
    worked out from the combinations: `yes`, `no`, `ignored`, `pro`, `5s`, `image2video: pro`..."""
    if (claim or model.features[feature].answer).ignored:
        return "ignored"
    endpoints = [e for e in model.endpoints if e != "text2video"] if feature in IMAGE_ONLY else list(model.endpoints)
    shown = {e: combinations_text(model, feature, ENDPOINT_KEYS[e], claim=claim) for e in endpoints
             if e in model.endpoints}
    if not shown:
        return "no"
    if len(set(shown.values())) == 1:
        return next(iter(shown.values()))
    return "; ".join(f"{e}: {text}" for e, text in shown.items())


def _offered(model: Model, feature: str, endpoint: str, kind: str | None, claim: Claim | None) -> list[tuple[str, str]]:
    if claim is None:
        return model.combinations(feature, endpoint, kind)
    at = endpoint_key(endpoint)
    if at not in model.endpoints:
        return []
    return [(m, d) for m in model.modes for d in model.durations if claim.holds(model.version, at, m, d, kind)]


def combinations_text(model: Model, feature: str, endpoint: str, kind: str | None = None,
                      claim: Claim | None = None) -> str:
    """The (mode, duration)s in which a model offers a feature (by the believed claim, or by
    `claim`), in a few words: `yes` (all of them), `pro`, `5s`, or each one."""
    offered = set(_offered(model, feature, endpoint, kind, claim))
    if not offered:
        return "no"
    modes = [m for m in model.modes if all((m, d) in offered for d in model.durations)]
    durations = [d for d in model.durations if all((m, d) in offered for m in model.modes)]
    if len(modes) == len(model.modes):
        text = "yes"
    elif modes and offered == {(m, d) for m in modes for d in model.durations}:
        text = "/".join(modes)
    elif durations and offered == {(m, d) for m in model.modes for d in durations}:
        text = durations_text(durations)
    else:
        text = ", ".join(f"{m} {d}s" for m, d in sorted(offered, key=lambda c: (c[0], int(c[1]))))
    if feature == "camera" and kind is None:
        types = [t for t in kling.CAMERA_TYPES if _offered(model, feature, endpoint, t, claim)]
        if len(types) < len(kling.CAMERA_TYPES):
            text += f" ({', '.join(types)} only)"
    if feature == "image_tail" and claim is None:
        without = {w for m, d in offered for w in model.excludes(feature, endpoint, m, d, kind)}
        if without:
            text += f" (without {', '.join(FEATURE_WORDS[w] for w in sorted(without))})"
    return text


def cells(model: Model, feature: str) -> Iterator[tuple[str, str, str, str | None]]:
    """Every (endpoint, mode, duration, camera type) of a model where a feature could be asked."""
    kinds: tuple[str | None, ...] = kling.CAMERA_TYPES if feature == "camera" else (None,)
    for endpoint in model.endpoints:
        if feature in IMAGE_ONLY and endpoint == "text2video":
            continue
        for mode in model.modes:
            for duration in model.durations:
                for kind in kinds:
                    yield endpoint, mode, duration, kind


def disputes(model: Model, feature: str) -> list[tuple[str, str, str, str | None]]:
    """The cells where the sources' claims about a feature disagree (none once it is settled)."""
    return [c for c in cells(model, feature) if model.disputed(feature, *c)]


def rows(matrix: Matrix) -> Iterator[dict[str, Any]]:
    """Each model as plain data: what `shotlang models --format json` prints."""
    for model in matrix.models.values():
        yield {
            "name": model.name,
            "version": ".".join(map(str, model.version)) if model.version else None,
            "endpoints": list(model.endpoints),
            "modes": list(model.modes),
            "durations": list(model.durations),
            "aspect_ratios": list(model.aspect_ratios),
            "features": {f: _offer_json(model, f) for f in FEATURES},
            "prices": {slot_text(slot): c for slot, c in model.prices.items()},
            "prices_source": model.prices_source,
            "priced_as": model.priced_as if not model.prices else None,
            "source": model.source,
            "note": model.note,
            "defined_in": model.origin,
            "changed_in": list(model.changed),
        }


def _offer_json(model: Model, feature: str) -> dict[str, Any]:
    offer = model.features[feature]
    endpoints = [ENDPOINT_KEYS[k] for k in model.endpoints]
    offered: list[dict[str, Any]] = [{"endpoint": endpoint_key(e), "mode": m, "duration": d}
                                     for e in endpoints for m, d in model.combinations(feature, e)]
    if feature == "camera":  # which camera_control types, in each combination
        for entry in offered:
            entry["types"] = [t for t in kling.CAMERA_TYPES
                              if model.offers(feature, entry["endpoint"], entry["mode"], entry["duration"], t)]
    for entry in offered:  # what the feature may not be used with there (kling-v2-6: an end frame, no sound)
        without = model.excludes(feature, entry["endpoint"], entry["mode"], entry["duration"])
        if without:
            entry["without"] = sorted(without)
    return {
        "ignored": offer.ignored,
        "offered": offered,
        "source": sorted({c.source for c in offer.conditions} or {offer.source} - {""}),
        "note": "; ".join(dict.fromkeys(c.note for c in offer.conditions if c.note)) or offer.note,
        # Every source's claim, the believed one first, and where they disagree.
        "claims": [_claim_json(model, feature, claim) for claim in offer.claims],
        "settled": offer.settled and len(offer.claims) > 1,
        "disputed": [_cell_json(c) for c in disputes(model, feature)],
    }


def _cell_json(cell: tuple[str, str, str, str | None]) -> dict[str, Any]:
    endpoint, mode, duration, kind = cell
    return {"endpoint": endpoint, "mode": mode, "duration": duration, **({"type": kind} if kind else {})}


def _claim_json(model: Model, feature: str, claim: Claim) -> dict[str, Any]:
    return {
        "source": claim.source, "date": claim.date, "note": claim.note, "rendered": claim.rendered,
        "ignored": claim.ignored, "written_in": claim.origin,
        "offered": [_cell_json(c) for c in cells(model, feature) if claim.holds(model.version, *c)],
    }  # fmt: skip
