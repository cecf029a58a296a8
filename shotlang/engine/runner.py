"""Running a compiled shot list: decide what to do per shot, then submit, poll and download.

    the compiler's records -> shots_of -> plan_shots (what each shot needs, from the state)
        -> Runner.run (do it, in threads)

A shot's body is sent as the compiler made it: the record `compile` writes is what is paid for.

Money first. The state is journaled before every step that costs or changes something, so a
run killed anywhere continues where it stopped, and a shot is never paid for twice: each create
carries an external_task_id made from the shot and its body; an answer shotlang cannot read
leaves the shot `submitting`, and that is resolved by looking the task up by its id (in the
client, and again by the next run), never by creating another.

Speed second. A run cannot finish sooner than the account's concurrency allows, so it keeps
exactly that many tasks generating (`Slots`, which learns the limit from 1303 answers), and
one `Poller` watches every task in flight with one list query per endpoint, timed by the
render time it learns from finished tasks, instead of each shot polling on its own.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import stat
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from ..compiler import bodies, kling
from ..compiler.models import Matrix, audio_of, built_in
from ..compiler.records import after_placeholder, cast_placeholder
from ..config import Config
from ..files import atomic_file, partial_files, remove_partials
from .client import (
    AccountError,
    AuthError,
    CreateUnknown,
    GaveUp,
    KlingClient,
    OverConcurrency,
    Retry,
    ShotError,
    Stopped,
    TimedOut,
)
from .state import IN_FLIGHT, ShotState, Store, body_hashes, file_sha256, video_matches

Action = Literal["new", "changed", "forced", "retry", "in flight", "download", "unchanged", "renamed"]
SUBMITS: tuple[Action, ...] = ("new", "changed", "forced", "retry")
MAX_VIDEO_BYTES = 2 * 1024**3


class Shot(NamedTuple):
    """What `run` needs of one compiled shot: its name, where to send it, and its body. A cast
    member is one too: named `@name`, sent to the elements' endpoint."""

    name: str
    endpoint: kling.TaskPath
    body: dict[str, Any]  # the request body, exactly as it is sent (but its cast's element ids)
    moves: str = ""  # how its camera move is sent (the record's `moves`): numeric, words, both or ""
    cast: tuple[str, ...] = ()  # the cast members its element_list names, `@name` until they are made
    after: str = ""  # the take it continues: its last frame (`image`) or its video (video_list), `@name` until made
    take: int = 1  # which take of its shot this is: take 1 is named as the shot, take k `<shot>.take-k`
    of: str = ""  # the shot it is a take of ("": its own name)
    pick: int = 1  # the shot's chosen take (`pick`): its video is `<shot>.mp4`
    forced: bool = False  # a take --force adds

    @property
    def shot(self) -> str:
        """The name of the shot (or sequence) this is a take of."""
        return self.of or self.name


def _endpoint(value: str) -> kling.TaskPath:
    """A record's endpoint: one of Kling's, or one of fal's Kling apps (compile --backend fal)."""
    from .fal import FAL_APP

    if FAL_APP.fullmatch(value):
        return value  # type: ignore[return-value]  # an app id: the fal client checks it again
    return kling.as_endpoint(value)


def shots_of(records: Iterable[Mapping[str, Any]]) -> list[Shot]:
    """The compiler's JSON records (CompiledFile.records) as shots to run: one per take (`takes
    N`), take k of `castle` named `castle.take-k` (a shot name has no `.`). The bodies are used as
    they are, not rebuilt through the pydantic models: what `compile` writes is what is sent (a
    test checks every record against bodies.VideoRequest). A shot that continues another
    continues its chosen take."""
    picks: dict[str, int] = {}
    shots: list[Shot] = []
    for r in records:
        name, pick = r["name"], int(r.get("pick") or 1)
        picks[name] = pick
        after = str(r.get("after") or "")
        base = Shot(name, _endpoint(r["endpoint"]), r["body"], str(r.get("moves") or ""),
                    tuple(cast_key(n) for n in r.get("cast") or ()),
                    take_name(after, picks.get(after, 1)) if after else "", 1, name, pick)
        shots += [base._replace(name=take_name(name, k), take=k) for k in range(1, int(r.get("takes") or 1) + 1)]
    return shots


TAKE_MARK = ".take-"
_TAKE_NAME = re.compile(r"(.+)\.take-([1-9][0-9]*)")


def take_name(shot: str, take: int) -> str:
    """The name of a shot's take in the state, the plans and its file: `castle`, `castle.take-2`."""
    return shot if take == 1 else f"{shot}{TAKE_MARK}{take}"


def shot_name_of(name: str) -> str:
    """The shot a take's name is of: `castle.take-2` -> `castle` (a shot name has no `.`)."""
    found = _TAKE_NAME.fullmatch(name)
    return found[1] if found is not None else name


def with_takes(shots: list[Shot], store: Store, force: frozenset[str],
               asked: Mapping[str, tuple[str, ...]]) -> list[Shot]:
    """The takes to plan: those the shot list asks for; those --force added in earlier runs, while
    their request is still the shot's (kept, never made again); and one more for each shot in
    `force`, unless this --force already made one in a run that did not finish (that one goes on:
    running the same command again does not pay again)."""
    by_shot: dict[str, list[Shot]] = {}
    for shot in shots:
        by_shot.setdefault(shot.shot, []).append(shot)
    recorded: dict[str, dict[int, ShotState]] = {}
    for name in store.names():
        found = _TAKE_NAME.fullmatch(name)
        if found is not None and found[1] in by_shot:
            state = store.get(name)
            if state is not None:
                recorded.setdefault(found[1], {})[int(found[2])] = state
    pending = store.pending_force
    out: list[Shot] = []
    for shot_name, takes in by_shot.items():
        out += takes
        last = takes[-1]
        asked_takes = {t.take for t in takes}
        mine = recorded.get(shot_name, {})
        wanted = asked.get(last.name, ())  # the shot's request now
        same = [k for k, state in sorted(mine.items()) if k not in asked_takes and state.body_sha256 in wanted]
        out += [last._replace(name=take_name(shot_name, k), take=k) for k in same]
        unknown = any((state := store.get(t.name)) is not None and _unknown(state) for t in takes)
        if shot_name in force and not unknown:  # (a take whose request is unknown is made again)
            resumed = pending.get(shot_name)
            if resumed is not None and resumed in mine and resumed not in asked_takes:
                out = [t._replace(forced=True) if t.shot == shot_name and t.take == resumed else t for t in out]
                if resumed not in same:
                    out.append(last._replace(name=take_name(shot_name, resumed), take=resumed, forced=True))
            else:
                k = max([*asked_takes, *mine]) + 1
                out.append(last._replace(name=take_name(shot_name, k), take=k, forced=True))
    return out


def _unknown(state: ShotState) -> bool:
    """A take whose request's fate no run can learn: a status shotlang does not know (say
    `canceled`), or a request sent to fal that was never answered and that fal does not list
    (fal keeps no id of ours to ask by). --force makes it again, rather than add a take."""
    return bool(state.api_status) or (
        backend_of(state.endpoint) == "fal" and state.status == "submitting" and not state.task_id)


def cast_of(records: Iterable[Mapping[str, Any]] | None) -> list[Shot]:
    """The compiler's cast records (CompiledFile.cast) as elements to make, each named `@name`:
    the state keeps them beside the shots, under names no shot can have."""
    return [Shot(cast_key(r["name"]), kling.ELEMENTS, r["body"]) for r in records or ()]


def cast_key(name: str) -> str:
    """A cast member's name in the state and in a run's reports: `@keeper`, as compile's element_list
    names it until its element is made."""
    return cast_placeholder(name)


def _as_hashed(shot: Shot, cast: Mapping[str, tuple[str, ...]], before: str) -> dict[str, Any]:
    """A body as its hash reads it: each `@name` of its element_list with its element's body
    hash, so that a cast member whose images or words change changes the shots that name it;
    and the shot it continues with that shot's take (`before`: its task id, or "pending" while
    it is to be made), so that a shot made again changes the shots that continue it."""
    body = shot.body
    if shot.cast:
        listed = [{"element_id": f"{e['element_id']}#{cast[e['element_id']][0][:16]}"}
                  if isinstance(e, dict) and e.get("element_id") in cast else e for e in body.get("element_list") or ()]
        body = {**body, "element_list": listed}
    if shot.after:
        placeholder = after_placeholder(shot_name_of(shot.after))
        mark = f"@#{before}"  # the take it continues, not that shot's name: a rename of it changes nothing
        if body.get("image") == placeholder:
            body = {**body, "image": mark}
        body = {**body, "video_list": [{**v, "video_url": mark} if isinstance(v, dict) else v
                                       for v in body.get("video_list") or ()]} if "video_list" in body else body
    return body


def asked_digests(records: Iterable[Mapping[str, Any]], cast: Iterable[Mapping[str, Any]] | None,
                  state: Callable[[str], ShotState | None]) -> dict[str, tuple[str, ...]]:
    """The hashes `run` asks each take's request by (as plan_shots does, with the takes made as
    the state records them): for those that show whether a video is of the request as it is now."""
    return shot_digests(shots_of(records), cast_of(cast), state)


def shot_digests(shots: Iterable[Shot], cast: Iterable[Shot],
                 state: Callable[[str], ShotState | None]) -> dict[str, tuple[str, ...]]:
    """As asked_digests, for shots and cast members already read (shots_of, cast_of)."""
    members = {m.name: body_hashes(m.endpoint, m.body) for m in cast}
    return {s.name: body_hashes(s.endpoint, _as_hashed(s, members, take_of(None, state(s.after)))
                                if s.cast or s.after else s.body) for s in shots}


def take_of(plan: PlannedShot | None, state: ShotState | None) -> str:
    """What a continuing shot's hash holds of the shot it continues: that shot's task once its
    video is made and will not be made again in this run, else "pending"."""
    if plan is not None:
        if plan.action == "renamed" and plan.taken is not None:
            return plan.taken.task_id or "pending"
        if plan.action not in ("unchanged", "download"):
            return "pending"
        state = plan.state
    return state.task_id if state is not None and state.status == "succeed" and state.task_id else "pending"


@dataclass
class PlannedShot:
    shot: Shot
    action: Action
    hash: str
    state: ShotState | None
    credits: float | None  # the estimate for a submission; None if no price is known
    price_published: bool = True
    priced_as: str | None = None  # how the estimate was made when the model is priced as another ("as kling-v2-6")
    renamed_from: str | None = None  # "renamed" (or "in flight"): the record whose request this body is
    id_used_by: str | None = None  # the record that already used this shot's own `id`
    taken: ShotState | None = None  # the record renamed_from names, as it was when planned
    usd: float | None = None  # a backend's own price in US$ (fal's), where it prices in money, not credits
    facts: Facts | None = None  # its model, mode, length and audio (facts_of)

    @property
    def name(self) -> str:
        return self.shot.name

    @property
    def backend(self) -> str:
        return backend_of(self.shot.endpoint)

    @property
    def endpoint(self) -> kling.TaskPath:
        return self.shot.endpoint

    @property
    def body(self) -> dict[str, Any]:
        return self.shot.body

    @property
    def submits(self) -> bool:
        return self.action in SUBMITS

    @property
    def mode(self) -> str:
        return self.facts.mode if self.facts is not None else mode_of(self.shot.endpoint, self.body)

    @property
    def model(self) -> str:
        return self.facts.model if self.facts is not None else str(self.body["model_name"])

    @property
    def seconds(self) -> str:
        return self.facts.seconds if self.facts is not None else str(self.body["duration"])

    @property
    def audio(self) -> str:
        return self.facts.audio if self.facts is not None else audio_of(self.body)


class Facts(NamedTuple):
    """What a request makes, whatever the way it is sent: the model, mode, length and audio."""

    model: str
    mode: str
    seconds: str
    audio: str  # sound, voice, or "" (what prices tell apart)


def backend_of(endpoint: str) -> str:
    """The way a request goes: Kling's API (its endpoints are paths), or fal's (an app id)."""
    return "kling" if endpoint.startswith("/") else "fal"


def facts_of(endpoint: str, body: dict[str, Any], models: Matrix) -> Facts:
    """A request's model, mode, length and audio: a Kling body says them; a fal request's app
    says its model and mode (the matrix's fal rows), its input the rest."""
    if backend_of(endpoint) == "kling":
        return Facts(str(body["model_name"]), mode_of(endpoint, body), str(body["duration"]), audio_of(body))
    from ..compiler.fal import app_by_id

    app = app_by_id(endpoint, models)
    model = app.model if app is not None else endpoint
    mode = (app.mode if app is not None else None) or "-"
    seconds = str(body.get("duration") or (app.durations[0] if app is not None and app.durations else "5"))
    audio = ("voice" if body.get("voice_ids") else "sound") if body.get("generate_audio") or (
        "generate_audio" not in body and app is not None and app.audio_default and app.takes("generate_audio")) else ""
    return Facts(model, mode, seconds, audio)


def mode_of(endpoint: str, body: dict[str, Any]) -> str:
    """The mode a request renders in: its own, else its endpoint's default (pro at omni-video)."""
    return str(body.get("mode") or kling.default_mode(endpoint))


def video_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{name}.mp4"


def shot_video(store: Store, state: ShotState | None, out_dir: Path, name: str) -> Path:
    """Where the shot's video is: the file its state records, when that lies in `out_dir` (a
    take saved beside another file is `castle.2.mp4`), else `<out_dir>/<name>.mp4`."""
    if state is not None and state.file:
        recorded = store.path.parent / state.file
        if recorded.parent.resolve() == out_dir.resolve():
            return recorded
    return video_path(out_dir, name)


def _beside(target: Path) -> Path:
    """A free name beside `target` for a take that must not replace it: castle.2.mp4, castle.3.mp4
    (a shot name has no `.`, so no other shot's video can be called so)."""
    n = 2
    while True:
        candidate = target.with_name(f"{target.stem}.{n}{target.suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        n += 1


def plan_shots(shots: list[Shot], store: Store, out_dir: Path, config: Config,
               force: frozenset[str] = frozenset(), models: Matrix | None = None,
               listed: Iterable[str] | None = None, cast: Iterable[Shot] = ()) -> list[PlannedShot]:
    """What `run` would do for each shot, and what submitting it would cost: the config file's
    price if it has one, else the capability matrix's (`models`, the built-in one if None).
    `listed`: every shot of the shot list, when `shots` are some of them (--only). `cast`: the
    shot list's cast members (cast_of), whose element bodies are part of the shots that name them."""
    models = (models or built_in()).with_prices(config.prices)
    plans = []
    cast_digests = {member.name: body_hashes(member.endpoint, member.body) for member in cast}
    # A shot that continues another is asked as its recorded take would make it; if that shot is
    # made again in this run, it is changed (below, once every plan is known).
    asks = {shot.name: body_hashes(shot.endpoint, _as_hashed(shot, cast_digests, take_of(None, store.get(shot.after)))
                                   if shot.cast or shot.after else shot.body) for shot in shots}
    shots = with_takes(shots, store, force, asks)
    for shot in shots:  # a take --force adds, or added, asks what its shot's first take asks
        asks.setdefault(shot.name, asks[take_name(shot.shot, 1)])
    listed = set(asks) if listed is None else set(listed) | set(asks)
    # Every take of a listed shot is its shot's: never another's to take over.
    listed |= {name for name in store.names() if (take := _TAKE_NAME.fullmatch(name)) and take[1] in listed}
    earlier: dict[str, list[str]] | None = None  # body hash -> records whose shot asks no more for it
    adopted: set[str] = set()  # records in flight already taken over by a renamed shot
    ids: dict[str, list[str]] | None = None  # external id -> records that used it, when a shot has its own
    by_name: dict[str, PlannedShot] = {}
    for shot in shots:
        body = shot.body
        if shot.after:  # as the take it continues is planned: made again here, or as it stands
            asks[shot.name] = body_hashes(shot.endpoint, _as_hashed(
                shot, cast_digests, take_of(by_name.get(shot.after), store.get(shot.after))))
        digests = asks[shot.name]
        digest = digests[0]
        state = store.get(shot.name)
        action = _action(state, digests, shot_video(store, state, out_dir, shot.name))
        renamed_from: str | None = None
        taken: ShotState | None = None
        if action in ("new", "changed") and not shot.forced:
            if earlier is None:
                earlier = _asked_no_more(store, listed, asks)
            found = _rendered_as(store, digests, earlier, adopted)
            if found is not None:
                renamed_from, taken = found
                old: ShotState = found[1]
                adopted.add(found[0])  # one record, one new name (takes share their request)
                if old.status == "succeed":
                    action = "renamed"
                else:  # still generating: followed under the new name, not paid for again
                    action, state = "in flight", old
        if shot.shot in force and action == "in flight" and state is not None and _unknown(state):
            action = "forced"  # a request whose fate is unknown: made again, as --force asks
        own_id = body.get("external_task_id")
        id_used_by = None
        if own_id is not None and action in SUBMITS:
            ids = _ids(store) if ids is None else ids
            id_used_by = next(iter(ids.get(str(own_id), ())), None)
        facts = facts_of(shot.endpoint, body, models)
        if backend_of(shot.endpoint) == "fal":  # fal's own price, in US$ (none guessed)
            from ..compiler.fal import fal_price

            usd = fal_price(shot.endpoint, body, models)
            plans.append(PlannedShot(shot, action, digest, state, None, usd is not None, None, renamed_from,
                                     id_used_by, taken, usd, facts))
        else:
            price = models.price(facts.model, facts.mode, facts.seconds, facts.audio)
            plans.append(PlannedShot(shot, action, digest, state, price.credits if price else None,
                                     price.published if price else False, price.assumed if price else None,
                                     renamed_from, id_used_by, taken, None, facts))
        by_name[shot.name] = plans[-1]
    return plans


def plan_cast(cast: list[Shot], plans: list[PlannedShot], store: Store,
              force: frozenset[str] = frozenset()) -> list[PlannedShot]:
    """The cast members the planned shots need made (those they will send), each once: made
    already (here, or by another shot list of the folder: its element is reused), or to make;
    and those in `force` (`@name`: made again, as the next generation of its element).
    An element is not billed (third-party clients, ../shared/kling-api.md), so it costs 0."""
    wanted = {name for p in plans if _sends_body(p) for name in p.shot.cast} | set(force)
    found: list[PlannedShot] = []
    elsewhere: dict[str, ShotState] | None = None
    for member in cast:
        if member.name not in wanted:
            continue
        digests = body_hashes(member.endpoint, member.body)
        state = store.get(member.name)
        taken = None
        if state is not None and state.body_sha256 in digests:
            if state.status == "succeed":
                action: Action = "unchanged" if state.element_id is not None else "download"
            else:
                action = "in flight" if state.status in IN_FLIGHT else "retry"
        else:
            elsewhere = folder_elements(store) if elsewhere is None else elsewhere
            taken = next((elsewhere[d] for d in digests if d in elsewhere), None)
            action = "unchanged" if taken is not None else "new" if state is None else "changed"
        if member.name in force and state is not None and state.body_sha256 in digests and taken is None:
            action = "forced"
        found.append(PlannedShot(member, action, digests[0], taken or state, 0.0, taken=taken))
    return found


def _sends_body(plan: PlannedShot) -> bool:
    """Whether running this plan may send its body (a create, or one maybe sent to look up)."""
    state = plan.state
    return plan.submits or (plan.action == "in flight" and (state is None or state.status == "submitting"
                                                             or not state.task_id))


_SIBLING_MAX_BYTES = 256 * 1024 * 1024


def folder_elements(store: Store) -> dict[str, ShotState]:
    """The elements the other shot lists of this state's folder have made, by body hash: a cast
    member made by one is reused by all (read from their state files, without their locks)."""
    from .state import SUFFIX, StateError

    found: dict[str, ShotState] = {}
    folder = store.path.parent
    try:
        others = sorted(p for p in folder.glob(f"*{SUFFIX}") if p.resolve() != store.path.resolve())
    except OSError:
        return found
    for path in others:
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > _SIBLING_MAX_BYTES:
                continue  # a FIFO, a device, a folder, a giant: not a state shotlang wrote
            other = Store.read(path, path.name.removesuffix(SUFFIX))
        except (StateError, OSError, ValueError):
            continue  # another list's unreadable state is its own business
        for name in other.names():
            state = other.get(name)
            if (name.startswith("@") and state is not None and state.endpoint == kling.ELEMENTS
                    and state.status == "succeed" and state.element_id is not None):
                found.setdefault(state.body_sha256, state)
    return found


def _ids(store: Store) -> dict[str, list[str]]:
    """The external ids of the state's records, and whose they are."""
    found: dict[str, list[str]] = {}
    for name in store.names():
        state = store.get(name)
        if state is not None and state.external_task_id:
            found.setdefault(state.external_task_id, []).append(name)
    return found


def _asked_no_more(store: Store, listed: set[str], asks: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """The state's records whose request no shot of that name asks for now (the shot is gone
    from the list, renamed, or asks for another body), finished or still generating, by the
    hash of their request: a shot that now asks for that very request takes it over."""
    found: dict[str, list[str]] = {}
    for name in store.names():
        state = store.get(name)
        if state is None or state.status not in ("succeed", *IN_FLIGHT) or state.api_status:
            continue
        if name in listed and (name not in asks or state.body_sha256 in asks[name]):
            continue  # its shot is in the list and still asks for it (or is left out by --only)
        found.setdefault(state.body_sha256, []).append(name)
    return found


def _rendered_as(store: Store, digests: tuple[str, ...], earlier: dict[str, list[str]],
                 adopted: set[str]) -> tuple[str, ShotState] | None:
    """A record of the state whose shot asks no more for this very request (renamed, only its
    case changed, names swapped, or its body changed): its rendered video, still on disk as it
    was saved, is reused; or its task still generating is followed, by one shot only. A record
    no other shot has taken comes first (the takes of a renamed shot each take their own)."""
    names = [name for digest in digests for name in earlier.get(digest, ())]
    for name in sorted(names, key=lambda n: n in adopted):  # stable: the others keep their order
        state = store.get(name)
        if state is None:
            continue
        if state.status == "succeed":
            if state.file and video_matches(store.path.parent / state.file, state):
                return name, state
        elif name not in adopted and (state.task_id or state.external_task_id):
            return name, state
    return None


def reused_ids(plans: list[PlannedShot]) -> list[str]:
    """The shots to submit whose own `id` already names an earlier request's task at Kling (this
    shot's, its body since changed, failed or forced, or another shot's): sent again, the id
    would fetch that request's task, and its video would be saved as this body's."""
    return [p.name for p in plans if p.submits and p.id_used_by is not None]


def _action(state: ShotState | None, digests: tuple[str, ...], video: Path) -> Action:
    if state is None:
        return "new"
    if state.body_sha256 not in digests:
        return "changed"
    if state.status in IN_FLIGHT:
        return "in flight"
    if state.status == "failed":
        return "retry"  # a failed task is not charged, so trying again is cheap
    if state.file is not None and video_matches(video, state):
        return "unchanged"
    return "download"  # missing, replaced, or a symlink now: fetched again, no new generation


def record_task(store: Store, name: str, task: bodies.Task) -> None:
    """What the API said about a shot's task, in its state. A status outside the documented
    four is kept apart (api_status): the shot stays as it was, for the next run to ask again."""
    if task.task_status in kling.TASK_STATUSES:
        store.update(name, task_id=task.task_id, status=task.task_status, status_msg=task.task_status_msg,
                     api_status=None)
    else:
        store.update(name, task_id=task.task_id, api_status=task.task_status,
                     status_msg=f"the API reports `{task.task_status}`, which shotlang does not know")


def external_id(name: str, digest: str, generation: int) -> str:
    """Unique per shot, body and deliberate re-run; short and safe for the API. A name longer
    than 40 characters keeps its start and a digest of the whole, so two long names alike in
    their first 40 characters are two tasks, as two short names are. A cast member's is its
    element's body alone (`cast-<hash>-g1`): two shot lists that cast the same member make one
    element, the second finding the first's task under that id."""
    if name.startswith("@"):
        return f"cast-{digest[:24]}-g{generation}"
    if len(name) > _NAME_IN_ID:
        name = f"{name[:_NAME_IN_ID - 9]}-{hashlib.sha256(name.lower().encode()).hexdigest()[:8]}"
    return f"{name}-{digest[:12]}-g{generation}"


_NAME_IN_ID = 40


def remove_downloads(out_dir: Path, names: list[str], *, mine: bool) -> None:
    """Remove the half-written downloads of these shots: this process's own (mine=True, after
    an interrupt), or those of processes that are gone (a run killed earlier). Another run that
    shares the folder keeps its own."""
    takes = {name.lower() for name in names}
    ours = {target for _, target, _ in partial_files(out_dir)
            if (found := _TAKE_FILE.fullmatch(target)) is not None and found[1].lower() in takes}
    remove_partials(out_dir, ours, mine=mine)


# A shot's video file: castle.mp4, or a take kept beside another file, castle.2.mp4.
_TAKE_FILE = re.compile(r"([A-Za-z0-9_-]+(?:\.take-[1-9][0-9]*)?)(?:\.[0-9]+)?\.mp4")


# --- reporting -------------------------------------------------------------------------------

ShotEvent = Literal["queued", "submitting", "submitted", "processing", "downloading", "done", "failed",
                    "pending", "stopped", "unchanged"]
OutcomeStatus = Literal["done", "unchanged", "failed", "pending", "stopped"]
# Why a run stopped early: the credentials, the account, this machine (disk, permissions), or the user.
StopKind = Literal["auth", "account", "local", "interrupted"]


def _usable_element_id(value: object) -> bool:
    """An element id as Kling gives them: a whole number (not a boolean), or a short id text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 10**20
    return isinstance(value, str) and re.fullmatch(kling.ID_PATTERN, value) is not None


def _shown(value: object) -> str:
    """A value from the server, short and printable, for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _NoSlots:
    """Slots for what takes none of the account's (an element): every call a no-op."""

    def acquire(self) -> None:
        pass

    def release(self) -> None:
        pass

    def accepted(self) -> None:
        pass

    def refused(self) -> bool:
        return True  # refused with no task of ours to wait for: bounded by --timeout


class _Waiting(Exception):
    """What a shot names is not made (a cast member's element, the video it continues): it is not
    sent, and waits for the next run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Reporter(Protocol):
    def event(self, name: str, event: ShotEvent, detail: str = "") -> None: ...

    def retrying(self, name: str | None, retry: Retry) -> None:
        """A request is tried again (network trouble, a busy server): for shot `name`, or for
        the run (the poller's list queries)."""


@dataclass
class Outcome:
    """How one shot ended this run. `pending`: not finished and not failed (still generating
    past --timeout, an answer that could not be read, a status shotlang does not know): the
    next run picks it up where it is, without paying again."""

    name: str
    status: OutcomeStatus
    seconds: float
    file: str | None = None
    reason: str = ""
    task_id: str | None = None


@dataclass
class RunSettings:
    concurrency: int = 4  # tasks generating at once, at most; lowered when the account says 1303
    poll_interval: float = 5.0  # the first wait for a task, until render times are learnt
    poll_max: float = 30.0
    task_timeout: float = 30 * 60.0  # give up waiting for one task after this long (it stays resumable)
    max_video_bytes: int = MAX_VIDEO_BYTES
    request_timeout: float = 30.0  # one list query of the poller, at most


# --- the account's concurrency ---------------------------------------------------------------


class Slots:
    """How many tasks generate at once. Starts at --concurrency; a 1303 answer (the account is
    over its limit) lowers it to what is generating now, so the next create waits for a task to
    finish instead of hammering; after twice that many creates go through, it tries one more."""

    def __init__(self, limit: int, stop: threading.Event) -> None:
        self.ceiling = self.limit = max(1, limit)
        self.running = 0
        self._accepted = 0
        self._stop = stop
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            while self.running >= self.limit:
                if self._stop.is_set():
                    raise Stopped
                self._cond.wait(0.2)
            self.running += 1

    def adopt(self) -> None:
        """A resumed task that is already generating takes a slot without waiting."""
        with self._cond:
            self.running += 1

    def release(self) -> None:
        with self._cond:
            self.running -= 1
            self._cond.notify()

    def accepted(self) -> None:
        with self._cond:
            self._accepted += 1
            if self._accepted >= 2 * self.limit and self.limit < self.ceiling:
                self.limit += 1
                self._accepted = 0
                self._cond.notify()

    def refused(self) -> bool:
        """The account refused a create (1303): give its slot back and lower the limit.
        True if nothing of ours is generating (another client holds the account): wait first."""
        with self._cond:
            self.running -= 1
            self.limit = max(1, self.running)
            self._accepted = 0
            self._cond.notify()
            return self.running == 0


# --- watching tasks in flight ----------------------------------------------------------------


@dataclass(eq=False)
class _Watch:
    endpoint: kling.TaskPath
    task: bodies.Task
    since: float  # when it was known to be generating (local clock)
    due: float  # when to look next
    step: float  # the wait after a look that finds it still running; grows to poll_max
    seen: float  # when a look last found it running
    on_change: Callable[[bodies.Task], None]
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


# An epoch time in milliseconds is at least this (2001-09-09); in seconds, it stays below it until the year 5138.
_EPOCH_MS_FLOOR = 10**11


class Poller:
    """Watches every task in flight. When one is due, one list query per endpoint reads them
    all; a due task missing from the list is queried alone. A task is due when the render time
    learnt from finished tasks says it should be done (at first: --poll-interval after it
    started); a task still running then is looked at again after a short wait that grows."""

    def __init__(self, client: KlingClient, settings: RunSettings, stop: threading.Event,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._settings = settings
        self._stop = stop
        self._clock = clock
        self._cond = threading.Condition()
        self._watches: dict[str, _Watch] = {}
        self._renders: deque[float] = deque(maxlen=32)
        self._expected_from: float | None = None  # the estimate the watches were last scheduled by
        self._thread = threading.Thread(target=self._loop, name="shotlang-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def watch(self, endpoint: kling.TaskPath, task: bodies.Task, on_change: Callable[[bodies.Task], None]) -> _Watch:
        now = self._clock()
        with self._cond:
            estimate = statistics.median(self._renders) if self._renders else None
            first = estimate if estimate is not None else self._settings.poll_interval
            w = _Watch(endpoint, task, now, now + first, self._step(), now, on_change)
            self._watches[task.task_id] = w
            self._cond.notify()
        return w

    def forget(self, w: _Watch) -> None:
        with self._cond:
            if self._watches.get(w.task.task_id) is w:
                del self._watches[w.task.task_id]

    def wait(self, w: _Watch, deadline: float) -> bodies.Task:
        """The task once it is no longer running; raises what the poller met, Stopped, or
        TimedOut at the deadline (the task is left as it is, for the next run)."""
        while not w.done.wait(0.2):
            if self._stop.is_set():
                self.forget(w)
                raise Stopped
            if self._clock() >= deadline:
                self.forget(w)
                raise TimedOut(f"still {w.task.task_status} after {self._settings.task_timeout:g}s; "
                                   "run again to keep waiting (nothing is submitted twice)")
        if w.error is not None:
            raise w.error
        return w.task

    # --- the poller's thread ---

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                now = self._clock()
                if not any(w.due <= now for w in self._watches.values()):
                    nxt = min((w.due for w in self._watches.values()), default=now + 0.5)
                    self._cond.wait(min(max(nxt - now, 0.001), 0.5))
                    continue
                # A task due a moment from now is looked at with this one: one query, not two.
                soon = now + self._step()
                due = [w for w in self._watches.values() if w.due <= soon]
                endpoints = sorted({w.endpoint for w in due})
            for endpoint in endpoints:
                try:
                    self._look(endpoint, [w for w in due if w.endpoint == endpoint])
                except Stopped:
                    return
                except Exception as e:  # credentials or account refused, a full disk: every watcher hears it
                    with self._cond:
                        for w in list(self._watches.values()):
                            self._finish(w, error=e)

    def _look(self, endpoint: kling.TaskPath, due: list[_Watch]) -> None:
        with self._cond:
            watching = [w for w in self._watches.values() if w.endpoint == endpoint]
        size = min(kling.LIST_PAGE_MAX, max(30, 2 * len(watching)))
        seen: dict[str, bodies.Task] = {}
        if len(due) > 1 or len(watching) > 1:  # one task alone is cheaper to query than to list
            try:
                deadline = self._clock() + self._settings.request_timeout
                seen = {t.task_id: t for t in self._client.list(endpoint, 1, size, deadline=deadline)}
            except (GaveUp, TimedOut, ShotError):
                seen = {}  # the list is a shortcut: each due task is asked about alone below
        # Finished tasks first: what they teach about render times schedules the others.
        watching.sort(key=lambda w: (seen[w.task.task_id].task_status in kling.TASK_RUNNING)
                      if w.task.task_id in seen else True)
        for w in watching:
            task = seen.get(w.task.task_id)
            if task is None and w in due:
                task = self._query(w)
            if task is not None:
                self._update(w, task, w in due)

    def _query(self, w: _Watch) -> bodies.Task | None:
        try:
            task = self._client.query(w.endpoint, w.task.task_id,
                                      deadline=self._clock() + self._settings.request_timeout)
        except (GaveUp, TimedOut):
            self._later(w)  # the API is having trouble: look again later, the task is not lost
            return None
        except ShotError as e:
            with self._cond:
                self._finish(w, error=e)
            return None
        if task is None:
            with self._cond:
                self._finish(w, error=ShotError(f"the API no longer knows task {w.task.task_id}; "
                                                "use --force to make it again"))
        return task

    def _update(self, w: _Watch, task: bodies.Task, due: bool) -> None:
        changed = task.task_status != w.task.task_status
        w.task = task
        if changed:
            w.on_change(task)
        if task.task_status in kling.TASK_RUNNING:
            w.seen = self._clock()
            if due or w.due <= w.seen:  # looked at for itself (or a moment early): the next look
                self._later(w)
            return
        if task.task_status in kling.TASK_FINAL and w.endpoint != kling.ELEMENTS:  # elements teach no render time
            self._learn(w, task)
        with self._cond:
            self._finish(w)

    def _step(self) -> float:
        """The first wait after a look finds a task still running when it should be done, and
        how far ahead a look takes in tasks not due yet: 2% of a render, or a quarter of how much
        the renders learnt vary (at most 10% of one), so renders that vary are not asked about
        again and again. Called with the condition held."""
        if not self._renders:
            return max(0.01, 0.1 * self._settings.poll_interval)
        estimate = statistics.median(self._renders)
        varies = max(self._renders) - min(self._renders) if len(self._renders) >= 3 else 0.0
        return max(0.01, 0.02 * estimate, min(varies / 4, 0.1 * estimate))

    def _later(self, w: _Watch) -> None:
        w.due = self._clock() + w.step
        w.step = min(w.step * 1.5, self._settings.poll_max)

    def _expect(self, estimate: float) -> None:
        """A new render time was learnt: each task is looked at when it should be done (soon, if
        that is past), rather than on the schedule it started with. Called with the condition held."""
        now = self._clock()
        soon = now + 0.01 * estimate
        step = self._step()
        for w in self._watches.values():
            # not sooner than a step after a look found it running: that look counts
            expected = max(w.since + estimate, soon, w.seen + step)
            if expected < w.due or w.due <= now:
                w.step = step
                w.due = expected

    def _learn(self, w: _Watch, task: bodies.Task) -> None:
        """The render time of a finished task: from the API's timestamps when they make sense,
        else from what this run saw."""
        render = self._clock() - w.since
        if task.created_at and task.updated_at and task.updated_at > task.created_at:
            # Epoch milliseconds, as Kling documents them. A server that writes whole seconds is
            # read as such, and as the upper end of what they may mean (6 s between two such
            # times is up to 7 s): a render read too short has every task asked about too soon,
            # again and again; one read too long costs only what this run saw anyway.
            if task.created_at < _EPOCH_MS_FLOOR:
                render = min(render, task.updated_at - task.created_at + 1.0)
            else:
                render = min(render, (task.updated_at - task.created_at) / 1000)
            # Never shorter than this run saw it generate: times that say a 1 ms render would
            # have every task asked about at once, again and again.
            render = max(render, w.seen - w.since)
        with self._cond:
            self._renders.append(max(render, 0.0))
            estimate = statistics.median(self._renders)
            # Only when the estimate is new or moved by a tenth: a reschedule costs a query.
            if self._expected_from is None or abs(estimate - self._expected_from) > 0.1 * self._expected_from:
                self._expected_from = estimate
                self._expect(estimate)

    def _finish(self, w: _Watch, error: Exception | None = None) -> None:
        """Called with the condition held."""
        if self._watches.get(w.task.task_id) is w:
            del self._watches[w.task.task_id]
        w.error = error
        w.done.set()


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Runner:
    client: KlingClient
    store: Store
    out_dir: Path
    reporter: Reporter
    settings: RunSettings = field(default_factory=RunSettings)
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.monotonic
    stop_reason: str = ""
    stop_kind: StopKind | None = None
    grace: float = 2.0  # on Ctrl-C, how long to let requests under way finish and be recorded
    slots: Slots = field(init=False)
    poller: Poller = field(init=False)
    _local: threading.local = field(default_factory=threading.local)
    _made: dict[str, threading.Event] = field(default_factory=dict)  # made or given up, by name
    _cast_digests: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = Slots(self.settings.concurrency, self.stop)
        self.poller = Poller(self.client, self.settings, self.stop, self.clock)
        from .fal import FalClient

        if isinstance(self.client, FalClient):
            self.client.ledger = self._fal_ledger

    def _fal_ledger(self, ext: str) -> tuple[set[str], int]:
        """For fal, which keeps no id of ours (fal.Ledger): the request ids the state's records
        hold, and how many records sent what the record under `ext` sent (its endpoint and body
        hash: takes of a shot, twin shots) and hold no request id."""
        states = [state for name in self.store.names() if (state := self.store.get(name)) is not None]
        held = {state.task_id for state in states if state.task_id}
        held.update(task for state in states for task in state.earlier_tasks)  # replaced, still fal's
        mine = next((state for state in states if state.external_task_id == ext), None)
        if mine is None:
            return held, 1
        lost = sum(1 for state in states if state.endpoint == mine.endpoint and state.body_sha256 == mine.body_sha256
                   and state.status == "submitting" and not state.task_id)
        return held, lost

    def current_shot(self) -> str | None:
        """The shot the calling thread works on (None in the poller): who a retry is for."""
        return getattr(self._local, "shot", None)

    def run(self, plans: list[PlannedShot], cast: list[PlannedShot] | None = None) -> list[Outcome]:
        """Run every planned shot, and first the cast members they need (plan_cast): a shot that
        names one waits for its element, the others run meanwhile. Returns the outcomes in order,
        the cast's first. On Ctrl-C (KeyboardInterrupt in the calling thread), asks the workers
        to stop, gives them `grace` seconds, and re-raises: their threads are daemons, so the
        process never waits on a slow server."""
        cast = cast or []
        for plan in (*cast, *plans):
            self.reporter.event(plan.name, "unchanged" if plan.action == "unchanged" else "queued")
        remove_downloads(self.out_dir, [p.name for p in plans], mine=False)  # left by a killed run
        outcomes: dict[str, Outcome] = {}
        # Each cast member and shot of this run: set once made or given up, for those that name it.
        self._made = {p.name: threading.Event() for p in (*cast, *plans)}
        self._cast_digests = {p.name: (p.hash,) for p in cast}
        for plan in cast:
            if plan.taken is not None:  # made by another shot list of the folder: its element is ours too
                self.store.put(plan.name, plan.taken, durable=True)
            if plan.action == "unchanged":
                self._made[plan.name].set()
        for plan in plans:
            if plan.action == "renamed":
                outcomes[plan.name] = self._reuse(plan)
            elif plan.taken is not None:  # a task still generating, followed under its new name
                self.store.put(plan.name, plan.taken, durable=True)
            if plan.action in ("unchanged", "renamed"):
                self._made[plan.name].set()
        # The cast first (its shots wait for it); then tasks already generating: they hold the
        # account's slots until they finish.
        order = {"in flight": 0, "download": 1}
        todo = [p for p in cast if p.action != "unchanged"]
        todo += sorted((p for p in plans if p.action not in ("unchanged", "renamed")),
                       key=lambda p: order.get(p.action, 2))
        queue = deque(todo)
        ready = threading.Condition()
        self.poller.start()

        def waits(plan: PlannedShot) -> bool:
            """What the plan's request names is still being made in this run (a worker would
            only wait for it: it takes the next plan that is ready instead)."""
            if not _sends_body(plan):
                return False
            shot = plan.shot
            return any((made := self._made.get(name)) is not None and not made.is_set()
                       for name in (*shot.cast, *((shot.after,) if shot.after else ())))

        def work() -> None:
            while True:
                with ready:
                    while True:
                        if not queue:
                            return
                        # Once the run stops, each plan left is ended as stopped, in order.
                        plan = queue[0] if self.stop.is_set() else next((p for p in queue if not waits(p)), None)
                        if plan is not None:
                            queue.remove(plan)
                            break
                        ready.wait(0.2)
                try:
                    outcome = self._one(plan)
                finally:
                    made = self._made.get(plan.name)
                    if made is not None:
                        made.set()  # made or not: the shots waiting for it go on
                    with ready:
                        ready.notify_all()
                with ready:
                    outcomes[plan.name] = outcome

        workers = [threading.Thread(target=work, name=f"shotlang-{i}", daemon=True)
                   for i in range(min(len(todo), 2 * self.settings.concurrency + 2))]
        for thread in workers:
            thread.start()
        try:
            for thread in workers:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            self._halt("interrupted", "interrupted")
            end = time.monotonic() + self.grace
            for thread in workers:
                thread.join(max(0.0, end - time.monotonic()))
            remove_downloads(self.out_dir, [p.name for p in todo], mine=True)
            raise
        finally:
            self.stop.set()  # ends the poller
        for plan in (*cast, *plans):
            if plan.action == "unchanged":
                state = plan.state
                outcomes[plan.name] = Outcome(plan.name, "unchanged", 0.0, state.file if state else None,
                                              task_id=state.task_id if state else None)
        return [outcomes[p.name] for p in (*cast, *plans) if p.name in outcomes]

    @property
    def finished(self) -> bool:
        """The run went through every shot: not interrupted, nothing stopped it."""
        return self.stop_kind is None

    def _halt(self, kind: StopKind, reason: str) -> None:
        if self.stop_kind is None:
            self.stop_kind, self.stop_reason = kind, reason
        self.stop.set()

    # --- one shot --------------------------------------------------------------------------

    def _one(self, plan: PlannedShot) -> Outcome:
        start = self.clock()
        held = False
        self._local.shot = plan.name
        try:
            if self.stop.is_set():
                raise Stopped
            if (plan.shot.cast or plan.shot.after) and _sends_body(plan):
                plan = self._resolved(plan)
            task, held, deadline = self._task(plan)
            if task.task_status in kling.TASK_RUNNING:
                task = self.poller.wait(self.poller.watch(plan.endpoint, task,
                                                          lambda t: self._record(plan.name, t)), deadline)
            if held:
                self.slots.release()
                held = False
            if task.task_status == "failed":
                reason = task.task_status_msg or "the task failed"
                self.store.update(plan.name, status="failed", status_msg=reason)
                return self._end(plan, start, "failed", reason, task.task_id)
            if task.task_status != "succeed":
                # Not one of the four documented states (say `canceled`): say so, change nothing,
                # so the next run asks again; --force makes it again if the user wants that.
                reason = (f"the API reports task {task.task_id} as `{task.task_status}`, which shotlang does "
                          f"not know; run again to ask again, or --force {plan.name} to make it again")
                self.store.update(plan.name, status_msg=reason, api_status=task.task_status)
                return self._end(plan, start, "pending", reason, task.task_id)
            if self.stop.is_set():
                raise Stopped
            if plan.endpoint == kling.ELEMENTS:
                return self._element_made(plan, task, start)
            return self._download(plan, task, deadline, start)
        except _Waiting as e:
            self._note(plan.name, e.reason)
            return self._end(plan, start, "pending", e.reason)
        except Stopped:
            return self._end(plan, start, "stopped", f"run stopped: {self.stop_reason}" if self.stop_reason
                             else "run stopped")
        except AuthError as e:
            self._halt("auth", e.message)
            return self._end(plan, start, "failed", e.message)
        except AccountError as e:
            self._halt("account", e.message)
            return self._end(plan, start, "failed", e.message)
        except CreateUnknown as e:
            reason = f"{e.message}; the next run looks it up again (it is not paid for twice)"
            self._note(plan.name, reason)
            return self._end(plan, start, "pending", reason)
        except (GaveUp, TimedOut) as e:
            return self._end(plan, start, "pending", e.message)
        except ShotError as e:
            return self._end(plan, start, "failed", e.message)
        except OSError as e:
            reason = f"cannot write {e.filename or 'a file'}: {e.strerror or e}"
            self._halt("local", reason)
            return self._end(plan, start, "failed", reason)
        except Exception as e:  # a bug of ours must not cost money: stop submitting, keep the state
            reason = f"internal error ({type(e).__name__}: {e}); please report it"
            self._halt("local", reason)
            return self._end(plan, start, "failed", reason)
        finally:
            if held:
                self.slots.release()

    def _task(self, plan: PlannedShot) -> tuple[bodies.Task, bool, float]:
        """The shot's task, created or found again; whether it holds an account slot; and its
        deadline (--timeout from when it got its slot, or was found again)."""
        endpoint = plan.endpoint
        state = plan.state
        deadline = self.clock() + self.settings.task_timeout
        if plan.action == "download" and state is not None and state.task_id:
            task = self.client.query(endpoint, state.task_id, deadline=deadline)
            if task is None:
                raise ShotError("the finished task is no longer known to the API; use --force to make it again")
            return task, False, deadline
        if plan.action == "in flight" and state is not None:
            if state.task_id and state.status != "submitting":
                task = self.client.query(endpoint, state.task_id, deadline=deadline)
                if task is not None:
                    self._record(plan.name, task)
                    return task, self._adopt(task, endpoint), deadline
            # Maybe sent, maybe not (the run stopped between writing the state and learning the
            # answer): the client looks the task up by its id first and creates it only if absent,
            # with its body as it is sent (what it names made first).
            if (plan.shot.cast or plan.shot.after) and not _sends_body(plan):
                plan = self._resolved(plan)
            return self._create(plan, state.external_task_id, maybe_sent=True)
        # new and changed shots have an id of their own (the hash differs); a deliberate
        # re-run of the same body needs the next generation, since the API refuses an old id.
        generation = 1
        if state is not None and plan.action in ("forced", "retry"):
            generation = state.generation + 1
        ext = plan.body.get("external_task_id") or external_id(plan.name, plan.hash, generation)
        return self._create(plan, ext, maybe_sent=False, generation=generation)

    def _resolved(self, plan: PlannedShot) -> PlannedShot:
        """The plan with its body as it is sent, once what it names is made (waiting for what is
        being made in this run): each `@name` of its element_list that cast member's element id;
        the shot it continues as that shot's last frame (`image`) or its video (video_list), and
        its hash then holding that shot's take."""
        shot = plan.shot
        for name in (*shot.cast, *((shot.after,) if shot.after else ())):
            made = self._made.get(name)
            while made is not None and not made.wait(0.2):
                if self.stop.is_set():
                    raise Stopped
        body = dict(plan.body)
        if shot.cast:
            ids: dict[str, int | str] = {}
            for name in shot.cast:
                state = self.store.get(name)
                if state is None or state.status != "succeed" or state.element_id is None:
                    why = state.status_msg if state is not None and state.status_msg else "it is not made"
                    raise _Waiting(f"not submitted: its cast member {name} has no element ({why}); "
                                   "run again once it is made")
                ids[name] = state.element_id
            body["element_list"] = [
                {**e, "element_id": ids.get(str(e.get("element_id")), e.get("element_id"))} if isinstance(e, dict) else e
                for e in body.get("element_list") or ()]
        if shot.after:
            before = self.store.get(shot.after)
            if before is None or before.status != "succeed" or not before.task_id:
                why = before.status_msg if before is not None and before.status_msg else "it is not made yet"
                raise _Waiting(f"not submitted: it continues {shot.after}, whose video is not made ({why}); "
                               "run again once it is")
            body = self._continuing(shot, body, before)
            digest = body_hashes(plan.endpoint, _as_hashed(shot, self._cast_digests, before.task_id))[0]
            plan = replace(plan, hash=digest)
        return replace(plan, shot=shot._replace(body=body))

    def _continuing(self, shot: Shot, body: dict[str, Any], before: ShotState) -> dict[str, Any]:
        """The body of a shot that continues another: from that shot's last frame, read from its
        video on disk (the take its state records), or with that video's address as a reference."""
        mark = after_placeholder(shot_name_of(shot.after))  # compile's: the shot's name, whichever take
        if body.get("image") == mark:
            path = self.store.path.parent / before.file if before.file else None
            if path is None or not video_matches(path, before):
                raise _Waiting(f"not submitted: it starts from the last frame of {shot.after}, whose video is not on "
                               "disk as it was made; run again to fetch it")
            try:
                from .frames import NoFrame, last_frame_png
            except ImportError as e:  # pragma: no cover - frames.py imports PyAV lazily
                raise _Waiting(f"not submitted: {e}") from None
            try:
                frame = last_frame_png(path)
            except NoFrame as e:
                raise _Waiting(f"not submitted: its start is the last frame of {shot.after}: {e}; "
                               f"`run --force {shot_name_of(shot.after)}` makes another take of it") from None
            return {**body, "image": base64.b64encode(frame).decode("ascii")}
        # The video's address as the API gives it now (Kling's addresses expire: the one kept from
        # the download may be dead by now).
        assert before.task_id is not None
        task = self.client.query(before.endpoint, before.task_id, deadline=self.clock() + self.settings.request_timeout)
        videos = task.task_result.videos if task is not None and task.task_result else []
        if not videos:
            raise _Waiting(f"not submitted: the API gives no video of {shot.after} (task {before.task_id}) to refer "
                           f"to; `run --force {shot_name_of(shot.after)}` makes another take of it")
        return {**body, "video_list": [{**v, "video_url": videos[0].url} if isinstance(v, dict) and
                                       v.get("video_url") == mark else v for v in body.get("video_list") or ()]}

    def _element_made(self, plan: PlannedShot, task: bodies.Task, start: float) -> Outcome:
        """A cast member's element is made: its id, kept for every shot that names it. An answer
        without a usable id, for an element of another name, or with the id another cast member
        has, fails the element (the next run makes it again), and no shot is sent with it."""
        elements = task.task_result.elements if task.task_result else []
        made = elements[0] if elements else None
        element_id = made.element_id if made is not None else None
        named = made.element_name if made is not None else None
        others = {state.element_id for name in self.store.names() if name.startswith("@") and name != plan.name
                  and (state := self.store.get(name)) is not None and state.element_id is not None}
        problem = ""
        if not _usable_element_id(element_id):
            problem = f"the API gave no element id shotlang can use ({_shown(element_id)})"
        elif named is not None and named != plan.body.get("element_name"):
            problem = f"the API answered with an element named {_shown(named)}, not {plan.body.get('element_name')!r}"
        elif element_id in others:
            problem = f"the API gave element {element_id}, which another cast member has"
        if problem:
            reason = f"{problem}; run again to make it again"
            self.store.update(plan.name, status="failed", status_msg=reason, durable=True)
            raise ShotError(reason)
        self.store.update(plan.name, status="succeed", element_id=element_id, durable=True)
        self.reporter.event(plan.name, "done", f"element {element_id}")
        return Outcome(plan.name, "done", self.clock() - start, task_id=task.task_id)

    def _adopt(self, task: bodies.Task, endpoint: str = "") -> bool:
        if task.task_status not in kling.TASK_RUNNING or endpoint == kling.ELEMENTS:
            return False
        self.slots.adopt()
        return True

    def _create(self, plan: PlannedShot, ext: str, *, maybe_sent: bool,
                generation: int | None = None) -> tuple[bodies.Task, bool, float]:
        """Create the task under `ext`, waiting for a free slot; returns it with the slot held,
        and its deadline (--timeout from when it first got a slot)."""
        body = plan.body if plan.body.get("external_task_id") else {**plan.body, "external_task_id": ext}
        # An element is made beside the account's videos: it takes none of their slots.
        slots: Slots | _NoSlots = self.slots if plan.endpoint != kling.ELEMENTS else _NoSlots()
        shut_out: float | None = None  # since when the account refuses us with none of ours generating
        deadline: float | None = None
        while True:
            slots.acquire()
            if self.stop.is_set():
                slots.release()
                raise Stopped
            if deadline is None:
                deadline = self.clock() + self.settings.task_timeout
                if generation is not None:
                    try:  # on disk (fsynced) before anything is sent: whatever happens next, the id is known
                        self._submitting(plan, ext, generation)
                    except BaseException:
                        slots.release()
                        raise
            self.reporter.event(plan.name, "submitting")
            try:
                # A writer's own id on a first create: a task it already names is not this one.
                task = self.client.create(plan.endpoint, body, maybe_sent=maybe_sent, deadline=deadline,
                                          adopt=maybe_sent or not plan.body.get("external_task_id"))
            except OverConcurrency as e:
                maybe_sent = maybe_sent or e.maybe_created
                if not slots.refused():
                    shut_out = None  # a task of ours will end and free the account: wait for it
                    continue
                # Another client holds the account: waiting on it is bounded by --timeout too.
                shut_out = self.clock() if shut_out is None else shut_out
                if self.clock() - shut_out + self.settings.poll_interval >= self.settings.task_timeout:
                    raise TimedOut(f"the account stayed over its concurrency ({e.message}) for "
                                   f"{self.settings.task_timeout:g}s with none of this run's tasks "
                                   "generating; run again later (nothing is submitted twice)") from None
                self.client.wait(self.settings.poll_interval)
                continue
            except (ShotError, AccountError, AuthError) as e:
                slots.release()
                if not e.maybe_created:  # a stated refusal: no task under this id, nothing charged
                    self.store.update(plan.name, status="failed", status_msg=f"not submitted: {e.message}")
                raise
            except BaseException:
                slots.release()
                raise
            try:
                self._record(plan.name, task)
            except BaseException:
                slots.release()
                raise
            slots.accepted()
            return task, slots is self.slots, deadline

    def _submitting(self, plan: PlannedShot, ext: str, generation: int) -> None:
        # A take --force adds is pending before its record is written: the same command again goes
        # on with it (with no record yet, it is the same take number again), never adds another.
        if plan.shot.forced:
            self.store.set_pending_force(plan.shot.shot, plan.shot.take)
        before = self.store.get(plan.name)
        earlier = [*before.earlier_tasks, *([before.task_id] if before.task_id else [])] if before is not None else []
        self.store.put(plan.name, ShotState(body_sha256=plan.hash, endpoint=plan.endpoint,
                                            external_task_id=ext, generation=generation, status="submitting",
                                            superseded=_superseded(before), earlier_tasks=earlier[-16:]),
                       durable=True)

    def _record(self, name: str, task: bodies.Task) -> None:
        record_task(self.store, name, task)
        if task.task_status in kling.TASK_RUNNING:
            event: ShotEvent = "submitted" if task.task_status == "submitted" else "processing"
            self.reporter.event(name, event, task.task_id)

    def _note(self, name: str, message: str) -> None:
        if self.store.get(name) is not None:
            self.store.update(name, status_msg=message)

    def _download(self, plan: PlannedShot, task: bodies.Task, deadline: float, start: float) -> Outcome:
        videos = task.task_result.videos if task.task_result else []
        if not videos:
            raise ShotError("the task succeeded but the API gave no video")
        url = videos[0].url
        before = self.store.get(plan.name)
        self.store.update(plan.name, status="succeed", result_url=url,
                          credits=None if task.final_unit_deduction is None else str(task.final_unit_deduction))
        target = video_path(self.out_dir, plan.name)
        kept = ""
        if (target.exists() or target.is_symlink()) and not self._this_take(target, before, task):
            # A file there that this shot's state does not prove is this very take (an earlier
            # take, paid for; a file of the writer's; another run's): never replaced.
            kept, target = os.path.relpath(target, self.store.path.parent), _beside(target)
        self.reporter.event(plan.name, "downloading")
        try:
            size, sha256 = self.client.download(url, target, max_bytes=self.settings.max_video_bytes,
                                                deadline=deadline)
        except OSError as e:
            raise OSError(e.errno, e.strerror, e.filename or str(target)) from None
        shown = os.path.relpath(target, self.store.path.parent)
        self.store.update(plan.name, file=shown, bytes=size, sha256=sha256, mtime_ns=target.stat().st_mtime_ns)
        said = f"{shown} (beside {kept}, which is not this take's video: kept as it was)" if kept else shown
        self.reporter.event(plan.name, "done", said)
        return Outcome(plan.name, "done", self.clock() - start, shown, task_id=task.task_id)

    def _reuse(self, plan: PlannedShot) -> Outcome:
        """A renamed shot: the video its old name rendered for this very request, linked (or
        copied) under its new name, and its record with it. Nothing is sent."""
        start = self.clock()
        old = plan.taken  # as planned: another renamed shot may have taken its name since
        assert old is not None and old.file
        source = self.store.path.parent / old.file
        target = video_path(self.out_dir, plan.name)
        if target.exists() or target.is_symlink():
            target = _beside(target)
        try:
            try:
                os.link(source, target)
            except OSError:  # another file system, or no hard links there: a copy, written whole
                with atomic_file(target) as f, open(source, "rb") as src:
                    shutil.copyfileobj(src, f)
        except OSError as e:
            raise OSError(e.errno, e.strerror, e.filename or str(target)) from None
        shown = os.path.relpath(target, self.store.path.parent)
        self.store.put(plan.name, old.model_copy(update={"file": shown, "mtime_ns": target.stat().st_mtime_ns}),
                       durable=True)
        said = f"{shown} (renamed from {plan.renamed_from}: its video, nothing paid)"
        self.reporter.event(plan.name, "done", said)
        return Outcome(plan.name, "done", self.clock() - start, shown, task_id=old.task_id)

    def _this_take(self, path: Path, state: ShotState | None, task: bodies.Task) -> bool:
        """`path` is the video this shot's state records for this same task: replacing it with the
        same task's video loses nothing."""
        if state is None or state.task_id != task.task_id or not state.file or not state.sha256:
            return False
        return (self.store.path.parent / state.file) == path and video_matches(path, state)

    def _end(self, plan: PlannedShot, start: float, status: OutcomeStatus, reason: str,
             task_id: str | None = None) -> Outcome:
        event: ShotEvent = "pending" if status == "pending" else "stopped" if status == "stopped" else "failed"
        self.reporter.event(plan.name, event, reason)
        return Outcome(plan.name, status, self.clock() - start, reason=reason, task_id=task_id)


# --- takes on disk ---------------------------------------------------------------------------


def arrange(store: Store, out_dir: Path, plans: list[PlannedShot],
            asked: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """Each shot's chosen take as `<shot>.mp4`, the others as `<shot>.take-k.mp4` (`pick`): files
    moved, never replaced or deleted, the state following each move (fsynced). Only takes of the
    request as it is now count (`asked`: runner.asked_digests; else each plan's hash); a video an
    earlier request of a take left where a take goes is moved aside (`<shot>.superseded.mp4`,
    ...), and any other file there (the writer's own) stays, and so the take stays where it is.
    Returns what was done, one line each, for the report."""
    said: list[str] = []
    by_shot: dict[str, list[PlannedShot]] = {}
    for plan in plans:
        if plan.endpoint != kling.ELEMENTS:
            by_shot.setdefault(plan.shot.shot, []).append(plan)
    for shot, takes in by_shot.items():
        if len(takes) > 1 or takes[0].shot.pick != 1:  # one take, the first: where it always was
            said += _arrange_shot(store, out_dir, shot, takes, asked or {})
    return said


def _superseded(before: ShotState | None) -> list[str]:
    """What a record's earlier takes left on disk, for the record that replaces it."""
    if before is None:
        return []
    kept = list(before.superseded)
    if before.status == "succeed" and before.file and before.sha256:
        kept.insert(0, f"{before.sha256} {before.file}")
    return kept[:_SUPERSEDED_KEPT]


_SUPERSEDED_KEPT = 16


def _arrange_shot(store: Store, out_dir: Path, shot: str, takes: list[PlannedShot],
                  asked: Mapping[str, tuple[str, ...]]) -> list[str]:
    said: list[str] = []
    pick = takes[0].shot.pick
    made: dict[int, Path] = {}  # take -> where its video is, as the state proves it
    old: set[tuple[str, str]] = set()  # (sha256, file) the takes' earlier requests left
    for plan in takes:
        state = store.get(plan.name)
        if state is None:
            continue
        old |= {tuple(entry.split(" ", 1)) for entry in state.superseded if " " in entry}  # type: ignore[misc]
        if state.status == "succeed" and state.file and state.body_sha256 in asked.get(plan.name, (plan.hash,)):
            where = store.path.parent / state.file
            if where.parent.resolve() == out_dir.resolve() and video_matches(where, state):
                made[plan.shot.take] = where
    if pick not in made:
        return said  # the chosen take is not made yet (or not here): the next run arranges it
    home = video_path(out_dir, shot)
    names = {take: out_dir / f"{shot}{TAKE_MARK}{take}.mp4" for take in made}
    for place in (home, *names.values()):  # a second link a move cut short left (its record names the other)
        if (place.is_file() and not place.is_symlink() and place not in made.values()
                and any(os.path.samefile(where, place) for where in made.values())):
            os.unlink(place)

    def move(take: int, target: Path) -> None:
        _move(store, take_name(shot, take), made[take], target)
        said.append(f"{shot}: take {take} is {target.name}")
        made[take] = target

    def clear(target: Path) -> bool:
        """Whether `target` is free, once a link a cut-short move left there is gone and a video
        of an earlier request is moved aside."""
        if not (target.exists() or target.is_symlink()):
            return True
        if target.is_symlink() or not target.is_file():
            return False
        if any(where != target and os.path.samefile(where, target) for where in made.values()):
            os.unlink(target)  # a second link to a take's video, its record naming the other
            return True
        if any(where == target for where in made.values()):
            return False
        shown = os.path.relpath(target, store.path.parent)
        if any(file == shown for _, file in old) and (file_sha256(target), shown) in old:
            aside = _free(out_dir / f"{shot}.superseded.mp4")
            os.rename(target, aside)
            said.append(f"{shot}: {target.name}, a take of its earlier request, is {aside.name}")
            return True
        return False

    if made[pick] != home:
        holder = next((k for k, where in made.items() if where == home), None)
        if holder is not None:  # another take is there: to its own name first
            move(holder, names[holder] if clear(names[holder]) else _free(names[holder]))
        if not clear(home):
            return [*said, f"{shot}: {home.name} is none of its takes, and stays; the chosen take {pick} is "
                           f"{made[pick].name}"]
        move(pick, home)
    for take, where in sorted(made.items()):
        if take != pick and where != names[take] and clear(names[take]):
            move(take, names[take])
    return said


def _free(target: Path) -> Path:
    return target if not (target.exists() or target.is_symlink()) else _beside(target)


def _move(store: Store, name: str, source: Path, target: Path) -> None:
    """A take's video from `source` to `target`, which is free: linked there, the state updated
    (fsynced), then unlinked here. A crash in between leaves a second link to the same video,
    which the next arrange removes; never a state that names a file that is gone."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise OSError(f"{target} appeared while takes were arranged") from None
    except OSError:  # no hard links here: renamed (free a moment ago; the state's lock is held)
        if target.exists() or target.is_symlink():
            raise
        os.rename(source, target)
        store.update(name, file=os.path.relpath(target, store.path.parent), mtime_ns=target.stat().st_mtime_ns,
                     durable=True)
        return
    store.update(name, file=os.path.relpath(target, store.path.parent), mtime_ns=target.stat().st_mtime_ns,
                 durable=True)
    os.unlink(source)
