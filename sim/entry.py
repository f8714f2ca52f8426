"""The `roundtrip` script and `python -m sim`: the first instructions of a command.

Before anything heavy is imported (click, pydantic, numpy come with ``sim.cli``), the SIGINT
and SIGTERM handlers are installed (``sim.io.signals``), so that a Ctrl-C from the first
instant exits 130 with nothing written; and a standard stream the command was started without
(``roundtrip run S >&-``) is opened on the null device, so that no file the command opens takes
its number and what would be printed there is dropped. Standard library only, as
``sim.io.signals``.
"""

from __future__ import annotations

import os
import sys

from sim.io import signals


def entry() -> None:
    """Run one command and exit with its code (README, "Exit codes")."""
    try:
        signals.listen()
        _open_closed_streams()
        # pydantic looks for observability plugins by scanning every installed distribution's
        # entry points when the first model is built (~30 ms of a 0.45 s `validate`); nothing
        # is meant to observe how this program reads its own scenario files. A user's setting
        # wins.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        from sim.cli import run_command
    except signals.Interrupted as e:  # before the command started: nothing to undo
        signals.ignore()
        code = signals.stopped(e)
        signals.settle()
        sys.exit(code)
    code = run_command(None)
    signals.settle()
    sys.exit(code)


def _open_closed_streams() -> None:
    """Open the null device on stdin, stdout or stderr where it is closed, and give Python a
    stream for it (Python gives none, ``sys.stdout is None``, for a stream closed at start)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:  # the lowest free number: the closed stream's, unless a lower one is
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 - for the process
