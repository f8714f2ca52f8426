"""Stopping a command: SIGINT (Ctrl-C), SIGTERM and SIGHUP, from the command's first instruction.

The rule (README, "Exit codes"): a signal that arrives before the command's output is in place
stops it, exit 130, 143 or 129, with nothing written; one that arrives after it is dropped, and the
command completes and exits as usual. ``listen`` installs ``on_signal``, which raises
``Interrupted``: a BaseException that unwinds through the removal of temporary files. The
publishing step of an output calls ``published`` once the output is in place.

This module needs only the standard library and imports nothing when a signal is handled, so
that ``sim.entry`` can install the handler before any heavy import, and a signal landing while
another module is half-imported finds nothing to import. A signal is never raised where the
exception would be lost or would leave a module half-made: inside an import, or inside a C
library that has called back into Python. There it is sent again a few milliseconds later, and
kept for the next safe point of a long job (``raise_deferred``, after each chunk of a farm).

The one place for the rule: the entry point and the command line install and put back the
handlers (``listen``, ``ignore``, ``settle``, ``put_back``) and report a stop (``stopped``,
``stdout_closed``); what writes an output holds the signals while it is put in place and says
when it is (``held``, ``published``, ``raise_deferred``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

# Ctrl-C, kill, and the terminal closed (a hang-up would otherwise kill the process outright,
# its temporary files left behind)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_WHAT: dict[int, str] = {
    signal.SIGINT: "interrupted",
    signal.SIGTERM: "terminated",
    signal.SIGHUP: "hung up",
}
AGAIN_AFTER = 0.005  # seconds before a signal that landed in an unsafe place is sent again

# Libraries written in C or Rust that call back into Python while they run: numba's compiled
# kernels fetch constants through numba's own functions, LLVM tells llvmlite of every object it
# loads, pydantic-core calls the validators of every input (ours in sim/inputs/schema.py among them)
_CALLBACKS = tuple(
    f"{os.sep}{name}{os.sep}" for name in ("numba", "llvmlite", "pydantic", "pydantic_core")
)
# the frames of an import under way (the module being executed runs below them)
_IMPORTING = "<frozen importlib._bootstrap"


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP while a command runs. A BaseException, as KeyboardInterrupt is: it
    unwinds through every ``finally`` and ``except BaseException`` (where temporary files are
    removed) and no ``except Exception`` stops it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _State:
    """What the handler reads: whether a command is listening and its output is in place, the
    signals kept for the next safe point, the signal that stopped the command (until the
    command ends), and the unraisable hook found."""

    listening = False
    published = False
    deferred: list[int] = []
    stopping: int | None = None
    hook: Any = None


def on_signal(signum: int, frame: Any) -> None:
    """The handler ``listen`` installs. The first stop signal (``STOP_SIGNALS``) stops the
    command (raises ``Interrupted``), unless the output is in place already (then it is
    dropped); any later one is ignored, so that it cannot cut short the removal of temporary
    files the first one set off, and one arriving while the first waits to be sent again stops
    the command as the first. In an import or a C library's callback it is sent again
    ``AGAIN_AFTER`` later instead, and kept for ``raise_deferred``: raised there, the exception
    would surface in the library (which can only print "Exception ignored" and go on, or fail
    with a SystemError) or leave a module half-imported."""
    if _State.published:
        return
    if unsafe(frame):
        defer_signal(signum)
        threading.Timer(AGAIN_AFTER, os.kill, (os.getpid(), signum)).start()
        return
    # the first stop signal decides, even one that landed in an unsafe place a moment ago and
    # waits to be sent again (Ctrl-C inside pydantic-core, then kill: the command was interrupted)
    first = _State.deferred[0] if _State.deferred else signum
    _State.deferred.clear()
    _State.stopping = first  # should the exception be lost, raise_deferred raises it again
    ignore()
    raise Interrupted(first)


def _unraisable(info: Any) -> None:
    """``sys.unraisablehook`` while a command listens: an ``Interrupted`` lost where Python
    cannot raise it is not printed ("Exception ignored ..."): the stop stays pending, for
    ``raise_deferred``. Anything else goes to the hook found."""
    if isinstance(info.exc_value, Interrupted):
        return
    (_State.hook or sys.__unraisablehook__)(info)


def unsafe(frame: Any) -> bool:
    """Whether ``frame`` runs inside an import or a C library's callback: some frame of the
    stack is the import machinery's or the library's own (the innermost may be ours: a module
    being imported, a validator pydantic-core called)."""
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(_IMPORTING) or any(part in name for part in _CALLBACKS):
            return True
        frame = frame.f_back
    return False


def listen() -> list[tuple[int, Any]]:
    """Route SIGINT, SIGTERM and SIGHUP to ``on_signal``, unless ignored (under nohup, or for a
    background job), for a command starting (nothing published yet); returns the handlers
    found, to put back. Only the main thread can set handlers: elsewhere nothing changes."""
    _State.listening, _State.published, _State.stopping = True, False, None
    _State.deferred.clear()
    if sys.unraisablehook is not _unraisable:
        _State.hook, sys.unraisablehook = sys.unraisablehook, _unraisable
    found: list[tuple[int, Any]] = []
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler in (signal.SIG_IGN, None):
            continue
        try:
            signal.signal(signum, on_signal)
        except ValueError:  # not the main thread
            break
        found.append((signum, handler))
    return found


def ignore() -> None:
    """The command's output is complete (or it is stopping): from here the stop signals are
    ignored, so that a late Ctrl-C can neither cut the last lines short nor, while Python shuts
    down, print a traceback."""
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is on_signal:
            # a handler that does nothing, not SIG_IGN: a signal already caught by the C-level
            # handler when SIG_IGN is set makes Python raise "OSError: Signal 15 ignored due to
            # race condition" wherever it then checks for signals
            signal.signal(signum, _ignored)


def leave_interrupts_to_parent() -> None:
    """In a worker process of the farm: Ctrl-C (sent to the terminal's whole process group) is
    left to the process that farms, which stops submitting and cancels what is pending."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignored(signum: int, frame: Any) -> None:
    """A stop signal once the command's output is complete, or while it stops: nothing to do."""


def settle() -> None:
    """Just before the process exits: the stop signals ignored by the system (SIG_IGN), since
    Python, shutting down, gives back their default action (stop the process) to signals with a
    handler of its own, ``_ignored`` among them. A signal caught in between raises "ignored due
    to race condition" at the next check, here: the second pass drops it."""
    for _ in range(2):
        try:
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) in (_ignored, signal.SIG_IGN):
                    signal.signal(signum, signal.SIG_IGN)
        except OSError:  # the race: that signal is ignored, as meant
            pass


def put_back(found: list[tuple[int, Any]]) -> None:
    """Put back the handlers ``listen`` found: the command is over."""
    _State.listening = _State.published = False
    _State.stopping = None
    if sys.unraisablehook is _unraisable:
        sys.unraisablehook = _State.hook or sys.__unraisablehook__
    for signum, handler in found:
        signal.signal(signum, handler)


def published() -> None:
    """An output is in place, whole: from here ``on_signal`` drops the stop signals (those
    held while it was put in place too), and the command completes. Called by the step that
    publishes (a run folder, a report, a results file); without ``on_signal`` installed (in a
    notebook, where no command listens) it changes nothing."""
    if _State.listening:
        _State.published = True


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold the stop signals until the block ends, then act on them as the handlers in place
    would have (raise, stop the process, or ignore them): a block that puts an output in place
    (or removes a temporary one) is never left halfway. Only the main thread can set handlers;
    elsewhere, where Python does not run them anyway, the block runs as it is."""
    caught: list[int] = []
    saved: list[tuple[int, Any]] = []
    try:
        for signum in STOP_SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not None:  # None: a handler set outside Python, left alone
                signal.signal(signum, lambda s, frame: caught.append(s))
                saved.append((signum, handler))
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        _restore(saved)
        for number in dict.fromkeys(caught):
            signal.raise_signal(number)


def _restore(saved: list[tuple[int, Any]]) -> None:
    """Put signal handlers back, each even if a signal arrives while the one before is put back."""
    if saved:
        try:
            signal.signal(*saved[0])
        finally:
            _restore(saved[1:])


def defer_signal(signum: int) -> None:
    """Remember ``signum`` for ``raise_deferred`` (once)."""
    if signum not in _State.deferred:
        _State.deferred.append(signum)


def deferred() -> tuple[int, ...]:
    """The signals kept for the next safe point, oldest first."""
    return tuple(_State.deferred)


def raise_deferred() -> None:
    """A safe point, where no signal is lost: raise ``Interrupted`` again for a stop signal
    whose exception was lost (raised where Python can only print "Exception ignored": a
    weakref callback, a ``__del__``, run as an object is freed), unless the output is in place;
    and act now, as the handlers in place would, on the signals ``defer_signal`` kept (that
    kept landing in a library's callbacks). Called after each chunk of a farm, before an output
    is put in place, and when a command ends."""
    if _State.listening and _State.stopping is not None and not _State.published:
        raise Interrupted(_State.stopping)
    while _State.deferred:
        signal.raise_signal(_State.deferred.pop(0))


def exit_code(signum: int) -> int:
    """The exit code of a command ``signum`` stopped, 128 plus its number as a shell reports a
    command a signal stopped: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + signum


def stopped_line(signum: int, note: str | None = None) -> str:
    """The one line a stopped command prints: ``interrupted; nothing was written``."""
    return f"{_WHAT.get(signum, 'stopped')}; {note or 'nothing was written'}"


def stopped(e: BaseException, signum: int | None = None) -> int:
    """A command stopped by ``e`` (``Interrupted``, or a KeyboardInterrupt raised without our
    handler: SIGINT's): say its one line on stderr, with the note a farm adds (the runs it
    kept), and give the exit code a shell would."""
    if signum is None:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
    notes = getattr(e, "__notes__", None)
    say(stopped_line(signum, notes[-1] if notes else None))
    return exit_code(signum)


def stdout_closed() -> int:
    """stdout is a pipe whose reader has gone (``roundtrip run S | head -1``): point it at
    /dev/null so that Python's last flush has nowhere to fail, and give the exit code of a
    command SIGPIPE stopped (141); nothing to say, nobody is reading."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (captured, as in tests)
        pass
    return exit_code(signal.SIGPIPE)


def say(text: str) -> None:
    """``text`` on stderr; nothing if stderr is closed (the exit code says it)."""
    try:
        if sys.stderr is not None:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
