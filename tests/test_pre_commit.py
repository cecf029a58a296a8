"""The pre-commit hooks (.pre-commit-hooks.yaml) as a writer's commit meets them, run by
pre-commit itself on a scratch git repository with staged shot lists: through README.md's
configuration and `pre-commit run`, and through `pre-commit try-repo`.

The repository the hooks come from is a snapshot of this working tree, committed in a scratch
folder: what is tested is today's hooks file and code, not the last commit's. pre-commit
installs it with pip into a fresh virtual environment, 15 to 30 seconds here: once for the
`run` tests, which share a PRE_COMMIT_HOME, and once for the try-repo test (try-repo keeps no
environment between runs). That is nearly all of this file's time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_manifest

from shotlang.tools.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"

GOOD = 'TITLE "Hooks"\n\nSHOT castle: slow pan right over "A medieval castle on a cliff at sunrise" 5s pro moves words\n'
BROKEN = 'SHOT combo: pan right and tilt up over "Two moves at once"\n'  # E201
MESSY = 'shot  castle :Slow   PAN Right  OVER "A castle"   PRO  5S  AVOID "fog"  16:9   # the opening\n'
NOT_A_SHOT_LIST = "pan right and tilt up: not shotlang, and no hook of ours may read it\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs git, and this repository as a git checkout")


def environment(home: Path) -> dict[str, str]:
    """The environment for git and pre-commit: no user's or machine's git configuration (a
    global hooks path or commit signing would change what happens), pre-commit's own files in
    `home` rather than ~/.cache/pre-commit, and no PYTHONPATH that could lend the hooks' own
    environment another shotlang."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PRE_COMMIT", "SKIP")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(home))
    return env


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


def new_repository(path: Path, env: dict[str, str]) -> None:
    git(path, env, "init", "--quiet")
    git(path, env, "config", "user.name", "Shotlang Tests")
    git(path, env, "config", "user.email", "tests@shotlang.invalid")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return environment(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """This repository as pre-commit would clone it, but from the working tree: every tracked
    file as it is now, and the package's files not yet added to git (a new module), committed
    in a scratch repository. try-repo on ROOT itself would install HEAD (or, with changes, a
    commit of the tracked files only)."""
    snapshot = tmp_path_factory.mktemp("shotlang")
    # ROOT is read with the caller's own git configuration (safe.directory may be in it).
    tracked = git(ROOT, dict(os.environ), "ls-files", "-z", "--cached").split("\0")
    new = git(ROOT, dict(os.environ), "ls-files", "-z", "--others", "--exclude-standard", "--",
              "shotlang", "grammar", ".pre-commit-hooks.yaml").split("\0")
    for name in tracked + new:
        if name and (ROOT / name).is_file():  # not a tracked file deleted in the working tree
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, snapshot / name)
    new_repository(snapshot, env)
    git(snapshot, env, "add", "--all")
    git(snapshot, env, "commit", "--quiet", "--no-verify", "--message", "the working tree, for try-repo")
    return snapshot


@pytest.fixture
def project(tmp_path: Path, env: dict[str, str]) -> Path:
    """A writer's repository with shot lists staged for a commit."""
    files = {"good.shot": GOOD, "broken.shot": BROKEN, "messy.shot": MESSY, "notes.txt": NOT_A_SHOT_LIST}
    new_repository(tmp_path, env)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    git(tmp_path, env, "add", *files)
    return tmp_path


def pre_commit(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def try_repo(project: Path, hooks_repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return pre_commit(project, env, "try-repo", "--color", "never", str(hooks_repo), *args)


def outcome(output: str, name: str) -> str:
    """`Passed`, `Failed` or `(no files to check)Skipped`: the result pre-commit prints for hook `name`."""
    found = re.findall(rf"^{re.escape(name)}\.+(\S.*)$", output, re.MULTILINE)
    assert len(found) == 1, output
    return str(found[0])


def readme_config() -> dict[str, Any]:
    """The .pre-commit-config.yaml README.md shows, in its pre-commit section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## pre-commit\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block, "README.md's pre-commit section has no yaml block"
    config: dict[str, Any] = yaml.safe_load(block[1])
    return config


def with_readme_config(project: Path, hooks_repo: Path, env: dict[str, str], **fmt_args: list[str]) -> None:
    """README's configuration in `project`, staged, its placeholders for shotlang's URL and tag
    filled with the snapshot and its commit (and `fmt_args` as shotlang-fmt's `args`)."""
    config = readme_config()
    (repo,) = config["repos"]
    repo.update(repo=str(hooks_repo), rev=git(hooks_repo, env, "rev-parse", "HEAD").strip())
    for hook in repo["hooks"]:
        if hook["id"] == "shotlang-fmt":
            hook.update(fmt_args)
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    git(project, env, "add", ".pre-commit-config.yaml")


def test_the_shot_lists_are_what_the_tests_say() -> None:
    assert format_text(GOOD).text == GOOD
    assert format_text(MESSY).text not in (None, MESSY)
    assert [d.code for d in format_text(BROKEN).diagnostics] == ["E201"]


def test_readme_lists_every_hook() -> None:
    (repo,) = readme_config()["repos"]
    documented = [hook["id"] for hook in repo["hooks"]]
    assert documented == [hook["id"] for hook in load_manifest(str(HOOKS))] == ["shotlang-check", "shotlang-fmt"]


# --- as a writer's repository uses them: README's configuration and `pre-commit run` ------------
# These share one installation of the hooks (pre-commit's store, in the module's
# PRE_COMMIT_HOME, keeps it; `args` is not part of what it is keyed by).

@pytest.mark.slow
def test_readme_config_passes_a_good_shot_list_and_leaves_other_files_alone(
        project: Path, hooks_repo: Path, env: dict[str, str]) -> None:
    with_readme_config(project, hooks_repo, env)
    # notes.txt would fail `check` (and `fmt`) if a hook were handed it.
    run = pre_commit(project, env, "run", "--color", "never", "--files", "good.shot", "notes.txt")
    assert run.returncode == 0, run.stdout + run.stderr
    assert outcome(run.stdout, "shotlang check") == "Passed"
    assert outcome(run.stdout, "shotlang fmt") == "Passed"
    assert (project / "good.shot").read_text(encoding="utf-8") == GOOD


@pytest.mark.slow
def test_fmt_rewrites_a_messy_shot_list_and_stops_the_commit(
        project: Path, hooks_repo: Path, env: dict[str, str]) -> None:
    with_readme_config(project, hooks_repo, env)
    run = pre_commit(project, env, "run", "--color", "never", "shotlang-fmt", "--files", "messy.shot", "good.shot")
    assert run.returncode == 1, run.stdout + run.stderr
    assert outcome(run.stdout, "shotlang fmt") == "Failed"
    # Failed because a file changed, as formatter hooks do; shotlang fmt itself succeeded.
    assert "- files were modified by this hook" in run.stdout
    assert "- exit code" not in run.stdout
    assert "reformatted messy.shot" in run.stdout
    assert (project / "messy.shot").read_text(encoding="utf-8") == format_text(MESSY).text
    assert (project / "good.shot").read_text(encoding="utf-8") == GOOD


@pytest.mark.slow
def test_fmt_with_check_in_its_args_only_reports(project: Path, hooks_repo: Path, env: dict[str, str]) -> None:
    with_readme_config(project, hooks_repo, env, args=["--check"])
    run = pre_commit(project, env, "run", "--color", "never", "shotlang-fmt", "--files", "messy.shot", "good.shot")
    assert run.returncode == 1, run.stdout + run.stderr
    assert outcome(run.stdout, "shotlang fmt") == "Failed"
    assert "- exit code: 1" in run.stdout
    assert "would reformat messy.shot" in run.stdout
    assert "files were modified" not in run.stdout
    assert (project / "messy.shot").read_text(encoding="utf-8") == MESSY


# --- through `pre-commit try-repo`, the way a hook's author tries them ---------------------------

@pytest.mark.slow
def test_both_hooks_stop_a_broken_shot_list_with_its_diagnostic(
        project: Path, hooks_repo: Path, env: dict[str, str]) -> None:
    # No hook named: try-repo runs every hook of .pre-commit-hooks.yaml.
    run = try_repo(project, hooks_repo, env, "--files", "broken.shot", "good.shot")
    assert run.returncode == 1, run.stdout + run.stderr
    check, fmt = run.stdout.split("\nshotlang fmt.")
    assert outcome(check, "shotlang check") == "Failed"
    assert outcome("shotlang fmt." + fmt, "shotlang fmt") == "Failed"
    # check shows the diagnostic and its place; fmt names the file once: each error said once
    assert "- exit code: 1" in check and "- exit code: 1" in fmt
    assert "error[E201]: 2 camera movements in one shot: `pan right` and `tilt up`" in check
    assert "--> broken.shot:1:13" in check and "good.shot" not in check.split("- exit code: 1")[1]
    assert "E201" not in fmt and "broken.shot: not formatted: it has 1 error" in fmt
    assert "files were modified" not in fmt  # a file with errors is left as it is
    assert (project / "broken.shot").read_text(encoding="utf-8") == BROKEN
