"""docs/calibration.md: every figure the page states is recomputed here from the runs it names.

The page sets the AWS revenue from Anthropic in scenarios/amazon_anthropic.yaml, per calendar
year, beside the analysts' figures in shared/reference/deals.md, and shows which inputs close the
gap. Its tables are rendered below from fresh runs and must appear in the page as they are; every
figure written with two decimals anywhere on the page must be one of the figures computed here; and
every ``--set`` of a run the page shows must be on the page. Change the scenario, the engine or the
page, and this test says which figure no longer holds.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis.result import Result

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "calibration.md"
FILE = ROOT / "scenarios" / "amazon_anthropic.yaml"

COMPUTE = "agents.anthropic.spending.compute."
NO_FINANCING = "agents.anthropic.financing=null"

# The runs the page shows: the file as it stands, and two calibrations to Wells Fargo's about
# $115B of AWS revenue from Anthropic over 2026-28 [R].
DEFAULT: tuple[str, ...] = ()
CALIBRATED_A = (f"{COMPUTE}annual=74B",)
CALIBRATED_B = (
    f"{COMPUTE}providers.aws=60%",
    f"{COMPUTE}providers.google_cloud=15%",
    f"{COMPUTE}annual=44B",
    f"{COMPUTE}growth=50%",
)
COLUMNS = {"default": DEFAULT, "A": CALIBRATED_A, "B": CALIBRATED_B}

# One input at a time from the file as it stands: what drives AWS's 2026-28 figure.
DRIVERS: list[tuple[str, tuple[str, ...]]] = [
    ("none: the file as it stands", ()),
    ("the AWS minimum alone: no compute demand", (f"{COMPUTE}annual=0",)),
    ("the AWS minimum spread evenly", ("deals.2.growth=0",)),
    (
        "AWS's share 55%, Google's 20%",
        (f"{COMPUTE}providers.aws=55%", f"{COMPUTE}providers.google_cloud=20%"),
    ),
    (
        "AWS's share 80%, Google's 15%: nothing bought outside the three clouds",
        (f"{COMPUTE}providers.aws=80%", f"{COMPUTE}providers.google_cloud=15%"),
    ),
    ("compute at $50B a year at the start", (f"{COMPUTE}annual=50B",)),
    ("compute growing 35% a year", (f"{COMPUTE}growth=35%",)),
    ("no financing", (NO_FINANCING,)),
]

YEARS = range(2026, 2037)  # the horizon: 2026-05-01 to 2036-05-01
WINDOW = (2026, 2027, 2028)  # Wells Fargo's years


def aws_cents_by_year(result: Result) -> dict[int, int]:
    """Compute records from anthropic to aws, in cents, by the calendar year of their date."""
    ledger = result.ledger
    paid = ledger[
        (ledger.kind == "compute") & (ledger.payer == "anthropic") & (ledger.payee == "aws")
    ]
    by_year = paid.groupby(paid.date.dt.year).amount_cents.sum()
    return {int(y): int(c) for y, c in by_year.items()}


def billions(cents: float) -> str:
    """Cents as ``12.34`` ($B, two decimals, thousands separated), as the summary prints money."""
    return f"{cents / 1e11:,.2f}"


def dollars_in_billions(dollars: float) -> str:
    """A metric in dollars, as ``billions`` prints cents."""
    return billions(dollars * 100)


def signed(cents: int) -> str:
    return ("+" if cents >= 0 else "-") + billions(abs(cents))


def day(value: pd.Timestamp) -> str:
    return "none" if pd.isna(value) else value.date().isoformat()


def run(overrides: Sequence[str]) -> Result:
    return sim.run(sim.load_scenario(FILE, list(overrides)))


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, ...], Result]:
    wanted = [*COLUMNS.values(), *(o for _, o in DRIVERS)]
    wanted += [(*o, NO_FINANCING) for o in (CALIBRATED_A, CALIBRATED_B)]
    return {tuple(o): run(o) for o in dict.fromkeys(tuple(o) for o in wanted)}


def window(result: Result) -> int:
    years = aws_cents_by_year(result)
    return sum(years.get(y, 0) for y in WINDOW)


def year_table(runs: dict[tuple[str, ...], Result]) -> str:
    """AWS revenue from Anthropic per calendar year, $B, in the three runs."""
    cols = [aws_cents_by_year(runs[o]) for o in COLUMNS.values()]
    label = {2026: "2026 (from 2026-05-01)", 2036: "2036 (to 2036-05-01)"}
    lines = [
        "| Year | default | A | B |",
        "| --- | ---: | ---: | ---: |",
    ]
    for y in YEARS:
        lines.append(
            f"| {label.get(y, str(y))} | " + " | ".join(billions(c.get(y, 0)) for c in cols) + " |"
        )
    lines.append(
        "| **2026–28** | "
        + " | ".join(f"**{billions(window(runs[o]))}**" for o in COLUMNS.values())
        + " |"
    )
    lines.append("| whole horizon | " + " | ".join(billions(sum(c.values())) for c in cols) + " |")
    return "\n".join(lines)


def driver_table(runs: dict[tuple[str, ...], Result]) -> str:
    """AWS revenue from Anthropic in 2026, 2027, 2028 and 2026-28, one input changed at a time."""
    base = window(runs[DEFAULT])
    lines = [
        "| Change from the file | `--set` | 2026 | 2027 | 2028 | 2026–28 | against the file |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for what, overrides in DRIVERS:
        years = aws_cents_by_year(runs[overrides])
        sets = "<br>".join(f"`{o.removeprefix(COMPUTE)}`" for o in overrides) or "none"
        cells = [billions(years.get(y, 0)) for y in WINDOW]
        total = window(runs[overrides])
        lines.append(
            f"| {what} | {sets} | "
            + " | ".join(cells)
            + f" | {billions(total)} | {signed(total - base)} |"
        )
    return "\n".join(lines)


def effects_table(runs: dict[tuple[str, ...], Result]) -> str:
    """What else the calibrations change: the lab's cash and financing, with and without it."""
    rs = [runs[o] for o in COLUMNS.values()]
    lab = [r.lab_metrics.loc["anthropic"] for r in rs]
    bare = [runs[(*o, NO_FINANCING)] if o else runs[(NO_FINANCING,)] for o in COLUMNS.values()]
    bare_lab = [r.lab_metrics.loc["anthropic"] for r in bare]
    rows = [
        (
            "AWS revenue from Anthropic, whole horizon ($B)",
            [
                dollars_in_billions(m.spend_on_own_cloud)
                for m in (r.metrics.loc["amazon"] for r in rs)
            ],
        ),
        (
            "Anthropic's compute spend, all providers ($B)",
            [dollars_in_billions(m.compute_spend) for m in lab],
        ),
        ("its unmet compute ($B)", [dollars_in_billions(m.unmet_compute) for m in lab]),
        ("first raises money", [day(m.first_raise_date) for m in lab]),
        ("raised over the horizon ($B)", [dollars_in_billions(m.raised) for m in lab]),
        ("cash runs out", [day(m.cash_out_date) for m in lab]),
        ("without financing: AWS revenue 2026–28 ($B)", [billions(window(r)) for r in bare]),
        ("without financing: cash runs out", [day(m.cash_out_date) for m in bare_lab]),
    ]
    lines = ["| | default | A | B |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {what} | " + " | ".join(cells) + " |" for what, cells in rows]
    return "\n".join(lines)


CAUSED = (
    "incremental_revenue",
    "incremental_profit",
    "net_cost",
    "incremental_revenue_investment_only",
    "incremental_profit_investment_only",
    "net_cost_investment_only",
)


def caused_table(runs: dict[tuple[str, ...], Result]) -> str:
    """Amazon's caused figures, $B, in the three runs."""
    ms = [runs[o].metrics.loc["amazon"] for o in COLUMNS.values()]
    lines = ["| Amazon, $B | default | A | B |", "| --- | ---: | ---: | ---: |"]
    lines += [
        f"| `{name}` | " + " | ".join(dollars_in_billions(m[name]) for m in ms) + " |"
        for name in CAUSED
    ]
    return "\n".join(lines)


TABLES = {
    "years": year_table,
    "drivers": driver_table,
    "effects": effects_table,
    "caused": caused_table,
}


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(TABLES))
def test_each_table_on_the_page_is_what_the_runs_give(runs, name: str) -> None:
    table = TABLES[name](runs)
    assert table in page(), f"docs/calibration.md: the {name} table is stale; it is now:\n{table}"


def test_every_figure_with_two_decimals_on_the_page_is_recomputed(runs) -> None:
    computed = set(re.findall(r"\d[\d,]*\.\d\d", "\n".join(t(runs) for t in TABLES.values())))
    stated = re.findall(r"\d[\d,]*\.\d\d", page())
    assert stated, "the page states no figure"
    assert sorted(set(stated) - computed) == []


def test_every_date_on_the_page_is_recomputed_or_a_source_date(runs) -> None:
    date = r"\d{4}-\d\d-\d\d"
    computed = set(re.findall(date, "\n".join(t(runs) for t in TABLES.values())))
    scenario = runs[DEFAULT].scenario
    computed |= {scenario.start.isoformat(), scenario.end.isoformat()}
    sources = {"2025-10-29"}  # Project Rainier (shared/reference/deals.md [C])
    assert sorted(set(re.findall(date, page())) - computed - sources) == []


def test_the_page_shows_the_command_line_of_each_calibration() -> None:
    text = page()
    for overrides in (CALIBRATED_A, CALIBRATED_B):
        for o in overrides:
            assert f"--set {o}" in text


def test_the_calibrations_bring_aws_revenue_over_2026_28_to_about_wells_fargos_115b(runs) -> None:
    # Wells Fargo [R]: about $115B of AWS revenue from Anthropic over 2026-28; within 2%.
    for overrides in (CALIBRATED_A, CALIBRATED_B):
        assert abs(window(runs[overrides]) / 1e11 - 115) < 0.02 * 115
    assert window(runs[DEFAULT]) / 1e11 < 0.6 * 115  # the file as it stands: about half


def test_the_python_on_the_page_prints_the_default_column(runs, monkeypatch) -> None:
    code = re.search(r"```python\n(.*?)```", page(), re.S)
    assert code is not None
    monkeypatch.chdir(ROOT)  # the page's paths are from the repository's root
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "docs/calibration.md", "exec"), {})
    for y, cents in aws_cents_by_year(runs[DEFAULT]).items():
        assert re.search(rf"^{y}\s+{re.escape(billions(cents))}$", out.getvalue(), re.M), (
            out.getvalue()
        )
