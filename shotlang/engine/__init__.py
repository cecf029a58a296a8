"""The run engine: signing (auth), the HTTP client, the state file and journal, the runner that
submits, polls and downloads, prices and progress, and what a run left on disk (takes, mp4).
"""
