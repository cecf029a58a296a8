"""fal.ai as a backend: the app a shot goes to on fal, and the input it takes, from its Kling record.

fal runs Kling's models as apps of its own, one per model, endpoint and (but for the master
models) mode, each with its own input names (`image_url` or `start_image_url`, `generate_audio`
...). Which app serves which cell, and what each takes, is data: the capability matrix's
`[backends.fal.<model>.<cell>]` rows (models.toml, with their sources; a models file corrects
them as it does a model's). Here they are read, a compiled Kling record becomes fal's request
(`fal_input`, `fal_records`), and what no app takes is refused with a place in the shot list
(`check`, E416-E419). The run engine prices a request with `fal_price`.

Facts about fal cited here come from the research notes behind issue 24: fal's client map
(@fal-ai/client 1.10.1, src/types/endpoints.d.ts) and fal's documentation pages, named where used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import kling
from .camera import Sending, cell, choice, excluded, said_in, words
from .diagnostics import Diagnostic, Severity
from .language import OPTION_BY_KIND
from .lower import Lowered, LoweredCast, LoweredSequence, LoweredShot
from .models import Matrix, Model, built_in
from .records import record, with_frames
from .source import Span

if TYPE_CHECKING:
    from pathlib import Path

    from .checks import Checker
    from .images import ImageStore

BACKEND = "fal"
ENDPOINT_WORDS = {"text2video": "text-to-video", "image2video": "image-to-video"}
# fal's v1 standard text-to-video app takes Kling's presets by name, and one move as
# advanced_camera_control {movement_type, movement_value} (fal's client map).
CAMERA_PRESETS = ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")


@dataclass(frozen=True)
class FalApp:
    """One app of fal's, as a row of the capability matrix says it: the cell of `model` it serves
    (`text2video-pro`; `text2video` for every mode) and what it takes."""

    model: str
    cell: str
    app: str
    inputs: tuple[str, ...]
    durations: tuple[str, ...]
    audio_default: bool | None = None  # generate_audio's default; None: not said
    listed: bool = True  # in fal's client map; an unlisted id is used only when a models file says so
    prices: Mapping[str, float] = field(default_factory=dict)  # US$: `per-second[-sound|-voice]`, `5s[-...]`
    prices_source: str = ""
    source: str = ""
    date: str = ""
    note: str = ""

    @property
    def endpoint(self) -> str:
        return self.cell.partition("-")[0]

    @property
    def mode(self) -> str | None:
        return self.cell.partition("-")[2] or None

    def takes(self, name: str) -> bool:
        return name in self.inputs


def _app(model: str, cell_key: str, entry: Mapping[str, Any]) -> FalApp | None:
    if "app" not in entry or "inputs" not in entry:
        return None  # a models file's partial entry over no built-in one
    return FalApp(model, cell_key, entry["app"], tuple(entry["inputs"]), tuple(entry.get("durations", ("5", "10"))),
                  entry.get("audio_default"), entry.get("listed", True), dict(entry.get("prices", {})),
                  entry.get("prices_source", ""), entry.get("source", ""), entry.get("date", ""), entry.get("note", ""))


def apps(matrix: Matrix | None = None, model: str | None = None) -> list[FalApp]:
    """Every fal app the matrix lists (for `model` only, if given), listed or not."""
    rows = (matrix or built_in()).backends.get(BACKEND, {})
    return [app for name, cells in rows.items() if model is None or name == model
            for key, entry in cells.items() if (app := _app(name, key, entry)) is not None]


def app_for(model: str, endpoint: str, mode: str, matrix: Matrix | None = None) -> FalApp | None:
    """The app that serves `model`'s `endpoint` (text2video, image2video) in `mode`: the cell's
    own, else the one for every mode; None if there is none in fal's client map (or the models
    files' `listed = true`)."""
    found = {app.cell: app for app in apps(matrix, model) if app.listed}
    return found.get(f"{endpoint}-{mode}") or found.get(endpoint)


def app_by_id(app_id: str, matrix: Matrix | None = None) -> FalApp | None:
    """The row of the app `app_id` (`fal-ai/kling-video/v2.6/pro/text-to-video`)."""
    return next((app for app in apps(matrix) if app.app == app_id), None)


def cells_text(model: str, matrix: Matrix | None = None) -> str:
    """What fal runs of `model`, for a hint: `text-to-video pro, image-to-video pro`."""
    return ", ".join(f"{ENDPOINT_WORDS[a.endpoint]} {a.mode or 'any mode'}" for a in apps(matrix, model) if a.listed)


# --- the request ---------------------------------------------------------------------------------


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def image_input(value: str) -> str:
    """An image as fal takes it: a URL as it is; a local image (compile inlines it as Base64,
    as Kling takes it) as a data URI. fal's CDN page: "Models also accept base64-encoded data
    URIs" (https://docs.fal.ai/documentation/model-apis/fal-cdn, stored copy; an older revision
    says "Some models also accept data URIs", and recommends an uploaded URL)."""
    if _is_url(value) or value.startswith("data:"):
        return value
    kind = "image/png" if value.startswith("iVBOR") else "image/jpeg"  # PNG's and JPEG's first bytes, in Base64
    return f"data:{kind};base64,{value}"


def endpoint_of(record: Mapping[str, Any]) -> tuple[str, str]:
    """The endpoint (text2video or image2video) and mode a Kling record's request is for, as fal's
    cells are keyed: an omni request by its frames, its mode `pro` when none is given (Kling's
    default there)."""
    body = with_frames(record["body"])
    omni = record["endpoint"] == kling.OMNI_VIDEO
    to_image = "image" in body or "image_tail" in body or (not omni and record["endpoint"] == kling.IMAGE2VIDEO)
    return ("image2video" if to_image else "text2video"), str(body.get("mode") or kling.default_mode(record["endpoint"]))


# Kling's shot_type words as fal's enum spells them ("customize" / "intelligent": fal's client map).
SHOT_TYPES = {"customize": "customize", "intelligence": "intelligent"}
# What each Kling body field needs of the app: the fal inputs that can carry it (any one).
NEEDS: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt",), "negative_prompt": ("negative_prompt",), "cfg_scale": ("cfg_scale",),
    "aspect_ratio": ("aspect_ratio",), "duration": ("duration",),
    "image": ("image_url", "start_image_url"), "image_tail": ("tail_image_url", "end_image_url"),
    "static_mask": ("static_mask_url",), "dynamic_masks": ("dynamic_masks",), "sound": ("generate_audio",),
    "voice_list": ("voice_ids",), "multi_prompt": ("multi_prompt",), "shot_type": ("shot_type",),
    "multi_shot": ("multi_prompt",),
}
# Sent to Kling only: the mode and model are in the app's id.
IN_THE_ID = ("model_name", "mode", "image_list")
# Kling fields no fal app takes, and why (said by E417/E419).
NOWHERE = {
    "element_list": "fal's apps take no Kling elements (cast members)",
    "video_list": "fal's apps take no video reference",
    "callback_url": "fal takes a webhook as the queue's `fal_webhook` parameter, not in the input",
    "external_task_id": "fal's queue takes no id of the caller's (it gives a request_id)",
    "watermark_info": "fal's Kling apps take no watermark setting",
}


def refusals(record: Mapping[str, Any], app: FalApp) -> list[tuple[str, str]]:
    """Each Kling field of the record that `app` cannot take, and why; and a duration outside its
    enum (as `duration`)."""
    body = with_frames(record["body"])
    found: list[tuple[str, str]] = []
    for key, value in body.items():
        if key in IN_THE_ID:
            continue
        if key in NOWHERE:
            found.append((key, NOWHERE[key]))
        elif key == "camera_control":
            preset = value.get("type") if isinstance(value, dict) else None
            taken = app.takes("camera_control") if preset in CAMERA_PRESETS else \
                app.takes("advanced_camera_control") if preset == "simple" else False
            if not taken:
                found.append((key, f"{app.app} takes no camera control"))
        elif not any(app.takes(name) for name in NEEDS.get(key, (key,))):
            found.append((key, f"{app.app} takes no `{' or '.join(NEEDS.get(key, (key,)))}`"))
    # Kling takes an image shot without a prompt; fal's apps need one, but for v3's and O3's, where
    # "Either prompt or multi_prompt must be provided" (or, from an image, neither): fal's client
    # map marks `prompt` required on every other Kling app (research notes section 3).
    if app.takes("prompt") and not app.takes("multi_prompt") and not body.get("prompt"):
        found.append(("prompt", f"{app.app} needs a prompt (`prompt` is required)"))
    # Kling takes an end frame alone (image_tail without image); fal's image-to-video apps do not:
    # each one's start frame, `image_url` or `start_image_url`, is a required input (fal's client
    # map, @fal-ai/client 1.10.1 endpoints.d.ts; research notes section 3).
    if "image_tail" in body and "image" not in body and any(app.takes(name) for name in NEEDS["image"]):
        found.append(("image", f"{app.app} takes an end frame only with a start frame "
                               f"(`{next(n for n in NEEDS['image'] if app.takes(n))}` is required)"))
    if str(body.get("duration", kling.DEFAULT_DURATION)) not in app.durations:
        found.append(("duration", f"{app.app} renders {', '.join(s + 's' for s in app.durations)}"))
    return found


def fal_input(record: Mapping[str, Any], app: FalApp) -> dict[str, Any]:
    """fal's input for a Kling record's body, field names as `app` takes them, in the order its
    row lists them. What it cannot take (refusals) is left out: check first."""
    body = with_frames(record["body"])
    made: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if app.takes(name):
            made[name] = value

    for key in ("prompt", "negative_prompt", "cfg_scale", "aspect_ratio"):
        if key in body:
            put(key, body[key])
    if "multi_prompt" in body:  # fal: "Either prompt or multi_prompt must be provided, but not both"
        made.pop("prompt", None)
        put("multi_prompt", [{"prompt": p["prompt"], "duration": str(p["duration"])} for p in body["multi_prompt"]])
        put("shot_type", SHOT_TYPES[body.get("shot_type", "customize")])
    put("duration", str(body.get("duration", kling.DEFAULT_DURATION)))
    for kling_field, names in (("image", NEEDS["image"]), ("image_tail", NEEDS["image_tail"])):
        if kling_field in body:
            for name in names:
                put(name, image_input(body[kling_field]))
    if "static_mask" in body:
        put("static_mask_url", image_input(body["static_mask"]))
    if "dynamic_masks" in body:
        put("dynamic_masks", [{"mask_url": image_input(m["mask"]), "trajectories": m["trajectories"]}
                              for m in body["dynamic_masks"]])
    # Without `sound on`, false is sent: the apps that take it default to true (v2.6, v3), which
    # fal prices as audio (v2.6 pro image-to-video: $0.14/s against $0.07/s).
    put("generate_audio", body.get("sound") == "on")
    if "voice_list" in body:
        put("voice_ids", [v["voice_id"] for v in body["voice_list"]])
    camera = body.get("camera_control")
    if isinstance(camera, dict):
        if camera.get("type") == "simple":
            axis, value = next(((k, v) for k, v in camera.get("config", {}).items() if v), ("zoom", 0))
            put("advanced_camera_control", {"movement_type": axis, "movement_value": value})
        else:
            put("camera_control", camera.get("type"))
    order = {name: n for n, name in enumerate(app.inputs)}
    return {key: made[key] for key in sorted(made, key=lambda k: order.get(k, len(order)))}


def to_fal(record: Mapping[str, Any], app: FalApp) -> dict[str, Any]:
    """The record with fal's app as its endpoint and fal's input as its body."""
    return {**record, "endpoint": app.app, "body": fal_input(record, app)}


class NotOnFal(ValueError):
    """A record no fal app can take as it is."""


def fal_records(records: list[dict[str, Any]], matrix: Matrix | None = None) -> list[dict[str, Any]]:
    """Compiled Kling records (compile's `{"name", "scene", "line", "method", "endpoint",
    "body"}`) as fal's: each record's endpoint the app id, its body the app's input. Raises
    NotOnFal for one that no app takes (`compile --backend fal` says where, with E416-E419)."""
    out = []
    for one in records:
        endpoint, mode = endpoint_of(one)
        model = str(one["body"].get("model_name", kling.DEFAULT_MODEL))
        app = app_for(model, endpoint, mode, matrix)
        if app is None:
            raise NotOnFal(f"{one['name']}: fal has no app for {model} {ENDPOINT_WORDS[endpoint]} {mode}")
        if "after" in one or "cast" in one:
            raise NotOnFal(f"{one['name']}: fal takes no `after` continuity and no cast members")
        refused = refusals(one, app)
        if refused:
            raise NotOnFal(f"{one['name']}: " + "; ".join(why for _, why in refused))
        out.append(to_fal(one, app))
    return out


def fal_price(app_id: str, input: Mapping[str, Any], matrix: Matrix | None = None) -> float | None:
    """US$ for one request of `input` to `app_id`, from the app's row: the price of a video of its
    length, else its price per second times the seconds, by the audio it asks for. None: no
    price is known (none is guessed; fal's pricing API, GET https://api.fal.ai/v1/models/pricing,
    gives the account's)."""
    app = app_by_id(app_id, matrix)
    if app is None or not app.prices:
        return None
    duration = str(input.get("duration", app.durations[0] if app.durations else kling.DEFAULT_DURATION))
    if not duration.isdigit():
        return None
    audio = input.get("generate_audio", bool(app.audio_default) and app.takes("generate_audio"))
    kind = ("-voice" if input.get("voice_ids") else "-sound") if audio else ""
    exact = app.prices.get(f"{int(duration)}s{kind}")
    if exact is not None:
        return exact
    rate = app.prices.get(f"per-second{kind}")
    return None if rate is None else round(rate * int(duration), 6)


# --- the move, and the checks ----------------------------------------------------------------------


def prepare(shot: LoweredShot, model: Model | None, matrix: Matrix) -> bool:
    """How the shot's move goes on fal, worked out before the checks (camera.sending keeps it):
    under `moves auto`, as words wherever the app takes no camera field (all but kling-v1's
    standard text-to-video app). True if it goes as words for fal's sake."""
    camera = shot.camera
    if camera is None or shot.in_sequence or choice(shot.settings) != "auto" or shot.sent is not None:
        return False
    endpoint, mode, _ = cell(shot.settings, model)
    key = "image2video" if shot.settings.to_image else "text2video"
    app = app_for(shot.settings.model_name, key, mode if endpoint != kling.OMNI_VIDEO or shot.settings.mode else "pro",
                  matrix)
    field_name = "camera_control" if camera.move.preset else "advanced_camera_control"
    if app is not None and app.takes(field_name) and not excluded(shot):
        return False  # the shot's cell decides, as on Kling
    shot.sent = Sending("words", "" if said_in(camera.move, shot.prompt.value) else words(camera))
    return True


_FIELD_KINDS = {option.field.partition(".")[0]: kind for kind, option in OPTION_BY_KIND.items() if option.field}


def _where(item: LoweredShot | LoweredSequence, key: str) -> Span:
    """Where the shot list says what puts `key` in the body; the shot's name if nowhere closer."""
    settings = item.settings
    if key == "dynamic_masks" and isinstance(item, LoweredShot) and item.motions:
        return item.motions[0].span
    if key == "voice_list" and item.voices:
        return item.voices[0].span
    if key == "camera_control" and isinstance(item, LoweredShot) and item.camera is not None:
        return item.camera.span
    kind = {"image_tail": "tail", "static_mask": "mask", "sound": "sound"}.get(key) or _FIELD_KINDS.get(key)
    value = settings.get(kind) if kind else None
    return value.span if value is not None else item.syntax.name.span


def check(item: Lowered, record: Mapping[str, Any] | None, matrix: Matrix) -> list[Diagnostic]:
    """What `--backend fal` refuses of one shot, sequence or cast member, given its Kling record
    (None for a cast member): no app (E416), a field the app does not take (E417), a duration
    outside the app's enum (E418), what only Kling's API has (E419)."""
    if isinstance(item, LoweredCast):
        return [Diagnostic("E419", "fal takes no cast members: a CAST is made as a Kling element",
                           item.syntax.name.span, "describe the character in the prompt, or compile with "
                           "`--backend kling`")]
    assert record is not None
    found: list[Diagnostic] = []
    settings = item.settings
    if isinstance(item, LoweredShot) and item.cast:
        found.append(Diagnostic("E419", f"`@{item.cast[0].name}` names a cast member: fal takes no elements",
                                item.cast[0].span, "describe the character in the prompt, or compile with "
                                "`--backend kling`"))
    if settings.after is not None:
        found.append(Diagnostic("E419", f"`after {settings.after.value}` continues a shot from its video or last "
                                "frame, which fal's queue cannot hand on", settings.after.span,
                                "give this shot its own start `image`, or compile with `--backend kling`"))
    if found:
        return found
    model = settings.model_name
    endpoint, mode = endpoint_of(record)
    app = app_for(model, endpoint, mode, matrix)
    if app is None:
        span = settings.model.span if settings.model is not None and not settings.model.inherited else item.syntax.name.span
        offered = cells_text(model, matrix)
        unlisted = next((a for a in apps(matrix, model) if not a.listed and a.endpoint == endpoint
                         and a.mode in (None, mode)), None)
        hint = (f"fal runs {model} as {offered}" if offered else
                f"fal runs {', '.join(sorted({a.model for a in apps(matrix) if a.listed}))}") + (
            f"; `{unlisted.app}` is not in fal's client map: set `listed = true` under "
            f"[backends.fal.{model}.{unlisted.cell}] in shotlang-models.toml once it has worked" if unlisted else "")
        return [Diagnostic("E416", f"fal has no app for {model} {ENDPOINT_WORDS[endpoint]} in {mode}", span, hint)]
    for key, why in refusals(record, app):
        span = _where(item, key)
        if key == "duration":
            found.append(Diagnostic("E418", f"{app.app} does not render {record['body'].get('duration', '5')}s",
                                    span, f"{why}: write one of those"))
        elif key == "camera_control":
            found.append(Diagnostic("E417", f"{why}: the move cannot go as camera_control", span,
                                    "write `moves words` (the move in the prompt, in camera language)"))
        elif key == "prompt":  # an image shot's empty prompt, on an app that requires one
            found.append(Diagnostic("E417", why, item.prompt.span if isinstance(item, LoweredShot) else span,
                                    "say in the prompt what the shot shows, or compile with `--backend kling` "
                                    "(Kling takes an image shot without one)"))
        elif key == "image":  # an end frame without the start frame the app requires
            found.append(Diagnostic("E417", why, _where(item, "image_tail"),
                                    "give the shot its start frame too (`image \"start.png\"`), or compile with "
                                    "`--backend kling` (Kling takes an end frame alone)"))
        elif key in ("multi_shot", "multi_prompt", "shot_type"):
            found.append(Diagnostic("E417", f"{app.app} takes no multi-shot sequence", span,
                                    "on fal, sequences are taken by kling-v3 and kling-v3-omni: use one of them, "
                                    "or make each shot of its own"))
        else:
            found.append(Diagnostic("E417", f"{why}" if key in NOWHERE else f"{why} (for {_option_words(key)})", span,
                                    _hint(key, matrix)))
    return found


def _option_words(key: str) -> str:
    kind = {"image_tail": "tail", "static_mask": "mask", "dynamic_masks": "motion", "voice_list": "voice",
            "sound": "sound", "aspect_ratio": "aspect"}.get(key) or _FIELD_KINDS.get(key, key)
    return f"`{kind}`"


def _hint(key: str, matrix: Matrix) -> str:
    others = [a for a in apps(matrix) if a.listed and any(a.takes(n) for n in NEEDS.get(key, (key,)))]
    where = ", ".join(dict.fromkeys(f"{a.model} {ENDPOINT_WORDS[a.endpoint]}" + (f" {a.mode}" if a.mode else "")
                                    for a in others[:4]))
    return "remove it on fal, or compile with `--backend kling`" + (f"; fal's apps that take it: {where}" if where else "")


def has_error(found: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in found)


def take_fal(items: list[Lowered], checker: Checker, axes: str, base_dir: Path, images: ImageStore,
             matrix: Matrix, report: list[Diagnostic], made: list[dict[str, Any]] | None,
             lowered: list[Lowered] | None) -> None:
    """The pipeline's stage for `--backend fal` (pipeline.analyse): each item checked as for
    Kling, its move sent as fal can take it (prepare), its Kling record made and checked against
    its fal app (check), and kept as fal's request (to_fal) into `made`."""
    for item in items:
        if lowered is not None:
            lowered.append(item)
        as_words = isinstance(item, LoweredShot) and prepare(item, matrix.get(item.settings.model_name), matrix)
        found = checker.check(item, axes)
        if as_words:  # words for fal's sake: no dispute about Kling's camera control is relied on
            found = [d for d in found if not (d.code == "W108" and d.message.startswith("camera control on"))]
        report.extend(found)
        if not item.lowered or has_error(found):
            continue
        if isinstance(item, LoweredCast):
            report.extend(check(item, None, matrix))
            continue
        kling_record = record(item, axes, base_dir, images, matrix)
        refused = check(item, kling_record, matrix)
        report.extend(refused)
        if made is not None and not has_error(refused):
            app = app_for(item.settings.model_name, *endpoint_of(kling_record), matrix)
            assert app is not None, "check refuses a shot with no app"
            made.append(to_fal(kling_record, app))
