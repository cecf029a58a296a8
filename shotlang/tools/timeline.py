"""The rendered clips as an editorial timeline, through OpenTimelineIO.

One clip per video in file order, named after the shot and pointing at the downloaded file,
as long as that file runs (its MP4 header, mp4.py; the length asked for when the header is
missing or far from it); each scene a marker on its first item; the prompt and settings as
each clip's metadata. A video not rendered yet keeps its place and length, so the cut keeps its
running time: a placeholder clip (a missing reference) in OTIO, black (reel `BL`) in an EDL, a
gap in Final Cut Pro XML (whose adapter would give a missing reference a made-up file path), an
offline clip in Final Cut Pro 7 XML (a file with no path, named as its video will be).
OpenTimelineIO writes them through its adapter packages: the optional extra `shotlang[timeline]`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import opentimelineio as otio

    from ..engine.state import ShotState


class CutFormat(NamedTuple):
    adapter: str  # OpenTimelineIO's name for the adapter that writes it
    suffix: str
    package: str | None  # the adapter's package (in the `timeline` extra); None: built into OpenTimelineIO


FORMATS = {
    "otio": CutFormat("otio_json", ".otio", None),
    "edl": CutFormat("cmx_3600", ".edl", "otio-cmx3600-adapter"),
    "fcpxml": CutFormat("fcpx_xml", ".fcpxml", "otio-fcpx-xml-adapter"),  # Final Cut Pro X
    "xmeml": CutFormat("fcp_xml", ".xml", "otio-fcp-adapter"),  # Final Cut Pro 7, which Premiere reads
}
RATE = 24.0  # frames a second of the timeline: Kling's videos are 24 fps


def format_for(fmt: str | None, out: Path | None) -> str:
    """The format asked for; else the one the output's suffix names (`cut.xml`: xmeml); else OTIO."""
    if fmt is not None:
        return fmt
    by_suffix = {f.suffix: name for name, f in FORMATS.items()}
    return by_suffix.get(out.suffix.lower(), "otio") if out is not None else "otio"


def missing_adapter(fmt: str) -> str | None:
    """The package of the adapter that writes `fmt`, if OpenTimelineIO has no such adapter (each
    is a package of its own, which an install of OpenTimelineIO alone lacks)."""
    import opentimelineio as otio

    cut = FORMATS[fmt]
    return None if cut.adapter in otio.adapters.available_adapter_names() else cut.package or "opentimelineio"


class CutError(Exception):
    """OpenTimelineIO could not write the cut (its adapters raise what they like)."""


def build(title: str, records: list[dict[str, Any]], state: Callable[[str], ShotState | None],
          videos: Path, fmt: str = "otio", cast: list[dict[str, Any]] | None = None,
          names: Callable[[], Iterable[str]] = tuple) -> otio.schema.Timeline:
    """The timeline of a compiled shot list's records, with what a run recorded of each, made
    for `fmt` (how a video not rendered yet is held differs, see above). A shot's clip is its
    chosen take (`pick`); its other takes are media references of the clip beside it, the
    chosen one active (OpenTimelineIO's multiple media references). `cast`: the records of the
    shot list's cast; `names`: every name the state has (the takes --force added)."""
    import opentimelineio as otio

    from ..engine.runner import asked_digests, take_name
    from ..engine.takes import shot_takes, take

    asked = asked_digests(records, cast, state)
    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    scene: object = object()  # none yet
    reels = _Reels()
    for record in records:
        body, name = record["body"], record["name"]
        pick, count = int(record.get("pick") or 1), int(record.get("takes") or 1)
        chosen = take_name(name, pick)
        found = take(state(chosen), videos, chosen, record["endpoint"], body, asked.get(chosen))
        seconds = found.runs if found.runs is not None else float(body["duration"])
        length = otio.opentime.RationalTime(max(1, round(seconds * RATE)), RATE)
        whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), length)
        item: otio.schema.Clip | otio.schema.Gap
        if found.downloaded:  # not a link put in its place: never followed out of its folder
            reference = _file(found.video, length, fmt)
            item = otio.schema.Clip(name=name, media_reference=reference, source_range=whole)
            item.metadata["cmx_3600"] = {"reel": reels.take(name)}
            if count > 1 or pick > 1:
                others = {f"take-{number}": _file(other.video, otio.opentime.RationalTime(
                    max(1, round((other.real or float(body["duration"])) * RATE)), RATE), fmt)
                    for number, taken in shot_takes(name, count, names()) if number != pick
                    if (other := take(state(taken), videos, taken, record["endpoint"], body, asked.get(taken))).downloaded}
                item.set_media_references({f"take-{pick}": reference, **others}, f"take-{pick}")
        elif fmt == "fcpxml":
            item = otio.schema.Gap(source_range=whole)
            item.name = name
        else:
            # Named as its video will be: in FCP 7 XML an offline file, which the adapter would
            # otherwise leave nameless and merge with every other placeholder of its length.
            item = otio.schema.Clip(name=name, media_reference=otio.schema.MissingReference(
                name=found.video.name, available_range=whole), source_range=whole)
            item.metadata["cmx_3600"] = {"reel": "BL"}  # black, in an EDL
        item.metadata["shotlang"] = {
            "scene": record["scene"], "line": record["line"], "endpoint": record["endpoint"],
            "status": ("not rendered" if found.state is None else
                       f"{found.state.status}, but {found.missing}" if found.missing else found.state.status),
            "changed since its render": found.stale,
            **({"take": pick, "takes": [n for n, _ in shot_takes(name, count, names())]} if count > 1 or pick > 1 else {}),
            "seconds": {"asked": body["duration"], "file": found.real},
            "body": {k: v for k, v in body.items()  # less the inlined images, an omni request's frames too
                     if k not in ("image", "image_tail", "static_mask", "dynamic_masks", "image_list")},
        }
        if record["scene"] != scene:
            scene = record["scene"]
            if scene is not None:  # on the scene's first item, where every format keeps it
                item.markers.append(otio.schema.Marker(
                    name=ascii_plain(str(scene)) if fmt == "edl" else plain(str(scene)), marked_range=otio.opentime.TimeRange(whole.start_time),
                    metadata={"shotlang": {"scene": scene}}))
        track.append(item)
    timeline = otio.schema.Timeline(name=ascii_plain(title) if fmt == "edl" else plain(title))
    timeline.tracks.append(track)
    return timeline


def _file(video: Path, length: otio.opentime.RationalTime, fmt: str) -> otio.schema.ExternalReference:
    """A downloaded video as a media reference, named as its file is."""
    import opentimelineio as otio

    whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), length)
    reference = otio.schema.ExternalReference(target_url=file_url(video, fmt), available_range=whole)
    reference.name = video.name  # in FCP 7 XML the file's name; the adapter's own would keep its %20s
    return reference


def file_url(video: Path, fmt: str) -> str:
    """The video's file URL, absolute. In FCP 7 XML in the `file://localhost/...` form Final Cut
    Pro 7 and Premiere write (the adapter writes whatever URL it is given)."""
    url = video.resolve().as_uri()
    if fmt == "xmeml" and url.startswith("file:///"):  # not a network share's file://server/share/...
        return "file://localhost/" + url.removeprefix("file:///")
    return url


class _Reels:
    """An EDL's reel names: at most 8 letters and digits, from the shot's name, one per clip
    (the adapter's own, from the file name, make `lighthouse-dawn` and `lighthouse-dusk` one
    reel), never `BL` or `AX` (black, and an auxiliary source)."""

    def __init__(self) -> None:
        self._taken = {"BL", "AX", "BLACK"}

    def take(self, name: str) -> str:
        base = re.sub(r"[^A-Z0-9]", "", name.upper())[:8] or "SHOT"
        reel, n = base, 1
        while reel in self._taken:
            n += 1
            reel = base[: 8 - len(str(n))] + str(n)
        self._taken.add(reel)
        return reel


# Line and paragraph separators, controls, surrogates and noncharacters:
# fine in a shot list's text, but an EDL line breaks on them and XML refuses them.
def plain(text: str) -> str:
    """A name as every format can carry it: such characters become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or _nonchar(c) else c
                   for c in text)


def ascii_plain(text: str) -> str:
    """A name as a CMX 3600 EDL carries it, in ASCII: letters without their accents (`Cote` for
    `Côte`), what has no ASCII form left out; "UNTITLED" if nothing is left."""
    folded = unicodedata.normalize("NFKD", plain(text)).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.split()) or "UNTITLED"


def _nonchar(c: str) -> bool:
    code = ord(c)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def write(timeline: otio.schema.Timeline, path: Path, fmt: str) -> None:
    """Written atomically: a half-written cut is never left for an editor to open."""
    import opentimelineio as otio

    from ..files import write_atomic

    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=FORMATS[fmt].adapter)
    except Exception as e:  # noqa: BLE001 - an adapter's failure, whatever its class, is one line
        raise CutError(f"OpenTimelineIO could not write the cut as {fmt}: {e}") from None
    write_atomic(path, text)
