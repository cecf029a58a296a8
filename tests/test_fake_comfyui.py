"""The local server takes the bodies Kling's own ComfyUI client sends, as the real API does.

The bodies are restated (not copied) from KwaiVGI/ComfyUI-KLingAI-API at af14fd1 (2025-10-24):
py/nodes.py (`Text2VideoNode.generate`, `Image2VideoNode.generate`), py/api/prediction.py
(`Prediction.to_dict`) and py/api/client.py (the token). What they send:
- every parameter of the node, set or not: an input left unconnected goes as JSON `null`
  (`"image_tail": null`; `cfg_scale` is a lazy input and can be null too);
- text inputs default to "" (`"negative_prompt": ""`, and `"prompt": ""` on image-to-video);
- `camera_control` only when a type is chosen: `{"type": "simple", "config": {FIELD: VALUE}}`
  with only the chosen field, VALUE a float from a widget (-10.0 to 10.0, default 0.5), or
  `{"type": PRESET}` with no config at all;
- images as Base64 of a JPEG (PIL saves the picture as JPEG), with no `data:` prefix;
- `cfg_scale` a float (default 0.5), `duration` "5"/"10", `mode` std/pro, and `aspect_ratio`
  on text-to-video only;
- a JWT made with PyJWT: headers {"alg": "HS256", "typ": "JWT"}, whole-second `exp` and `nbf`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from helpers import jpeg

from shotlang.compiler import kling
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling

JPEG = base64.b64encode(jpeg(1280, 720)).decode()
CAMERA_FIELDS = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")  # the node's list, in its order
PRESETS = ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")


def comfyui_token(now: float) -> str:
    """The client's token, as its `Client._token` makes it."""
    claims = {"iss": TEST_ACCESS_KEY, "exp": int(now) + 1800, "nbf": int(now) - 5}
    return jwt.encode(claims, TEST_SECRET_KEY, headers={"alg": "HS256", "typ": "JWT"})


def camera(kind: str = "None", field: str = "horizontal", value: float | None = 0.5) -> dict[str, Any]:
    """The node's three camera inputs as its body carries them: nothing for "None", only the
    chosen field in a simple config, no config for a preset."""
    if kind == "None":
        return {}
    if kind != "simple":
        return {"camera_control": {"type": kind}}
    return {"camera_control": {"type": "simple", "config": {field: value}}}


# The nodes' default model is kling-v1; a camera move goes with kling-v1-6, the first model the
# capability matrix (the seed's rule) gives camera control.
CAMERA_MODEL = "kling-v1-6"


def text2video(model: str = "kling-v1", prompt: str = "a horse running at sunset", negative_prompt: str | None = "",
               cfg_scale: float | None = 0.5, mode: str | None = "std", aspect_ratio: str | None = "16:9",
               duration: str | None = "5", **camera_inputs: Any) -> dict[str, Any]:
    return {"model_name": model, "prompt": prompt, "negative_prompt": negative_prompt, "cfg_scale": cfg_scale,
            "mode": mode, "aspect_ratio": aspect_ratio, "duration": duration, **camera(**camera_inputs)}


def image2video(model: str = "kling-v1", image: str | None = JPEG, image_tail: str | None = None,
                prompt: str | None = "", negative_prompt: str | None = "", cfg_scale: float | None = 0.5,
                mode: str | None = "std", duration: str | None = "5", **camera_inputs: Any) -> dict[str, Any]:
    return {"model_name": model, "image": image, "image_tail": image_tail, "prompt": prompt,
            "negative_prompt": negative_prompt, "cfg_scale": cfg_scale, "mode": mode, "duration": duration,
            **camera(**camera_inputs)}


T2V, I2V = kling.TEXT2VIDEO, kling.IMAGE2VIDEO
BODIES = [
    # text-to-video: the node's defaults, then each of its models (kling-v2-1 aside: the node
    # lists it, but the capability map offers it for image-to-video only)
    pytest.param(T2V, text2video(), id="t2v-defaults"),
    *(pytest.param(T2V, text2video(model=m), id=f"t2v-{m}") for m in ("kling-v1-6", "kling-v2-master",
                                                                          "kling-v2-1-master")),
    pytest.param(T2V, text2video(negative_prompt=None, cfg_scale=None, mode=None, aspect_ratio=None, duration=None),
                 id="t2v-optional-inputs-unset"),
    pytest.param(T2V, text2video(mode="pro", aspect_ratio="9:16", duration="10", cfg_scale=1.0), id="t2v-pro-10s"),
    # its camera widget: the default 0.5, whole values as floats, both ends
    pytest.param(T2V, text2video(CAMERA_MODEL, kind="simple"), id="t2v-simple-default-0.5"),
    *(pytest.param(T2V, text2video(CAMERA_MODEL, kind="simple", field=f, value=v), id=f"t2v-simple-{f}-{v}")
      for f, v in zip(CAMERA_FIELDS, (-10.0, 10.0, 5.0, -3.0, 0.5, -0.5), strict=True)),
    *(pytest.param(T2V, text2video(CAMERA_MODEL, kind=p), id=f"t2v-{p}") for p in PRESETS),
    # image-to-video: an image, no end frame (null), empty prompts
    pytest.param(I2V, image2video(), id="i2v-defaults"),
    *(pytest.param(I2V, image2video(model=m), id=f"i2v-{m}") for m in ("kling-v1-5", "kling-v1-6", "kling-v2-master",
                                                                           "kling-v2-1", "kling-v2-1-master")),
    pytest.param(I2V, image2video(image_tail=JPEG, mode="pro"), id="i2v-start-and-end-frames"),
    pytest.param(I2V, image2video(image=None, image_tail=JPEG, mode="pro"), id="i2v-end-frame-only"),
    pytest.param(I2V, image2video(prompt=None, negative_prompt=None, cfg_scale=None, mode=None, duration=None),
                 id="i2v-optional-inputs-unset"),
    pytest.param(I2V, image2video(CAMERA_MODEL, kind="simple"), id="i2v-simple-default-0.5"),
    pytest.param(I2V, image2video(CAMERA_MODEL, kind="simple", field="zoom", value=-7.0), id="i2v-simple-zoom-float"),
    *(pytest.param(I2V, image2video(CAMERA_MODEL, kind=p), id=f"i2v-{p}") for p in PRESETS),
]


@pytest.fixture
def comfyui() -> Iterator[tuple[FakeKling, httpx.Client]]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {comfyui_token(time.time())}"}
    with FakeKling(polls=1) as server, httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
        yield server, http


@pytest.mark.parametrize(("endpoint", "body"), BODIES)
def test_the_server_takes_what_kling_s_comfyui_client_sends(comfyui: tuple[FakeKling, httpx.Client],
                                                            endpoint: str, body: dict[str, Any]) -> None:
    server, http = comfyui
    answer = http.post(endpoint, json=body)
    assert answer.status_code == 200 and answer.json()["code"] == 0, answer.text
    task_id = answer.json()["data"]["task_id"]
    done = http.get(f"{endpoint}/{task_id}").json()["data"]
    assert done["task_status"] == "succeed"
    assert done["task_result"]["videos"][0]["duration"] == (body["duration"] or "5"), "null is the default"
    assert server.stats.creates == 1 and server.stats.refused_tokens == 0


def test_the_bodies_are_shaped_as_the_client_shapes_them() -> None:
    # The restatement above, checked against what the client was read to send.
    simple = text2video(kind="simple", field="pan", value=5.0)["camera_control"]
    assert simple == {"type": "simple", "config": {"pan": 5.0}} and isinstance(simple["config"]["pan"], float)
    assert "config" not in text2video(kind="down_back")["camera_control"]
    assert "camera_control" not in text2video() and "aspect_ratio" not in image2video()
    assert image2video()["image_tail"] is None and "image_tail" in image2video()
    assert base64.b64decode(JPEG).startswith(b"\xff\xd8\xff")
