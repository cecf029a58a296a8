"""The rendered clips as an editorial timeline, through OpenTimelineIO.

One clip per video in file order, named after the shot and pointing at the downloaded file,
as long as that file runs (its MP4 header; mp4.py), else as long as `run` asked for; the scenes as markers where they begin; the prompt and
settings as each clip's metadata. A video not rendered yet is a placeholder clip of its length
(a missing reference), so the cut keeps its running time. OpenTimelineIO writes it as OTIO,
CMX 3600 EDL or Final Cut Pro XML (its adapter packages): the optional extra
`shotlang[timeline]`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import opentimelineio as otio

    from .state import ShotState

FORMATS = {"otio": ("otio_json", ".otio"), "edl": ("cmx_3600", ".edl"), "fcpxml": ("fcpx_xml", ".fcpxml")}
RATE = 24.0  # frames a second of the timeline: Kling's videos are 24 fps


def build(title: str, records: list[dict[str, Any]], state: Callable[[str], ShotState | None],
          videos: Path) -> otio.schema.Timeline:
    """The timeline of a compiled shot list's records, with what a run recorded of each."""
    import opentimelineio as otio

    from . import mp4
    from .runner import video_path

    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    scene: object = object()  # none yet
    at = otio.opentime.RationalTime(0, RATE)
    for record in records:
        body = record["body"]
        found = state(record["name"])
        video = video_path(videos, record["name"])
        rendered = found is not None and found.status == "succeed" and video.is_file()
        real = mp4.duration(video) if rendered else None  # what the file runs, else what was asked
        seconds = real if real is not None else float(body["duration"])
        length = otio.opentime.RationalTime(max(1, round(seconds * RATE)), RATE)
        whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), length)
        reference: otio.core.MediaReference
        if rendered:
            reference = otio.schema.ExternalReference(target_url=video.resolve().as_uri(), available_range=whole)
        else:
            reference = otio.schema.MissingReference(available_range=whole)
        clip = otio.schema.Clip(name=record["name"], media_reference=reference, source_range=whole)
        clip.metadata["shotlang"] = {
            "scene": record["scene"], "line": record["line"], "endpoint": record["endpoint"],
            "status": found.status if found is not None else "not rendered",
            "seconds": {"asked": body["duration"], "file": real},
            "body": {k: v for k, v in body.items() if k not in ("image", "image_tail", "static_mask", "dynamic_masks")},
        }
        if record["scene"] != scene:
            scene = record["scene"]
            if scene is not None:
                track.markers.append(otio.schema.Marker(
                    name=str(scene), marked_range=otio.opentime.TimeRange(at, otio.opentime.RationalTime(0, RATE)),
                    metadata={"shotlang": {"scene": scene}}))
        track.append(clip)
        at += length
    timeline = otio.schema.Timeline(name=title)
    timeline.tracks.append(track)
    return timeline


def write(timeline: otio.schema.Timeline, path: Path, fmt: str) -> None:
    """Written atomically: a half-written cut is never left for an editor to open."""
    import opentimelineio as otio

    from .files import write_atomic

    write_atomic(path, otio.adapters.write_to_string(timeline, adapter_name=FORMATS[fmt][0]))
