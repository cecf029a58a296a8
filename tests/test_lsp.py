"""`shotlang lsp` as an editor meets it: the installed console script, a real process, LSP
messages over its standard input and output (shotlang/tools/lsp/client.py frames them).

What it must say is worked out here independently: diagnostics from analyse() with their
ranges counted in UTF-16 by this file, completions and hovers from the vocabulary tables.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shotlang.compiler.diagnostics import CODES, Diagnostic
from shotlang.compiler.pipeline import analyse
from shotlang.compiler.vocabulary import INTENSITIES, JOINERS, MOVES
from shotlang.tools.fmt import format_text
from shotlang.tools.lsp.client import Client

ROOT = Path(__file__).resolve().parent.parent
SHOTLANG = str(Path(sys.executable).with_name("shotlang"))
MODELS_FILE = '[models.house-model]\nlike = "kling-v2-6"\nsource = "reported"\n'


def position(text: str, offset: int) -> dict[str, int]:
    """Where `offset` (a code point) is, as the protocol counts by default: UTF-16 units."""
    line_start = text.rfind("\n", 0, offset) + 1
    return {"line": text.count("\n", 0, offset), "character": len(text[line_start:offset].encode("utf-16-le")) // 2}


def span_range(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": position(text, start), "end": position(text, end)}


def expected(text: str, uri: str, folder: Path) -> list[dict[str, Any]]:
    """What the server should publish for `text`: check's diagnostics, in the protocol's terms."""
    def lsp(d: Diagnostic) -> dict[str, Any]:
        item: dict[str, Any] = {
            "range": span_range(text, d.span.start, d.span.end),
            "message": d.message + (f"\nhelp: {d.hint}" if d.hint else ""),
            "severity": 1 if d.severity.value == "error" else 2, "code": d.code, "source": "shotlang"}
        if d.related:
            item["relatedInformation"] = [
                {"location": {"uri": uri, "range": span_range(text, r.span.start, r.span.end)}, "message": r.message}
                for r in d.related]
        return item

    return [lsp(d) for d in analyse(text, str(folder / "x.shot"), folder).diagnostics]


def at(text: str, marker: str, after: bool = True) -> dict[str, int]:
    """The position just after (or at) the first `marker` in `text`."""
    offset = text.index(marker) + (len(marker) if after else 0)
    return position(text, offset)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    root = tmp_path_factory.mktemp("lsp")
    (root / "shotlang-models.toml").write_text(MODELS_FILE)
    with Client([SHOTLANG, "lsp"], cwd=root) as client:
        client.initialize(root)
        yield client, root
    assert client.process.returncode == 0, client.stderr.decode()
    assert b"Traceback" not in client.stderr, client.stderr.decode()


def opened(server: tuple[Client, Path], name: str, text: str) -> tuple[Client, str, list[dict[str, Any]]]:
    client, root = server
    uri = (root / name).as_uri()
    client.open(uri, text)
    return client, uri, client.diagnostics(uri)


def labels(client: Client, uri: str, where: dict[str, int]) -> list[str]:
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": where})
    return [item["label"] for item in result["items"]]


# --- start-up and diagnostics ------------------------------------------------------------------------


def test_initialize_offers_incremental_sync_completion_hover_and_formatting(tmp_path: Path) -> None:
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        caps = client.initialize(tmp_path)["capabilities"]
        assert caps["textDocumentSync"]["change"] == 2  # incremental
        assert caps["textDocumentSync"]["openClose"] is True
        assert caps["hoverProvider"] and caps["documentFormattingProvider"]
        assert " " in caps["completionProvider"]["triggerCharacters"]
        assert caps["positionEncoding"] == "utf-16"
        assert client.close() == 0


def test_opening_a_file_publishes_checks_diagnostics_with_ranges_codes_hints_and_related(server: Any) -> None:
    text = 'TITLE "Castles"\nSHOT castle: pan right "A castle" 5s moves words\nSHOT castle: tilt up and pan left "Two moves"\n'
    client, uri, found = opened(server, "castles.shot", text)
    assert found == expected(text, uri, server[1])
    duplicate, two_moves = found
    assert duplicate["code"] == "E307" and duplicate["severity"] == 1 and duplicate["source"] == "shotlang"
    assert duplicate["range"] == {"start": {"line": 2, "character": 5}, "end": {"line": 2, "character": 11}}
    assert duplicate["message"] == ("a shot named `castle` is already on line 2\n"
                                    "help: give each shot its own name (case is ignored)")
    assert duplicate["relatedInformation"] == [{
        "location": {"uri": uri, "range": {"start": {"line": 1, "character": 5}, "end": {"line": 1, "character": 11}}},
        "message": "`castle` is first named here"}]
    assert two_moves["code"] == "E201"
    assert two_moves["range"] == {"start": {"line": 2, "character": 13}, "end": {"line": 2, "character": 33}}
    # docs/cli.md shows this file's first diagnostic: it is what the server says.
    section = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split("## `shotlang lsp`")[1]
    documented = json.loads(section.split("```json\n")[1].split("```")[0])
    documented["relatedInformation"][0]["location"]["uri"] = uri
    assert documented == duplicate
    assert section.split("```text\n")[1].split("```")[0] == text


def test_an_edit_that_fixes_the_file_clears_its_diagnostics(server: Any) -> None:
    text = 'SHOT a: pan right "x" moves words\nSHOT a: wobble "y" moves words\n'
    client, uri, found = opened(server, "fix.shot", text)
    assert [d["code"] for d in found] == ["E307", "E200"]
    # Rename the second shot and replace `wobble` with `zoom in`, as two changes of one edit.
    client.change(uri, 2, [
        {"range": {"start": {"line": 1, "character": 8}, "end": {"line": 1, "character": 14}}, "text": "zoom in"},
        {"range": {"start": {"line": 1, "character": 5}, "end": {"line": 1, "character": 6}}, "text": "b"}])
    assert client.diagnostics(uri, version=2) == []


def test_a_change_of_the_whole_text_is_checked_too(server: Any) -> None:
    """A client may send the whole text instead of a range."""
    text = 'SHOT a: pan right "x" moves words\nSHOT b: wobble "y"\n'
    client, uri, found = opened(server, "whole.shot", text)
    assert [d["code"] for d in found] == ["E200"]
    fixed = 'SHOT a: pan right "x"\nSHOT a: zoom in "y"\n'
    client.change(uri, 2, [{"text": fixed}])
    assert client.diagnostics(uri, version=2) == expected(fixed, uri, server[1])


def test_wide_characters_before_a_span_are_counted_in_utf16(server: Any) -> None:
    text = 'SHOT a: "😀 castle 😀" 5s 10s\n'
    client, uri, found = opened(server, "emoji.shot", text)
    assert [d["code"] for d in found] == ["E309"]
    # `10s` is at code point 24, UTF-16 unit 26: each emoji is two units.
    assert found[0]["range"] == {"start": {"line": 0, "character": 26}, "end": {"line": 0, "character": 29}}
    # An edit given in UTF-16 units lands on the right characters: ` 10s` goes.
    client.change(uri, 2, [{"range": {"start": {"line": 0, "character": 25}, "end": {"line": 0, "character": 29}},
                            "text": ""}])
    assert client.diagnostics(uri, version=2) == []


@pytest.mark.parametrize(("encoding", "column"), [("utf-32", 24), ("utf-8", 30)])
def test_a_client_that_offers_another_encoding_gets_positions_in_it(tmp_path: Path, encoding: str,
                                                                     column: int) -> None:
    """`10s` after two emoji: code point 24; in UTF-8, each emoji is four bytes."""
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        caps = client.initialize(tmp_path, {"general": {"positionEncodings": [encoding, "utf-16"]}})["capabilities"]
        assert caps["positionEncoding"] == encoding
        uri = (tmp_path / "e.shot").as_uri()
        client.open(uri, 'SHOT a: "😀 castle 😀" 5s 10s\n')
        assert client.diagnostics(uri)[0]["range"]["start"] == {"line": 0, "character": column}
        client.change(uri, 2, [{"range": {"start": {"line": 0, "character": column - 1},
                                          "end": {"line": 0, "character": column + 3}}, "text": ""}])
        assert client.diagnostics(uri, version=2) == []
        assert client.close() == 0


def test_a_client_without_related_information_gets_the_places_in_the_message(tmp_path: Path) -> None:
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        client.initialize(tmp_path, {})
        uri = (tmp_path / "d.shot").as_uri()
        client.open(uri, 'SHOT castle: "x"\nSHOT castle: "y"\n')
        (duplicate,) = client.diagnostics(uri)
        assert "relatedInformation" not in duplicate
        assert duplicate["message"].endswith("\nnote: `castle` is first named here (line 1, column 6)")
        assert client.close() == 0


def test_random_edits_keep_the_published_diagnostics_equal_to_checks(server: Any) -> None:
    """Typing into a file full of statements of every kind, through the protocol: after each
    edit the server publishes what check says of the text, ranges in UTF-16."""
    from test_lsp_live import MIXED, SNIPPETS, apply

    client, root = server
    text = MIXED
    client_, uri, found = opened(server, "x.shot", text)
    assert found == expected(text, uri, root)
    rng = random.Random(5)
    for version in range(2, 42):
        start, end, inserted = apply(text, rng.random(), rng.randrange(12), rng.choice(SNIPPETS))
        client.change(uri, version, [{"range": span_range(text, start, end), "text": inserted}])
        text = text[:start] + inserted + text[end:]
        assert client.diagnostics(uri, version=version) == expected(text, uri, root), (start, end, inserted)


def test_saving_reads_the_files_images_afresh(server: Any) -> None:
    from helpers import png

    client, root = server
    text = 'SHOT a: "x" image "still.png" model kling-v2-1\n'
    client_, uri, found = opened(server, "saved.shot", text)
    assert [d["code"] for d in found] == ["E500"]  # no such file, yet
    (root / "still.png").write_bytes(png(640, 360))
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def test_an_unsaved_buffer_is_checked_by_its_uri(server: Any) -> None:
    client, _ = server
    client.open("untitled:Untitled-1", 'SHOT a: wobble "x"\n')
    assert [d["code"] for d in client.diagnostics("untitled:Untitled-1")] == ["E200"]


def test_closing_a_file_clears_its_diagnostics(server: Any) -> None:
    client, uri, found = opened(server, "closed.shot", 'SHOT a: wobble "x"\n')
    assert found
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def test_a_models_files_problems_are_published_on_that_file(tmp_path: Path) -> None:
    (tmp_path / "shotlang-models.toml").write_text('[models.broken]\nlike = "no-such-model"\n')
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        client.initialize(tmp_path)
        uri = (tmp_path / "m.shot").as_uri()
        client.open(uri, 'SHOT a: "x"\n')
        models_uri = (tmp_path / "shotlang-models.toml").as_uri()
        problems = client.diagnostics(models_uri)
        assert problems and all(p["code"].startswith("E70") for p in problems)
        assert client.diagnostics(uri) == []
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        assert client.diagnostics(models_uri) == []  # no open file reports it any more
        assert client.close() == 0


def test_huge_and_binary_documents_do_not_stop_the_server(server: Any) -> None:
    client, root = server
    huge = 'SHOT a: "' + "x" * 5_000_000 + '"\n'
    _, _, found = opened(server, "huge.shot", huge)
    assert [d["code"] for d in found] == ["E306"]  # a prompt too long, and nothing worse
    _, _, found = opened(server, "binary.shot", "SHOT a: \"x\"\n\x00\x01\x1b[31m\udcff\x7f" * 100)
    assert [d["code"] for d in found] == ["E001"]
    _, uri, found = opened(server, "after.shot", 'SHOT a: wobble "x"\n')
    assert [d["code"] for d in found] == ["E200"]  # the server is still there, and right


# --- completion ----------------------------------------------------------------------------------------


COMPLETING = "\n".join([  # each line ends where the cursor is put
    "MODEL kling-v2-6",
    "SHOT a: ",
    "SHOT b: slow ",
    "SHOT c: pan right ",
    'SHOT d: pan right over "A castle" ',
    'SHOT e: "x" model ',
    "SHOT f: pan ri",
    "AXES ",
    ""])


def test_completion_after_the_colon_offers_intensities_and_moves(server: Any) -> None:
    client, uri, _ = opened(server, "complete.shot", COMPLETING)
    offered = labels(client, uri, at(COMPLETING, "SHOT a: "))
    assert set(INTENSITIES) <= set(offered)
    assert {phrase for move in MOVES for phrase in move.phrases} <= set(offered)
    assert not JOINERS & set(offered)
    after_intensity = labels(client, uri, at(COMPLETING, "SHOT b: slow "))
    assert "pan right" in after_intensity and "slow" not in after_intensity


def test_completion_after_a_move_offers_joiners(server: Any) -> None:
    client, uri, _ = opened(server, "complete.shot", COMPLETING)
    offered = labels(client, uri, at(COMPLETING, "SHOT c: pan right "))
    assert set(offered) == JOINERS


def test_completion_of_a_move_begun_replaces_its_words(server: Any) -> None:
    client, uri, _ = opened(server, "complete.shot", COMPLETING)
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": at(COMPLETING, "SHOT f: pan ri")})
    (item,) = [i for i in result["items"] if i["label"] == "pan right"]
    assert item["textEdit"]["range"]["start"] == at(COMPLETING, "SHOT f: ")
    assert item["textEdit"]["newText"] == "pan right"
    assert "horizontal" in item["detail"]


def test_completion_after_the_prompt_offers_options(server: Any) -> None:
    client, uri, _ = opened(server, "complete.shot", COMPLETING)
    offered = labels(client, uri, at(COMPLETING, 'over "A castle" '))
    assert {"negative", "model", "image", "sound", "pro", "std", "5s", "10s", "16:9", "9:16"} <= set(offered)
    assert "pan right" not in offered


def test_completion_under_a_sequence_offers_its_shots_and_a_models_own_durations(server: Any) -> None:
    text = 'SEQUENCE chase: 15s model kling-v3\n    \nSHOT a: "x" model kling-v3 \n'
    client, uri, _ = opened(server, "sequence.shot", text)
    assert "SHOT" in labels(client, uri, {"line": 1, "character": 4})
    offered = labels(client, uri, at(text, "model kling-v3 "))
    assert {f"{n}s" for n in range(3, 16)} <= set(offered)  # kling-v3 renders 3 to 15 seconds


def test_completion_after_model_offers_the_matrixs_models_and_the_folders(server: Any) -> None:
    client, uri, _ = opened(server, "complete.shot", COMPLETING)
    offered = labels(client, uri, at(COMPLETING, 'SHOT e: "x" model '))
    assert {"kling-v2-6", "kling-v3", "house-model"} <= set(offered)  # the last from shotlang-models.toml
    assert labels(client, uri, at(COMPLETING, "AXES ")) == ["seed", "official"]
    statements = labels(client, uri, {"line": COMPLETING.count("\n"), "character": 0})
    assert {"SHOT", "SCENE", "DEFAULTS", "MODEL", "AXES", "BACKEND", "TITLE", "SEQUENCE", "CAST"} == set(statements)


# --- hover ---------------------------------------------------------------------------------------------


def hover(client: Client, uri: str, where: dict[str, int]) -> Any:
    return client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": where})


def test_hover_on_a_move_says_what_it_sends_under_the_files_axes(server: Any) -> None:
    text = 'SHOT a: slow pan right over "x"\nSHOT b: pan right 8 "y"\nSHOT c: crane down and back "z"\n'
    client, uri, _ = opened(server, "hover.shot", text)
    said = hover(client, uri, at(text, "slow pan ri"))
    value = said["contents"]["value"]
    assert "**pan right**: camera turns right" in value
    assert "sends `camera_control.config.horizontal = +5` under AXES seed (recommended 5–8)" in value
    assert said["range"] == span_range(text, text.index("pan right"), text.index("pan right") + 9)
    assert "horizontal = +8" in hover(client, uri, at(text, "SHOT b: pan"))["contents"]["value"]
    assert 'camera_control.type = "down_back"' in hover(client, uri, at(text, "crane d"))["contents"]["value"]
    official = "AXES official\n" + text
    client.change(uri, 2, [{"range": span_range(text, 0, 0), "text": "AXES official\n"}])
    client.diagnostics(uri, version=2)
    value = hover(client, uri, at(official, "slow pan ri"))["contents"]["value"]
    assert "sends `camera_control.config.pan = +5` under AXES official" in value
    assert "slow" in hover(client, uri, at(official, "sl"))["contents"]["value"]


def test_hover_on_a_diagnostic_explains_its_code(server: Any) -> None:
    text = 'SHOT a: tilt up and pan left "x"\n'
    client, uri, _ = opened(server, "explain.shot", text)
    value = hover(client, uri, at(text, "and p"))["contents"]["value"]
    assert f"**E201** (error): {CODES['E201'].title}" in value
    assert CODES["E201"].explanation.strip().splitlines()[0] in value
    assert hover(client, uri, {"line": 5, "character": 0}) is None


# --- formatting ----------------------------------------------------------------------------------------


def formatted(client: Client, uri: str, text: str) -> str | None:
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                      "options": {"tabSize": 4, "insertSpaces": True}})
    if not edits:
        return None
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                       reverse=True):
        r = edit["range"]
        start = offsets[r["start"]["line"]] + r["start"]["character"]
        end = offsets[r["end"]["line"]] + r["end"]["character"]
        text = text[:start] + edit["newText"] + text[end:]
    return text


def test_formatting_gives_fmts_canonical_form(server: Any) -> None:
    text = 'shot a:   PAN RIGHT over "x"  5S pro\n\n\n\nSHOT b: "y"\n'
    client, uri, _ = opened(server, "fmt.shot", text)
    canonical = format_text(text, "fmt.shot").text
    assert canonical is not None and canonical != text
    assert formatted(client, uri, text) == canonical


def test_formatting_leaves_a_canonical_or_broken_file_alone(server: Any) -> None:
    text = 'SHOT a: pan right over "x" 5s pro\n'
    client, uri, _ = opened(server, "fmt-done.shot", text)
    assert formatted(client, uri, text) is None
    client, uri, _ = opened(server, "fmt-broken.shot", 'shot a:  wobble "x"\n')
    assert formatted(client, uri, 'shot a:  wobble "x"\n') is None


# --- the process ---------------------------------------------------------------------------------------


def test_shutdown_then_exit_ends_the_server_with_0_and_exit_alone_with_1(tmp_path: Path) -> None:
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        client.initialize(tmp_path)
        assert client.close() == 0
    with Client([SHOTLANG, "lsp"], cwd=tmp_path) as client:
        client.initialize(tmp_path)
        client.notify("exit", None)
        assert client.process.wait(10) == 1


BLOCKED = """
import sys
for name in ("pygls", "lsprotocol"):
    sys.modules[name] = None  # as if the lsp extra were not installed
sys.argv = ["shotlang", "lsp"]
from shotlang.__main__ import main
main()
"""


def test_without_pygls_lsp_says_how_to_install_it_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "pip install 'shotlang[lsp]'" in done.stderr
    assert done.stdout == ""


def test_check_does_not_import_the_language_servers_packages(tmp_path: Path) -> None:
    shot = tmp_path / "a.shot"
    shot.write_text('SHOT a: "x"\n')
    code = ("import sys\nfrom shotlang.cli import run\nsys.argv = ['shotlang', 'check', sys.argv[1]]\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs')))")
    done = subprocess.run([sys.executable, "-c", code, str(shot)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_completion_inside_a_note_or_a_block_comment_offers_nothing(server: Any) -> None:
    text = 'SHOT a: "x" [[call the ]]\nSHOT b: /* slow \n*/ pan right "y"\nSHOT c: "z" [[still open '
    client, uri, _ = opened(server, "notes.shot", text)
    assert labels(client, uri, at(text, "[[call the ")) == []
    assert labels(client, uri, at(text, "[[still open ")) == []
    assert labels(client, uri, at(text, "/* slow ")) == []
    assert "over" in labels(client, uri, at(text, '*/ pan right ')), "outside them, as before"


# --- completion offers only what would compile where it would go (issue 23, item 5) -------------------


def completed(client: Client, uri: str, where: dict[str, int]) -> dict[str, str]:
    """The labels offered there, in order, each with its detail."""
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": where})
    return {item["label"]: item.get("detail", "") for item in result["items"]}


def codes(text: str, root: Path) -> set[str]:
    """The codes of the errors check gives for `text`."""
    return {d.code for d in analyse(text, str(root / "x.shot"), root).diagnostics if d.severity.value == "error"}


def test_completion_offers_a_strength_only_with_a_move_that_takes_one(server: Any) -> None:
    """After `slow`, each move offered compiles and each left out is E205 (a preset or `static`
    takes no strength); before a preset, no intensity is offered."""
    client, root = server
    text = 'SHOT a: slow \nSHOT b:  crane down and back over "x"\nSHOT c: crane down and back \n'
    _, uri, _ = opened(server, "strength.shot", text)
    offered = set(labels(client, uri, at(text, "SHOT a: slow ")))
    phrases = {phrase for move in MOVES for phrase in move.phrases}
    assert {"pan right", "push in", "dutch tilt"} <= offered
    assert not {"crane down and back", "forward up", "left turn forward", "static"} & offered
    for phrase in phrases:
        said = codes(f'SHOT a: slow {phrase} over "x"\n', root)
        assert (phrase in offered) == (not said), (phrase, said)
        assert phrase in offered or said == {"E205"}
    before_preset = labels(client, uri, at(text, "SHOT b: "))
    assert not set(INTENSITIES) & set(before_preset)
    assert codes('SHOT b: slow crane down and back over "x"\n', root) == {"E205"}
    assert set(labels(client, uri, at(text, "SHOT c: crane down and back "))) == JOINERS


def test_completion_offers_no_option_the_statement_gives_already(server: Any) -> None:
    """A second duration, mode, aspect ratio or `negative` is E309: none is offered, before the
    one given or after it; where none is given, they are."""
    client, root = server
    text = ('SHOT a: "x" 10s \nSHOT b: "x" pro \nSHOT c: "x" 16:9 \nSHOT d: "x" avoid "fog" \n'
            'SHOT e: "x"  10s\nSHOT f: "x" \n')
    _, uri, _ = opened(server, "given.shot", text)
    after_duration = labels(client, uri, at(text, 'SHOT a: "x" 10s '))
    assert not {"5s", "10s"} & set(after_duration) and "pro" in after_duration
    assert codes('SHOT a: "x" 10s 5s\n', root) == {"E309"}
    assert not {"std", "standard", "pro", "professional"} & set(labels(client, uri, at(text, 'SHOT b: "x" pro ')))
    assert not {"16:9", "9:16", "1:1"} & set(labels(client, uri, at(text, 'SHOT c: "x" 16:9 ')))
    assert not {"negative", "avoid"} & set(labels(client, uri, at(text, 'SHOT d: "x" avoid "fog" ')))
    before_duration = labels(client, uri, at(text, 'SHOT e: "x" '))
    assert not {"5s", "10s"} & set(before_duration) and "negative" in before_duration
    fresh = labels(client, uri, at(text, 'SHOT f: "x" '))
    assert {"5s", "10s", "pro", "16:9", "negative"} <= set(fresh)


def test_completion_offers_no_option_the_shots_model_refuses(server: Any) -> None:
    """kling-v3-omni takes no cfg (E410) and no negative prompt (E411), whether its MODEL line is
    above or the shot names it; a duration or mode the model does not render (E303, E408) is not
    offered either. A model that takes cfg has it offered."""
    client, root = server
    text = ('MODEL kling-v3-omni\nSHOT a: "x" \nMODEL kling-v2-6\nSHOT b: "x" model kling-v3-omni \n'
            'SHOT c: "x" model kling-v1 \nSHOT d: "x" model kling-v2-master \n')
    _, uri, _ = opened(server, "refused.shot", text)
    assert codes('SHOT a: "x" model kling-v3-omni cfg 0.5\n', root) == {"E410"}
    assert codes('SHOT a: "x" model kling-v3-omni negative "fog"\n', root) == {"E411"}
    for where in ('SHOT a: "x" ', 'SHOT b: "x" model kling-v3-omni '):
        offered = labels(client, uri, at(text, where))
        assert not {"cfg", "negative", "avoid"} & set(offered), where
        assert {"3s", "15s", "pro", "image"} <= set(offered), where  # what it takes, still offered
    on_v1 = labels(client, uri, at(text, 'SHOT c: "x" model kling-v1 '))
    assert "cfg" in on_v1 and "10s" in on_v1 and "3s" not in on_v1
    assert codes('SHOT c: "x" model kling-v1 3s\n', root) == {"E303"}
    master = labels(client, uri, at(text, 'SHOT d: "x" model kling-v2-master '))
    assert "std" in master and not {"pro", "professional"} & set(master)
    assert codes('SHOT d: "x" model kling-v2-master pro\n', root) == {"E408"}


def test_completion_offers_a_choice_that_needs_another_option_or_warns_last_saying_why(server: Any) -> None:
    """kling-v2-6 has sound and an end frame in pro only: `sound on` and `tail` come last, saying
    so; cfg, which it ignores (W104), comes last too; on kling-v3 (whose sources dispute cfg,
    W108) likewise. With `pro` written, they compile, and come in their place."""
    client, root = server
    text = ('SHOT a: "x" sound \nSHOT b: "x" \nSHOT c: "x" pro \nSHOT d: "x" model kling-v3 \n')
    _, uri, _ = opened(server, "needs.shot", text)
    values = completed(client, uri, at(text, 'SHOT a: "x" sound '))
    assert list(values) == ["off", "on"]
    assert values["on"].startswith("needs `pro` too: kling-v2-6") and "no sound in std mode" in values["on"]
    assert codes('SHOT a: "x" sound on\n', root) == {"E406"} and not codes('SHOT a: "x" sound on pro\n', root)
    plain = completed(client, uri, at(text, 'SHOT b: "x" '))
    assert plain["tail"].startswith("needs `pro` too") and plain["cfg"] == "W104: kling-v2-6 ignores cfg"
    assert list(plain)[-3:] == ["cfg", "tail", "voice"]
    with_pro = completed(client, uri, at(text, 'SHOT c: "x" pro '))
    assert not with_pro["tail"].startswith("needs") and list(with_pro).index("tail") < list(with_pro).index("cfg")
    on_v3 = completed(client, uri, at(text, 'SHOT d: "x" model kling-v3 '))
    assert on_v3["cfg"].startswith("W108: cfg on kling-v3") and list(on_v3)[-1] == "cfg"


def test_completion_offers_each_models_durations_modes_and_ratios_exactly_as_check_takes_them(server: Any) -> None:
    """For every model of the matrix: a duration, mode or aspect ratio is offered if and only if
    check gives no error for it on that model's shot (one with a start image, for a model that
    only does image-to-video)."""
    client, root = server
    from shotlang.compiler.models import for_folder

    matrix, _ = for_folder(root)
    bare = {f"{n}s" for n in range(1, 16)} | {"std", "standard", "pro", "professional"}
    bare |= {r for model in matrix.models.values() for r in model.aspect_ratios}
    shots = [f'SHOT m{i}: "x" model {name} ' + ("" if model.text2video else 'image "https://example.com/a.png" ')
             for i, (name, model) in enumerate(matrix.models.items())]
    text = "\n".join(shots) + "\n"
    _, uri, _ = opened(server, "bare.shot", text)
    for shot in shots:
        offered = completed(client, uri, at(text, shot))
        alone = codes(shot + "\n", root)
        for word in bare:
            said = codes(f"{shot}{word}\n", root)
            assert (word in offered) == (said <= alone), (shot, word, said)
            assert word not in offered or not offered[word].startswith("needs"), (shot, word)


def test_completion_judges_with_the_state_a_statement_inherits(tmp_path: Path) -> None:
    """Given the lowering's state before the statement (what live.py keeps for each), completion
    knows all the statement inherits: a SCENE's model, DEFAULTS' mode, the SEQUENCE a shot is in.
    Without it, only the model of MODEL and DEFAULTS lines."""
    import bisect

    from shotlang.tools.lsp import words
    from shotlang.tools.lsp.live import LiveCheck

    def offered(text: str, with_state: bool = True) -> dict[str, str]:
        live = LiveCheck(text.replace("|", ""), "x.shot", tmp_path)
        offset = text.index("|")
        steps = live.steps
        start = steps[bisect.bisect_right(steps, offset, key=lambda s: s.start) - 1].start
        state = steps[bisect.bisect_left(steps, offset, key=lambda s: s.end) - 1].state
        items = words.completions(live.source.text, start, offset, live.models, "kling-v2-6",
                                  state=state if with_state else None)
        return {i.label: i.detail for i in items}

    scene = 'SCENE "INT. LAMP ROOM" model kling-v3-omni\nSHOT a: "x" |\n'
    assert "cfg" not in offered(scene) and "15s" in offered(scene)
    assert "cfg" in offered(scene, with_state=False)
    defaults = 'DEFAULTS pro\nSHOT a: "x" |\n'
    assert not offered(defaults)["tail"].startswith("needs")
    assert offered(defaults, with_state=False)["tail"].startswith("needs `pro` too")
    member = offered('SEQUENCE chase: 15s model kling-v3\n    SHOT a: "x" |\n    SHOT b: "y"\n')
    assert set(member) == {f"{n}s" for n in range(3, 16)}  # a shot of a sequence brings its duration only


# --- keystrokes faster than checks --------------------------------------------------------------


def test_keystrokes_sent_back_to_back_are_checked_once_at_the_newest_text(server: Any) -> None:
    # Each check of this file takes a while, so the keystrokes behind the first wait in the pipe:
    # they are taken in together and the newest text is checked, not each version in turn.
    shots = "".join(f'SHOT s{i}: slow pan right over "Shot {i}" 5s\n[[ note {i} ]]\n' for i in range(3000))
    client, uri, _ = opened(server, "burst.shot", shots)
    typed = "SHOT tail: pann right over "
    for i, char in enumerate(typed, 2):
        end = position(shots, len(shots))
        client.change(uri, i, [{"range": {"start": end, "end": end}, "text": char}])
        shots += char
    last = len(typed) + 1
    final = client.diagnostics(uri, version=last, timeout=60)
    earlier = [m for _, m in client.notifications if m.get("method") == "textDocument/publishDiagnostics"
               and m["params"]["uri"] == uri and m["params"].get("version", 0) < last]
    client.notifications.clear()
    # (Checked each in turn, all 26 were; a loaded machine may split the burst in a few.)
    assert len(earlier) <= len(typed) // 3, f"{len(earlier)} of {len(typed) - 1} earlier versions were checked"
    assert final == expected(shots, uri, server[1])
    assert final[-1]["range"]["start"]["line"] == shots.count("\n")  # about the line typed, as it ends


def test_a_request_right_after_an_edit_answers_about_the_edited_text(server: Any) -> None:
    text = 'SHOT a: "x" 5s\n'
    client, uri, _ = opened(server, "asked.shot", text)
    end = position(text, len(text))
    client.change(uri, 2, [{"range": {"start": end, "end": end}, "text": 'SHOT b:   "y"     10s\n'}])
    text += 'SHOT b:   "y"     10s\n'
    # No waiting for the diagnostics: the formatting request checks what came before it.
    assert formatted(client, uri, text) == 'SHOT a: "x" 5s\nSHOT b: "y" 10s\n'
    assert client.diagnostics(uri, version=2) == expected(text, uri, server[1])


def test_completion_judges_a_shot_with_what_it_inherits(server: Any) -> None:
    # An end image (`tail`) on kling-v2-6 needs pro mode: offered plainly under DEFAULTS pro (what
    # the shot inherits, the lowering's state before it), last with the reason without it.
    for defaults, needs in (("DEFAULTS pro\n", False), ("", True)):
        text = f'MODEL kling-v2-6\n{defaults}SHOT a: "x" '
        client, uri, _ = opened(server, f"inherits{int(needs)}.shot", text)
        result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                            "position": position(text, len(text))})
        details = {item["label"]: item.get("detail") or "" for item in result["items"]}
        assert ("needs `pro`" in details["tail"]) == needs, details["tail"]
