"""The writers' tools built on the compiler: fmt, decompile, the language server (lsp), the
storyboard, the timeline, CI formats (SARIF, GitHub), the JSON Schema, and the generators of
the docs' tables and the editor grammar.
"""
