"""The command line: parse, call the library, print; map errors to exit codes in one place.

Exit codes: 0 done, 2 bad input (a scenario, an override, a path), 1 internal error.
Nothing here computes anything a notebook could not get from the Python API.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from sim.errors import RoundtripError, ScenarioError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2

_set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override any input, e.g. --set agents.openai.spending.compute.providers.aws=60%. "
    "Repeatable; validated like the file.",
)


def _chart_option(parse: str) -> Any:
    """A click callback checking a chart option (``formats``, ``names`` or ``size``) with
    sim.charts, so a bad value is a usage error (exit 2) listing what is accepted."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        from sim import charts  # matplotlib: only when charts are asked for

        try:
            if parse == "formats":
                return charts.parse_list(value, charts.FORMATS, "chart format")
            if parse == "names":
                return charts.parse_list(value, charts.CHARTS, "chart")
            return charts.parse_size(value)
        except ValueError as e:
            raise click.BadParameter(str(e)) from None

    return callback


def _chart_dpi(
    dpi: int | None, size: tuple[float, float] | None, hint: str
) -> tuple[tuple[float, float], int]:
    """The size and dpi to draw at: the slide defaults, checked together (pixels a side)."""
    from sim import charts

    size = size or charts.SLIDE_SIZE
    dpi = charts.DEFAULT_DPI if dpi is None else dpi
    try:
        charts.check_dpi(dpi, size)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=hint) from None
    return size, dpi


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="roundtrip")
def cli() -> None:
    """roundtrip: simulate circular money flows in AI (investor -> lab -> investor's cloud)."""


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@_set_option
def validate(scenario: Path, overrides: tuple[str, ...]) -> None:
    """Check a scenario file (and overrides) without running it."""
    from sim.loader import load_scenario
    from sim.schedule import build_plan

    s = load_scenario(scenario, list(overrides))
    try:  # what `run` would refuse beyond the file's own checks, such as flows past $45T
        build_plan([s])
    except ScenarioError as e:
        e.file = e.file or s.source
        raise
    n_steps = len(s.grid()) - 1
    click.echo(
        f"{scenario}: valid. {s.name!r}: {len(s.investors)} investor(s), {len(s.labs)} lab(s), "
        f"{len(s.clouds)} cloud(s), {len(s.investments) + len(s.contracts)} deal(s), "
        f"{n_steps:,} steps of {s.step} from {s.start} to {s.end}."
    )


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder to write (default: runs/<scenario file name>).",
)
@_set_option
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json instead of the summary.")
@click.option(
    "--charts",
    "chart_formats",
    metavar="FORMATS",
    callback=_chart_option("formats"),
    help="Also draw every chart into the run folder's charts/, as png, svg and/or pdf "
    "(comma-separated), e.g. --charts png,svg,pdf.",
)
@click.option(
    "--chart-size",
    metavar="WxH",
    callback=_chart_option("size"),
    help="Chart size in inches (default 13.333x7.5, a 16:9 slide).",
)
@click.option("--dpi", type=int, help="Resolution of PNG charts, dots per inch (default 150).")
def run(
    scenario: Path,
    out: Path | None,
    overrides: tuple[str, ...],
    as_json: bool,
    chart_formats: tuple[str, ...] | None,
    chart_size: tuple[float, float] | None,
    dpi: int | None,
) -> None:
    """Run a scenario, print its summary and write its run folder."""
    import sim
    from sim.output import check_writable, default_run_dir, write_run

    if (chart_size or dpi is not None) and not chart_formats:
        raise click.UsageError(
            "--chart-size and --dpi apply to charts: add --charts png (or svg, pdf)"
        )
    draw = None
    if chart_formats:
        from sim.charts import render

        size, dots = _chart_dpi(dpi, chart_size, "--dpi")

        def draw(tmp: Path) -> None:  # inside the run folder's atomic write: all or nothing
            render(result, tmp / "charts", chart_formats, size=size, dpi=dots)

    s = sim.load_scenario(scenario, list(overrides))
    out = out or default_run_dir(scenario)
    check_writable(out)
    result = sim.run(s)
    write_run(result, out, draw)
    click.echo(result.to_json() if as_json else result.summary())
    if not as_json:
        click.echo(
            f"\nWrote {out}/: metrics.json, ledger.parquet, balances.parquet, "
            "scenario.resolved.yaml"
            + (f", charts/ ({', '.join(chart_formats)})" if chart_formats else "")
        )


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    metavar="FORMATS",
    default="png",
    callback=_chart_option("formats"),
    help="png, svg and/or pdf, comma-separated (default png).",
)
@click.option(
    "--size",
    metavar="WxH",
    callback=_chart_option("size"),
    help="Chart size in inches (default 13.333x7.5, a 16:9 slide).",
)
@click.option("--dpi", type=int, help="Resolution of PNG charts, dots per inch (default 150).")
@click.option(
    "--only",
    "names",
    metavar="NAMES",
    callback=_chart_option("names"),
    help="Only these charts, comma-separated: flows, own_dollars, cumulative, investor_cash, "
    "lab_cash (default all).",
)
def chart(
    folder: Path,
    formats: tuple[str, ...],
    size: tuple[float, float] | None,
    dpi: int | None,
    names: tuple[str, ...] | None,
) -> None:
    """Draw a finished run's charts again from its folder's files, into FOLDER/charts/.

    Nothing is run again. Charts of other formats already there are kept; the folder is
    replaced whole once every new file is written.
    """
    from sim.charts import redraw

    size, dpi = _chart_dpi(dpi, size, "--dpi")
    written = redraw(folder, formats, size=size, dpi=dpi, names=names)
    click.echo(f"Wrote {folder / 'charts'}/: {', '.join(p.name for p in written)}")


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="The report file: .pdf, or .html (one self-contained file).",
)
@_set_option
@click.option(
    "--size",
    metavar="WxH",
    callback=_chart_option("size"),
    help="Page and chart size in inches (default 13.333x7.5, a 16:9 slide; 8.27x11.69 is A4).",
)
@click.option("--dpi", type=int, help="Resolution of any pixels drawn (default 150 dpi).")
def report(
    scenario: Path,
    out: Path,
    overrides: tuple[str, ...],
    size: tuple[float, float] | None,
    dpi: int | None,
) -> None:
    """Run a scenario and write its report: the question, the key figures, the charts, every
    input with its source comment, and the conservation check."""
    import sim
    from sim.report import build_report, check_report_path

    check_report_path(out)  # before running: a bad suffix or folder writes nothing
    size, dpi = _chart_dpi(dpi, size, "--dpi")
    result = sim.run(sim.load_scenario(scenario, list(overrides)))
    build_report(result, out, size=size, dpi=dpi)
    click.echo(f"Wrote {out}: the report of {result.scenario.name!r}.")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `roundtrip` script and `python -m sim`; returns the exit code."""
    try:
        cli.main(args=argv, prog_name="roundtrip", standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:  # usage errors: unknown option, missing argument
        e.show()
        return EXIT_BAD_INPUT
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_INTERNAL
    except ScenarioError as e:
        click.echo(f"error: {e}", err=True)
        return EXIT_BAD_INPUT
    except (RoundtripError, Exception) as e:
        if os.environ.get("ROUNDTRIP_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(e).__name__}: {e}\n"
            "This is a bug in roundtrip, not in your input. Set ROUNDTRIP_DEBUG=1 for a traceback.",
            err=True,
        )
        return EXIT_INTERNAL
    return EXIT_OK


def entry() -> None:
    sys.exit(main())
