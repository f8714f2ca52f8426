"""The two kinds of failure, kept apart so the CLI maps each to its exit code in one place.

``ScenarioError`` is the user's mistake (exit 2): it names the file, line and column, the input's
dotted path, what is wrong and what is accepted. Anything else is ours (exit 1).
"""

from __future__ import annotations


class RoundtripError(Exception):
    """Base of the errors this package raises on purpose."""


class ScenarioError(RoundtripError, ValueError):
    """Bad input: a scenario file, an override or a run folder the user pointed us at."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        what = f"{self.path}: " if self.path else ""
        return f"{where}: {what}{self.message}"


class ConservationError(RoundtripError, AssertionError):
    """The books do not balance to the cent: a bug in the engine, never the user's fault."""


class ClusterError(RoundtripError):
    """The Dask cluster could not be reached, did not answer as a Dask scheduler, or was lost
    while runs were under way (exit 3): neither the user's input nor a bug in roundtrip."""

    def __init__(self, address: str, message: str) -> None:
        self.address = address
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"--scheduler {self.address}: {self.message}"
