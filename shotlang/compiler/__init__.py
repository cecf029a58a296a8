"""The compiler: a shot list's text to checked Kling requests, stage by stage.

source -> scanner/trivia -> parser (quickparse, the grammar) -> lower -> checks -> records ->
payload; pipeline.py drives them and is the Python API behind `shotlang.compile_text`. What
it knows of Kling is here too, for the checks and the run engine alike: the API's facts
(kling.py), its bodies (bodies.py), and which model offers what (models.py, models.toml). The
stages only look forward; nothing here imports the run engine or the tools.
"""
