"""shotlang: shot lists in a small language, compiled to checked Kling AI video requests.

    >>> import shotlang
    >>> result = shotlang.compile_text('SHOT castle: slow pan right over "A castle" 5s pro')
    >>> result.output.shots[0].body.camera_control.config.horizontal
    5
"""

from .compiler import CompileResult, compile_bytes, compile_file, compile_text

__all__ = ["CompileResult", "compile_bytes", "compile_file", "compile_text", "__version__"]
__version__ = "0.1.0"
