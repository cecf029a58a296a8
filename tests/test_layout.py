"""The package's layout shows its architecture, and imports keep to it.

shotlang/compiler is the language and what it knows of Kling (source -> parse -> lower -> check
-> records -> payload; the API's facts and the capability matrix); shotlang/engine runs what it
compiles; shotlang/tools are the writers' tools built on both; shotlang/testing is the local Kling
server. The top-level modules are the command line and the plumbing every part may use. Each
import of the package's own modules (at any depth, lazy ones inside functions included) is read
here and held to that order, so a stage that starts leaning on a later one fails at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shotlang

PACKAGE = Path(shotlang.__file__).parent
# Which parts each part may import (besides itself). "" is the top level's plumbing modules.
PLUMBING = {"files", "terminal", "config", "exits"}
MAY_IMPORT = {
    "compiler": set(),
    "engine": {"compiler", "plumbing"},
    "tools": {"compiler", "engine", "plumbing"},
    "testing": {"compiler.models", "compiler.language"},  # data only: the matrix and the option rows
    "plumbing": {"compiler"},
}
STAGES = ("source", "scanner", "trivia", "syntax", "quickparse", "parser", "lower", "camera", "checks", "records",
          "payload")


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module imported, the statement) for each import of a shotlang module in the file."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.startswith("shotlang"):  # what is imported: a module, or a name in one
                found += [(f"{module}.{a.name}", ast.unparse(node)) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, ast.unparse(node)) for a in node.names if a.name.startswith("shotlang")]
    return found


def _part(module: str) -> str:
    """The part of the package a module belongs to."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in ("__init__", "__main__", "cli"):
        return "top"
    if parts[1] in PLUMBING or parts[1] == "__version__":
        return "plumbing"
    return parts[1]


def _allowed(part: str, module: str) -> bool:
    target = _part(module)
    if target == part:
        return True
    allowed = MAY_IMPORT.get(part)
    if allowed is None:  # the top level: the command line may use every part but the server
        return target != "testing"
    return target in allowed or any(module == f"shotlang.{a}" or module.startswith(f"shotlang.{a}.")
                                    for a in allowed if "." in a)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_each_module_imports_only_what_its_part_may(path: Path) -> None:
    part = _part(_module(path))
    wrong = [said for module, said in _imports(path) if not _allowed(part, module)]
    assert wrong == [], f"{part} may import only {sorted(MAY_IMPORT.get(part, {'every part'}))}"


def test_the_compiler_s_stages_only_look_forward() -> None:
    for i, stage in enumerate(STAGES):
        later = {f"shotlang.compiler.{s}" for s in STAGES[i + 1 :]}
        used = {module for module, _ in _imports(PACKAGE / "compiler" / f"{stage}.py")}
        assert not used & later, f"{stage} imports a later stage: {sorted(used & later)}"


def test_the_layout_is_what_the_docs_say() -> None:
    parts = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())  # not the grammar's folder
    assert parts == ["compiler", "engine", "testing", "tools"]
    contributing = (Path(__file__).resolve().parent.parent / "docs" / "contributing.md").read_text(encoding="utf-8")
    for part in parts:
        assert f"`shotlang/{part}/`" in contributing


def test_a_wrong_import_is_caught(tmp_path: Path) -> None:
    assert not _allowed("compiler", "shotlang.engine.runner")
    assert not _allowed("engine", "shotlang.tools.fmt")
    assert not _allowed("testing", "shotlang.compiler.kling")
    assert _allowed("testing", "shotlang.compiler.models") and _allowed("tools", "shotlang.engine.takes")
    assert not _allowed("top", "shotlang.testing.server")
