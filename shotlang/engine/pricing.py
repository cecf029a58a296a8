"""Estimates: what a run would submit and what it would cost, from the price table."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..config import Config
from .runner import PlannedShot, reused_ids


@dataclass
class Estimate:
    generations: int = 0
    credits: float = 0.0
    usd: float = 0.0
    # The same in decimal (credits to 6 places, as prices are written), for `--max-cost`: $1.40
    # is $1.40, not 1.4000000000000001 of binary floating point.
    exact_credits: Decimal = Decimal(0)
    exact_usd: Decimal = Decimal(0)
    # Shots whose create was sent and never answered (a crash, the network): the next run looks
    # them up, and creates them if the API has no such task. Counted in the totals above.
    unanswered: list[str] = field(default_factory=list)
    seconds: Counter[tuple[str, str]] = field(default_factory=Counter)  # (model, mode) -> seconds
    unpriced: list[str] = field(default_factory=list)  # models with no price for a shot to submit
    unpriced_shots: list[str] = field(default_factory=list)  # those shots: not in the total
    assumed: dict[str, list[str]] = field(default_factory=dict)  # model -> how its estimates were made
    # Of the above, what a backend that prices in money (fal) asks, in US$ at its own prices.
    backend_usd: Decimal = Decimal(0)


def money(value: float) -> Decimal:
    """A price or a sum of them as the decimal it was written as (prices have at most a few
    places; 6 keeps every one and drops binary floating point's noise)."""
    return Decimal(repr(round(value, 6)))


def unanswered(plan: PlannedShot) -> bool:
    """A create was sent for this body and no answer read: it may be paid, or be sent again."""
    state = plan.state
    return plan.action == "in flight" and state is not None and state.status == "submitting" and not state.task_id


def estimate(plans: list[PlannedShot], config: Config) -> Estimate:
    est = Estimate()
    for plan in plans:
        if not plan.submits and not unanswered(plan):
            continue
        if not plan.submits:
            est.unanswered.append(plan.name)
        model = plan.model
        est.generations += 1
        est.seconds[(model, plan.mode)] += int(plan.seconds)
        if plan.backend != "kling":  # priced in US$ by the backend (fal), not in Kling's credits
            if plan.usd is None:
                if model not in est.unpriced:
                    est.unpriced.append(model)
                est.unpriced_shots.append(plan.name)
            else:
                est.backend_usd += money(plan.usd)
            continue
        if plan.credits is None:
            if model not in est.unpriced:
                est.unpriced.append(model)
            est.unpriced_shots.append(plan.name)
            continue
        est.exact_credits += money(plan.credits)
        if not plan.price_published:
            how = est.assumed.setdefault(model, [])
            if plan.priced_as and plan.priced_as not in how:
                how.append(plan.priced_as)
    est.exact_usd = est.exact_credits * money(config.usd_per_credit) + est.backend_usd
    est.credits, est.usd = float(est.exact_credits), float(est.exact_usd)
    return est


def _credits(plan: PlannedShot) -> str:
    if not plan.submits:
        return "-"
    if plan.backend != "kling":
        return "unknown" if plan.usd is None else f"${plan.usd:.2f}"
    if plan.credits is None:
        return "unknown"
    return f"{plan.credits:g}" + ("*" if not plan.price_published else "")


def plan_table(plans: list[PlannedShot], est: Estimate, cast: list[PlannedShot] | None = None) -> str:
    on_fal = any(p.backend != "kling" for p in plans)
    rows = [("SHOT", "ACTION", "MODEL", "MODE", "LENGTH", "AUDIO", "MOVES", "PRICE" if on_fal else "CREDITS")]
    rows += [(p.name, p.action, p.model, p.mode, f"{p.seconds}s", _audio(p),
              p.shot.moves or "-", _credits(p)) for p in plans]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append("")
    lines.append(f"{est.generations} generation{'s' * (est.generations != 1)} to submit, "
                 f"{len(plans) - est.generations} already submitted")
    if est.unanswered:
        lines.append(f"  of them {some_names(est.unanswered)}: sent before and never answered; looked up first, "
                     "created again (and paid) only if the API has no such task")
    for (model, mode), seconds in sorted(est.seconds.items()):
        lines.append(f"  {model} {mode}: {seconds} s of video")
    floor = "at least " if est.unpriced else ""  # the shots with no known price are not in it
    if est.unpriced and not est.usd:  # every shot to submit unpriced: nothing to add up
        lines.append("estimated cost: unknown")
    elif on_fal:
        lines.append(f"estimated cost: {floor}${est.usd:.2f} at fal's prices (each app's row in the capability "
                     "matrix, with its source)")
    else:
        lines.append(f"estimated cost: {floor}{est.credits:g} credits (about ${est.usd:.2f})")
    if est.assumed:
        priced = ", ".join(f"{m} ({'; '.join(a)})" if a else m for m, a in est.assumed.items())
        lines.append(f"* estimated, no price written for {priced}; set real prices in shotlang-models.toml or "
                     "the config file (docs/running.md)")
    if est.unpriced and on_fal:
        lines.append(f"unknown: fal's pages give no price for the apps of {some_names(est.unpriced_shots)} "
                     f"({', '.join(est.unpriced)}), which the total leaves out; give one as `prices` in the app's "
                     "row in shotlang-models.toml (docs/kling-mapping.md, fal), as fal's pricing page or API "
                     "(GET https://api.fal.ai/v1/models/pricing) gives it for your account")
    elif est.unpriced:
        lines.append(f"unknown: no price is known for {', '.join(est.unpriced)} in the mode, length and audio of "
                     f"{some_names(est.unpriced_shots)}, which the total leaves out; give one in shotlang-models.toml "
                     "or the config file (docs/running.md)")
    for plan in plans:
        if plan.renamed_from is not None and plan.action == "renamed":
            lines.append(f"{plan.name}: renamed from {plan.renamed_from}: its video is this request's, reused: 0 credits")
        elif plan.renamed_from is not None:
            lines.append(f"{plan.name}: renamed from {plan.renamed_from}: its task, still generating, is this "
                         "request's and is followed: 0 credits")
    reused = reused_ids(plans)
    if reused:
        lines.append(f"refused: {some_names(reused)} keep an `id` for a new request that an earlier one used; "
                     "that id names the earlier request's task at Kling, so `run` sends nothing: give a new `id` "
                     "or remove it")
    words = [p.name for p in plans if p.shot.moves == "words"]
    if words:
        lines.append(f"moves as words: {some_names(words)} (no camera_control there, or `moves words`; "
                     "`moves` in docs/language.md)")
    if cast:
        said = ", ".join(f"{p.name} {_cast_action(p)}" for p in cast)
        lines.append(f"cast: {said} (elements, made once and not billed; a shot that names one waits for it)")
    return "\n".join(lines)


def _cast_action(plan: PlannedShot) -> str:
    """What `run` does about a cast member's element, in words."""
    if plan.taken is not None:
        return "made by another shot list here: reused"
    return {"unchanged": "made", "new": "to make", "changed": "changed: to make again", "retry": "failed: to make again",
            "in flight": "being made", "download": "made: its id to fetch"}.get(plan.action, plan.action)


def some_names(names: list[str], shown: int = 8) -> str:
    """`a, b, c` or `a, b, c and 5 more`."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _audio(plan: PlannedShot) -> str:
    """What the body asks of audio, as prices tell it apart: -, sound, voice."""
    return plan.audio or "-"


def plan_json(plans: list[PlannedShot], est: Estimate, cast: list[PlannedShot] | None = None) -> str:
    return json.dumps({
        "cast": [{"cast": p.name.removeprefix("@"), "action": p.action, "reused": p.taken is not None}
                 for p in cast or ()],
        "shots": [{"shot": p.name, "action": p.action, "backend": p.backend, "model": p.model, "mode": p.mode,
                   "duration": p.seconds, "audio": p.audio or None, "moves": p.shot.moves or None,
                   "credits": (p.credits if p.submits else 0),
                   **({"usd": p.usd if p.submits else 0} if p.backend != "kling" else {}),
                   "price_known": (p.usd if p.backend != "kling" else p.credits) is not None,
                   "price_published": p.price_published,
                   **({"renamed_from": p.renamed_from} if p.renamed_from else {})} for p in plans],
        "generations": est.generations,
        "seconds": [{"model": m, "mode": mode, "seconds": s} for (m, mode), s in sorted(est.seconds.items())],
        "credits": est.credits,
        "usd": round(est.usd, 2),
        "assumed_prices": list(est.assumed),
        "unpriced": est.unpriced,
        "unpriced_shots": est.unpriced_shots,
        "unanswered_shots": est.unanswered,
    }, indent=2)
