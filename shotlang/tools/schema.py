"""The JSON Schema of what `shotlang compile` writes, made from the pydantic models that shape
it (payload.py, bodies.py), for tools that consume compiled shot lists.

`envelope_schema()` is the `--format json` document; `line_schema()` one line of
`--format jsonl`. docs/schema/ holds both, and a test fails when they are not current.
"""

from __future__ import annotations

from typing import Any

from ..compiler import kling
from ..compiler.payload import FORMAT_VERSION, CompiledCast, CompiledShot

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://shotlang.dev/schema"  # a name, not fetched: the files are in docs/schema/


# pydantic writes a bound it cannot push into each member of a union under its own names: the
# JSON Schema keywords that say the same.
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
# The fields a feature of the capability matrix puts in a body (models.FEATURES).
_FEATURE_FIELDS = {"camera": ("camera_control",), "image_tail": ("image_tail",), "masks": ("static_mask", "dynamic_masks"),
                   "sound": ("sound",), "voice": ("voice_list",), "multi_shot": ("multi_shot", "multi_prompt"),
                   "cfg": ("cfg_scale",), "elements": ("element_list",)}


def _standard(value: Any) -> Any:
    """Every bound under its JSON Schema keyword, at any depth."""
    if isinstance(value, dict):
        return {_BOUNDS.get(k, k): _standard(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_standard(v) for v in value]
    return value


def _one_axis() -> dict[str, Any]:
    """A simple move sets one camera axis, the others 0 (the seed; Kling's reference); a preset
    has no config."""
    axes = kling.CAMERA_FIELDS
    return {
        "if": {"properties": {"type": {"const": "simple"}}, "required": ["type"]},
        "then": {"required": ["config"], "properties": {"config": {"oneOf": [
            {"properties": {axis: ({"not": {"const": 0}} if axis == moving else {"const": 0}) for axis in axes},
             "required": [moving]}
            for moving in axes]}}},
        "else": {"not": {"required": ["config"]}},
    }


def _per_model(endpoints: tuple[str, ...]) -> list[dict[str, Any]]:
    """What the capability matrix (the built-in one) says of each model, for a body: the
    durations, modes and aspect ratios it renders, and no field of a feature no source offers
    it anywhere. (Which mode and duration a feature needs is the checks' to say: `check`.)"""
    from ..compiler.models import built_in

    rules = []
    for model in built_in().models.values():
        if not any(e in endpoints for e in (f"/v1/videos/{k}" for k in model.endpoints)):
            continue
        then: dict[str, Any] = {"properties": {
            "duration": {"enum": list(model.durations)},
            "mode": {"enum": list(model.modes)},
            "aspect_ratio": {"enum": list(model.aspect_ratios)},
        }}
        absent = [f for feature, fields in _FEATURE_FIELDS.items() for f in fields
                  if not any(model.offered_by_any(feature, f"/v1/videos/{e}", m, d)
                             for e in model.endpoints for m in model.modes for d in model.durations)]
        if absent:
            then["not"] = {"anyOf": [{"required": [f]} for f in absent]}
        rules.append({"if": {"properties": {"model_name": {"const": model.name}}, "required": ["model_name"]},
                      "then": then})
    return rules


def _bodies(defs: dict[str, Any]) -> None:
    """The request bodies, stated as far as JSON Schema can: prompt lengths, one axis per simple
    move, and what each model renders and takes."""
    for name, endpoints in (("VideoRequest", (kling.TEXT2VIDEO, kling.IMAGE2VIDEO)), ("OmniRequest", (kling.OMNI_VIDEO,))):
        body = defs.get(name)
        if body is None:
            continue
        for field in ("prompt", "negative_prompt"):
            if field in body["properties"]:
                body["properties"][field]["maxLength"] = kling.TEXT_MAX_CHARS
        body["allOf"] = _per_model(endpoints)
    if "CameraControl" in defs:
        defs["CameraControl"].update(_one_axis())


def _shot_schema() -> dict[str, Any]:
    """One shot's record, as compile writes it. The models' validation schema, made exact for
    what is written: a body field is left out, never null (the API then applies its default),
    `shots` appears only for a SEQUENCE, `notes` only where the writer left some, and a record
    has no other keys."""
    schema = CompiledShot.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    schema["additionalProperties"] = False
    schema["required"] = [*schema["required"][:2], "line", "method", "endpoint", "body"]
    schema["properties"]["endpoint"]["enum"] = list(kling.ENDPOINTS)
    _no_nulls(schema["properties"]["shots"])
    _no_nulls(schema["properties"]["notes"])
    for definition in schema.get("$defs", {}).values():  # the body and its parts
        for field in definition.get("properties", {}).values():
            _no_nulls(field)
    # The body is the model of its endpoint's requests: an omni body at the omni endpoint only.
    refs = {ref["$ref"].rsplit("/", 1)[-1]: ref for ref in schema["properties"]["body"].pop("anyOf")}
    schema["properties"]["body"]["type"] = "object"
    schema["allOf"] = [{"if": {"properties": {"endpoint": {"const": kling.OMNI_VIDEO}}},
                        "then": {"properties": {"body": refs["OmniRequest"]}},
                        "else": {"properties": {"body": refs["VideoRequest"]}}}]
    _bodies(schema.get("$defs", {}))
    standard: dict[str, Any] = _standard(schema)
    return standard


def _no_nulls(field: dict[str, Any]) -> None:
    """`anyOf: [X, null]` (an optional field) as X: compile leaves the field out instead."""
    choices = [c for c in field.get("anyOf", ()) if c != {"type": "null"}]
    if "anyOf" in field and len(choices) == 1:
        del field["anyOf"]
        field.update(choices[0])
    elif "anyOf" in field:
        field["anyOf"] = choices
    if field.get("default", 0) is None:
        del field["default"]


def _cast_schema() -> dict[str, Any]:
    """A CAST's record: the body that makes its element (at the elements' endpoint)."""
    schema = CompiledCast.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    schema["additionalProperties"] = False
    schema["required"] = ["name", "line", "method", "endpoint", "body"]
    for definition in schema.get("$defs", {}).values():
        for field in definition.get("properties", {}).values():
            _no_nulls(field)
    return schema


def envelope_schema() -> dict[str, Any]:
    shot = _shot_schema()
    defs = shot.pop("$defs", {})
    defs["CompiledShot"] = shot
    cast = _cast_schema()
    defs |= cast.pop("$defs", {})
    defs["CompiledCast"] = cast
    return {
        "$schema": SCHEMA_DRAFT,
        "$id": f"{BASE_ID}/envelope-{FORMAT_VERSION}.json",
        "title": "shotlang compiled shot list",
        "description": "What `shotlang compile --format json` writes for one .shot file (docs/cli.md).",
        "type": "object",
        "properties": {
            "shotlang_format": {"const": FORMAT_VERSION, "description": "the envelope's version"},
            "source": {"type": "string", "description": "the file as named on the command line"},
            "title": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "the TITLE, or null"},
            "axes": {"enum": ["seed", "official"], "description": "how moves were mapped to camera fields"},
            "notes": {"type": "array", "items": {"type": "string"},
                      "description": "the [[notes]] above the first shot; absent if there are none"},
            "cast": {"type": "array", "items": {"$ref": "#/$defs/CompiledCast"},
                     "description": "the CASTs: the request that makes each one's element; absent if there are none"},
            "shots": {"type": "array", "items": {"$ref": "#/$defs/CompiledShot"}},
        },
        "required": ["shotlang_format", "source", "title", "axes", "shots"],
        "additionalProperties": False,
        "$defs": defs,
    }


def schema_text(fmt: str) -> str:
    """The schema of `compile --format FMT` as the file docs/schema/ holds."""
    import json

    return json.dumps(envelope_schema() if fmt == "json" else line_schema(), indent=2, ensure_ascii=False) + "\n"


def line_schema() -> dict[str, Any]:
    """A line is a shot's record, or (first) a cast member's, by its endpoint."""
    head = {
        "shotlang_format": {"const": FORMAT_VERSION, "description": "the envelope's version"},
        "source": {"type": "string", "description": "the file as named on the command line"},
    }
    shot = _shot_schema()
    defs = shot.pop("$defs", {})
    cast = _cast_schema()
    defs |= cast.pop("$defs", {})

    def line(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "properties": {**head, **record["properties"]},
                "required": ["shotlang_format", "source", *record.get("required", [])]}

    return {
        "$schema": SCHEMA_DRAFT,
        "$id": f"{BASE_ID}/line-{FORMAT_VERSION}.json",
        "title": "shotlang compiled shot or cast member (one JSON line)",
        "description": "One line of `shotlang compile --format jsonl`: a shot's record with its source, or "
                       "a cast member's (at the elements' endpoint; those come first).",
        "type": "object",
        "if": {"properties": {"endpoint": {"const": kling.ELEMENTS}}, "required": ["endpoint"]},
        "then": line(cast),
        "else": line(shot),
        "$defs": defs,
    }
