"""shotlang: shot lists in a small language, compiled to checked Kling AI video requests.

    >>> import shotlang
    >>> result = shotlang.compile_text('SHOT castle: slow pan right over "A castle" 5s pro')
    >>> result.output.shots[0].body.camera_control.config.horizontal
    5
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["CompileResult", "ImageStore", "compile_bytes", "compile_file", "compile_text", "__version__"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .compiler.images import ImageStore
    from .compiler.pipeline import compile_bytes, compile_file, compile_text
    from .compiler.result import CompileResult


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import shotlang.cli` (and `shotlang check`) stays light.
    if name in ("compile_bytes", "compile_file", "compile_text"):
        from .compiler import pipeline

        return getattr(pipeline, name)
    if name == "CompileResult":
        from .compiler.result import CompileResult

        return CompileResult
    if name == "ImageStore":
        from .compiler.images import ImageStore

        return ImageStore
    raise AttributeError(f"module 'shotlang' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public API, including what __getattr__ imports lazily; not this module's own imports.
    return sorted(__all__)
