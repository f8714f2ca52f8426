"""The command line: parse, call the library, print; map errors to exit codes in one place.

Exit codes (README, "Exit codes"): 0 done, 2 bad input (a scenario, an override, a path, a
scheduler's address, too many workers), 1 internal error, 3 a Dask cluster unreachable or lost
mid-run (the runs finished kept); 130 stopped by SIGINT (Ctrl-C), 143 by SIGTERM, 129 by SIGHUP,
141 when stdout is a pipe closed early (128 plus the signal's number, as a shell reports a
command the signal stopped). A command started with stdout closed (``>&-``) prints to the null
device and exits as usual. Stopped before its output is in place, a command leaves nothing
half-written: the signal raises ``Interrupted`` (sim/io/signals.py), which unwinds through the
removal of temporary files; after it, the command completes. Nothing here computes anything a
notebook could not get from the Python API.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from sim.errors import ClusterError, RoundtripError, ScenarioError
from sim.io import signals
from sim.io.signals import Interrupted

# a signal's exit code is sim.io.signals.exit_code's: 130 for SIGINT, 141 for a closed pipe
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_CLUSTER = 0, 1, 2, 3


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
    sim.views.charts, so a bad value is a usage error (exit 2) listing what is accepted."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        from sim.views import charts  # matplotlib: only when charts are asked for

        try:
            if parse == "formats":
                return charts.parse_list(value, charts.FORMATS, "chart format")
            if parse == "names":
                return charts.parse_list(value, charts.CHARTS, "chart")
            return charts.parse_size(value)
        except ValueError as e:
            raise click.BadParameter(str(e)) from None

    return callback


def _charts_option(help: str) -> Any:
    return click.option("--charts", metavar="FORMATS", callback=_chart_option("formats"), help=help)


_SIZE_HELP = "Chart size in inches (default 13.333x7.5, a 16:9 slide)."
_chart_size_option = click.option(
    "--chart-size", metavar="WxH", callback=_chart_option("size"), help=_SIZE_HELP
)
_dpi_option = click.option(
    "--dpi", type=int, help="Resolution of PNG charts, dots per inch (default 150)."
)


def _chart_dpi(
    dpi: int | None, size: tuple[float, float] | None, hint: str
) -> tuple[tuple[float, float], int]:
    """The size and dpi to draw at: the slide defaults, checked together (pixels a side)."""
    from sim.views import charts

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


def _note(line: str) -> None:
    """A study's note (a file read at its first point) on stderr: stdout stays the output."""
    click.echo(line, err=True)


def _study(call: Any, *args: Any, **options: Any) -> Any:
    """Call a study of sim.runs.studies; options that do not go together are a usage error."""
    from sim.runs.single import UsageError

    try:
        return call(*args, **options)
    except UsageError as e:
        raise click.UsageError(str(e)) from None


def _views(formats: tuple[str, ...] | None) -> Any:
    """The chart functions a study draws with, when charts are asked for (matplotlib)."""
    if not formats:
        return None
    from sim.views import charts

    return charts


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@_set_option
def validate(scenario: Path, overrides: tuple[str, ...]) -> None:
    """Check a scenario file (and overrides) without running it."""
    from sim.runs.single import check_one

    s = check_one(scenario, overrides, say=_note)
    n_steps = len(s.grid()) - 1
    vendors = sum(c.kind == "vendor" for c in s.sellers.values())
    deals = len(s.investments) + len(s.contracts) + len(s.revenue_shares)
    click.echo(
        f"{scenario}: valid. {s.name!r}: {len(s.investors)} investor(s), {len(s.labs)} lab(s), "
        f"{len(s.sellers) - vendors} cloud(s), "
        + (f"{vendors} vendor(s), " if vendors else "")
        + f"{deals} deal(s), {n_steps:,} steps of {s.step} from {s.start} to {s.end}."
    )


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder to write (default: runs/<scenario file name>; with --set, "
    "runs/<scenario file name>-<inputs hash>).",
)
@_set_option
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json instead of the summary.")
@_charts_option(
    "Also draw every chart into the run folder's charts/, as png, svg and/or pdf "
    "(comma-separated), e.g. --charts png,svg,pdf."
)
@_chart_size_option
@_dpi_option
@click.option(
    "--matrices",
    is_flag=True,
    help="Also write the accounting matrices into the run folder: transaction_flows.csv, "
    "balance_sheet.csv, consolidated_flows.csv (dollars to the cent; docs/matrices.md), and "
    "the money cycles, cycles.csv (docs/cycles.md), which the summary lists.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the run folder even if it holds another run (never a folder holding files "
    "roundtrip did not write).",
)
def run(scenario: Path, **options: Any) -> None:
    """Run a scenario, print its summary and write its run folder.

    The run folder is runs/<file name>, or with --set runs/<file name>-<inputs hash> so that a
    what-if never replaces the plain run. A run replaces only a run folder roundtrip wrote and
    nothing else is in, and only the same run: the file run again, or the same inputs (with
    --force, any run).
    """
    from sim.io.output import MATRIX_FILES, RUN_FILES
    from sim.runs.single import run_folder

    formats, matrices, as_json = options["charts"], options["matrices"], options.pop("as_json")
    if formats:  # a dpi past the pixels a side is --dpi's error, before anything
        _chart_dpi(options["dpi"], options["chart_size"], "--dpi")
    done = _study(run_folder, scenario, views=_views(formats), say=_note, **options)
    signals.ignore()  # the run folder is in place: the command completes from here
    result = done.result
    click.echo(result.to_json() if as_json else result.summary())
    if matrices and not as_json:
        click.echo("\n" + result.cycles_summary())
    if not as_json:
        click.echo(
            f"\nWrote {done.out}/"
            + (" (--set gives a what-if a folder of its own)" if done.own_folder else "")
            + f": {', '.join(RUN_FILES)}"
            + (f", charts/ ({', '.join(formats)})" if formats else "")
            + (f", {', '.join(MATRIX_FILES)}" if matrices else "")
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
@click.option("--size", metavar="WxH", callback=_chart_option("size"), help=_SIZE_HELP)
@_dpi_option
@click.option(
    "--only",
    "names",
    metavar="NAMES",
    callback=_chart_option("names"),
    help="Only these charts, comma-separated: run_vs_twin, cumulative, investor_cash, "
    "substitution, flows, own_dollars, paths, lab_cash, network (default all).",
)
def chart(folder: Path, formats: tuple[str, ...], **options: Any) -> None:
    """Draw a finished run's charts again from its folder's files, into FOLDER/charts/.

    Nothing is run again. Charts of other formats already there are kept; the folder is
    replaced whole once every new file is written, and only if it holds nothing but charts
    roundtrip drew (as the run folder's .roundtrip-run file lists them).
    """
    from sim.views.charts import redraw

    size, dpi = _chart_dpi(options["dpi"], options["size"], "--dpi")
    written = redraw(folder, formats, size=size, dpi=dpi, names=options["names"])
    signals.ignore()
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
@click.option(
    "--force",
    is_flag=True,
    help="Replace the file even if it is not a report roundtrip wrote (never a folder).",
)
def report(scenario: Path, out: Path, overrides: tuple[str, ...], **options: Any) -> None:
    """Run a scenario and write its report: the question, the key figures, the charts, every
    input with its source comment, and the conservation check. Given the results file of
    roundtrip sweep or mc (.parquet), the report of those runs: what varied, what the
    investment caused across them, the range charts, and the inputs."""
    import sim
    from sim.io.publish import claim
    from sim.runs.single import read_one
    from sim.views.report import build_report, check_report_path

    force = options["force"]
    check_report_path(out, force=force)  # before running: a bad path writes nothing
    size, dpi = _chart_dpi(options["dpi"], options["size"], "--dpi")
    if scenario.suffix.lower() == ".parquet":
        from sim.views.report.ranges import build_range_report

        if overrides:
            raise ScenarioError(
                "--set changes a scenario before it runs; a results file holds runs already made",
                file=str(scenario),
            )
        with claim(out, hint="choose another file with -o"):
            build_range_report(scenario, out, size=size, dpi=dpi, force=force)
        signals.ignore()
        click.echo(f"Wrote {out}: the report of the runs in {scenario}.")
        return
    with claim(out, hint="choose another file with -o"):  # no other roundtrip writes it meanwhile
        result = sim.run(read_one(scenario, overrides, say=_note))
        build_report(result, out, size=size, dpi=dpi, force=force)
    signals.ignore()
    click.echo(f"Wrote {out}: the report of {result.scenario.name!r}.")


_vary_option = click.option(
    "--vary",
    multiple=True,
    metavar="PATH=SPEC",
    help="Vary an input over a list (PATH=10B,25B,50B) or a range (PATH=0%..100%:11); for mc, "
    "a distribution (PATH~normal(50%,15%)). Repeatable; adds to the file's sweep: section.",
)


def _backends_check(name: str) -> Any:
    """A click callback checking --scheduler (an address; ``local`` as it is) or --workers (at
    most one per core) with ``sim.runs.backends.<name>``: a ValueError is a usage error."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or value == "local":
            return value
        from sim.runs import backends

        try:
            return getattr(backends, name)(value)
        except ValueError as e:
            raise click.BadParameter(str(e)) from None

    return callback


_farm_options = [
    click.option(
        "--out",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Results file, Parquet, a row per run (default: runs/<file name>.<command>.parquet).",
    ),
    click.option(
        "--scheduler",
        metavar="WHERE",
        callback=_backends_check("check_address"),
        help="Run on Dask: 'local' starts a LocalCluster, tcp://HOST:PORT (or tls://) uses a "
        "running one (default: in this process).",
    ),
    click.option(
        "--workers",
        type=int,
        callback=_backends_check("check_workers"),
        help="Workers of a local cluster (--scheduler local): 1 to one per core (default).",
    ),
    click.option(
        "--connect-timeout",
        type=click.IntRange(1, 600),
        default=10,  # sim.runs.backends.CONNECT_TIMEOUT
        show_default=True,
        help="Seconds for the scheduler at --scheduler's address to answer.",
    ),
    click.option(
        "--chunk",
        "chunk_runs",
        type=click.IntRange(1, 100_000),
        default=1000,  # sim.runs.farm.CHUNK_RUNS (not imported here: start-up)
        show_default=True,
        help="Runs per task.",
    ),
    _charts_option(
        "Also draw the charts that apply (sweep_line, sweep_heatmap, fan) into "
        "<out stem>.charts/ as png, svg and/or pdf, e.g. --charts png,svg,pdf."
    ),
    _chart_size_option,
    _dpi_option,
    click.option(
        "--rescale/--no-rescale",
        default=True,
        show_default=True,
        help="Varying a provider's share rescales the lab's other providers so the total stays "
        "as written; with --no-rescale they keep their shares and a point past 100% is refused.",
    ),
]


def _farm_command(f: Any) -> Any:
    for option in reversed(_farm_options):
        f = option(f)
    return _set_option(_vary_option(f))


def _ranges(call: Any, kind: str, scenario: Path, **options: Any) -> None:
    """Run a sweep or Monte Carlo (sim.runs.studies) and print what it found and wrote."""
    from sim.runs.studies import default_out, ranges_lines

    if options["charts"]:  # a dpi past the pixels a side is --dpi's error, before anything
        _chart_dpi(options["dpi"], options["chart_size"], "--dpi")
    options["out"] = options["out"] or default_out(scenario, kind)
    rows = _study(call, scenario, views=_views(options["charts"]), **options)
    signals.ignore()  # the results (and charts) are in place: the command completes from here
    for line, on_stderr in ranges_lines(rows):
        click.echo(line, err=on_stderr)


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@_farm_command
def sweep(scenario: Path, **options: Any) -> None:
    """Run a grid over one or more inputs (--vary, or the file's sweep: section)."""
    from sim.runs.studies import sweep

    _ranges(sweep, "sweep", scenario, **options)


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--runs",
    type=click.IntRange(1, 10_000_000),
    default=1000,
    show_default=True,
    help="Number of runs drawn.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Seed: the same seed gives the same runs on any backend.",
)
@_farm_command
def mc(scenario: Path, **options: Any) -> None:
    """Monte Carlo: draw the file's distributions (and --vary PATH~DIST) for each run."""
    from sim.runs.studies import monte_carlo

    _ranges(monte_carlo, "mc", scenario, **options)


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="The page to write: one self-contained .html file.",
)
@_vary_option
@_set_option
@click.option(
    "--investor",
    help="Whose investment (default: the first investor that owns a cloud and invests).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the file even if it is not a page roundtrip wrote (never a folder).",
)
def explore(scenario: Path, out: Path, vary: tuple[str, ...], **options: Any) -> None:
    """Write a page anyone can open: sliders over a grid of exact runs (--vary, or the file's
    sweep: section; without either, the lab's share at the investor's cloud, the deal's
    amount, the cloud's margin, the lab's growth and the discount rate at three values each),
    the investor's figures, the run-vs-twin chart and the command that reproduces each point.
    Nothing on the page is fetched from a network."""
    from sim.views.page import build_page, check_page_path

    check_page_path(out, force=options["force"])  # before running: a bad path writes nothing
    page = build_page(scenario, out, vary, **options)
    signals.ignore()
    failed = f", {page.errors:,} with an error" if page.errors else ""
    click.echo(
        f"Wrote {out}: {page.runs:,} runs{failed} over {', '.join(page.varied)}; "
        f"{page.size / 2**20:.1f} MiB, opens with no network."
    )


@cli.command("compare")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@_set_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (dollars, fractions, ISO dates).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (dollars, fractions, ISO dates).")
def compare_command(
    scenarios: tuple[Path, ...], overrides: tuple[str, ...], as_csv: bool, as_json: bool
) -> None:
    """Run scenarios and set their key metrics side by side, a column per file: per investor
    what the investment caused, then the traced round trip; per lab its own figures. --set
    applies to every file."""
    from sim.analysis.compare import to_csv, to_json, to_text
    from sim.runs.studies import compare

    _one_format(as_csv, as_json)
    frame = compare(list(scenarios), overrides, say=_note)
    _echo(frame, as_csv, as_json, to_csv, to_json, to_text)


def _one_format(as_csv: bool, as_json: bool) -> None:
    if as_csv and as_json:
        raise click.UsageError("choose one of --csv and --json")


def _echo(table: Any, as_csv: bool, as_json: bool, *to: Any) -> None:
    """A table as CSV, JSON or text (``to``: the three functions that make them)."""
    if as_csv:
        click.echo(to[0](table), nl=False)
    else:
        click.echo(to[1](table) if as_json else to[2](table))


def _swing(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from sim.inputs.units import parse_share

    try:
        swing = parse_share(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    if not 0 < swing <= 1:
        raise click.BadParameter(f"the swing is more than 0% and at most 100%, got {value}")
    return swing


@cli.command("sensitivity")
@click.argument("scenario", type=click.Path(path_type=Path))
@_set_option
@click.option(
    "--metric",
    default="incremental_profit",
    show_default=True,
    help="The investor metric to rank inputs by.",
)
@click.option(
    "--investor", help="Whose metric, by key or label (default: the first that owns a cloud)."
)
@click.option(
    "--swing",
    default="20%",
    show_default=True,
    callback=_swing,
    help="How far each input is moved down and up, e.g. 10%.",
)
@click.option(
    "--method",
    type=click.Choice(["oat", "sobol"]),
    default="oat",
    show_default=True,
    help="oat: each input alone; sobol: Sobol indices of the top inputs (SALib).",
)
@click.option(
    "--samples",
    type=int,
    default=256,
    show_default=True,
    help="Sobol base samples, a power of 2: samples x (top + 2) runs, at most 10,000,000.",
)
@click.option("--top", type=int, default=8, show_default=True, help="Inputs sampled by Sobol.")
@click.option(
    "--seed", type=int, help="Seed of the Sobol sample, 0 to 2**63-1 (default: the scenario's)."
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (dollars, fractions).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (dollars, fractions).")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write sensitivity.csv into, and the charts with --charts.",
)
@_charts_option(
    "Draw the tornado chart into --out as png, svg and/or pdf, e.g. --charts png,svg,pdf."
)
@_chart_size_option
@_dpi_option
@click.option(
    "--force",
    is_flag=True,
    help="Replace the --out folder even if it holds another output of roundtrip's (never a "
    "folder holding files roundtrip did not write).",
)
def sensitivity_command(scenario: Path, **options: Any) -> None:
    """Swing each numeric input of a scenario alone by +-swing, run every variant as one batch
    and rank the inputs by their effect on a metric; or, with --method sobol, Sobol indices."""
    from sim.analysis.sensitivity import to_csv, to_json, to_text
    from sim.runs.studies import sensitivity

    as_csv, as_json = options.pop("as_csv"), options.pop("as_json")
    _one_format(as_csv, as_json)
    if options["charts"] and options["out"] is None:
        raise click.UsageError("--charts needs --out DIR, the folder to draw into")
    size, dpi = _chart_dpi(options.pop("dpi"), options.pop("chart_size"), "--dpi")
    views = _views(options["charts"])
    table = _study(
        sensitivity, scenario, chart_size=size, dpi=dpi, views=views, say=_note, **options
    )
    signals.ignore()
    _echo(table, as_csv, as_json, to_csv, to_json, to_text)
    if table.attrs["files"] and not (as_csv or as_json):
        click.echo(f"\nWrote {options['out']}/: {', '.join(table.attrs['files'])}")


@cli.command("schema")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), help="Write the schema to this file."
)
@click.option("--force", is_flag=True, help="Replace --out even if it is not a schema we wrote.")
def schema_command(out: Path | None, force: bool) -> None:
    """Print the JSON Schema of a scenario file (each field's description, unit and bounds), for
    editors: a file whose first line is `# yaml-language-server: $schema=scenario.schema.json`
    is validated and completed as it is written."""
    if out is None:
        from sim.inputs.jsonschema import schema_text

        click.echo(schema_text(), nl=False)
        return
    from sim.io.schema_file import write_schema

    write_schema(out, force=force)
    signals.ignore()
    click.echo(f"Wrote {out}: the JSON Schema of a scenario file.")


@cli.command("init")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--investor", metavar="NAME", help="The investor's name (default bigtech).")
@click.option("--lab", metavar="NAME", help="The lab's name (default labco).")
@click.option("--cloud", metavar="NAME", help="The investor's cloud's name (default bigcloud).")
@click.option("--rival", metavar="NAME", help="The rival cloud's name (default rivalcloud).")
@click.option(
    "--contract", is_flag=True, help="Add a compute contract between the lab and the cloud."
)
@click.option(
    "--schema",
    is_flag=True,
    help="Also write scenario.schema.json beside FILE (the schema its first line names).",
)
@click.option(
    "--force", is_flag=True, help="Replace FILE even if it is not an unedited starter (a file)."
)
def init_command(file: Path, contract: bool, schema: bool, force: bool, **names: str) -> None:
    """Write a starter scenario to FILE: one investor, one lab, the investor's cloud and a rival
    cloud, one investment; every line says what it means and its unit, and KEY marks the inputs
    that decide the headline figure. It runs as written: roundtrip run FILE."""
    from shlex import quote

    from sim.inputs.starter import SCHEMA_NAME, parties
    from sim.io.starter_file import write_starter

    done = write_starter(file, parties(**names), contract=contract, schema=schema, force=force)
    signals.ignore()
    click.echo(f"Wrote {file}" + (f" and {done.schema}" if done.schema else "") + ".")
    click.echo(f"Run it: roundtrip run {quote(str(file))}")
    if not done.schema_beside:
        where = quote(str(file.with_name(SCHEMA_NAME)))
        _note(
            f"Its first line names {SCHEMA_NAME} for editors, which is not beside it: "
            f"roundtrip schema --out {where} writes it (or init --schema)."
        )


def main(argv: list[str] | None = None) -> int:
    """Run one command, as the `roundtrip` script does, and return its exit code. The SIGINT
    and SIGTERM handlers found are put back on return (tests call this in-process)."""
    found = signals.listen()
    try:
        return run_command(argv)
    finally:
        signals.put_back(found)


def run_command(argv: list[str] | None) -> int:
    """Run one command (``argv``, default ``sys.argv``), with ``sim.io.signals``' handlers in
    place; map how it ended to an exit code and at most one line on stderr. The stop signals
    are left ignored after it (``sim.entry`` exits next)."""
    streams = sys.stdout, sys.stderr
    try:
        try:
            cli.main(args=argv, prog_name="roundtrip", standalone_mode=False)
            signals.raise_deferred()  # a Ctrl-C whose exception was lost, before any output
            sys.stdout.flush()
        finally:
            signals.ignore()
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except (Interrupted, KeyboardInterrupt, click.exceptions.Abort) as e:  # Abort: SIGINT's
        return _stopped(e)
    except click.ClickException as e:  # usage errors: unknown option, missing argument
        _complain(_usage_line(e))
        return EXIT_BAD_INPUT
    except ScenarioError as e:
        _complain(f"error: {e}")
        return EXIT_BAD_INPUT
    except ClusterError as e:
        notes = getattr(e, "__notes__", None)  # farm's: the runs kept, if any
        _complain(f"error: {e}" + (f"; {notes[-1]}" if notes else "; nothing was written"))
        return EXIT_CLUSTER
    except BrokenPipeError:
        return signals.stdout_closed()
    except SystemExit as e:
        if sys.stdout is not streams[0]:  # how click stops when stdout is a closed pipe:
            sys.stdout, sys.stderr = streams  # it wraps both streams and exits
            return signals.stdout_closed()
        return e.code if isinstance(e.code, int) else EXIT_INTERNAL
    except (RoundtripError, Exception) as e:
        if os.environ.get("ROUNDTRIP_DEBUG"):
            raise
        _complain(
            f"internal error: {type(e).__name__}: {e}\n"
            "This is a bug in roundtrip, not in your input. Set ROUNDTRIP_DEBUG=1 for a traceback."
        )
        return EXIT_INTERNAL
    return EXIT_OK


def _usage_line(e: click.ClickException) -> str:
    """A usage error in one line: ``error: --dpi: dpi is 50 to 600, got 5``."""
    if isinstance(e, click.BadParameter):
        where = e.param_hint or (e.param.opts[0] if isinstance(e.param, click.Option) else None)
        if isinstance(where, str):
            return f"error: {where}: {e.message}"
    message, ctx = e.format_message().rstrip("."), getattr(e, "ctx", None)
    if ctx is None:
        return f"error: {message}"
    if message.endswith("?"):  # click's "Did you mean 'run'?"
        return f"error: {message} See {ctx.command_path} --help."
    return f"error: {message}; see {ctx.command_path} --help"


def _stopped(e: BaseException, signum: int | None = None) -> int:
    """One line for a command stopped by a signal, and the exit code a shell would give
    (``sim.io.signals.stopped``)."""
    return signals.stopped(e, signum)


def _complain(text: str) -> None:
    try:
        click.echo(text, err=True)
    except OSError:
        return  # stderr is closed as well: the exit code says it
