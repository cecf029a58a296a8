"""Checking a shot list again after each edit, in the time between two keystrokes.

analyse() (compiler/pipeline.py) reads a file statement by statement: each statement is parsed, then
fed to the Lowering (which carries MODEL, DEFAULTS, AXES, BACKEND, SCENE, TITLE and an open
SEQUENCE down the file) and its shots to the Checker (which remembers the shot names, for duplicates).
LiveCheck runs exactly those steps and keeps what each one took and gave: its statement's
place, what it reported, the shot names it looked up and added, the offsets whose line numbers
it asked for (a message says "on line 12"), and the lowering's state after it.

After an edit, the statements before it keep their outcome; the statements the edit touched
are read again; after it, a statement is read again only if something it depends on differs:
the lowering's state before it, what its shot names find (a renamed shot makes a later one a
duplicate, or no longer one), the statement it may continue (parse errors look back at it), or,
when the edit added or removed lines, a line number that went into a message. The others keep
their diagnostics, moved by the edit's length. So typing in a shot costs about as much as
reading that shot, and the diagnostics stay exactly those analyse() gives for the same text
(tests/test_lsp_live.py edits files at random and compares).

Moving an outcome is lazy: a statement after the edit has its place moved at once, and its
state and what it reported and looked up only when someone needs them (`_current`, through
the log of edits since it was read). An edit in a 1,000-shot file touches a few steps' details.

What this cannot see: an image file changed on disk. An image is looked at again when its shot
is read again, and everything is read afresh by refresh() (the server calls it when the file
is saved). The models files are looked at on every edit, and a change to them reads everything.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields, is_dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from ...compiler import checks, lower, parser
from ...compiler import syntax as ast
from ...compiler.diagnostics import Diagnostic, Related
from ...compiler.fal import take_fal
from ...compiler.images import ImageStore
from ...compiler.models import for_folder
from ...compiler.pipeline import (
    RELATED_SHOWN,
    Disputes,
    analyse_bytes,
    conclude,
    control_characters,
    unclosed,
)
from ...compiler.source import BOM, Source, Span
from ...compiler.trivia import Masked, mask, remask
from ...compiler.vocabulary import Move

# A place an edit removed: a span or offset that no longer exists, equal to none that does.
GONE = -1
# Edits kept in the log before the file is read afresh (a save does it too): a step's details
# are moved through the log when needed, which should stay short.
MOST_EDITS = 2000


@dataclass(eq=False)
class LiveSource(Source):
    """A Source whose text is replaced at each edit (every span of the file keeps pointing at
    it), and which notes the offsets whose line numbers are asked for while `asked` is a list."""

    asked: list[int] | None = field(default=None, repr=False)

    def line_of(self, offset: int) -> int:
        if self.asked is not None:
            self.asked.append(offset)
        return super().line_of(offset)

    def line_bounds(self, line: int) -> tuple[int, int]:
        # A line number asked for only to find that line's text (a statement's indent, in
        # lower.py) is not one a message shows: it does not make the step depend on numbering.
        asked = self.asked
        if asked and super().line_of(asked[-1]) == line:
            asked.pop()
        return super().line_bounds(line)

    def replace_text(self, text: str, edit: Edit | None = None) -> None:
        """The text, now `text`; with `edit` (what made it from the text before), the line starts
        already counted are moved rather than counted again (a message's "line 12" asks)."""
        starts = self._line_starts
        self.text = text
        if edit is None or not starts:
            self._line_starts = []
            return
        first, last = bisect.bisect_right(starts, edit.start), bisect.bisect_right(starts, edit.end)
        added = []
        at = text.find("\n", edit.start, edit.new_end)
        while at != -1:
            added.append(at + 1)
            at = text.find("\n", at + 1, edit.new_end)
        delta = edit.delta
        self._line_starts = starts[:first] + added + [s + delta for s in starts[last:]]


# What the lowering carries between statements (its public incremental interface).
State = lower.LoweringState


# checks.Checker's fields, which a step keeps: tests/test_lsp_live.py holds these equal to what
# a Checker has (and lower.LOWERING_CARRIED and LOWERING_FIXED to what a Lowering has).
LOWERING_STATE, LOWERING_FIXED = lower.LOWERING_CARRIED, lower.LOWERING_FIXED
CHECKER_FIELDS = ("base_dir", "images", "models", "seen")
# And what a Checker keeps that is no state: its check functions, and the model checks' answers
# by their inputs (the same whatever the statement, so a step needs none of them).
CHECKER_MEMOS = ("runs", "passed")


@dataclass(slots=True, eq=False)
class Step:
    """One statement read: what it took and what it gave."""

    start: int  # the statement's place in the text (statement_chunks), kept current
    end: int
    version: int  # how many edits of the log the four fields below have been moved through
    report: list[Diagnostic]  # what reading it reported, in order
    looked: tuple[tuple[str, ast.Word | None], ...]  # shot names it looked up, and what each found
    added: tuple[tuple[str, ast.Word], ...]  # shot names it saw first
    asked: tuple[int, ...]  # offsets whose line numbers it asked for
    state: State  # the lowering's, after it
    state_version: int  # how many edits of the log `state` has been moved through
    previous: Step | None  # after it, the statement the next one may continue (parse errors)
    shots: int  # the shots it counted
    shots_before: int  # the shots counted before it
    # Its W108s (not in `report`: a large file may have one a shot, and all are one warning, so
    # they are summed up rather than moved through each edit): their messages in order, whether
    # one is about a camera move, where those in the statement are (from its start: they move
    # with it), and those elsewhere (a value it inherits), moved as `report` is.
    disputed: tuple[str, ...] = ()
    camera: bool = False
    own: tuple[tuple[int, int], ...] = ()
    elsewhere: tuple[Diagnostic, ...] = ()
    # What it reported, when all of it points into the statement and nowhere else (then `report`
    # is empty): code, message, hint and place from its start, made into diagnostics where they
    # are now when asked for, rather than moved through each edit.
    inside: tuple[tuple[str, str, str, int, int], ...] = ()
    dropped: bool = False  # no longer one of the file's steps (LiveCheck's indexes skip it)


class _Names(dict[str, "ast.Word | Step"]):
    """Checker.seen: the first Word of each shot name, or the step that added it (its Word is
    taken from there when asked for). While `looked` and `added` are lists, it notes what the
    checker looks up and adds."""

    def __init__(self, live: LiveCheck, before: int = GONE) -> None:
        super().__init__()
        self.live = live
        self.looked: list[tuple[str, ast.Word | None]] | None = None
        self.added: list[tuple[str, ast.Word]] | None = None
        # The names of the steps that start before this offset are not copied in: they are found
        # where they are asked for, in the steps' index (LiveCheck._first_adder).
        self.before = before

    def word(self, key: str) -> ast.Word | None:
        found = dict.get(self, key)
        if found is None and self.before != GONE:
            found = self.live._first_adder(key, self.before)
        if isinstance(found, Step):
            self.live._current(found)
            return next(w for k, w in found.added if k == key)
        return found

    def __contains__(self, key: object) -> bool:
        found = self.word(key) if isinstance(key, str) else None
        if self.looked is not None:
            self.looked.append((str(key), found))
        return found is not None

    def __getitem__(self, key: str) -> ast.Word:
        found = self.word(key)
        if found is None:
            raise KeyError(key)
        if self.looked is not None:
            self.looked.append((key, found))
        return found

    def __setitem__(self, key: str, value: ast.Word | Step) -> None:
        if self.added is not None and isinstance(value, ast.Word):
            self.added.append((key, value))
        super().__setitem__(key, value)


class Edit(NamedTuple):
    """text[start:end] of the old text became `length` characters of the new."""

    start: int
    end: int
    length: int

    @property
    def delta(self) -> int:
        return self.length - (self.end - self.start)

    @property
    def new_end(self) -> int:
        return self.start + self.length

    def offset(self, at: int) -> int:
        """Where an offset of the old text is in the new; GONE if the edit replaced it."""
        if at < self.start:
            return at
        if at >= self.end:
            return at + self.delta
        return GONE

    def span(self, span: Span) -> Span:
        start, end = span.start, span.end
        if end <= self.start and start <= end:
            return span
        if start >= self.end:
            delta = self.delta
            return Span(start + delta, end + delta, span.source)
        return Span(GONE, GONE, span.source)


def _moved(value: Any, edit: Edit, memo: dict[int, Any]) -> Any:
    """`value` (a state, a syntax node, a settings object) with each span moved by the edit;
    `memo` keeps what was moved already (states are shared by many steps)."""
    if isinstance(value, Span):
        return edit.span(value)
    if value is None or isinstance(value, str | int | float | Enum | Move):
        return value
    found = memo.get(id(value))
    if found is not None:
        return found[1]
    moved: Any
    if isinstance(value, tuple):
        items = [_moved(v, edit, memo) for v in value]
        moved = type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    elif isinstance(value, list):
        moved = [_moved(v, edit, memo) for v in value]
    elif isinstance(value, dict):
        moved = {k: _moved(v, edit, memo) for k, v in value.items()}
    elif is_dataclass(value) and not isinstance(value, type):
        moved = replace(value, **{f.name: _moved(getattr(value, f.name), edit, memo)
                                  for f in fields(value) if f.init})
    else:
        raise TypeError(f"cannot move a {type(value).__name__} through an edit")
    memo[id(value)] = (value, moved)  # the original kept alive, so its id is not reused
    return moved


def _moved_diagnostic(d: Diagnostic, edit: Edit) -> Diagnostic:
    related = tuple(Related(edit.span(r.span), r.message) for r in d.related)
    return d._replace(span=edit.span(d.span), related=related)


class LiveCheck:
    """One open shot list: its text, and its diagnostics as analyse() gives them, kept up to
    date through edits. `name` is what diagnostics call it, `base_dir` its folder (images and
    shotlang-models.toml are looked for there)."""

    def __init__(self, text: str, name: str, base_dir: Path) -> None:
        self.name = name
        self.base_dir = base_dir
        self.text = text  # the document's, with its byte-order mark if it has one
        self.controls: list[int] | None = None  # where the text has control characters (E002)
        self.source = LiveSource(text.removeprefix(BOM), name)
        self.models, self.model_problems = for_folder(base_dir)
        self.steps: list[Step] = []
        self.log: list[Edit] = []  # the edits since the last refresh
        self.diagnostics: list[Diagnostic] = []
        self.reused = 0  # statements whose outcome the last edit kept
        self.refresh()

    @property
    def bom(self) -> int:
        """1 if the document starts with a byte-order mark: analyse reads the text after it, so
        a span's offsets are one less than the document's."""
        return 1 if self.text.startswith(BOM) else 0

    # --- reading everything ------------------------------------------------------------------

    def refresh(self) -> list[Diagnostic]:
        """Read the whole file again (its models files and images too)."""
        self.models, self.model_problems = for_folder(self.base_dir)
        self._read(self.text.removeprefix(BOM))
        self.log = []
        self._moves: dict[int, dict[int, Any]] = {}  # by edit: what states it moved (see _moved)
        self.reused = 0
        self._images = ImageStore()
        self._initial = lower.Lowering([], models=self.models).state()
        # Indexes of the steps, by what they did: the names each added and looked up, and those
        # that asked for line numbers (entries of dropped steps are skipped, and pruned).
        self._adders: dict[str, list[Step]] = {}
        self._lookers: dict[str, list[Step]] = {}
        self._asking: list[Step] = []
        if "\0" in self.text:  # the text as written: the parser's has its comments and notes blanked
            return self._not_text()
        lowering, checker = self._fresh(_Names(self))
        steps: list[Step] = []
        last: Step | None = None
        for start, end in parser.statement_chunks(self.source.text):
            last = self._run(start, end, lowering, checker, last)
            steps.append(last)
        self.steps = steps
        return self._conclude(lowering, checker)

    def _not_text(self) -> list[Diagnostic]:
        """A NUL in the text: as `check` reads the file's bytes, one E001 and nothing else."""
        data = self.text.removeprefix(BOM).encode("utf-8", "replace")
        self.steps = []
        self.diagnostics = analyse_bytes(data, self.name, self.base_dir, models=self.models).diagnostics
        return self.diagnostics

    def _fresh(self, names: _Names) -> tuple[lower.Lowering, checks.Checker]:
        lowering = lower.Lowering([], models=self.models)
        checker = checks.Checker(self.base_dir, self._images, self.models)
        checker.seen = names  # type: ignore[assignment]  # a dict of Words, as far as it can tell
        return lowering, checker

    def _run(self, start: int, end: int, lowering: lower.Lowering, checker: checks.Checker,
             last: Step | None) -> Step:
        """Read one statement as analyse does, noting what it took and gave; `last` is the
        step before it (the lowering is in the state it left)."""
        report: list[Diagnostic] = []
        lowering.report = report
        names = checker.seen
        assert isinstance(names, _Names)
        looked: list[tuple[str, ast.Word | None]] = []
        added: list[tuple[str, ast.Word]] = []
        asked: list[int] = []
        names.looked, names.added = looked, added
        source = self.source
        source.asked = asked
        shots = lowering.shots
        previous = last.previous if last is not None else None
        try:
            statement, continued = parser.parse_statement(
                source, start, end, (previous.start, previous.end) if previous is not None else None, report)
            if statement is not None:
                for item in lowering.feed(statement, start):
                    report += _checked(item, lowering, checker)
        finally:
            source.asked = None
            names.looked = names.added = None
        disputes = [d for d in report if d.code == "W108"]
        if disputes:
            report = [d for d in report if d.code != "W108"]
        step = Step(start, end, len(self.log), report, tuple(looked), tuple(added), tuple(asked),
                    lowering.state(last.state if last is not None else self._initial), len(self.log),
                    previous, lowering.shots - shots, shots)
        if report and all(d.span.source is source and start <= d.span.start and d.span.end <= end and not d.related
                          for d in report):
            step.inside = tuple((d.code, d.message, d.hint, d.span.start - start, d.span.end - start) for d in report)
            step.report = []
        if disputes:
            inside = [start <= d.span.start and d.span.end <= end for d in disputes]
            step.disputed = tuple(d.message for d in disputes)
            step.camera = any(d.hint == checks.DISPUTE_HINT_CAMERA for d in disputes)
            step.own = tuple(dict.fromkeys((d.span.start - start, d.span.end - start)
                                           for d, i in zip(disputes, inside, strict=True) if i))
            step.elsewhere = tuple(d for d, i in zip(disputes, inside, strict=True) if not i)
        if continued:
            step.previous = step
        for key, _ in step.added:
            self._adders.setdefault(key, []).append(step)
        for key, _ in step.looked:
            self._lookers.setdefault(key, []).append(step)
        if step.asked:
            self._asking.append(step)
        return step

    def _first_adder(self, key: str, before: int) -> Step | None:
        """The first step that added `key`, of those that start before `before`."""
        found = None
        for step in _alive(self._adders, key):
            if step.start < before and (found is None or step.start < found.start):
                found = step
        return found

    def _conclude(self, lowering: lower.Lowering | None, checker: checks.Checker | None) -> list[Diagnostic]:
        """After the last statement: the sequence still open, if any, then what analyse says of
        the file as a whole. `lowering` and `checker` are those that read the last statement,
        or None if its outcome was kept (then they are made from the steps)."""
        last = self.steps[-1] if self.steps else None
        shots = last.shots_before + last.shots if last else 0
        report = [self.unclosed] if self.unclosed is not None else []
        report += self.model_problems
        disputed: dict[tuple[str, ...], None] = {}  # the statements' W108 messages, by statement, in order
        first: list[tuple[int, int]] = []  # the places of the first W108s in the statements
        own = 0  # how many places in the statements
        elsewhere: set[tuple[int, int]] = set()
        camera = False
        new, source = tuple.__new__, self.source  # (NamedTuple's own __new__ is a frame of Python each)
        for step in self.steps:
            if step.report or step.elsewhere:
                self._current(step)
                report += step.report
            if step.inside:
                at = step.start
                report += [new(Diagnostic, (code, message, new(Span, (at + a, at + b, source)), hint, ()))
                           for code, message, hint, a, b in step.inside]
            said = step.disputed
            if said:
                disputed[said] = None  # (most statements say the same: each way of saying it once, in order)
                camera = camera or step.camera
                places = step.own
                if places:
                    own += len(places)
                    if len(first) <= RELATED_SHOWN:  # (statements are in order, and so are their places)
                        at = step.start
                        first += [(at + a, at + b) for a, b in places]
                if step.elsewhere:
                    elsewhere.update([(d.span.start, d.span.end) for d in step.elsewhere])
        if last is not None and last.state.sequence is not None:
            self._current_state(last)
            if lowering is None or checker is None:
                names = _Names(self)
                for step in self.steps:
                    for key, _ in step.added:
                        dict.__setitem__(names, key, step)
                lowering, checker = self._fresh(names)
                lowering.restore(last.state, shots)
            lowering.report = report
            for item in lowering.finish():
                report += _checked(item, lowering, checker)
        # A place said elsewhere that is also one in its own statement is one place.
        both = sum(1 for place in elsewhere if self._own_place(place))
        messages = [message for said in disputed for message in said]  # (Disputes needs their order only)
        disputes = Disputes(messages, {*first, *elsewhere}, camera, own + len(elsewhere) - both)
        self.diagnostics = conclude(self.source, report, shots, disputes, self.controls)
        return self.diagnostics

    def _own_place(self, place: tuple[int, int]) -> bool:
        """Whether a W108 of the statement at `place` is there (Step.own)."""
        i = bisect.bisect_right(self.steps, place[0], key=lambda s: s.start) - 1
        if i < 0:
            return False
        step = self.steps[i]
        return (place[0] - step.start, place[1] - step.start) in step.own

    def state_before(self, offset: int) -> State:
        """The lowering's state after the last statement that ends before `offset` (MODEL,
        DEFAULTS, a SCENE's options, an open SEQUENCE): what a statement there inherits."""
        i = bisect.bisect_left(self.steps, offset, key=lambda s: s.end) - 1
        if i < 0:
            return self._initial
        self._current_state(self.steps[i])
        return self.steps[i].state

    def _current_state(self, step: Step) -> None:
        """Move the state a step left through the edits since it was read. A state shared by
        several steps is moved once per edit, and stays shared."""
        for at in range(step.state_version, len(self.log)):
            step.state = _moved(step.state, self.log[at], self._moves.setdefault(at, {}))
        step.state_version = len(self.log)

    def _current(self, step: Step) -> None:
        """Move what a step reported and looked up through the edits since it was read."""
        now = len(self.log)
        for edit in self.log[step.version : now]:
            if step.report:
                step.report = [_moved_diagnostic(d, edit) for d in step.report]
            if step.elsewhere:
                step.elsewhere = tuple(_moved_diagnostic(d, edit) for d in step.elsewhere)
            if step.looked:
                step.looked = tuple((k, w if w is None else w._replace(span=edit.span(w.span)))
                                    for k, w in step.looked)
            if step.added:
                step.added = tuple((k, w._replace(span=edit.span(w.span))) for k, w in step.added)
            if step.asked:
                step.asked = tuple(edit.offset(at) for at in step.asked)
        step.version = now

    # --- an edit ------------------------------------------------------------------------------

    def edit(self, start: int, end: int, text: str) -> list[Diagnostic]:
        """The document's text[start:end] (offsets in code points, of the document as it was)
        is now `text`: the diagnostics of the new text."""
        old = self.text
        self.text = new = old[:start] + text + old[end:]
        bom = 1 if old.startswith(BOM) else 0
        models, problems = for_folder(self.base_dir)
        if (models is not self.models or problems != self.model_problems or not self.steps
                or len(self.log) >= MOST_EDITS
                or new.startswith(BOM) != bool(bom) or start < bom or "\0" in text):
            return self.refresh()
        before = self.source.text
        written = new.removeprefix(BOM)
        if self.source.written is None and "/*" not in new and "[[" not in new:
            edit = Edit(start - bom, end - bom, len(text))  # nothing masked, before or after
            self._take(Masked(written, [], None), written, edit)
        else:  # what the parser reads changed where the text did, and where masking changed
            masked = remask(self.masked, written, start - bom, end - bom, len(text))
            edit = difference(before, masked.text)
            self._take(masked, written, edit)
        lines_moved = (before.count("\n", edit.start, edit.end)
                       != self.source.text.count("\n", edit.start, edit.new_end))
        return self._edit(edit, lines_moved)

    def _read(self, text: str) -> None:
        """Take `text` (without its byte-order mark) as the file's: the parser reads it with its
        block comments and notes blanked (trivia.py), as analyse does."""
        self._take(mask(text), text)

    def _take(self, masked: Masked, text: str, edit: Edit | None = None) -> None:
        """The text as masked: what the parser reads; its block comments and notes are kept for
        masking again after the next edit (trivia.remask). `edit` made it from the one before."""
        self.masked = masked
        if edit is None or self.controls is None:
            self.controls = control_characters(masked.text)
        else:  # those before the edit, those it wrote, those after it (moved)
            kept = self.controls
            first, last = bisect.bisect_left(kept, edit.start), bisect.bisect_left(kept, edit.end)
            delta = edit.delta
            self.controls = [*kept[:first], *control_characters(masked.text, edit.start, edit.new_end),
                             *(at + delta for at in kept[last:])]
        self.source.replace_text(masked.text, edit)
        self.source.written = text if masked.trivia else None
        self.unclosed = unclosed(masked.unclosed, self.source) if masked.unclosed is not None else None

    def _edit(self, edit: Edit, lines_moved: bool) -> list[Diagnostic]:
        old = self.steps
        self.log.append(edit)
        # The steps before the edit keep their outcome, but the last of them (the pivot), whose
        # statement may have grown; those after it are moved; those it touched are dropped.
        touched = bisect.bisect_left(old, edit.start, key=lambda s: s.end)
        after = bisect.bisect_left(old, edit.end, key=lambda s: s.start)
        base = old[: max(0, touched - 1)]
        pivot = old[touched - 1] if touched > 0 else None
        later = old[after:]
        delta = edit.delta
        for step in later:  # their places at once; the rest when needed (_current)
            step.start += delta
            step.end += delta
        before = old[after - 1] if after > 0 else None  # the step before the first later one
        for step in old[touched:after]:
            step.start = step.end = GONE  # dropped: a later step may still name it as `previous`
            step.dropped = True
        window, tail = self._chunks(pivot, later, edit)

        names = _Names(self, pivot.start if pivot is not None else GONE)  # base's names: found when asked for
        steps = list(base)
        dropped: list[Step] = []  # the steps not kept, besides those the edit touched
        lowering: lower.Lowering | None = None  # set while the last step was read, not kept
        checker: checks.Checker | None = None
        reused = len(base)
        # The names whose first use may have moved: those of the statements dropped or read again.
        touched_names = {key for step in old[max(0, touched - 1) : after] for key, _ in step.added}

        def keep(kept: Step, last: Step | None, shots: int) -> None:
            if kept.previous is not kept:  # the one before, as this list has it
                kept.previous = last.previous if last is not None else None
            for key, _ in kept.added:
                dict.__setitem__(names, key, kept)
            kept.shots_before = shots
            steps.append(kept)

        for start, end in window:  # the statements the edit touched: read again (but an unchanged pivot)
            last = steps[-1] if steps else None
            shots = last.shots_before + last.shots if last else 0
            if pivot is not None and start == pivot.start and end == pivot.end:
                keep(pivot, last, shots)
                reused += 1
                lowering = checker = None
                pivot = None  # (kept)
                continue
            if last is not None:
                self._current_state(last)  # where reading goes on from
            if lowering is None or checker is None:
                lowering, checker = self._fresh(names)
                lowering.restore(last.state if last is not None else self._initial, shots)
            read = self._run(start, end, lowering, checker, last)
            touched_names.update(key for key, _ in read.added)
            steps.append(read)
        if pivot is not None:
            dropped.append(pivot)
        dropped += later[:tail]
        # And those they added, read again or not (a SEQUENCE's name is added by the statement
        # that closes it: once that reads otherwise, the name's first use moved).
        touched_names.update(key for step in later[:tail] for key, _ in step.added)
        check_from = tail  # where the statements after may next be found steady (_blocked)
        for i in range(tail, len(later)):  # the statements after it: kept where nothing they read changed
            step = later[i]
            last = steps[-1] if steps else None
            shots = last.shots_before + last.shots if last else 0
            before_it = later[i - 1] if i > 0 else before
            if self._may_keep(step, before_it, last, shots, names, edit, lines_moved):
                keep(step, last, shots)
                reused += 1
                lowering = checker = None
                if last is before_it and i >= check_from and shots == step.shots_before:
                    if self._in_sequence_gap(step, edit):
                        check_from = i + 1  # the next may be a shot of the sequence: looked at
                        continue
                    blocked = self._blocked(later, i + 1, touched_names, lines_moved)
                    if blocked is None:
                        rest = later[i + 1 :]
                        # Those that continue none of their own may continue what this one may:
                        # the statement as this list has it (it may have been read again, and
                        # the step it was is dropped, its place no longer kept up).
                        carried = step.previous
                        for taken in rest:
                            if taken.previous is taken or taken.previous is carried:
                                break
                            taken.previous = carried
                        steps += rest  # each as it was: the same state before it, names, shots and lines
                        reused += len(rest)
                        break
                    check_from = blocked  # those before it are steady, but it must be looked at
                continue
            if last is not None:
                self._current_state(last)
            if lowering is None or checker is None:
                lowering, checker = self._fresh(names)
                lowering.restore(last.state if last is not None else self._initial, shots)
            read = self._run(step.start, step.end, lowering, checker, last)
            touched_names.update(key for key, _ in read.added)
            touched_names.update(key for key, _ in step.added)  # (its old reading's)
            steps.append(read)
            dropped.append(step)
        for step in dropped:
            step.dropped = True
        self.steps = steps
        self.reused = reused
        diagnostics = self._conclude(lowering, checker)
        if any(d.span.start == GONE or any(r.span.start == GONE for r in d.related) for d in diagnostics):
            return self.refresh()  # a kept outcome pointed into the edit: not expected, never shown
        return diagnostics

    def _may_keep(self, step: Step, before: Step | None, last: Step | None, shots: int, names: _Names,
                  edit: Edit, lines_moved: bool) -> bool:
        """Whether a statement after the edit would be read to the outcome it had: `before` is
        the step before it in the old text, `last` the one before it now."""
        previous = last.previous if last is not None else None
        if last is not before:  # (if it is, the state and the statement before are the same)
            for step_before in (last, before):
                if step_before is not None:
                    self._current_state(step_before)
            state = last.state if last is not None else self._initial
            was = before.state if before is not None else self._initial
            if state is not was and state != was:
                return False
            had = before.previous if before is not None else None
            if (previous is None) != (had is None) or (previous is not None and had is not None and (
                    previous.start != had.start or previous.end != had.end)):
                return False
        # Its parse errors look back at the statement it may continue, and at the lines between.
        if previous is not None and previous.start < edit.new_end:
            return False
        if bool(shots) != bool(step.shots_before):  # AXES after the first SHOT
            return False
        if self._in_sequence_gap(last, edit):
            return False
        for key, found in step.looked:  # duplicate names
            if found is None:
                if names.word(key) is not None:
                    return False
            else:
                self._current(step)
                break
        else:
            if not step.asked:
                return True
        self._current(step)
        if any(names.word(key) != found for key, found in step.looked):
            return False
        if lines_moved:  # "on line 12" in a message
            return all(0 <= at < edit.start for at in step.asked)
        return all(at >= 0 for at in step.asked)

    def _in_sequence_gap(self, step: Step | None, edit: Edit) -> bool:
        """Whether, after `step`, a sequence is open whose last shot (or SEQUENCE line) ends
        before the edit's end: a shot of it after the edit looks at the lines between for a
        blank one (W111), which the edit may have made or removed."""
        if step is None or step.state.sequence is None:
            return False
        self._current_state(step)
        sequence = step.state.sequence
        assert sequence is not None
        above = sequence.shots[-1].syntax.span if sequence.shots else sequence.syntax.span
        return above.end <= edit.new_end

    def _blocked(self, later: list[Step], start: int, touched_names: set[str], lines_moved: bool) -> int | None:
        """After a kept statement whose state before it is the one it had (and the shot count
        too), each of later[start:] is read to its outcome, unless it looks up a name the edit
        may have moved or, when lines moved, says a line number: the index of the first that
        may not be, or None. (Found in the steps' indexes, not by looking at each step.)"""
        if start >= len(later):
            return None
        first = later[start].start
        found = [step.start for key in touched_names for step in _alive(self._lookers, key) if step.start >= first]
        if lines_moved:
            self._asking = [step for step in self._asking if not step.dropped]
            found += [step.start for step in self._asking if step.start >= first]
        if not found:
            return None
        return bisect.bisect_left(later, min(found), key=lambda s: s.start)

    def _chunks(self, pivot: Step | None, later: list[Step], edit: Edit) -> tuple[list[tuple[int, int]], int]:
        """The statements' places in the new text, as statement_chunks would give them, worked
        out only around the edit: those from the pivot (the last statement before the edit: its
        first line is untouched, and the splitter starts afresh at each statement) up to the
        first statement after the edit where one started before; and the index in `later` of
        that one: from there on the text is the same, so the old places hold (moved)."""
        text = self.source.text
        start = pivot.start if pivot is not None else 0
        reach = 2
        while True:
            stop = later[reach].start if reach < len(later) else len(text)
            window = [(start + a, start + b) for a, b in parser.statement_chunks(text[start:stop])]
            for i, (a, _) in enumerate(window):
                if a >= edit.new_end:
                    j = bisect.bisect_left(later, a, key=lambda s: s.start)
                    if j < len(later) and later[j].start == a:
                        return window[:i], j
            if stop == len(text):
                return window, len(later)
            reach *= 2


def _checked(item: lower.Lowered, lowering: lower.Lowering, checker: checks.Checker) -> list[Diagnostic]:
    """A shot, sequence or cast member checked as analyse checks it: against fal's apps too
    when the file says `BACKEND fal` (the editor knows no command line, and no config)."""
    if lowering.backend != "fal":
        return checker.check(item, lowering.axes)
    found: list[Diagnostic] = []
    take_fal([item], checker, lowering.axes, checker.base_dir, checker.images, checker.models, found, None, None)
    return found


def _alive(index: dict[str, list[Step]], key: str) -> list[Step]:
    """The steps of `index` under `key` that are still the file's (the others pruned)."""
    steps = index.get(key)
    if not steps:
        return []
    if any(step.dropped for step in steps):
        steps = index[key] = [step for step in steps if not step.dropped]
    return steps


def difference(old: str, new: str) -> Edit:
    """The one edit that turns `old` into `new`: the stretch between their common start and
    their common end (compared a block at a time, the blocks shrinking to a character)."""
    limit = min(len(old), len(new))
    start, size = 0, 4096
    while start < limit:
        size = min(size, limit - start)
        if old[start : start + size] == new[start : start + size]:
            start += size
        elif size > 1:
            size = max(1, size // 8)
        else:
            break
    end_old, end_new, size = len(old), len(new), 4096
    while end_old > start and end_new > start:
        size = min(size, end_old - start, end_new - start)
        if old[end_old - size : end_old] == new[end_new - size : end_new]:
            end_old, end_new = end_old - size, end_new - size
        elif size > 1:
            size = max(1, size // 8)
        else:
            break
    return Edit(start, end_old, end_new - start)


__all__ = ["Edit", "LiveCheck", "LiveSource", "State", "Step", "difference"]
