"""One scenario, as every command that takes one reads and runs it, and the charts a study is
asked for.

``read_one`` reads a file with a sweep or distributions at the sweep's first point and the
distributions' medians, and says so: ``run``, ``validate``, ``report``, ``sensitivity`` and
``compare`` all read their files through it. ``run_folder`` is ``roundtrip run``: the run and its
folder, with the charts and matrices asked for, written whole.

Charts: the views layer comes after runs, so nothing here imports it; what is asked for charts
is handed the chart functions (``views``, the module ``sim.views.charts``) by its caller, as
sim.runs.studies explains.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sim.inputs.document import Overrides
from sim.inputs.scenario import Scenario

if TYPE_CHECKING:  # Arrow and the engine come with a run, not with reading a file (validate)
    from sim.analysis.result import Result
    from sim.ranges.vary import Template

Say = Callable[[str], None]  # where a study's notes go (the command: stderr)


class UsageError(ValueError):
    """Options that do not go together (``workers`` without a local cluster, a chart size
    without charts): the command's usage error, exit 2."""


def read_one(
    path: str | os.PathLike[str], overrides: Overrides = (), *, say: Say | None = None
) -> Scenario:
    """The scenario every command that takes one reads (run, validate, report, sensitivity,
    compare): a file with a sweep or distributions is read at the sweep's first point and the
    distributions' medians, and ``say`` is told so in one line."""
    from sim.ranges.vary import load_template

    template = load_template(path, list(overrides or ()))
    note_ranges(path, template, say)
    return template.derive()


def check_one(
    path: str | os.PathLike[str], overrides: Overrides = (), *, say: Say | None = None
) -> Scenario:
    """``roundtrip validate``: the scenario ``read_one`` gives, once checked for what ``run``
    would refuse beyond the file's own checks (flows past $45T, the memory budget)."""
    from sim.errors import ScenarioError
    from sim.model.budget import check_plan
    from sim.model.schedule import build_plan
    from sim.model.twin import plan_twins

    s = read_one(path, overrides, say=say)
    try:
        check_plan(build_plan(plan_twins([s]).expand([s])), keep_balances=True)
    except ScenarioError as e:
        e.file = e.file or s.source
        raise
    return s


def note_ranges(path: str | os.PathLike[str], template: Template, say: Say | None) -> None:
    """Tell ``say`` that the file is read at its first point, if it has ranges."""
    from sim.ranges.vary import describe

    note = describe(template)
    if note and say is not None:
        say(f"note: {path}: {note}; roundtrip sweep / mc run them all")


@dataclass(frozen=True)
class ChartAsk:
    """The charts asked for: formats, size in inches, dpi, and the chart functions to draw
    them with (``sim.views.charts``)."""

    formats: tuple[str, ...]
    size: tuple[float, float]
    dpi: int
    views: ModuleType


def chart_ask(
    charts: str | Sequence[str] | None,
    size: str | tuple[float, float] | None,
    dpi: int | None,
    views: ModuleType | None,
    *,
    alone: bool = False,
) -> ChartAsk | None:
    """The charts asked for, checked before anything runs (None: none). A size or dpi without
    charts is refused, unless ``alone`` (then it is not read)."""
    if not charts:
        if not alone and (size is not None or dpi is not None):
            raise UsageError(
                "--chart-size and --dpi apply to charts: add --charts png (or svg, pdf)"
            )
        return None
    if views is None:
        raise UsageError("charts= needs views=sim.views.charts (sim.sweep and the others pass it)")
    text = charts if isinstance(charts, str) else ",".join(charts)
    formats = views.parse_list(text, views.FORMATS, "chart format")
    inches = views.parse_size(size) if isinstance(size, str) else tuple(size or views.SLIDE_SIZE)
    dots = views.DEFAULT_DPI if dpi is None else dpi
    views.check_dpi(dots, inches)
    return ChartAsk(formats, (float(inches[0]), float(inches[1])), dots, views)


@dataclass(frozen=True)
class RunFolder:
    """What ``run_folder`` ran and wrote: the result, the folder, and whether the folder is a
    what-if's own (``runs/<file name>-<inputs hash>``, given overrides and no ``out``)."""

    result: Result
    out: Path
    own_folder: bool


def run_folder(
    scenario: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    *,
    out: str | os.PathLike[str] | None = None,
    charts: str | Sequence[str] | None = None,
    chart_size: str | tuple[float, float] | None = None,
    dpi: int | None = None,
    matrices: bool = False,
    force: bool = False,
    views: ModuleType | None = None,
    say: Say | None = None,
) -> RunFolder:
    """``roundtrip run``: run the scenario (read by ``read_one``) and write its run folder,
    ``runs/<file name>`` (with overrides ``runs/<file name>-<inputs hash>``, so that a what-if
    never replaces the plain run) unless ``out``; with ``charts`` every chart in charts/, with
    ``matrices`` the accounting matrices and cycles, all in one atomic write. The folder is
    checked and claimed before the run; it replaces only the same run of a folder roundtrip
    wrote (any run with ``force``)."""
    from sim.analysis.result import inputs_hash
    from sim.io.output import check_writable, default_run_dir, reserve, write_matrices, write_run

    ask = chart_ask(charts, chart_size, dpi, views)
    s = read_one(scenario, overrides, say=say)
    own_folder = out is None and bool(overrides)  # a what-if never replaces the plain run
    where = Path(out) if out is not None else None
    where = where or default_run_dir(scenario, inputs_hash(s) if overrides else None)

    def extra(tmp: Path) -> None:  # inside the run folder's atomic write: all or nothing
        if ask is not None:
            ask.views.render(result, tmp / "charts", ask.formats, size=ask.size, dpi=ask.dpi)
        if matrices:
            write_matrices(result, tmp)

    with reserve(where):  # from the check to the publish, no other roundtrip writes it
        check_writable(where, s, overrides=overrides, force=force)  # before the run, not after
        # the package's run (sim.run), so that what wraps it (a notebook's timer, a test's
        # fault) applies to the command as to any other caller
        import sim

        result = sim.run(s)
        write_run(
            result,
            where,
            extra if ask is not None or matrices else None,
            overrides=overrides,
            force=force,
        )
    return RunFolder(result, where, own_folder)
