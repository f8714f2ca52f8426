"""Compiled kernels: when to use them, and where their cache lives.

The kernels of ``sim/model/kernels.py`` run as numpy code or compiled by numba, with identical
results. Compiling takes seconds, and even loading compiled code from the cache costs about a
second (importing numba and its LLVM), while one run on the numpy path takes tens of
milliseconds. So, in ``auto`` mode (the default):

* while the compiled cache is cold, runs use numpy at once, and the cache is warmed by a
  separate background process (``python -m sim.model.warmup``), out of the user's way;
* once it is warm, a process loads the compiled kernels when the work in front of it repays
  the load: a batch of at least ``BATCH_STEP_RUNS`` step-runs, or once it has run that many
  step-runs on numpy (a notebook or a sweep, not a single ``roundtrip run``).

``ROUNDTRIP_KERNELS=numpy`` or ``numba`` forces one; ``use("numba")`` does it from Python. The
cache is in the user's cache folder (``ROUNDTRIP_CACHE_DIR`` overrides it), never inside the
installed package; where no cache can be written, everything runs on numpy.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sim.model import kernels

# Step-runs (steps x runs) of numpy work worth about one load of the compiled kernels: a monthly
# 8-year run is 96 step-runs and takes ~30 ms on numpy, so ~3,000 step-runs is ~1 s.
BATCH_STEP_RUNS = 3_000
# A background warm-up younger than this is taken to be still compiling.
WARMUP_SECONDS = 120
MODES = ("auto", "numpy", "numba")

_numpy_step_runs = 0  # step-runs this process has run on numpy in auto mode
_warmup_started = False


def cache_dir() -> Path:
    """Where compiled kernels are cached: ``$ROUNDTRIP_CACHE_DIR``, else the user's cache
    folder (``~/.cache/roundtrip`` on Linux) / ``numba``."""
    override = os.environ.get("ROUNDTRIP_CACHE_DIR")
    if override:
        return Path(override) / "numba"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("roundtrip", appauthor=False)) / "numba"


def _key() -> str:
    """Names one compiled build: the kernels' file and source (numba keys its cache by both),
    numba's and Python's versions, the CPU."""
    from importlib.metadata import version

    path = Path(kernels.__file__).resolve()
    tag = f"{path}-{version('numba')}-{sys.version_info[:2]}-{os.uname().machine}"
    return hashlib.sha256(path.read_bytes() + tag.encode()).hexdigest()[:16]


def _ready_file() -> Path:
    return cache_dir() / f"ready-{_key()}"


def is_warm() -> bool:
    """True if every kernel was compiled into a cache this process can read and write."""
    d = cache_dir()
    return _ready_file().is_file() and os.access(d, os.R_OK | os.W_OK | os.X_OK)


def mode() -> str:
    m = os.environ.get("ROUNDTRIP_KERNELS", "auto").strip().lower() or "auto"
    return m if m in MODES else "auto"


def use(name: str) -> None:
    """Use ``numpy`` or ``numba`` kernels from now on in this process (``numba`` compiles
    them if their cache is cold: a few seconds, once)."""
    if name == "numpy":
        kernels.set_implementation(kernels.NUMPY)
    elif name == "numba":
        kernels.set_implementation(_compiled())
    else:
        raise ValueError(f"kernels are numpy or numba, got {name!r}")


def prepare(step_runs: int) -> str:
    """Pick the kernels for a batch of ``step_runs`` (steps x runs); returns the choice."""
    global _numpy_step_runs
    m = mode()
    if m != "auto":
        if kernels.implementation() != m:
            use(m)
        return m
    if kernels.implementation() == "numba":
        return "numba"
    if not is_warm():
        warm_up_in_background()
    elif step_runs >= BATCH_STEP_RUNS or _numpy_step_runs >= BATCH_STEP_RUNS:
        try:
            use("numba")
            return "numba"
        except Exception:  # a damaged cache or numba unable to load: numpy gives the same cents
            kernels.set_implementation(kernels.NUMPY)
    _numpy_step_runs += step_runs
    return "numpy"


# ---------------------------------------------------------------------------------------------
# numba, with its cache in our folder
# ---------------------------------------------------------------------------------------------

_COMPILED: Any = None


def _compiled() -> Any:
    """The kernels compiled by numba (loaded from the cache where it holds them)."""
    global _COMPILED
    if _COMPILED is None:
        import numba

        cache = _cache_class()
        funcs = {}
        for name in kernels.KERNELS:
            dispatcher = numba.njit(getattr(kernels, f"{name}_loops"))
            if cache is not None:
                # what cache=True would do; no writable cache folder: compile in memory only
                with contextlib.suppress(RuntimeError):
                    dispatcher._cache = cache(dispatcher.py_func)
            funcs[name] = dispatcher
        _COMPILED = SimpleNamespace(**funcs, name="numba")
    return _COMPILED


def _cache_class() -> Any:
    """numba's function cache, told to keep its files in ``cache_dir()`` rather than beside
    the source (which, in an installed package, is not ours to write)."""
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - numba's internals moved
        return None
    base = getattr(caching, "UserProvidedCacheLocator", None) or getattr(
        caching, "_UserProvidedCacheLocator", None
    )
    impl = getattr(caching, "CompileResultCacheImpl", None)
    if base is None or impl is None:  # pragma: no cover
        return None
    root = str(cache_dir())

    class Locator(base):  # type: ignore[misc, valid-type]
        def __init__(self, py_func: Any, py_file: str) -> None:
            super().__init__(py_func, py_file)
            self._cache_path = os.path.join(root, self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not os.path.exists(py_file):
                return None
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    class Impl(impl):  # type: ignore[misc, valid-type]
        _locator_classes = [Locator]

    class Cache(caching.FunctionCache):
        _impl_class = Impl

    return Cache


def mark_warm() -> None:
    """Mark the cache warm: every kernel is compiled into it (``sim.model.warmup``)."""
    ready = _ready_file()
    ready.parent.mkdir(parents=True, exist_ok=True)
    ready.write_text("compiled kernels of roundtrip are cached here\n")


def warm_up_in_background() -> bool:
    """Start ``python -m sim.model.warmup`` detached, once per cache folder at a time; False if the
    cache cannot be written or a warm-up is already under way."""
    global _warmup_started
    if _warmup_started:
        return False
    _warmup_started = True
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        lock = d / "warming"
        if lock.exists() and time.time() - lock.stat().st_mtime < WARMUP_SECONDS:
            return False
        lock.write_text(str(os.getpid()))
    except OSError:
        return False  # nowhere to cache: numpy it stays
    env = {**os.environ, "ROUNDTRIP_KERNELS": "numba"}
    try:
        subprocess.Popen(
            [sys.executable, "-m", "sim.model.warmup"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not killed with the user's command, nor by its Ctrl-C
            env=env,
            close_fds=True,
        )
    except OSError:
        return False
    return True
