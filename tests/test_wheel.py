"""The README's promise, kept by the built wheel: installed without extras in a fresh virtual
environment that borrows nothing from the test environment, every command the README shows runs.

The wheel is built from a copy of this checkout, installed with its plain requirements from the
package index (pip's cache makes a second time quick; CI's README commands fill it first), and
each command of the README after its two set-up commands runs as written, in a folder holding
the bundled scenarios and ``.venv`` (a link to the new environment). Each must exit 0 and leave
the file (or print the text) it promises. Commands the README names only in its prose
(``mc --scheduler local``, ``sensitivity --method sobol``) run too. The venv and the wheel live
in a temporary folder, removed at the end. Takes about two minutes with a warm pip cache; needs
the package index (``-m 'not network'`` leaves it out where there is none).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
INSTALL_TIMEOUT = 1200  # seconds: the plain requirements from the index, with a cold cache
COMMAND_TIMEOUT = 300  # seconds: the slowest command takes about ten on a shared core

pytestmark = pytest.mark.network


def _env(base: Path) -> dict[str, str]:
    """This environment less anything that would point Python at the test environment. The
    kernels run on numpy (the same results as compiled, docs/model.md "Exactness"): no
    background compile competes with the commands, and the kernels' cache stays in ``base``."""
    drop = ("PYTHON", "ROUNDTRIP_", "VIRTUAL_ENV", "CONDA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "ROUNDTRIP_KERNELS": "numpy", "ROUNDTRIP_CACHE_DIR": str(base / "cache")}


def _run(*cmd: object, cwd: Path, timeout: float = COMMAND_TIMEOUT) -> str:
    """Run ``cmd`` in ``cwd`` (never this checkout, whose sim/ Python would import first), in
    the temporary folder above ``cwd``."""
    base = cwd if cwd.name.startswith("roundtrip-wheel-") else cwd.parent
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=_env(base),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-3000:]}\n{proc.stderr}"
    return proc.stdout


_SKIPPED = shutil.ignore_patterns(
    ".venv", ".git", "*.egg-info", "build", "dist", "__pycache__", ".*_cache", ".hypothesis"
)


def _outside_the_source(folder: str, names: list[str]) -> set[str]:
    """What the copy leaves out: caches, builds, and the run folders at the top (not sim/runs)."""
    skipped = set(_SKIPPED(folder, names))
    return skipped | ({"runs"} if Path(folder) == ROOT else set())


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path  # holds scenarios/ and .venv, as the README's commands expect


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    """The wheel, built and installed without extras in a fresh venv (no site packages borrowed)."""
    base = Path(tempfile.mkdtemp(prefix="roundtrip-wheel-"))
    try:
        source, dist, venv, work = (base / n for n in ("src", "dist", "venv", "work"))
        shutil.copytree(ROOT, source, ignore=_outside_the_source)
        pip_wheel = ("-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source)
        _run(sys.executable, *pip_wheel, cwd=base, timeout=INSTALL_TIMEOUT)
        (wheel,) = dist.glob("roundtrip-*.whl")
        _run(sys.executable, "-m", "venv", venv, cwd=base)  # without --system-site-packages
        pip_install = ("-m", "pip", "install", "-q", "--no-compile", wheel)  # .pyc when used
        _run(venv / "bin" / "python", *pip_install, cwd=base, timeout=INSTALL_TIMEOUT)
        work.mkdir()
        shutil.copytree(ROOT / "scenarios", work / "scenarios")
        (work / ".venv").symlink_to(venv)
        yield Installed(venv, work)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_venv_borrows_nothing_from_the_test_environment(installed: Installed) -> None:
    python = installed.venv / "bin" / "python"
    where = _run(
        python, "-c", "import sim, sys; print(sim.__file__, sys.prefix)", cwd=installed.work
    )
    module, prefix = where.split()
    assert Path(module).is_relative_to(installed.venv), module
    assert Path(prefix) == installed.venv
    # the test tools and the notebooks extra are installed where the tests run, not here
    for name in ("pytest", "hypothesis", "pypdf", "ipywidgets"):
        proc = subprocess.run(
            [python, "-c", f"import {name}"],
            cwd=installed.work,
            env=_env(installed.work.parent),
            capture_output=True,
            text=True,
        )
        assert proc.returncode != 0, f"{name} is importable in the fresh venv"
    _run(python, "-m", "pip", "check", cwd=installed.work)


def test_the_plain_install_has_the_progress_bar_sobol_and_dask(installed: Installed) -> None:
    _run(
        installed.venv / "bin" / "python",
        "-c",
        "import tqdm, SALib.analyze.sobol, SALib.sample.sobol, dask.distributed, numba",
        cwd=installed.work,
    )


# --- the README's commands -------------------------------------------------------------------

Check = Callable[[Path, str], None]


def _ok(condition: bool, what: str) -> None:
    assert condition, what


def _rows(work: Path, name: str, n: int) -> None:
    rows = pq.ParquetFile(work / name).metadata.num_rows
    _ok(rows == n, f"{name}: {rows} rows, expected {n}")


def _starts(path: Path, magic: bytes) -> None:
    _ok(path.read_bytes().startswith(magic), f"{path} does not start with {magic!r}")


def _charts(folder: Path, name: str, magic: dict[str, bytes]) -> None:
    for suffix, start in magic.items():
        _starts(folder / f"{name}.{suffix}", start)


def _one(work: Path, pattern: str) -> str:
    (path,) = work.glob(pattern)
    return path.read_text(encoding="utf-8")


def _first_line(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0]


# What each command must leave behind: (a pattern of the command after `roundtrip`, its check of
# the work folder and what it printed). A command the README shows that none of these matches
# fails the test: add its check here.
CHARTS = "runs/amazon_openai_50b/charts"
EXPECTED: list[tuple[str, Check]] = [
    (  # a what-if: a run folder of its own
        r"run scenarios/amazon_openai_50b\.yaml --set",
        lambda w, out: _ok(
            "amazon" in json.loads(_one(w, "runs/amazon_openai_50b-*/metrics.json"))["investors"],
            "the what-if's metrics.json",
        ),
    ),
    (r"validate ", lambda w, out: _ok(": valid." in out, out)),
    (r"run .* --json$", lambda w, out: _ok(bool(json.loads(out)), out)),
    (r"--help$", lambda w, out: _ok("Usage" in out, out)),
    (
        r"run scenarios/amazon_openai_50b\.yaml --charts png,svg,pdf$",
        lambda w, out: _charts(
            w / CHARTS, "run_vs_twin", {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}
        ),
    ),
    (
        r"chart runs/amazon_openai_50b --format pdf",
        lambda w, out: _starts(w / CHARTS / "lab_cash.pdf", b"%PDF"),
    ),
    (r"report \S+ -o report\.pdf$", lambda w, out: _starts(w / "report.pdf", b"%PDF")),
    (
        r"report \S+ -o report\.html$",
        lambda w, out: _ok("<html" in (w / "report.html").read_text(), "report.html"),
    ),
    (
        r"sweep scenarios/amazon_openai_50b\.yaml .*:6'?$",
        lambda w, out: _rows(w, "runs/amazon_openai_50b.sweep.parquet", 6),
    ),
    (
        r"mc scenarios/amazon_openai_50b\.yaml --runs 2000 ",
        lambda w, out: _rows(w, "runs/amazon_openai_50b.mc.parquet", 2000),
    ),
    (
        r"report runs/\S+\.mc\.parquet -o mc-report\.pdf$",
        lambda w, out: _starts(w / "mc-report.pdf", b"%PDF"),
    ),
    (
        r"compare scenarios/amazon_anthropic\.yaml scenarios/amazon_openai_50b\.yaml$",
        lambda w, out: _ok("amazon_anthropic" in out.splitlines()[0], out),
    ),
    (
        r"run scenarios/whole_web\.yaml --matrices$",
        lambda w, out: _ok(
            _first_line(w / "runs/whole_web/transaction_flows.csv") != "", "transaction_flows.csv"
        ),
    ),
    (
        r"sensitivity scenarios/toy_round_trip\.yaml --out runs/toy-sensitivity --charts png$",
        lambda w, out: _starts(w / "runs/toy-sensitivity/tornado.png", b"\x89PNG"),
    ),
    (
        r"schema --out my-scenario\.schema\.json$",
        lambda w, out: _ok(
            json.loads((w / "my-scenario.schema.json").read_text())["title"] != "",
            "the JSON Schema",
        ),
    ),
    (
        r"init my-deal\.yaml --investor amazon --lab anthropic --cloud aws --schema$",
        lambda w, out: _ok(
            _first_line(w / "my-deal.yaml").endswith("$schema=scenario.schema.json")
            and (w / "scenario.schema.json").is_file(),
            "the starter and the schema beside it",
        ),
    ),
    (r"run my-deal\.yaml$", lambda w, out: _ok("Books balance to the cent" in out, out)),
    (
        r"explore scenarios/amazon_openai_50b\.yaml -o page\.html$",
        lambda w, out: _ok(
            '<meta name="generator" content="roundtrip explore' in (w / "page.html").read_text(),
            "the explore page",
        ),
    ),
    # named in the README's prose, not in a block of their own
    (r"mc .* --scheduler local ", lambda w, out: _rows(w, "runs/local.mc.parquet", 20)),
    (
        r"sensitivity .* --method sobol ",
        lambda w, out: _ok(
            "S1" in _first_line(w / "runs/toy-sobol/sensitivity.csv"), "Sobol indices"
        ),
    ),
]
IN_PROSE = [
    ".venv/bin/roundtrip mc scenarios/amazon_openai_50b.yaml --runs 20 --seed 1"
    " --vary 'agents.aws.margin~uniform(25%,45%)' --scheduler local --workers 1"
    " --out runs/local.mc.parquet",
    ".venv/bin/roundtrip sensitivity scenarios/toy_round_trip.yaml --method sobol"
    " --out runs/toy-sobol",
]
# README commands not run here, each with its reason.
NOT_RUN = {
    "jupyter lab": "installs the notebooks extra and opens a browser",
}
# README Python blocks not run here: a fragment that names the reader's own lists.
FRAGMENTS = ("farm.farm(jobs",)


def _readme_commands() -> list[str]:
    """The shell commands of the README after its two set-up commands, one line each."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)[2:]
    commands = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", "", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip()]
    return commands


def _check_for(command: str) -> Check:
    words = command.removeprefix(".venv/bin/roundtrip ")
    for pattern, check in EXPECTED:
        if re.search(pattern, words):
            return check
    pytest.fail(f"the README shows a command this test has no check for: {command}")


def test_the_readme_shows_the_commands_this_test_runs() -> None:
    commands = _readme_commands()
    assert len(commands) >= 14, commands
    for command in commands:
        if not any(skip in command for skip in NOT_RUN):
            assert command.startswith(".venv/bin/roundtrip "), command
            _check_for(command)
    text = README.read_text(encoding="utf-8")
    assert "--scheduler local" in text and "--method sobol" in text


def test_every_command_the_readme_shows_runs_after_the_plain_install(
    installed: Installed,
) -> None:
    commands = [c for c in _readme_commands() if not any(s in c for s in NOT_RUN)]
    for command in [*commands, *IN_PROSE]:
        check = _check_for(command)
        out = _run("bash", "-c", command, cwd=installed.work)
        check(installed.work, out)


def test_the_readme_python_runs_after_the_plain_install(installed: Installed) -> None:
    """Its Python blocks, one after the other as in one notebook (the second uses the first's
    ``import sim``)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    complete = [b for b in blocks if not any(f in b for f in FRAGMENTS)]
    assert len(complete) >= 2
    script = "\n".join(complete) + (
        "\nassert len(table) == 5 and len(draws) == 1000 and len(rows) == 5"
        "\nassert rows.attrs['charts']\n"
    )
    _run(installed.venv / "bin" / "python", "-c", script, cwd=installed.work)
