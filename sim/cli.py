"""The command line: parse, call the library, print; map errors to exit codes in one place.

Exit codes: 0 done, 2 bad input (a scenario, an override, a path), 1 internal error.
Nothing here computes anything a notebook could not get from the Python API.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
def run(scenario: Path, out: Path | None, overrides: tuple[str, ...], as_json: bool) -> None:
    """Run a scenario, print its summary and write its run folder."""
    import sim
    from sim.output import check_writable, default_run_dir, write_run

    s = sim.load_scenario(scenario, list(overrides))
    out = out or default_run_dir(scenario)
    check_writable(out)
    result = sim.run(s)
    write_run(result, out)
    click.echo(result.to_json() if as_json else result.summary())
    if not as_json:
        click.echo(
            f"\nWrote {out}/: metrics.json, ledger.parquet, balances.parquet, "
            "scenario.resolved.yaml"
        )


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
