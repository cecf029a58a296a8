"""Every diagnostic code: a snippet that triggers it, checked for code, position and message."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import codes, compile_in, jpeg, png

import shotlang
from shotlang.compiler.diagnostics import CODES, Severity

URL_A = "https://example.com/a.jpg"
URL_B = "https://example.com/b.jpg"
MODELS_FILE = "shotlang-models.toml"
OUTSIDE = Path(__file__).resolve().parent.parent / "examples" / "images" / "portrait.png"  # a real image, elsewhere


class Case(NamedTuple):
    code: str
    text: str
    at: str  # the span starts where this first occurs in text; "" for the last character
    message: str  # a fragment of the message
    files: dict[str, bytes] = {}
    hint: str = ""  # a fragment of the hint
    where: str = ""  # the file of `files` the diagnostic is in (`at` is in it); "" for the shot list
    anywhere: bool = False  # read what the shot list names wherever it is, as the command line does


CASES = [
    Case("E002", 'SHOT a: "red \x1b[31m"', "\x1b", "control character `\\x1b` (ESC)", hint="remove"),
    Case("E002", 'SHOT a: "ding\x07"', "\x07", "(BEL)"),
    Case("E100", 'SHOT a: "x" 5s "y"', '"y"', "unexpected string"),
    Case("E100", 'SHOT a: "x" motion "m.png" (1, 2', "", "unexpected end of the line", hint="`)`"),
    Case("E100", 'SHOT a: "x" sound', "", "`sound` needs a value", hint="write `sound on` or `sound off`"),
    Case("E100", 'SHOT a: "x" watermark', "", "`watermark` needs a value",
         hint="write `watermark on` or `watermark off`"),
    Case("E100", 'SHOT a: "x" cfg high 5s', "high", "`cfg` takes a number, not `high`", hint="for example `cfg 0.3`"),
    Case("E100", 'SHOT a: "x" avoid blur', "blur", "`avoid` takes a quoted string", hint='`avoid "blur, text"`'),
    Case("E100", 'SHOT a: "x" sound  # why', "d ", "`sound` needs a value"),  # the caret on the keyword
    Case("E102", "SHOT dog: slow zoom in on a dog wagging its tail", "a dog", "not in double quotes"),
    Case("E311", 'SHOT a: "x" watermark maybe', "maybe", "watermark is `on` or `off`, not `maybe`"),
    Case("E309", 'SHOT a: "x" watermark on watermark off', "off", "watermark is given twice"),
    Case("E101", 'SHOT a: "open', '"open', "no closing quote"),
    Case("E101", 'SHOT a: "open\nSHOT b: "fine"', '"open', "no closing quote"),
    Case("E102", "SHOT a: pan right", "", "no prompt"),
    Case("E103", 'SHOT a "x"', '"x"', "expected `:`"),
    Case("E104", "SHOT a: \u201cx\u201d", "\u201c", "unexpected character", hint="straight double quotes"),
    Case("E104", 'SHOT a: pan! "x"', "!", "unexpected character `!`"),
    Case("E105", 'SHTO a: "x"', "SHTO", "unknown statement `SHTO`", hint="`SHOT`"),
    Case("E105", 'SHOT a: "x"\n\n"orphan"', '"orphan', "no statement above"),
    Case("E105", 'castle: pan right "x"', "castle", "unknown statement", hint="`SHOT castle: ...`"),
    Case("E106", 'SHOT a: pan right 5s "x"', "5s", "option `5s` before the prompt"),
    Case("E107", 'SHOT a: "x"\n/* SHOT b: "y"\nSHOT c: "z"', "/*", "block comment is not closed", hint="*/"),
    Case("E108", 'SHOT a: "x" [[call the client', "[[", "note is not closed", hint="]]"),
    Case("E200", 'SHOT a: pann right over "x"', "pann", "unknown word `pann`", hint="`pan right`"),
    Case("E200", 'SHOT a: pan over "x"', "pan", "`pan` needs a direction", hint="`pan right`"),
    Case("E200", 'SHOT a: pan right slow over "x"', "slow", "unknown word `slow`", hint="goes first"),
    Case("E201", 'SHOT a: pan right and tilt up over "x"', "pan", "2 camera movements"),
    Case("E202", 'SHOT a: pan right 11 over "x"', "11", "magnitude 11 is out of range"),
    Case("E202", 'SHOT a: pan right -5 over "x"', "-5", "magnitude -5 is signed", hint="direction"),
    Case("E202", 'SHOT a: pan right 0 over "x"', "0", "out of range", hint="static"),
    Case("E202", 'SHOT a: pan right 10.5 over "x"', "10.5", "out of range", hint="above 0 and at most 10"),
    Case("E202", 'SHOT a: pan left -2.5 over "x"', "-2.5", "signed", hint="`pan left 2.5` sends horizontal: -2.5"),
    Case("E203", 'SHOT a: pan right 2.345 "x"', "2.345", "magnitude 2.345 has more than two decimal places",
         hint="use `2.35` or `2.34`"),
    Case("E203", 'SHOT a: pan right 0.001 "x"', "0.001", "more than two decimal places", hint="use `0.01`"),
    Case("E204", 'SHOT a: slow pan right 6 "x"', "6", "given twice"),
    Case("E204", 'SHOT a: slow fast pan right "x"', "fast", "given twice"),
    Case("E205", 'SHOT a: slow static "x"', "slow", "takes no strength"),
    Case("E205", 'SHOT a: push in and up 5 "x"', "5", "takes no strength"),
    Case("E206", 'SHOT a: slow over "x"', "slow", "no camera move"),
    Case("E300", 'SHOT a: "x" model kling-v4', "kling", "unknown model", hint="shotlang-models.toml"),
    Case("E300", 'MODEL klingv26\nSHOT a: "x"', "kling", "unknown model", hint="`kling-v2-6`"),
    Case("E301", 'SHOT a: "x" prof', "prof", "unknown option `prof`", hint="`pro`"),
    Case("E301", 'SHOT a: "x" 5', "5", "unknown option `5`", hint="`5s`"),
    Case("E301", 'SHOT a: "x" pan', "pan", "unknown option `pan`", hint="before the prompt"),
    Case("E302", 'SHOT a: "x" 4:3', "4:3", "4:3"),
    Case("E303", 'SHOT a: "x" 7s', "7s", "no 7s clips"),
    Case("E304", 'SHOT a: "x" cfg 1.5 model kling-v1-6', "1.5", "outside 0 to 1"),
    Case("E305", 'SHOT a: ""', '""', "prompt is empty"),
    Case("E305", 'SHOT a: "   "', '"', "prompt is empty"),
    Case("E306", 'SHOT a: "' + "x" * 2501 + '"', '"', "2,501 characters"),
    Case("E306", 'SHOT a: "x" negative "' + "y" * 2501 + '"', '"y', "negative prompt is 2,501"),
    Case("E307", 'SHOT a: "x"\nSHOT A: "y"', "A:", "already on line 1"),
    Case("E308", 'SHOT a/b: "x"', "a/b", "not safe as a file name", hint="`a-b`"),
    Case("E308", 'SHOT -a: "x"', "-a", "start with a letter or digit"),
    Case("E308", 'SHOT con: "x"', "con", "Windows reserves"),
    Case("E309", 'SHOT a: "x" 5s 10s', "10s", "duration is given twice"),
    Case("E309", 'SHOT a: "x" pro standard', "standard", "mode is given twice"),
    Case("E310", 'SHOT a: "x" callback "ftp://host/x"', '"ftp', "not an http(s) URL"),
    Case("E310", 'SHOT a: "x" image "ftp://host/a.jpg"', '"ftp', "neither a file path nor"),
    Case("E311", 'SHOT a: "x" sound loud', "loud", "`on` or `off`"),
    Case("E311", 'AXES diagonal\nSHOT a: "x"', "diagonal", "unknown AXES"),
    Case("E312", 'SHOT a: "x"\nAXES official', "official", "AXES comes after a SHOT"),
    Case("E312", 'TITLE "a"\nTITLE "b"', '"b"', "TITLE is given twice"),
    Case("E311", 'BACKEND fall\nSHOT a: "x"', "fall", "unknown BACKEND"),
    Case("E312", 'BACKEND fal\nBACKEND kling\nSHOT a: "x" 5s pro', "kling", "BACKEND is given twice"),
    Case("E312", 'CAST k: "k" image "k.png" also "k2.png"\nBACKEND fal', "fal", "BACKEND comes after"),
    Case("E313", 'DEFAULTS image "a.png"', '"a.png"', "`image` cannot be a default"),
    Case("E314", 'SHOT a: "x" id "has space"', '"has', "not a valid task id"),
    Case("E400", f'SHOT a: pan right "x" image "{URL_A}" tail "{URL_B}" pro moves numeric', f'"{URL_B}',
         "an end image (tail) cannot be combined with a camera move `pan right`"),
    Case("E400", f'SHOT a: "x" image "{URL_A}" tail "{URL_B}" mask "{URL_A}" pro', f'"{URL_A}" pro',
         "masks cannot be combined with an end image"),
    Case("E401", 'SHOT a: pan right "x" model kling-v1 10s moves numeric', "pan", "kling-v1 has no camera control",
         hint="`moves words`"),
    Case("E401", 'MODEL kling-v1\nSHOT a: pan right "x" 10s moves numeric', "pan", "set on line 1"),
    Case("E402", 'SHOT a: "x" model kling-v2-1', "kling", "image-to-video only"),
    Case("E402", 'SHOT a: "x" model kling-v1-5', "kling", "image-to-video only"),
    Case("E403", f'SHOT a: "x" mask "{URL_A}"', f'"{URL_A}', "need a start image"),
    Case("E404", f'SHOT a: "x" image "{URL_A}" 16:9', "16:9", "aspect ratio from the image"),
    Case("E405", f'SHOT a: "x" image "{URL_A}" motion "{URL_B}" (1, 2)', f'"{URL_B}', "1 point"),
    Case("E405", f'SHOT a: "x" image "{URL_A}" motion "{URL_B}" (1, 2) (-3, 4)', "-3", "non-negative"),
    Case("E405", f'SHOT a: "x" image "{URL_A}" motion "{URL_B}"', "", "needs a trajectory"),
    Case("E405", f'SHOT a: "x" image "{URL_A}"' + f' motion "{URL_B}" (1,2) (3,4)' * 6 + ' motion "7.png" (1,2) (3,4)',
         '"7.png', "7 motions"),
    Case("E406", 'SHOT a: "x" sound on', "on", "no sound in std mode at 5s", hint="add `pro`"),
    Case("E406", 'SHOT a: "x" sound on pro model kling-v1-6', "on", "has no sound", hint="`kling-v3`"),
    Case("E406", 'SHOT a: "x" sound off model kling-v1-6', "off", "makes no sound", hint="remove `sound off`"),
    Case("E407", f'SHOT a: "x" image "{URL_A}" tail "{URL_B}"', f'"{URL_B}', "has no end image in std mode at 5s",
         hint="add `pro`"),
    Case("E408", 'SHOT a: "x" pro model kling-v9', "pro", "kling-v9 has no pro mode",
         {"shotlang-models.toml": b'[models.kling-v9]\nmodes = ["std"]\n'}),
    Case("E409", 'SHOT a: "<<<voice_1>>>" model kling-v2-6 pro voice "narrator"', '"narrator"', "a voice needs sound",
         hint="add `sound on`"),
    Case("E409", 'SHOT a: "<<<voice_1>>>" model kling-v3 sound on voice "narrator"', '"narrator"',
         "kling-v3 has no voices", hint="third-party reports (2025-2026) say it is offered"),
    Case("E409", 'SHOT a: "hello" model kling-v2-6 pro sound on voice "narrator"', '"narrator"', "is never spoken",
         hint="`<<<voice_1>>>`"),
    Case("E410", 'SHOT a: "x" model kling-v3 cfg 0.5', "0.5", "kling-v3 has no cfg", hint="remove `cfg`",
         files={"shotlang-models.toml": b'[models.kling-v3]\nfeatures.cfg = false\n'}),
    Case("E411", 'SHOT a: "x" model kling-v3-omni negative "blur"', '"blur"', "kling-v3-omni takes no negative prompt",
         hint="say what to avoid in the prompt"),
    Case("E411", 'DEFAULTS negative "blur"\nSEQUENCE s: 5s model kling-v3-omni\n  SHOT a: "x"', '"blur"',
         "takes no negative prompt (set on line 1)"),
    Case("E412", f'SHOT a: "x" model kling-video-o1 tail "{URL_B}"', f'"{URL_B}"',
         "takes an end frame only with a start frame", hint="start frame"),
    Case("E507", 'SHOT a: "x" image "/etc/hostname"', '"/etc/hostname"', "is a file this compile may not read",
         hint="put the image in the shot list's folder"),
    Case("E507", 'SHOT a: "x" image "../outside.png"', '"../outside.png"', "may not read"),
    Case("W110", f'SHOT a: "x" image "{OUTSIDE}"', f'"{OUTSIDE}"', "is outside the shot list's folder",
         hint="copy it beside the shot list", anywhere=True),
    Case("E315", 'SEQUENCE s: 5s model kling-v3\n  SHOT a: "x"\n  SCENE "y"', 'SCENE', "only SHOT lines"),
    Case("E321", f'CAST keeper: "a keeper" image "{URL_A}"', "keeper", "has no other images", hint="also"),
    Case("E321", f'CAST keeper: "a keeper" image "{URL_A}" also "{URL_B}" 5s', "5s", "a CAST takes no `5s`",
         hint="options go on the shots"),
    Case("E321", f'CAST the-lighthouse-keeper-1: "a keeper" image "{URL_A}" also "{URL_B}"', "the-lighthouse",
         "cannot name a cast member", hint="at most 20"),
    Case("E321", f'CAST keeper: "" image "{URL_A}" also "{URL_B}"', '""', "the description is empty"),
    Case("E321", f'CAST keeper: "k" image "{URL_A}" also "{URL_B}"\nCAST Keeper: "k" image "{URL_A}" also "{URL_B}"',
         "Keeper", "is cast twice"),
    Case("E322", f'CAST keeper: "k" image "{URL_A}" also "{URL_B}"\nSHOT a: "@kepper at the lamp" model kling-v3-omni',
         "@kepper", "`@kepper` names no cast member", hint="did you mean `@keeper`?"),
    Case("E322", f'SHOT a: "@keeper at the lamp" model kling-v3-omni\nCAST keeper: "k" image "{URL_A}" also "{URL_B}"',
         "@keeper", "named on line 1, above its CAST", hint="move `CAST keeper` above"),
    Case("E414", 'SHOT a: "x"\nSHOT b: after c "y"', "c \"y", "no shot `c` above this one to continue",
         hint="a shot list reads in story order"),
    Case("E414", 'SHOT b: after b "y"', "b \"y", "cannot continue itself"),
    Case("E414", 'SEQUENCE s: 10s model kling-v3\n  SHOT s1: "one"\nSHOT b: after s1 "y"', "s1 \"y",
         "is a shot of the sequence `s`", hint="`after s`"),
    Case("E414", f'SHOT a: "x" model kling-v3\nSHOT b: after a "y" model kling-v3 image "{URL_A}"', f'"{URL_A}"',
         "starts from the last frame of `a`: it takes no start image"),
    Case("E414", 'SHOT a: "x" model kling-v3-omni 16:9\nSHOT b: after a "y" model kling-v3-omni 9:16', "9:16",
         "`b` is 9:16, `a` (which it continues) is 16:9", hint="write `16:9`"),
    Case("E414", 'SHOT a: "x" model kling-v3-omni\nSHOT b: after a "y" model kling-v3-omni sound on', "on",
         "takes no sound then", hint="remove `sound on`"),
    Case("E415", 'SHOT a: "x" takes 2 pick 3', "3", "take 3 is chosen, but the shot has 2 takes", hint="`takes 3`"),
    Case("E415", 'DEFAULTS takes 3\nSHOT a: "x" id "mine"', '"mine"', "`id` names one task, and the shot has 3 takes",
         hint="remove `id`"),
    Case("E413", f'CAST keeper: "k" image "{URL_A}" also "{URL_B}"\nSHOT a: "@keeper" model kling-v2-6', "@keeper\"",
         "kling-v2-6 takes no cast members", hint="kling-v3-omni"),
    Case("E413", f'CAST keeper: "k" image "{URL_A}" also "{URL_B}"\nSHOT a: "@keeper" model kling-v3', "@keeper\"",
         "takes no cast members (elements) in text2video", hint="give the shot a start image"),
    Case("E413", "".join(f'CAST c{i}: "k" image "{URL_A}" also "{URL_B}"\n' for i in range(4))
         + f'SHOT a: "@c0 @c1 @c2 @c3" model kling-v3 image "{URL_A}"', "@c3", "names 4 cast members",
         hint="at most 3 elements with a start frame"),
    Case("E316", 'SEQUENCE s: 5s model kling-v3\n  SHOT a: "x" pro', "pro", "is for the whole sequence",
         hint="SEQUENCE line"),
    Case("E316", f'SEQUENCE s: model kling-v3 image "{URL_A}" tail "{URL_B}"\n  SHOT a: "x" 5s', f'"{URL_B}',
         "takes no `tail`"),
    Case("E316", 'SEQUENCE s: model kling-v3 moves numeric\n  SHOT a: pan right "x" 5s', "numeric",
         "a sequence cannot send its moves `numeric`", hint="`moves words`"),
    Case("E103", 'SEQUENCE chase 15s model kling-v3:\n  SHOT a: "x"', "15s", "after the sequence name",
         hint="`SEQUENCE chase: 15s model kling-v3`"),
    Case("E407", 'SEQUENCE s: 10s model kling-v2-6\n  SHOT a: "x"', "s:", "kling-v2-6 has no multi-shot sequences",
         hint="use `model kling-v3`, or make its shots shots of their own"),
    Case("E320", 'SHOT a: "x" id "take-1"\nSHOT b: "y" id "take-1" 5s', '"take-1" 5s', "already the id of the shot on line 1",
         hint="its own id"),
    Case("E319", '\tSEQUENCE s: 10s model kling-v3\n\t\tSHOT a: "x"\n    SHOT b: "y" model kling-v3', "SHOT b",
         "mixes tabs and spaces", hint="(1 tab) and its shots (4 spaces)"),
    Case("E317", 'SEQUENCE s: 15s model kling-v3\nSHOT a: "x"', "s:", "a sequence of 0 shots",
         hint="indent SHOT lines"),
    Case("E318", 'SEQUENCE s: 15s model kling-v3\n  SHOT a: "x" 5s\n  SHOT b: "y" 5s', "15s",
         "add up to 10s, the sequence is 15s"),
    Case("E318", 'SEQUENCE s: model kling-v3\n  SHOT a: "x" 5s\n  SHOT b: "y"', "s:", "has no length"),
    Case("E700", 'SHOT a: "x"', "\n", "not valid TOML", {MODELS_FILE: b"[models.kling-v9\n"}, where=MODELS_FILE),
    Case("E701", 'SHOT a: "x"', "modez", "unknown key `modez`", {MODELS_FILE: b'[models.kling-v9]\nmodez = ["std"]\n'},
         hint="did you mean `modes`?", where=MODELS_FILE),
    Case("E702", 'SHOT a: "x"', "modes", "unknown mode `fast`", {MODELS_FILE: b'[models.kling-v9]\nmodes = ["fast"]\n'},
         where=MODELS_FILE),
    Case("E500", 'SHOT a: "x" image "missing.png"', '"missing', "not found"),
    Case("E501", 'SHOT a: "x" image "a.gif"', '"a.gif', "not a .jpg", files={"a.gif": b"GIF89a"}),
    Case("E501", 'SHOT a: "x" image "a.png"', '"a.png', "neither a PNG nor a JPEG", files={"a.png": b"hello"}),
    Case("E502", 'SHOT a: "x" image "big.jpg"', '"big', "MB",
         files={"big.jpg": jpeg(800, 600) + b"\0" * (10 * 1024 * 1024)}),
    Case("E503", 'SHOT a: "x" image "s.png"', '"s.png', "200x200 pixels", files={"s.png": png(200, 200)}),
    Case("E504", 'SHOT a: "x" image "w.png"', '"w.png', "too narrow or too wide", files={"w.png": png(1000, 300)}),
    Case("E505", 'SHOT a: "x" image "i.png" mask "m.png"', '"m.png', "mask is 640x360",
         files={"i.png": png(700, 400), "m.png": png(640, 360)}),
    Case("E506", 'SHOT a: "x" image "d.png"', '"d.png', "cut short or damaged",
         files={"d.png": b"\x89PNG\r\n\x1a\n\0\0"}),
    Case("W100", 'SHOT a: pan right 2 over "x"', "2", "no visible movement"),
    Case("W100", 'SHOT a: pan right 0.5 over "x"', "0.5", "magnitude 0.5 gives no visible movement"),
    Case("W100", 'SHOT a: pan right 2.50 over "x"', "2.50", "magnitude 2.5 gives"),  # the value, not the digits
    Case("W101", 'SHOT a: zoom in 9 on "x"', "9", "unnatural or jerky"),
    Case("W101", 'SHOT a: maximum zoom in on "x"', "maximum", "magnitude 10"),
    Case("W101", 'SHOT a: zoom in 9.5 on "x"', "9.5", "magnitude 9.5 may feel"),
    Case("W102", 'SHOT a: dutch tilt 7 "x"', "7", "outside the 3-5 recommended"),
    Case("W102", 'SHOT a: subtle pan right "x"', "subtle", "outside the 5-8"),
    Case("W102", 'SHOT a: pan right 8.5 "x"', "8.5", "8.5 is outside the 5-8"),
    Case("W103", 'AXES official\nSHOT a: push in "x"', "push", "no field under AXES official"),
    Case("W103", 'AXES official\nSHOT a: push in 3.5 "x"', "push", "sent as a zoom", hint="sent as zoom -3.5"),
    Case("W104", 'SHOT a: "x" cfg 0.5', "0.5", "ignores cfg"),
    Case("W107", 'SEQUENCE s: 10s model kling-v3\n  SHOT a: slow pan right "x"\n  SHOT b: "y"', "pan right",
         "`slow pan right` is sent as words in the prompt", hint="`moves words`"),
    Case("W106", "# nothing but a comment\n", "#", "no shots", hint="SHOT"),
    Case("W111", 'SEQUENCE s: 10s model kling-v3\n  SHOT a: "x"\n\n  SHOT b: "y"', "SHOT b", "`b` is a shot of the sequence `s`",
         hint="write it at the SEQUENCE's indentation"),
    Case("W109", f'CAST keeper: "k" image "{URL_A}" also "{URL_B}"\nSHOT a: "@keeper and @nasa" model kling-v3-omni',
         "@nasa", "`@nasa` names no cast member: it is sent as written", hint="CAST nasa"),
    Case("W108", 'SHOT a: pan right "x" model kling-v3\nSHOT b: "y" model kling-v3 cfg 0.5', "pan right",
         "2 shots rely on what the sources dispute: camera control on kling-v3", hint="`moves words`"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.code}-{i}" for i, c in enumerate(CASES)])
def test_diagnostic(case: Case, tmp_path: Path) -> None:
    result = compile_in(tmp_path, case.text, case.anywhere, **case.files)
    found = [d for d in result.diagnostics if d.code == case.code]
    assert found, f"expected {case.code}, got {[(d.code, d.message) for d in result.diagnostics]}"
    d = found[0]
    text = case.files[case.where].decode() if case.where else case.text
    assert d.span.source.name == str(tmp_path / case.where) if case.where else d.span.source.name.endswith("test.shot")
    offset = text.index(case.at) if case.at else len(text) - 1
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    assert (d.span.line, d.span.column) == (line, column), d
    assert case.message in d.message
    assert case.hint in d.hint
    assert d.hint, "every diagnostic carries a hint"
    if CODES[case.code].severity is Severity.ERROR:
        assert result.output is None, "an error must stop the output"
    else:
        assert result.output is not None, "a warning must not stop the output"


def test_every_code_has_a_case() -> None:
    from test_fal_compile import FAL_CODES  # given by --backend fal only, each with a case there

    tested = {c.code for c in CASES} | {"E001"} | FAL_CODES
    assert set(CODES) == tested


def test_not_utf8_is_a_diagnostic_at_the_bad_byte() -> None:
    result = shotlang.compile_bytes(b'SHOT a: "caf\xe9"\n', "latin1.shot")
    assert codes(result) == ["E001"]
    assert (result.diagnostics[0].span.line, result.diagnostics[0].span.column) == (1, 13)
    assert "latin1.shot:1:13" in result.render()


def test_all_diagnostics_of_a_file_are_reported_in_order(tmp_path: Path) -> None:
    text = 'SHTO a: "x"\nSHOT b: pann right "x"\nSHOT c: "x" 7s\nSHOT d: pan right 2 "x"\n'
    result = compile_in(tmp_path, text)
    assert codes(result) == ["E105", "E200", "E303", "W108", "W100"]
    assert [d.span.line for d in result.diagnostics] == [1, 2, 3, 4, 4]


def test_rendered_diagnostic_points_at_the_span(tmp_path: Path) -> None:
    result = compile_in(tmp_path, 'SHOT a: pan right and tilt up over "x"\n')
    text = result.render()
    assert text.splitlines() == [
        "error[E201]: 2 camera movements in one shot: `pan right` and `tilt up`",
        f" --> {tmp_path / 'test.shot'}:1:9",
        "  |",
        '1 | SHOT a: pan right and tilt up over "x"',
        "  |         ^^^^^^^^^^^^^^^^^^^^^",
        "  = help: Kling moves the camera along one axis per shot (400 invalid camera config); "
        "split this into one shot per movement",
    ]


def test_caret_lines_up_under_wide_characters() -> None:
    result = shotlang.compile_text('SHOT a: "東京の夜" 7s')
    caret_line = result.render().splitlines()[4]
    source_line = result.render().splitlines()[3]
    assert caret_line.index("^") - source_line.index("7s") == 4  # four wide characters before


def test_inherited_value_warns_once_at_its_line() -> None:
    result = shotlang.compile_text('DEFAULTS cfg 0.5\nSHOT a: "x"\nSHOT b: "y"\n')
    assert codes(result) == ["W104"]
    assert result.diagnostics[0].span.line == 1


def test_jpeg_size_is_read_past_a_large_exif_block(tmp_path: Path) -> None:
    result = compile_in(tmp_path, 'SHOT a: "x" image "p.jpg"', **{"p.jpg": jpeg(200, 200, exif=60000)})
    assert codes(result) == ["E503"]
    assert "200x200" in result.diagnostics[0].message
