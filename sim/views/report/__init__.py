"""The report: one run as a short PDF or HTML document that a reader can check line by line.

``build_report(run, "report.pdf")`` writes, in order: the question and the finding; what the
investment caused (against the run's counterfactual twin, in present value at the scenario's
rate), then whose dollars came back (traced), then the labs, each with its figures and a few
sentences reading them; every chart in ``sim.views.charts.CHARTS``; the assumptions (every input,
with
the comment written beside it in the scenario file) and the conservation check, with the source
line (scenario file, inputs hash, roundtrip version) on every page. The content is built once as
text and tables (``content.py``), then drawn as PDF pages with matplotlib alone (``pdf.py``) or
as one self-contained HTML file (``html.py``). The same run gives the same bytes: no dates, no
random ids. ``roundtrip report SCENARIO -o FILE`` runs a scenario and calls it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sim.analysis.result import RunLike
from sim.errors import ScenarioError
from sim.io import publish
from sim.views.charts.style import DEFAULT_DPI, SLIDE_SIZE
from sim.views.report.content import (
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

FORMATS = (".pdf", ".html")


def check_report_path(path: str | os.PathLike[str], *, force: bool = False) -> str:
    """The report's format (``.pdf`` or ``.html``); refuses (``ScenarioError``), before
    anything runs, a path the report cannot be written to or must not replace: a folder, a
    symbolic link, anything but a plain file, a name too long, a place without room, and,
    unless ``force``, a file that is not a report roundtrip wrote (``is_report``)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        got = f"{suffix!r}" if suffix else "no suffix"
        raise ScenarioError(
            f"a report is a .pdf or .html file; got {got} (accepted: {', '.join(FORMATS)})",
            file=str(p),
        )
    publish.check_file_target(
        p, noun="report", example="report.pdf", is_ours=is_report, force=force, option="-o"
    )
    return suffix


# A report's mark: the HTML head's generator tag; the PDF's Creator (its Title, before the mark)
_HTML_MARK = b'<meta name="generator" content="roundtrip '
_PDF_MARKS = (b"/Creator (roundtrip report)", b"/Title (roundtrip report: ")
_MARK_BYTES = 1 << 20  # where the mark is looked for: the HTML head, the PDF's last MiB


def is_report(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a report roundtrip wrote, as its mark says: the HTML generator tag
    in the first lines, or the PDF information dictionary (written last) naming roundtrip."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            if head.startswith(b"%PDF-"):
                f.seek(max(0, os.fstat(f.fileno()).st_size - _MARK_BYTES))
                tail = f.read(_MARK_BYTES)
                return any(mark in tail for mark in _PDF_MARKS)
    except OSError:
        return False
    return head.lstrip().startswith(b"<!DOCTYPE html>") and _HTML_MARK in head


def build_report(
    run: RunLike,
    path: str | os.PathLike[str],
    *,
    size: Sequence[float] = SLIDE_SIZE,
    dpi: int = DEFAULT_DPI,
    force: bool = False,
) -> Path:
    """Write the report of ``run`` (a ``Result`` or a run folder read with ``read_run``) as PDF
    or HTML, by the suffix of ``path``, whole or not at all. Pages and charts are ``size``
    inches (a 16:9 slide by default). A path that cannot be written or must not be replaced
    (``check_report_path``; ``force`` replaces a file roundtrip did not write) is a
    ``ScenarioError``; a bad size or dpi, a ``ValueError`` (as for ``sim.views.charts.render``)."""
    from sim.views import charts
    from sim.views.report.html import html_report
    from sim.views.report.pdf import pdf_report

    fmt = check_report_path(path, force=force)
    page = charts.check_size(size)
    charts.check_dpi(dpi, page)
    charts.check_metrics(run)
    content = report_content(run)
    write = pdf_report if fmt == ".pdf" else html_report
    return write_file(Path(path), write(run, content, page, dpi), force=force)


def write_file(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Put the report ``data`` at ``path`` whole (``sim.io.publish.write_file``), checked again
    under its claim (``check_report_path``)."""

    def check() -> None:
        check_report_path(path, force=force)

    return publish.write_file(path, data, check=check, hint="choose another file with -o")


__all__ = [
    "FORMATS",
    "Assumption",
    "ReportContent",
    "assumptions",
    "build_report",
    "check_report_path",
    "format_input",
    "is_report",
    "headline",
    "question",
    "reading",
    "report_content",
    "roundtrip_version",
    "write_file",
]
