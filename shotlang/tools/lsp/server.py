"""`shotlang lsp`: the language server, over standard input and output, built on pygls.

The protocol's side only: documents in, LSP messages out. What is checked is live.py's (the
same diagnostics as `shotlang check`, kept up to date through edits), what is offered and
explained is words.py's, and formatting is fmt.py's.

How a diagnostic is shown in an editor (docs/cli.md, "shotlang lsp"): `code` is shotlang's
code (E201), `source` is "shotlang", the message is shotlang's message followed by its help on
a line of its own (`help: ...`, as `check` prints it), and the places it points at besides its
own (the first use of a duplicated name) are its related information; a client that takes none
gets them as `note:` lines of the message. A models file's problems are published on that file.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from ... import __version__
from ...compiler.diagnostics import Diagnostic, Severity
from ...compiler.kling import DEFAULT_MODEL
from ...compiler.language import WRAPPING
from ...compiler.source import Source, Span
from ...compiler.trivia import Masked
from . import words
from .live import LiveCheck, difference
from .positions import UTF16, Lines

log = logging.getLogger("shotlang.tools.lsp")

_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "move": types.CompletionItemKind.Function,
    "intensity": types.CompletionItemKind.Unit,
    "joiner": types.CompletionItemKind.Text,
    "option": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.EnumMember,
    "model": types.CompletionItemKind.Module,
}
_SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning}


class OpenFile:
    """A document the client has open: its text as the client last sent it, its check (of
    that text, or of an earlier one while edits wait: `checked`), and the line index of its
    text (made when asked for)."""

    def __init__(self, uri: str, live: LiveCheck, version: int | None) -> None:
        self.uri = uri
        self.live = live
        self.text = live.text
        self.version = version
        self._lines: Lines | None = None
        self.waiting: asyncio.TimerHandle | None = None  # the check of edits still to come
        self.shown: dict[tuple[Any, ...], Any] = {}  # as last published (the protocol's JSON), by place

    @property
    def checked(self) -> bool:
        return self.live.text is self.text

    def lines(self, encoding: str) -> Lines:
        text = self.text
        if self._lines is None or self._lines.text is not text or self._lines.encoding != encoding:
            self._lines = Lines(text, encoding)
        return self._lines

    def edited(self, lines: Lines, start: int, end: int, inserted: str) -> None:
        """The text `lines` indexed, with text[start:end] now `inserted`; its index updated
        rather than counted."""
        self.text = self.text[:start] + inserted + self.text[end:]
        self._lines = lines.edited(start, end, inserted, self.text)


class ShotProtocol(LanguageServerProtocol):
    """pygls's protocol, but a request after `shutdown` is answered, as the protocol asks, with
    InvalidRequest: pygls drops it unanswered, and a client waiting for the answer (a second
    `shutdown`, a late hover) would wait for ever."""

    def handle_message(self, message: Any) -> None:
        if (self._shutdown and getattr(message, "method", types.EXIT) != types.EXIT
                and getattr(message, "id", None) is not None):
            error = JsonRpcInvalidRequest("the server is shut down: only `exit` is taken now")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)


class ShotServer(LanguageServer):
    """The documents open in one editor session, and what is published about them."""

    def __init__(self) -> None:
        super().__init__("shotlang", __version__, protocol_cls=ShotProtocol)
        self.files: dict[str, OpenFile] = {}
        self.published: dict[str, set[str]] = {}  # a models file's URI -> the documents whose check reported it
        self.shut_down = False  # the client asked for shutdown (then `exit` is a clean end)

    # --- what the client said at start-up ----------------------------------------------------

    @property
    def encoding(self) -> str:
        try:
            chosen = self.workspace.position_encoding
        except RuntimeError:  # before `initialize`
            return UTF16
        if isinstance(chosen, types.PositionEncodingKind):
            return str(chosen.value)
        return chosen or UTF16

    @property
    def related_information(self) -> bool:
        caps = self.client_capabilities.text_document
        publish = caps.publish_diagnostics if caps is not None else None
        return bool(publish is not None and publish.related_information)

    # --- documents ---------------------------------------------------------------------------

    def open(self, uri: str, text: str, version: int | None) -> None:
        path = to_fs_path(uri)
        if path is not None and uri.startswith("file:"):
            name, folder = path, Path(path).parent
        else:  # an unsaved buffer: named by its URI, its images looked for in the workspace
            name, folder = uri, Path(to_fs_path(self.workspace.root_uri or "") or ".")
        self.files[uri] = OpenFile(uri, LiveCheck(text, name, folder), version)
        self.publish(self.files[uri])
        all_garbage()

    def change(self, uri: str, version: int | None,
               changes: list[types.TextDocumentContentChangeEvent]) -> None:
        """Take in the edits; the check of the text they make waits a moment for the edits
        behind them (a fast typist's keystrokes are one check, of the newest text), but not for
        a request about the document, which checks what has come first (`current`)."""
        opened = self.files.get(uri)
        if opened is None:
            return
        for change in changes:
            lines = opened.lines(self.encoding)
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                start = lines.offset(r.start.line, r.start.character)
                end = max(start, lines.offset(r.end.line, r.end.character))
                inserted = change.text
            else:  # the whole text: what changed is worked out
                edit = difference(opened.text, change.text)
                start, end, inserted = edit.start, edit.end, change.text[edit.start : edit.new_end]
            opened.edited(lines, start, end, inserted)
        opened.version = version
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the server's loop (a test): check now
            self.current(opened)
            return
        if opened.waiting is not None:
            opened.waiting.cancel()  # the next edit was already here: wait for the one after it
        opened.waiting = loop.call_later(COALESCE_S, self.current, opened)

    def current(self, opened: OpenFile) -> OpenFile:
        """Check the document's text as it is now, if it has not been checked yet, and publish."""
        if opened.waiting is not None:
            opened.waiting.cancel()
            opened.waiting = None
        if not opened.checked:
            live = opened.live
            edit = difference(live.text, opened.text)  # every edit since the last check, as one
            _checked(live, live.edit, edit.start, edit.end, opened.text[edit.start : edit.new_end])
            live.text = opened.text  # (the same string: `checked` asks for it)
            self.publish(opened)
            young_garbage()
        return opened

    def save(self, uri: str) -> None:
        opened = self.files.get(uri)
        if opened is not None:
            self.current(opened)
            _checked(opened.live, opened.live.refresh)
            self.publish(opened)
            all_garbage()

    def close(self, uri: str) -> None:
        opened = self.files.pop(uri, None)
        if opened is None:
            return
        if opened.waiting is not None:
            opened.waiting.cancel()
        all_garbage()
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        self._publish_elsewhere(uri, {})

    # --- diagnostics --------------------------------------------------------------------------

    def publish(self, opened: OpenFile) -> None:
        live = opened.live
        mine: list[Diagnostic] = []
        elsewhere: dict[str, list[Diagnostic]] = {}
        for d in live.diagnostics:
            if d.span.source is live.source or d.span.source.name == live.name:
                mine.append(d)
            else:
                elsewhere.setdefault(_uri_of(d.span.source), []).append(d)
        lines = opened.lines(self.encoding)
        # What a diagnostic says (all but its range) as the protocol's JSON, made once for each
        # message (a large file says a few messages thousands of times) and kept from one
        # publication to the next; its range is new each time (lines move).
        plain = self.protocol._converter.unstructure
        made, kept = opened.shown, dict[tuple[Any, ...], Any]()
        shown = []
        for d in mine:
            if d.related:
                shown.append(plain(self.to_lsp(d, lines, live.bom, opened.uri)))
                continue
            key = (d.code, d.severity, d.message, d.hint)
            said = kept.get(key) or made.get(key)
            if said is None:
                said = {k: v for k, v in plain(self.to_lsp(d, lines, live.bom, opened.uri)).items() if k != "range"}
            kept[key] = said
            start = lines.position(d.span.start + live.bom)
            end = lines.position(max(d.span.start, d.span.end) + live.bom)
            shown.append({"range": {"start": {"line": start[0], "character": start[1]},
                                    "end": {"line": end[0], "character": end[1]}}, **said})
        opened.shown = kept
        params = {"uri": opened.uri, "diagnostics": shown, **({"version": opened.version}
                                                                if opened.version is not None else {})}
        # As JSON already: pygls would unstructure thousands of diagnostics again at each keystroke.
        self.protocol._send_data({"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                                  "params": params})
        self._publish_elsewhere(opened.uri, elsewhere)

    def _publish_elsewhere(self, uri: str, found: dict[str, list[Diagnostic]]) -> None:
        """A models file's problems, on that file; cleared when no open document reports them."""
        for other in set(self.published) | set(found):
            reporters = self.published.setdefault(other, set())
            if other in found:
                reporters.add(uri)
                source = found[other][0].span.source
                lines = Lines(source.text, self.encoding)
                shown = [self.to_lsp(d, lines, 0, other) for d in found[other]]
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=other, diagnostics=shown))
            elif uri in reporters:
                reporters.discard(uri)
                if not reporters:
                    del self.published[other]
                    self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=other, diagnostics=[]))

    def to_lsp(self, d: Diagnostic, lines: Lines, shift: int, uri: str) -> types.Diagnostic:
        """A diagnostic of the file at `uri` (whose text `lines` indexes; a span's offsets are
        `shift` less than the text's) as the protocol has it."""
        message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
        related = None
        if d.related:
            if self.related_information:
                related = []
                for r in d.related:
                    here = r.span.source is d.span.source
                    where = types.Location(
                        uri=uri if here else _uri_of(r.span.source),
                        range=_range(lines, r.span, shift) if here else
                        _range(Lines(r.span.source.text, lines.encoding), r.span, 0))
                    related.append(types.DiagnosticRelatedInformation(location=where, message=r.message))
            else:
                message += "".join(f"\nnote: {r.message} (line {r.span.line}, column {r.span.column})"
                                   for r in d.related)
        return types.Diagnostic(range=_range(lines, d.span, shift), message=message,
                                severity=_SEVERITIES[d.severity], code=d.code, source="shotlang",
                                related_information=related)

    # --- completion, hover, formatting ---------------------------------------------------------

    def statement_at(self, opened: OpenFile, offset: int) -> tuple[int, int] | None:
        """The statement the cursor is in (or at the end of): its start and end, in the source."""
        steps = opened.live.steps
        i = bisect.bisect_right(steps, offset, key=lambda s: s.start) - 1
        if i >= 0 and offset <= steps[i].end:
            return steps[i].start, steps[i].end
        return None

    def settings_at(self, opened: OpenFile, offset: int) -> tuple[str, str]:
        """The file's AXES and the model in effect (MODEL, DEFAULTS) at `offset`."""
        state = opened.live.state_before(offset)
        model = state.defaults.get("model")
        return state.axes, str(model.value) if model is not None else DEFAULT_MODEL

    def completion(self, uri: str, position: types.Position) -> list[types.CompletionItem]:
        opened = self.files.get(uri)
        if opened is None:
            return []
        self.current(opened)
        live = opened.live
        lines = opened.lines(self.encoding)
        offset = lines.offset(position.line, position.character) - live.bom
        text = live.source.text
        if _in_note_or_block_comment(live.masked, offset):
            return []  # free text: nothing of the language to offer
        statement = self.statement_at(opened, offset)
        start = statement[0] if statement is not None else _statement_start(text, offset, opened)
        axes, model = self.settings_at(opened, offset)
        items = words.completions(text, start, offset, live.models, model, axes, live.state_before(start))
        end = lines.position(offset + live.bom)
        out = []
        for i, item in enumerate(items):
            first = lines.position(item.start + live.bom)
            out.append(types.CompletionItem(
                label=item.label, kind=_KINDS[item.kind], detail=item.detail,
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=item.documentation)
                if item.documentation else None,
                text_edit=types.TextEdit(range=types.Range(start=types.Position(*first), end=types.Position(*end)),
                                         new_text=item.label),
                filter_text=item.label, sort_text=f"{i:04d}"))
        return out

    def hover(self, uri: str, position: types.Position) -> types.Hover | None:
        opened = self.files.get(uri)
        if opened is None:
            return None
        self.current(opened)
        live = opened.live
        lines = opened.lines(self.encoding)
        offset = lines.offset(position.line, position.character) - live.bom
        axes, _ = self.settings_at(opened, offset)
        found = words.hover(live.source, self.statement_at(opened, offset), offset, axes, live.models,
                            [d for d in live.diagnostics if d.span.source is live.source])
        if found is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found.markdown),
                           range=types.Range(start=types.Position(*lines.position(found.start + live.bom)),
                                             end=types.Position(*lines.position(found.end + live.bom))))

    def formatting(self, uri: str) -> list[types.TextEdit] | None:
        opened = self.files.get(uri)
        if opened is None:
            return None
        self.current(opened)
        from ..fmt import format_text  # the formatter is needed only when asked for

        live = opened.live
        text = live.text
        formatted = format_text(text, live.name, live.base_dir).text
        if formatted is None or formatted == text:
            return []
        edit = difference(text, formatted)  # one edit, of what changed: the cursor stays put elsewhere
        start, end, new_end = edit.start, edit.end, edit.new_end
        # No position names the place between a line end's \r and \n (fmt makes every line end
        # the first one's, so the edit may start or end there): take the whole pair in.
        if 0 < start < len(text) and text[start - 1 : start + 1] == "\r\n":
            start -= 1
        if 0 < end < len(text) and text[end - 1 : end + 1] == "\r\n":
            end, new_end = end + 1, new_end + 1
        lines = opened.lines(self.encoding)
        return [types.TextEdit(range=types.Range(start=types.Position(*lines.position(start)),
                                                 end=types.Position(*lines.position(end))),
                               new_text=formatted[start:new_end])]


# How long a check waits for the edits behind the one it would check: messages already sent
# arrive well within it, so a burst of keystrokes is checked once, at its newest text.
COALESCE_S = 0.004


# The garbage collector, as the server runs it (serve): not by allocation counts, which in a
# large shot list start a full collection of millions of objects every few edits (half a second
# at 50,000 shots), but the young objects after each check, and everything when a document is
# opened, saved or closed (steps that continue themselves are cycles: the last holds them).
def young_garbage() -> None:
    global _CHECKS
    _CHECKS += 1
    if not gc.isenabled() and _CHECKS % YOUNG_EVERY == 0:
        gc.collect(1)


_CHECKS = 0
# Checks between two collections of the young objects: a collection costs about what the objects
# a check leaves alive (the ones before them died by their counts), so it is not paid each time.
YOUNG_EVERY = 64


def all_garbage() -> None:
    if not gc.isenabled():
        gc.collect()


def _checked(live: LiveCheck, action: Callable[..., object], *args: Any) -> None:
    """Run a check; should it fail (a bug), log it and read the file afresh, so the editor keeps
    its diagnostics rather than losing the server."""
    try:
        action(*args)
    except Exception:
        log.exception("shotlang lsp: checking after an edit failed; reading the file afresh")
        live.refresh()


def _range(lines: Lines, span: Span, shift: int) -> types.Range:
    start = lines.position(span.start + shift)
    end = lines.position(max(span.start, span.end) + shift)
    return types.Range(start=types.Position(*start), end=types.Position(*end))


def _uri_of(source: Source) -> str:
    return from_fs_path(source.name) or source.name


def _statement_start(text: str, offset: int, opened: OpenFile) -> int:
    """Where the statement being written at `offset` starts when it is in no statement yet: the
    line's start, or, on an indented line under a SHOT, DEFAULTS or SEQUENCE, that statement's."""
    line_start = text.rfind("\n", 0, offset) + 1
    if text[line_start : line_start + 1] in (" ", "\t") and line_start > 0:
        steps = opened.live.steps
        i = bisect.bisect_left(steps, line_start, key=lambda s: s.end) - 1  # the statement above
        if i >= 0:
            above = steps[i]
            first = text[above.start : above.start + 10].split(None, 1)
            if first and first[0].lower() in WRAPPING and text.count("\n", above.end, line_start) == 1:
                return above.start
    return line_start


def build() -> ShotServer:
    server = ShotServer()

    @server.feature(types.SHUTDOWN)
    def shutdown(params: None) -> None:
        server.shut_down = True

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        server.open(doc.uri, doc.text, doc.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        server.change(params.text_document.uri, params.text_document.version, list(params.content_changes))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        server.save(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=[" ", ":"]))
    def completion(params: types.CompletionParams) -> types.CompletionList:
        items = server.completion(params.text_document.uri, params.position)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(params: types.HoverParams) -> types.Hover | None:
        return server.hover(params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        return server.formatting(params.text_document.uri)

    return server


def serve() -> int:
    """Talk LSP over standard input and output until the client says exit; the exit code the
    protocol asks for: 0 after a shutdown request, else 1."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    server = build()
    gc.disable()  # collected by the server itself: young_garbage, all_garbage
    server.start_io()
    return 0 if server.shut_down else 1


def _in_note_or_block_comment(masked: Masked, offset: int) -> bool:
    """Whether `offset` is inside a [[note]] or /* block comment */ (or one not closed yet), as
    the text is masked."""
    if masked.unclosed is not None and offset > masked.unclosed.start:
        return True
    i = bisect.bisect_left(masked.trivia, offset, key=lambda t: t.end)  # the first ending at or after it
    return i < len(masked.trivia) and masked.trivia[i].start < offset < masked.trivia[i].end
