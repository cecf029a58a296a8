"""CAST: a cast member declared once, named in prompts as @name, compiled to Kling elements."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import codes, compile_in, png

from shotlang.tools.decompile import decompile, read_payload
from shotlang.tools.fmt import format_text

FRONT, SIDE = "https://example.com/k.png", "https://example.com/k2.png"
KEEPER = f'CAST keeper: "a lighthouse keeper" image "{FRONT}" also "{SIDE}"\n'
DOG = f'CAST dog: "a sheepdog" image "{FRONT}" also "{SIDE}" also "{FRONT}"\n'


def test_a_shot_names_its_cast_as_numbered_elements_in_the_order_first_named(tmp_path: Path) -> None:
    text = KEEPER + DOG + 'SHOT a: "@dog runs to @keeper; @dog barks" model kling-v3-omni\n'
    result = compile_in(tmp_path, text)
    assert result.output is not None, result.render()
    [shot] = result.output.records
    assert shot["body"]["prompt"] == "<<<element_1>>> runs to <<<element_2>>>; <<<element_1>>> barks"
    assert shot["body"]["element_list"] == [{"element_id": "@dog"}, {"element_id": "@keeper"}]
    assert shot["cast"] == ["dog", "keeper"]
    cast = {c["name"]: c for c in result.output.cast or []}
    assert cast["dog"]["body"]["element_image_list"]["refer_images"] == [{"image_url": SIDE}, {"image_url": FRONT}]
    assert cast["keeper"]["endpoint"] == "/v1/general/advanced-custom-elements"


def test_an_address_or_a_word_that_is_no_cast_name_is_sent_as_written(tmp_path: Path) -> None:
    text = KEEPER + 'SHOT a: "@keeper writes to ann@example.com and @nasa" model kling-v3-omni\n'
    result = compile_in(tmp_path, text)
    assert codes(result) == ["W109"]  # @nasa; the address is not a name
    assert result.output is not None
    assert result.output.records[0]["body"]["prompt"] == "<<<element_1>>> writes to ann@example.com and @nasa"


def test_without_a_cast_an_at_sign_is_plain_text(tmp_path: Path) -> None:
    result = compile_in(tmp_path, 'SHOT a: "a poster that says @home"\n')
    assert codes(result) == []
    assert result.output is not None and "element_list" not in result.output.records[0]["body"]


def test_a_cast_line_after_its_first_use_is_an_error_at_the_use(tmp_path: Path) -> None:
    result = compile_in(tmp_path, 'SHOT a: "@keeper" model kling-v3-omni\n' + KEEPER)
    assert codes(result) == ["E322"]
    assert result.diagnostics[0].span.line == 1


def test_the_cast_images_are_checked_as_a_shot_s_are(tmp_path: Path) -> None:
    text = 'CAST keeper: "k" image "keeper.png" also "side.png"\nSHOT a: "@keeper" model kling-v3-omni\n'
    result = compile_in(tmp_path, text, **{"keeper.png": png(400, 400), "side.png": png(100, 100)})
    assert codes(result) == ["E503"]  # 100 pixels a side
    result = compile_in(tmp_path, text.replace("side.png", "gone.png"))
    assert codes(result) == ["E500"]


def test_a_cast_member_in_a_sequence_shot_is_refused(tmp_path: Path) -> None:
    text = KEEPER + 'SEQUENCE s: 10s model kling-v3-omni\n  SHOT a: "@keeper walks"\n  SHOT b: "x"\n'
    assert "E316" in codes(compile_in(tmp_path, text))


def test_a_cast_is_formatted_and_decompiled_back(tmp_path: Path) -> None:
    text = ('TITLE "t"\nMODEL kling-v3-omni\n' + KEEPER + DOG
            + 'SHOT a: "@keeper and @dog on the pier" 5s\n')
    formatted = format_text(text, "t.shot", tmp_path).text
    assert formatted is not None and "\n    image" in formatted  # a long CAST wraps as a SHOT does
    assert format_text(formatted, "t.shot", tmp_path).text == formatted
    result = compile_in(tmp_path, text)
    assert result.output is not None
    back = decompile([read_payload(result.output.to_json().encode(), "t.json")], base_dir=tmp_path)
    assert back.problems == []
    again = compile_in(tmp_path, back.text)
    assert again.output is not None
    assert [c["body"] for c in again.output.cast or []] == [c["body"] for c in result.output.cast or []]
    assert again.output.records[0]["body"] == result.output.records[0]["body"]
    lines = [json.loads(line) for line in result.output.to_jsonl().splitlines()]
    assert [line["name"] for line in lines] == ["keeper", "dog", "a"]


def test_a_body_naming_an_element_no_cast_makes_is_reported_by_decompile(tmp_path: Path) -> None:
    body = {"model_name": "kling-v3-omni", "prompt": "<<<element_1>>> waves", "aspect_ratio": "16:9",
            "duration": "5", "element_list": [{"element_id": "82731"}]}
    back = decompile([read_payload(json.dumps(body).encode(), "b.json")], base_dir=tmp_path)
    assert any("element_list[0]" in p.path for p in back.problems)


def test_an_edit_of_a_cast_s_words_keeps_the_statements_below_it(tmp_path: Path) -> None:
    from shotlang.compiler.pipeline import analyse
    from shotlang.tools.lsp.live import LiveCheck

    text = KEEPER + "".join(f'SHOT s{i}: "@keeper at the lamp {i}" model kling-v3-omni\n' for i in range(300))
    live = LiveCheck(text, "t.shot", tmp_path)
    at = text.index("lighthouse keeper")
    live.edit(at, at, "old ")
    assert live.reused >= 299  # the shots below name the member, not its words (the next one is read again)
    edited = text[:at] + "old " + text[at:]
    assert _said(live.diagnostics) == _said(analyse(edited, "t.shot", tmp_path).diagnostics)
    at = edited.index("keeper:")
    live.edit(at, at + len("keeper"), "keeper2")  # renamed: every shot that names it is read again
    renamed = edited[:at] + "keeper2" + edited[at + len("keeper"):]
    assert _said(live.diagnostics) == _said(analyse(renamed, "t.shot", tmp_path).diagnostics)
    assert {d.code for d in live.diagnostics} == {"E322"} and len(live.diagnostics) == 300


def _said(diagnostics: list) -> list[tuple]:
    return [(d.code, d.message, d.span.start, d.span.end, d.hint) for d in diagnostics]
