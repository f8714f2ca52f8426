"""A real, non-editable install: nothing is written inside the installed package, it runs from
a read-only venv and as another user, and ``pip uninstall`` leaves nothing behind.

The venv is made with the interpreter running the tests and borrows its dependencies (a ``.pth``
file), so only roundtrip itself is built and installed: a few seconds, no network. The wheel
with its own plain requirements, and the README's commands on it: tests/test_wheel.py.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "amazon_openai_50b.yaml"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUNDTRIP_", "PYTHON"))}
    return {**env, **extra}


_SKIPPED = shutil.ignore_patterns(
    ".venv", ".git", "*.egg-info", "build", "__pycache__", ".*_cache", ".hypothesis"
)


def _outside_the_source(folder: str, names: list[str]) -> set[str]:
    """What the copy leaves out: caches, builds, and the run folders at the top (not sim/runs)."""
    skipped = set(_SKIPPED(folder, names))
    return skipped | ({"runs"} if Path(folder) == ROOT else set())


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """A venv with roundtrip installed from this checkout (not editable)."""
    base = Path(tempfile.mkdtemp(prefix="roundtrip-install-"))
    os.chmod(base, 0o755)  # readable by another user
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [
                venv / "bin" / "python",
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    build = base / "src"
    shutil.copytree(
        ROOT,
        build,
        ignore=_outside_the_source,
    )
    subprocess.run(
        [
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            str(build),
        ],
        check=True,
        env=_env(),
        capture_output=True,
    )
    try:
        yield venv
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _site(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def _package_files(venv: Path) -> set[str]:
    site = _site(venv)
    return {str(p.relative_to(site)) for p in (site / "sim").rglob("*") if p.is_file()}


def _recorded(venv: Path) -> set[str]:
    record = next(_site(venv).glob("roundtrip-*.dist-info")) / "RECORD"
    with record.open() as f:
        return {row[0] for row in csv.reader(f) if row and row[0].startswith("sim/")}


def test_a_run_and_the_cache_warm_up_write_nothing_inside_the_package(installed, tmp_path) -> None:
    cache = tmp_path / "cache"
    env = _env(HOME=str(tmp_path), ROUNDTRIP_CACHE_DIR=str(cache))
    proc = subprocess.run(
        [installed / "bin" / "roundtrip", "run", SCENARIO, "--out", tmp_path / "out"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Books balance to the cent" in proc.stdout and not proc.stderr
    # the first run did not wait for a compiler; the compiled kernels land in the cache folder,
    # from a process of their own
    deadline = time.monotonic() + 120
    while not list((cache / "numba").glob("ready-*")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert list((cache / "numba").glob("ready-*")), "the background warm-up did not finish"
    assert list((cache / "numba").rglob("*.nbi"))
    assert _package_files(installed) <= _recorded(installed)
    # and the installed package loads them from there
    check = subprocess.run(
        [
            installed / "bin" / "python",
            "-c",
            "import sim.model.jit as j; j.use('numba'); print(j.kernels.implementation())",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.stdout.strip() == "numba", check.stderr
    assert _package_files(installed) <= _recorded(installed)


def _others_can_read(path: Path) -> bool:
    """Whether a user other than the owner can read ``path``: every folder above it lets others
    through, and the folder itself lets them read."""
    chain = [path, *path.parents]
    return bool(path.stat().st_mode & 0o004) and all(p.stat().st_mode & 0o001 for p in chain)


def _deps_for_others(venv: Path) -> None:
    """The borrowed dependencies, where another user can read them. A checkout in a private
    folder (``mktemp -d`` makes one) keeps the test venv's packages out of their reach; a venv
    installed by root for others would have its own, so hard-link them beside this venv (a
    copy where links cannot be made) and point ``deps.pth`` there."""
    pth = _site(venv) / "deps.pth"
    deps = Path(pth.read_text().strip())
    if _others_can_read(deps):
        return
    mine = venv.parent / "deps"

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(deps, mine, copy_function=link, symlinks=True)
    for folder, _, _ in os.walk(mine):  # the folders are new; the files, links to the originals
        os.chmod(folder, 0o755)
    pth.write_text(f"{mine}\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_a_read_only_venv_installed_by_root_runs_for_another_user(installed, tmp_path) -> None:
    out = Path(tempfile.mkdtemp(prefix="roundtrip-nobody-"))
    try:
        os.chmod(out, 0o777)
        scenario = out / SCENARIO.name  # the checkout may sit where others cannot read
        shutil.copyfile(SCENARIO, scenario)
        os.chmod(scenario, 0o644)
        _deps_for_others(installed)
        subprocess.run(["chmod", "-R", "a-w", str(installed)], check=True)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                installed / "bin" / "roundtrip",
                "run",
                scenario,
                "--out",
                out / "run",
            ],
            env=_env(HOME="/nonexistent"),  # no cache folder it can write either
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Books balance to the cent" in proc.stdout and not proc.stderr
        assert (out / "run" / "metrics.json").is_file()
        help_ = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                installed / "bin" / "roundtrip",
                "--help",
            ],
            env=_env(HOME="/nonexistent"),
            capture_output=True,
            text=True,
        )
        assert help_.returncode == 0 and "Usage" in help_.stdout and not help_.stderr
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(installed)], check=True)
        shutil.rmtree(out, ignore_errors=True)


def test_pip_uninstall_leaves_no_sim_folder(installed) -> None:
    site = _site(installed)
    assert (site / "sim").is_dir()
    subprocess.run(
        [installed / "bin" / "python", "-m", "pip", "uninstall", "-y", "-q", "roundtrip"],
        check=True,
        env=_env(),
        capture_output=True,
    )
    assert not (site / "sim").exists()
