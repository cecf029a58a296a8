"""The compiler as a library called from several threads at once (a language server, a web
service, a test runner): every result equals the one a single thread gets."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import shotlang

ROOT = Path(__file__).resolve().parent.parent
# Files that go through Lark (TITLE, SCENE, DEFAULTS, wrapped prompts, mistakes), not only the
# fast path, so the shared parser is exercised; each one different, so a span from another
# thread's source shows as a difference.
TEXTS = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "examples").glob("*.shot"))]
TEXTS += [
    'TITLE "T"\nSCENE "INT. ROOM"\nSHOT a: pann right "x"\nSHOT b: slow tilt up over "y" 7s\n',
    'DEFAULTS 10s pro 16:9\nSHOT c: zoom in over "a long prompt,\n    wrapped"\n    negative "blur"\n',
    'SHOT d: dutch tilt 4 "z" model kling-v9\nSHOT e "no colon"\n',
    'AXES official\nSHOT f: pan left 3 over "w" cfg 0.4\nSHOT g: crane up 9 over "v"\n',
    "".join(f'SCENE "S{i}"\nDEFAULTS {5 + 5 * (i % 2)}s\nSHOT h{i}: zoom out over "p{i}"\n    5s\n' for i in range(30)),
    # Statements only Lark reads (DEFAULTS, a model name with a dot), each with a diagnostic
    # whose place the tree builder gave: a span from another thread's parse shows in the text.
    "".join(f'DEFAULTS {i}s\nSHOT m{i}: "p{i}" model v{i}.{i}\n' for i in range(3, 60)),
]


def _result(text: str) -> tuple[str, str, bool]:
    result = shotlang.compile_text(text, "t.shot")
    own = all(d.span.source is result.source for d in result.diagnostics)
    return result.render(False), result.output.to_json() if result.output is not None else "", own


def test_eight_threads_compiling_at_once_get_what_one_thread_gets() -> None:
    expected = [_result(text) for text in TEXTS]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns within a parse, not only between files
    failures: list[str] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        start.wait()
        for round in range(25):
            i = (offset + round) % len(TEXTS)
            if _result(TEXTS[i]) != expected[i]:
                failures.append(f"thread {offset}, round {round}, text {i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert not failures, failures[:5]


def test_spans_point_into_their_own_source_when_threads_parse_at_once() -> None:
    from shotlang.compiler.parser import parse_with_grammar
    from shotlang.compiler.source import Source

    strays: list[tuple[int, int]] = []
    start = threading.Barrier(8)

    def work(n: int) -> None:
        start.wait()
        for i in range(300):
            source = Source(f'SCENE "scene {n} {i}"')
            statement = parse_with_grammar(source, 0, len(source.text))
            for part in statement:
                span = getattr(part, "span", None)
                if span is not None and span.source is not source:
                    strays.append((n, i))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert not strays, f"{len(strays)} spans point into another thread's source"


def test_the_library_leaves_the_cycle_collector_alone() -> None:
    # The collector is the whole process's: only the program that owns it (the CLI) pauses it.
    import gc

    seen: list[bool] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(gc.isenabled())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for text in TEXTS:
            _result(text)
    finally:
        done.set()
        watcher.join()
    assert seen and all(seen)
