"""The local Kling server's elements (../shared/kling-api.md, "Elements"): a cast member or an
object made once from reference images, then named in an omni request's element_list. Its rules
are its own, written from the documentation."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from shotlang.config import Credentials
from shotlang.engine.auth import make_token
from shotlang.testing import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeKling

ELEMENTS = "/v1/general/advanced-custom-elements"
OMNI = "/v1/videos/omni-video"
FRONT, SIDE = "https://example.com/keeper.png", "https://example.com/keeper-side.png"
KEEPER = {"element_name": "keeper", "element_description": "a lighthouse keeper, grey beard, yellow oilskin",
          "reference_type": "image_refer",
          "element_image_list": {"frontal_image": FRONT, "refer_images": [{"image_url": SIDE}]},
          "tag_list": [{"tag_id": "o_102"}], "external_task_id": "cast-keeper-1"}


def client(fake: FakeKling) -> httpx.Client:
    token, _ = make_token(Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY), time.time())
    return httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def made(http: httpx.Client, body: dict[str, Any]) -> str:
    answer = http.post(ELEMENTS, json=body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


def test_an_element_is_a_task_whose_result_is_its_id() -> None:
    with FakeKling(polls=2) as fake, client(fake) as http:
        task = made(http, KEEPER)
        first = http.get(f"{ELEMENTS}/{task}").json()["data"]
        assert first["task_status"] == "processing" and "task_result" not in first
        done = http.get(f"{ELEMENTS}/cast-keeper-1").json()["data"]  # by its external id
        assert done["task_status"] == "succeed" and done["task_info"]["external_task_id"] == "cast-keeper-1"
        [element] = done["task_result"]["elements"]
        assert element["element_name"] == "keeper" and element["element_id"]
        listed = http.get(ELEMENTS, params={"pageNum": 1, "pageSize": 30}).json()["data"]
        assert [t["task_id"] for t in listed] == [task]
        assert fake.created() == [(ELEMENTS, KEEPER)]
        again = http.post(ELEMENTS, json=KEEPER)  # one external id, one element
        assert again.status_code == 400 and "external_task_id already exists" in again.text


@pytest.mark.parametrize(("change", "said"), [
    ({"element_name": "a" * 21}, "element_name must be text of 1 to 20 characters"),
    ({"element_description": None}, "element_description must be text of 1 to 100 characters"),
    ({"element_description": "d" * 101}, "element_description must be text of 1 to 100 characters"),
    ({"element_image_list": {"frontal_image": FRONT, "refer_images": []}}, "refer_images must hold 1 to 3 images"),
    ({"element_image_list": {"frontal_image": FRONT, "refer_images": [{"image_url": SIDE}] * 4}},
     "refer_images must hold 1 to 3 images"),
    ({"element_image_list": {"frontal_image": "data:image/png;base64,AAAA", "refer_images": [{"image_url": SIDE}]}},
     "without a data: prefix"),
    ({"tag_list": [{"tag_id": "o_999"}]}, "tag_list must be a list of {tag_id}"),
    ({"reference_type": "sketch"}, "reference_type must be image_refer or video_refer"),
    ({"reference_type": "video_refer", "element_image_list": None,
      "element_video_list": {"refer_videos": [{"video_url": "https://e.com/keeper.gif"}]}}, "one .mp4 or .mov"),
    ({"element_colour": "red"}, "element_colour: not a field of advanced-custom-elements"),
])
def test_an_element_the_api_would_refuse_is_refused_and_not_made(change: dict[str, Any], said: str) -> None:
    body = {k: v for k, v in (KEEPER | change).items() if v is not None}
    with FakeKling(polls=1) as fake, client(fake) as http:
        answer = http.post(ELEMENTS, json=body)
        assert answer.status_code == 400 and said in answer.json()["message"], answer.text
        assert fake.stats.creates == 0


def test_an_omni_request_names_only_elements_made_and_done() -> None:
    shot = {"model_name": "kling-v3-omni", "prompt": "<<<element_1>>> climbs the stairs", "duration": "5",
            "aspect_ratio": "16:9"}
    with FakeKling(polls=2) as fake, client(fake) as http:
        task = made(http, KEEPER)
        element = f"el{task}"
        early = http.post(OMNI, json=shot | {"element_list": [{"element_id": element}]})
        assert early.status_code == 400 and "no such element" in early.text, "still being made"
        http.get(f"{ELEMENTS}/{task}")
        http.get(f"{ELEMENTS}/{task}")  # done at its second look
        assert http.post(OMNI, json=shot | {"element_list": [{"element_id": element}]}).status_code == 200
        unknown = http.post(OMNI, json=shot | {"element_list": [{"element_id": "el-nobody"}]})
        assert unknown.status_code == 400 and "element_list[0].element_id: no such element" in unknown.text
        assert fake.stats.creates == 2  # the element and one video


def test_making_an_element_takes_no_place_among_the_account_s_running_videos() -> None:
    shot = {"model_name": "kling-v3-omni", "prompt": "x", "duration": "5", "aspect_ratio": "16:9"}
    with FakeKling(polls=5, max_running=1) as fake, client(fake) as http:
        made(http, KEEPER)
        assert http.post(OMNI, json=shot).status_code == 200
        assert http.post(OMNI, json=shot).status_code == 429  # the account's one place is the video's
        assert fake.stats.refused_concurrency == 1
