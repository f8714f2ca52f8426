"""Where chunks of runs run: in this process, in a pool of processes, or on a Dask cluster
(one started here, or a scheduler at an address), behind one interface (``Backend``:
``window``, ``submit``, ``close``) that ``sim.runs.farm`` drives.

What a user may get wrong is checked here before anything starts: a scheduler's address
(``check_address``) and the number of workers (``check_workers``, at most ``max_workers()``,
one per core). A scheduler is reached within a stated timeout, and a cluster that cannot be
reached or is lost mid-run is one ``ClusterError`` (exit 3), never Dask's tracebacks: Dask's
logs and warnings are silenced while it runs, and a local cluster's workers write their stderr
to the null device.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from sim.errors import ClusterError
from sim.io.signals import leave_interrupts_to_parent

BACKENDS = ("local", "processes", "dask-local")  # or a scheduler's address (check_address)
Task = Callable[[list[Any]], Any]  # what runs a chunk (sim.runs.farm.run_chunk)


class TaskFuture(Protocol):
    """A chunk sent to run: its result when done (concurrent.futures' and Dask's futures)."""

    def result(self) -> Any: ...

    def done(self) -> bool: ...

    def cancel(self) -> Any: ...

    def cancelled(self) -> bool: ...

    def exception(self) -> BaseException | None: ...


class Backend(Protocol):
    """Where chunks run: ``submit`` one, ``close`` when done."""

    window: int  # chunks in flight at once: results held in memory are at most this many

    def submit(self, chunk: list[Any]) -> TaskFuture: ...

    def close(self) -> None: ...


class _Here:
    """In this process, chunk by chunk: a chunk runs when it is submitted."""

    window = 1

    def __init__(self, task: Task) -> None:
        self.task = task

    def submit(self, chunk: list[Any]) -> TaskFuture:
        future: Future[Any] = Future()
        future.set_result(self.task(chunk))
        return future

    def close(self) -> None:
        pass


# Workers at most: one per core this process may use (a chunk is single-threaded work, so a
# worker more only waits for a core), and one per WORKER_MEMORY of the machine's memory: a
# worker's peak on the $50B file in chunks of 1,000 runs is 726 MiB (README, "Speed").
WORKER_MEMORY = 1 << 30  # bytes
# Seconds to reach a scheduler and hear it answer as a Dask scheduler (farm's connect_timeout)
CONNECT_TIMEOUT = 10.0
_POLL = 1.0  # seconds between looks at a cluster's workers while a chunk is awaited
SCHEMES = ("tcp", "tls")  # the protocols of Dask's schedulers taken (tls: with Dask's settings)
_ADDRESS_FORM = (
    "give local, or tcp://HOST:PORT (tls://HOST:PORT for TLS), e.g. tcp://127.0.0.1:8786"
)


def max_workers() -> int:
    """The most workers this machine runs at once: the cores this process may use, and no
    more than its memory holds at ``WORKER_MEMORY`` each (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not known here: cores alone
        return max(1, cores)
    return max(1, min(cores, memory // WORKER_MEMORY))


def check_workers(workers: int) -> int:
    """``workers`` if this machine can run that many (``max_workers``); ``ValueError`` saying
    the bound and why otherwise."""
    most = max_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= most:
        raise ValueError(
            f"this machine runs 1 to {most} workers (one per core, {WORKER_MEMORY >> 30} GiB "
            f"of memory each), got {workers!r}"
        )
    return workers


def check_address(address: str) -> str:
    """``address`` if it is a scheduler's address Dask can connect to, ``SCHEME://HOST:PORT``
    with a scheme of ``SCHEMES``, a host name, IPv4 address or bracketed IPv6 address, and a
    port 1 to 65535; ``ValueError`` saying what is wrong and what is accepted otherwise. Only
    the form is checked here; ``_Dask`` connects."""
    import ipaddress
    import re

    def refuse(what: str) -> ValueError:
        return ValueError(f"{address!r}: {what}; {_ADDRESS_FORM}")

    if not isinstance(address, str):
        raise ValueError(f"{address!r}: not text; {_ADDRESS_FORM}")
    if not address.isascii() or not address.isprintable() or any(c.isspace() for c in address):
        raise refuse("an address is ASCII letters, digits and :/.[]-, without spaces")
    scheme, sep, rest = address.partition("://")
    if not sep:
        raise refuse("no scheme")
    if scheme not in SCHEMES:
        raise refuse(f"{scheme}:// is not a scheduler's protocol taken here")
    found = re.fullmatch(r"(\[[^\]]*\]|[^:/\[\]]*)(?::([^:/]*))?", rest)
    if found is None:
        raise refuse("after the scheme comes HOST:PORT and nothing else")
    host, port = found.group(1), found.group(2)
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise refuse(f"{host} is not an IPv6 address") from None
    elif not host:
        raise refuse("no host")
    elif (
        not all(
            re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", label)
            for label in host.split(".")
        )
        or len(host) > 253
    ):
        raise refuse(f"{host} is not a host name or IP address")
    if port is None or port == "":
        raise refuse("no port")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise refuse(f"port {port} is not a number from 1 to 65535")
    return address


class _Processes:
    """A pool of worker processes on this machine, started fresh (spawn), not forked."""

    def __init__(self, workers: int, task: Task) -> None:
        self.task = task
        self.window = 2 * workers
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=leave_interrupts_to_parent,
        )

    def submit(self, chunk: list[Any]) -> TaskFuture:
        return self.pool.submit(self.task, chunk)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _children_silent() -> Iterator[None]:
    """Processes started in this block write their stderr to the null device: a Ctrl-C at the
    terminal, sent to the whole process group, stops a worker with Python's KeyboardInterrupt
    traceback, and Dask's workers log to stderr. This process alone reports how the job ended.
    (Ignoring SIGINT while the workers start would keep them running, but would lose a Ctrl-C
    that comes meanwhile: Python may take it on any thread.)"""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def local_cluster(workers: int) -> Any:
    """A Dask LocalCluster of ``workers`` single-threaded worker processes, as
    ``--scheduler local`` starts it, quiet: its logs at CRITICAL only, and its workers' stderr
    on the null device (``_children_silent``).

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns glibc's
    adaptive threshold off: every large array is then mapped and unmapped afresh, page faults
    and all, and a chunk of runs (arrays of tens of MB, made and dropped at every step) takes
    about a third longer. These workers keep glibc's default; the other variables Dask sets
    (one thread for OpenMP, MKL, OpenBLAS) stay. Your own cluster's workers run faster the
    same way (docs/ranges.md, "Backends")."""
    import logging

    import dask
    from distributed import LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    settings = {"distributed.nanny.pre-spawn-environ": environ}
    with dask.config.set(settings), _children_silent():
        return LocalCluster(
            n_workers=check_workers(workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )


class _DaskFuture:
    """A Dask future whose failure to come back is a ``ClusterError``: the scheduler lost, or
    no worker left for ``timeout`` seconds (a scheduler holds its tasks until a worker joins:
    waiting for one would be a hang); an error of the chunk itself is raised as it is."""

    def __init__(self, future: Any, client: Any, address: str, timeout: float) -> None:
        self.future, self.client, self.address, self.timeout = future, client, address, timeout

    def result(self) -> Any:
        import time

        from sim.io.signals import raise_deferred

        alone_since: float | None = None
        try:
            while True:
                # a safe point: a Ctrl-C whose exception was lost in a finaliser meanwhile stops
                # the wait here (the same Ctrl-C may have stopped the workers, and with them
                # every chunk that would have reached the next safe point)
                raise_deferred()
                with contextlib.suppress(TimeoutError):  # still running: look at the workers
                    return self.future.result(timeout=_POLL)
                if self.client.nthreads():
                    alone_since = None
                    continue
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since > self.timeout:
                    raise ClusterError(
                        self.address,
                        f"no worker was left for {self.timeout:g} s (--connect-timeout) while "
                        "runs were under way",
                    )
        except ClusterError:
            raise
        except Exception as e:
            lost = _lost(e)
            if lost is None:
                raise
            raise ClusterError(self.address, lost) from None

    def done(self) -> bool:
        return bool(self.future.done())

    def cancel(self) -> Any:
        return self.future.cancel()

    def cancelled(self) -> bool:
        return bool(self.future.cancelled())

    def exception(self) -> BaseException | None:
        try:
            error = self.future.exception()
        except Exception as e:  # cancelled or lost: it did not finish
            return e
        return error if isinstance(error, BaseException) else None


def _lost(e: BaseException) -> str | None:
    """What a Dask failure says of the cluster, or None if it is the chunk's own error."""
    import asyncio
    import concurrent.futures

    from distributed import TimeoutError as DaskTimeout
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    if isinstance(e, KilledWorker):
        return "the workers running a chunk died (out of memory?) and the scheduler gave up"
    if isinstance(
        e,
        FutureCancelledError
        | concurrent.futures.CancelledError
        | asyncio.CancelledError
        | CommClosedError
        | DaskTimeout
        | OSError,
    ):
        return "the scheduler was lost while runs were under way"
    return None


class _Dask:
    """A Dask cluster: a LocalCluster started here (one single-threaded worker process each),
    or the scheduler at ``address``, reached within ``timeout`` seconds."""

    def __init__(self, address: str | None, workers: int, timeout: float, task: Task) -> None:
        self.task = task
        self.address = address or "local"
        self.timeout = timeout
        self.cluster = None
        self.client: Any = None
        self.quiet = _Quiet()
        try:
            if address is None:
                self.cluster = local_cluster(workers)
                self.client = self._connect(self.cluster, timeout)
            else:
                self.client = self._connect(check_address(address), timeout)
            self.window = 2 * max(1, sum(self.client.nthreads().values()))
        except BaseException:
            self.close()
            raise

    def _connect(self, where: Any, timeout: float) -> Any:
        """A client of ``where``, or ``ClusterError`` if no Dask scheduler answers there within
        ``timeout`` seconds. Dask's own timeout covers reaching the address, not its answer (a
        web server there never answers): the client is made on a thread of its own, waited for
        ``timeout``, and left to Python's exit if it never comes."""
        import socket

        from distributed import Client

        if isinstance(where, str):  # a quick, clear answer when nothing listens there
            host, _, port = where.partition("://")[2].rpartition(":")
            try:
                socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
            except OSError as e:
                raise ClusterError(
                    self.address, f"cannot reach it ({e.strerror or type(e).__name__})"
                ) from None
        made: list[Any] = []

        def connect() -> None:
            try:
                made.append(Client(where, timeout=timeout, set_as_default=False))
            except BaseException as e:  # reported on the main thread
                made.append(e)

        thread = threading.Thread(target=connect, name="roundtrip-connect", daemon=True)
        thread.start()
        thread.join(timeout + 1.0)  # Dask's own timeout, when it holds, comes first
        if not made:
            raise ClusterError(
                self.address,
                f"no Dask scheduler answered there within {timeout:g} s (--connect-timeout)",
            )
        if isinstance(made[0], BaseException):
            raise ClusterError(
                self.address,
                "no Dask scheduler answered there "
                f"({type(made[0]).__name__}: {str(made[0])[:200] or 'no detail'})",
            )
        return made[0]

    def submit(self, chunk: list[Any]) -> TaskFuture:
        future = self.client.submit(self.task, chunk, pure=False)
        return _DaskFuture(future, self.client, self.address, self.timeout)

    def close(self) -> None:
        try:
            with contextlib.suppress(Exception):  # a cluster lost is said once, by farm
                if self.client is not None:
                    self.client.close(timeout=CONNECT_TIMEOUT)
            with contextlib.suppress(Exception):
                if self.cluster is not None:
                    self.cluster.close(timeout=CONNECT_TIMEOUT)
        finally:
            # the client's abandoned asyncio tasks are freed while Dask's logs are still off:
            # freed later, asyncio would log "Task exception was never retrieved" on stderr
            gc.collect()
            self.quiet.end()


def _drop_dask_finalisers() -> None:
    """From the first Dask backend on, an exception raised in a finaliser of Dask's (a client
    half-made when its scheduler did not answer, freed as Python exits), which Python can only
    print as "Exception ignored in: Client.__del__" and a traceback, is dropped; any other
    goes to the hook found."""
    found = sys.unraisablehook
    if getattr(found, "drops_dask", False):
        return

    def hook(info: Any) -> None:
        where = getattr(info.object, "__module__", None) or type(info.object).__module__
        if str(where).startswith(("distributed.", "tornado.")):
            return
        found(info)

    hook.drops_dask = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


class _Quiet:
    """Dask's log lines and warnings silenced from here to ``end``, while farm runs on Dask: a
    failure of the cluster comes back as one ``ClusterError``, not as Dask's tracebacks and
    retries on stderr."""

    def __init__(self) -> None:
        import logging
        import warnings

        self.level = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        _drop_dask_finalisers()
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.simplefilter("ignore")
        self.ended = False

    def end(self) -> None:
        import logging

        if not self.ended:
            self.ended = True
            self.warnings.__exit__(None, None, None)
            logging.disable(self.level)


def open_backend(backend: str, workers: int | None, timeout: float, task: Task) -> Backend:
    """The backend named (``BACKENDS``, or a scheduler's address), running ``task`` (a
    module-level function, sent to other processes by name) on each chunk submitted;
    ``workers`` at most ``max_workers()`` (default: that many); a scheduler reached within
    ``timeout`` seconds (``ClusterError`` otherwise)."""
    n = check_workers(workers) if workers is not None else max_workers()
    if backend == "local":
        return _Here(task)
    if backend == "processes":
        return _Processes(n, task)
    if backend == "dask-local":
        return _Dask(None, n, timeout, task)
    try:
        address = check_address(backend)
    except ValueError as e:
        raise ValueError(f"backend: {e}; or one of {', '.join(BACKENDS)}") from None
    return _Dask(address, n, timeout, task)
