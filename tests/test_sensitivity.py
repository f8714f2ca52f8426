"""roundtrip sensitivity: one-at-a-time swings ranked exactly, run as one batch; Sobol via SALib."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli

import sim
from sim.analysis.sensitivity import numeric_inputs, to_csv, to_json, to_text
from sim.inputs.loader import read_doc
from sim.views.charts import SENSITIVITY_CHARTS, render_table

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"

# One investor, one lab, one cloud; two unconditional tranches: invested = A + B exactly.
ADDITIVE = """\
name: Additive toy
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  inv: {kind: investor, owns: [cloud]}
  lab:
    kind: lab
    spending: {compute: {annual: 24B, providers: {cloud: 100%}}}
  cloud: {kind: cloud, margin: 50%}
deals:
  - kind: investment
    investor: inv
    lab: lab
    post_money: 100B
    tranches:
      - {at: 2026-01-01, amount: 10B}
      - {at: 2026-02-01, amount: 5B}
"""


@pytest.fixture
def additive(tmp_path: Path) -> Path:
    p = tmp_path / "additive.yaml"
    p.write_text(ADDITIVE)
    return p


def test_numeric_inputs_are_amounts_and_shares_not_dates_or_durations() -> None:
    paths = {i.path: i for i in numeric_inputs(read_doc(TOY))}
    assert paths["agents.bigcloud.margin"].value == 0.5
    assert paths["deals.0.tranches.0.amount"].value == 12e9
    assert paths["agents.labco.spending.compute.providers.bigcloud"].unit == "share"
    assert "start" not in paths and "horizon" not in paths and "agents.labco.cash" not in paths


def test_margin_moves_profit_as_much_when_the_lab_spends_every_invested_dollar() -> None:
    # LabCo spends the whole $12B, 40% at BigCloud, which keeps 50%:
    # incremental profit = 50% x 40% x $12B = $2.4B; each of the three factors at -20% gives
    # $1.92B, at +20% $2.88B; nothing else moves it (rival cloud, revenue past the cash-out...)
    table = sim.sensitivity(TOY)
    assert table.attrs["investor"] == "bigtech" and table.attrs["base_metric"] == 2.4e9
    top = table.head(3).set_index("input")
    assert set(top.index) == {
        "agents.bigcloud.margin",
        "agents.labco.spending.compute.providers.bigcloud",
        "deals.0.tranches.0.amount",
    }
    assert list(top["metric_low"]) == [1.92e9] * 3
    assert list(top["metric_high"]) == [2.88e9] * 3
    assert list(top["swing"]) == pytest.approx([0.96e9] * 3, abs=0.01)
    assert top.loc["agents.bigcloud.margin", ["low", "high"]].tolist() == [0.4, 0.6]
    assert (table["swing"].iloc[3:].abs() < 0.01).all()


def test_the_batch_equals_each_variant_run_alone() -> None:
    table = sim.sensitivity(TOY, swing=0.1)
    for _, row in table.head(4).iterrows():
        for side in ("low", "high"):
            value = row[side] if row["unit"] == "share" else f"{row[side]:.2f}"
            alone = sim.run(sim.load_scenario(TOY, {row["input"]: value}))
            assert alone.metrics.loc["bigtech", "incremental_profit"] == row[f"metric_{side}"]


def test_an_invalid_swing_is_reported_in_its_row_not_raised() -> None:
    table = sim.sensitivity(TOY, overrides=["agents.bigcloud.margin=90%"])
    row = table.set_index("input").loc["agents.bigcloud.margin"]
    assert row["high"] == 1.0  # 108% clipped to the range, which validation refuses
    assert "high: a margin must be at least 0% and below 100%" in row["note"]
    assert row["metric_low"] == pytest.approx(0.72 * 0.4 * 12e9)
    assert "Not run" in to_text(table)


def test_sobol_on_an_additive_toy_gives_the_analytic_shares(additive: Path) -> None:
    # invested = A + B with A uniform on $8B..$12B and B on $4B..$6B: variances in the ratio
    # 4^2 : 2^2, so S1 = 16/20 = 0.8 and 4/20 = 0.2, and ST = S1 (no interaction)
    table = sim.sensitivity(additive, "invested", method="sobol", top=2, samples=256, seed=7)
    s1 = dict(zip(table["input"], table["S1"], strict=True))
    assert s1["deals.0.tranches.0.amount"] == pytest.approx(0.8, abs=0.05)
    assert s1["deals.0.tranches.1.amount"] == pytest.approx(0.2, abs=0.05)
    assert list(table["ST"]) == pytest.approx(list(table["S1"]), abs=0.05)
    assert (table["S1_conf"] > 0).all()
    again = sim.sensitivity(additive, "invested", method="sobol", top=2, samples=256, seed=7)
    assert table[["S1", "S1_conf", "ST", "ST_conf"]].equals(
        again[["S1", "S1_conf", "ST", "ST_conf"]]
    )


def test_tornado_is_registered_and_drawn_to_every_format(tmp_path: Path) -> None:
    table = sim.sensitivity(TOY)
    assert list(SENSITIVITY_CHARTS) == ["tornado"]
    written = render_table(table, tmp_path, ["png", "svg", "pdf"])
    assert [p.name for p in written] == ["tornado.png", "tornado.svg", "tornado.pdf"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_command_prints_writes_and_exits_2_on_bad_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = cli(
        capsys, "sensitivity", TOY, "--swing", "10%", "--out", tmp_path, "--charts", "png"
    )
    # inputs by their human names (the paths are in the CSV and JSON)
    assert code == 0 and "BigCloud margin" in out and "$2.64B" in out  # 2.4 x 1.1
    assert (tmp_path / "tornado.png").is_file() and (tmp_path / "sensitivity.csv").is_file()
    code, out, _ = cli(capsys, "sensitivity", TOY, "--json")
    assert code == 0 and json.loads(out)["rows"][0]["metric_high"] == 2.88e9
    code, out, _ = cli(capsys, "sensitivity", TOY, "--csv")
    assert code == 0 and out == to_csv(sim.sensitivity(TOY))
    assert json.loads(to_json(sim.sensitivity(TOY)))["investor"] == "bigtech"
    for argv, said in (
        (["--metric", "nope"], "--metric: unknown metric 'nope'"),
        (["--investor", "nobody"], "--investor: no investor 'nobody'"),
        (["--swing", "150%"], "--swing"),
        (["--method", "sobol", "--samples", "100"], "--samples: a power of two"),
        (["--charts", "png"], "--charts needs --out"),
    ):
        code, _, err = cli(capsys, "sensitivity", TOY, *argv)
        assert code == 2 and said in err and len(err.splitlines()) == 1, err
    code, _, err = cli(capsys, "sensitivity", tmp_path / "missing.yaml")
    assert code == 2 and "missing.yaml: no such file" in err
