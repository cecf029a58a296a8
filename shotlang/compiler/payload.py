"""The versioned JSON envelope of a compiled file, and its shots as typed models.

records.py makes each shot's record; this wraps them.

The envelope is documented in docs/cli.md. FORMAT_VERSION changes only when a key changes
meaning or goes away; new keys may be added within a version.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    SkipValidation,
    ValidationInfo,
    computed_field,
    field_serializer,
    field_validator,
    model_serializer,
)

from . import bodies

FORMAT_VERSION = 1


class CompiledShot(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    scene: str | None
    line: int
    method: Literal["POST"] = "POST"
    endpoint: str
    # The model of the endpoint's body: an omni request, or a text2video or image2video one.
    body: bodies.VideoRequest | bodies.OmniRequest
    shots: list[str] | None = None  # a SEQUENCE's shots, in order: one multi-shot request
    # How its camera move is sent (camera.py); absent when it has none, or `moves off`.
    moves: Literal["numeric", "words", "both"] | None = None
    notes: list[str] | None = None  # the writer's [[notes]] in and after it; never sent
    cast: list[str] | None = None  # the cast members its element_list names, in order
    after: str | None = None  # the shot it continues (`after NAME`)
    takes: int | None = Field(None, ge=1)  # generations of it, each paid (`takes N`)
    pick: int | None = Field(None, ge=1)  # the chosen take (`pick K`)

    @field_validator("body", mode="before")
    @classmethod
    def _body_of_its_endpoint(cls, body: Any, info: ValidationInfo) -> Any:
        if isinstance(body, dict):
            return bodies.request_model(str(info.data.get("endpoint", ""))).model_validate(body)
        return body

    @model_serializer(mode="wrap")
    def _without_absent_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # As the compiler's record: `shots` only for a sequence, `moves` only for a move sent,
        # `notes` only if it has some.
        dumped: dict[str, Any] = handler(self)
        for key in ("shots", "moves", "notes", "cast", "after", "takes", "pick"):
            if dumped.get(key) is None:
                dumped.pop(key, None)
        return dumped

    @field_serializer("body")
    def _body(self, body: bodies.VideoRequest | bodies.OmniRequest) -> dict[str, Any]:
        # Only the fields a shot sets are sent; the API applies its own defaults to the rest.
        return body.model_dump(mode="json", exclude_none=True)


class CompiledCast(BaseModel):
    """A CAST's record: the request that makes its element; shots name it by `@name`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    line: int
    method: Literal["POST"] = "POST"
    endpoint: Literal["/v1/general/advanced-custom-elements"]
    body: bodies.ElementRequest


class CompiledFile(BaseModel):
    """What `shotlang compile` writes for one .shot file.

    The shots are kept as the plain JSON records the compiler made (`records`), which is what
    `to_json` writes; `shots` turns them into validated pydantic models on first use. What it
    buys: a 100k-shot file is written without building 400k model objects (several hundred MB
    and most of the time); anyone who reads `shots` still gets every body checked against the
    API's schema in bodies.py.
    """

    model_config = ConfigDict(frozen=True)

    shotlang_format: int = FORMAT_VERSION
    source: str
    title: str | None
    axes: Literal["seed", "official"]
    records: SkipValidation[list[dict[str, Any]]] = Field(repr=False, exclude=True)
    notes: list[str] | None = Field(default=None, exclude=True)  # the notes above the first shot
    # The CASTs' records: the body that makes each element; shots name them by `@name`.
    cast: SkipValidation[list[dict[str, Any]] | None] = Field(default=None, repr=False, exclude=True)
    # Where the requests go: Kling's API (the envelope says nothing), or fal's queue ("backend":
    # "fal": each shot's endpoint is fal's app id, its body the app's input; compiler/fal.py).
    backend: Literal["kling", "fal"] = Field(default="kling", exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def shots(self) -> list[CompiledShot]:
        if self.backend != "kling":  # fal's inputs are not Kling's bodies: read `records`
            raise ValueError(f"the shots of a {self.backend} envelope are its `records` (fal's inputs), "
                             "not Kling request models")
        return [CompiledShot.model_validate(record) for record in self.records]

    def _envelope(self) -> dict[str, Any]:
        head = {"shotlang_format": self.shotlang_format, "source": self.source, "title": self.title,
                "axes": self.axes}
        if self.backend != "kling":
            head["backend"] = self.backend
        if self.notes:
            head["notes"] = self.notes
        if self.cast:
            head["cast"] = self.cast
        return {**head, "shots": self.records}

    def to_json(self) -> str:
        """The envelope, indented by two spaces, UTF-8 unescaped: as json.dumps(indent=2,
        ensure_ascii=False) would write it, from orjson, which does it many times faster."""
        return orjson.dumps(self._envelope(), option=orjson.OPT_INDENT_2).decode() + "\n"

    def to_jsonl(self) -> str:
        """One line per cast member (its endpoint the elements') and then per shot, each carrying
        its source so lines from many files can mix."""
        head: dict[str, Any] = {"shotlang_format": self.shotlang_format, "source": self.source}
        if self.backend != "kling":
            head["backend"] = self.backend
        return "".join(orjson.dumps({**head, **record}).decode() + "\n" for record in (*(self.cast or ()), *self.records))
