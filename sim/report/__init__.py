"""The report: one run as a short PDF or HTML document that a reader can check line by line.

``build_report(run, "report.pdf")`` writes, in order: the question and the finding; what the
investment caused (against the run's counterfactual twin, in present value at the scenario's
rate), then whose dollars came back (traced), then the labs, each with its figures and a few
sentences reading them; every chart in ``sim.charts.CHARTS``; the assumptions (every input, with
the comment written beside it in the scenario file) and the conservation check, with the source
line (scenario file, inputs hash, roundtrip version) on every page. The content is built once as
text and tables (``content.py``), then drawn as PDF pages with matplotlib alone (``pdf.py``) or
as one self-contained HTML file (``html.py``). The same run gives the same bytes: no dates, no
random ids. ``roundtrip report SCENARIO -o FILE`` runs a scenario and calls it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sim import signals
from sim.charts.style import DEFAULT_DPI, SLIDE_SIZE
from sim.errors import ScenarioError
from sim.report.content import (
    Assumption,
    ReportContent,
    assumptions,
    format_input,
    headline,
    question,
    reading,
    report_content,
    roundtrip_version,
)
from sim.result import RunLike

FORMATS = (".pdf", ".html")


def check_report_path(path: str | os.PathLike[str]) -> str:
    """The report's format (``.pdf`` or ``.html``); refuses, before anything runs, a path the
    report cannot be written to."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        got = f"{suffix!r}" if suffix else "no suffix"
        raise ScenarioError(
            f"a report is a .pdf or .html file; got {got} (accepted: {', '.join(FORMATS)})",
            file=str(p),
        )
    if p.is_dir():
        raise ScenarioError(
            "this is a folder; name the report file, such as report.pdf", file=str(p)
        )
    if not p.parent.is_dir():
        raise ScenarioError(f"the folder {str(p.parent)!r} does not exist", file=str(p))
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"the folder {str(p.parent)!r} is not writable", file=str(p))
    return suffix


def build_report(
    run: RunLike,
    path: str | os.PathLike[str],
    *,
    size: Sequence[float] = SLIDE_SIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Write the report of ``run`` (a ``Result`` or a run folder read with ``read_run``) as PDF
    or HTML, by the suffix of ``path``, whole or not at all. Pages and charts are ``size``
    inches (a 16:9 slide by default). A path that cannot be written is a ``ScenarioError``; a
    bad size or dpi, a ``ValueError`` (as for ``sim.charts.render``)."""
    from sim import charts
    from sim.report.html import html_report
    from sim.report.pdf import pdf_report

    fmt = check_report_path(path)
    page = charts.check_size(size)
    charts.check_dpi(dpi, page)
    charts.check_metrics(run)
    content = report_content(run)
    write = pdf_report if fmt == ".pdf" else html_report
    return _write_file(Path(path), write(run, content, page, dpi))


def _write_file(path: Path, data: bytes) -> Path:
    """Write to a temporary file beside ``path``, then move it into place."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise ScenarioError(f"cannot write here: {e.strerror or e}", file=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes the file private; a report is not
        signals.raise_deferred()  # a stop whose exception was lost: nothing goes in place
        with signals.held():  # in place, and said to be, as one step
            os.replace(tmp, path)
            signals.published()
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = [
    "FORMATS",
    "Assumption",
    "ReportContent",
    "assumptions",
    "build_report",
    "check_report_path",
    "format_input",
    "headline",
    "question",
    "reading",
    "report_content",
    "roundtrip_version",
]
