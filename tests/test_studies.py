"""The studies in the library: ``sim.sweep``, ``sim.monte_carlo``, ``sim.sensitivity`` and
``sim.compare`` write what their commands write, refuse what they refuse, and read a file with
ranges as ``run`` does."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import cli

import sim
from sim.analysis import compare as compare_table
from sim.analysis import sensitivity as swings

# A lab whose compute demand ($24B a year) exceeds the $10B invested: every invested dollar is
# spent, half of it at the investor's own cloud. Small (24 monthly steps) so that a study of a
# few runs takes well under a second.
SMALL = """
name: small study
start: 2026-01-01
horizon: 2y
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    spending: {compute: {annual: 24B, providers: {own: 50%}}}
  own: {kind: cloud, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 10B}]}
"""
SHARE = "agents.lab.spending.compute.providers.own"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def same_parquet(a: Path, b: Path) -> None:
    """The same rows, columns, types and file metadata (farm writes no time into its files)."""
    ta, tb = pq.read_table(a), pq.read_table(b)
    assert ta.schema.equals(tb.schema, check_metadata=True)
    assert ta.equals(tb)
    assert pq.read_metadata(a).metadata == pq.read_metadata(b).metadata


def same_folder(a: Path, b: Path, *, differ: tuple[str, ...] = ()) -> None:
    """The same files with the same bytes; the markers alike apart from the keys ``differ``
    (where the folder is, which the marker names)."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        if name == ".roundtrip-run":
            ma, mb = (json.loads((f / name).read_text()) for f in (a, b))
            for key in differ:
                ma.pop(key), mb.pop(key)
            assert ma == mb
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_sim_sweep_writes_what_roundtrip_sweep_writes_charts_included(small, capsys) -> None:
    by_hand, by_cli = small.parent / "lib", small.parent / "cli"
    spec = f"{SHARE}=0%..100%:3"
    rows = sim.sweep(small, [spec], out=by_hand / "s.parquet", chunk_runs=2, charts="png")
    code, text, err = cli(
        capsys, "sweep", small, "--vary", spec, "-o", by_cli / "s.parquet", "--chunk", "2",
        "--charts", "png",
    )  # fmt: skip
    assert (code, err) == (0, "")
    same_parquet(by_hand / "s.parquet", by_cli / "s.parquet")
    same_parquet(by_hand / "s.series.parquet", by_cli / "s.series.parquet")
    same_folder(by_hand / "s.charts", by_cli / "s.charts", differ=("scenario",))
    assert [p.name for p in rows.attrs["charts"]] == ["sweep_line.png"]
    assert all(p.exists() for p in rows.attrs["charts"])  # where they are, not where drawn
    # what the command prints is what the rows say: 3 points, a row each, no percentiles
    assert "3 runs of 'small study', 0 with an error" in text
    assert "percentiles" not in text and rows.attrs["by_run"]
    assert list(sim.runs.studies.headline(rows).index) == [0.0, 0.5, 1.0]


def test_sim_monte_carlo_writes_what_roundtrip_mc_writes(small, capsys) -> None:
    by_hand, by_cli = small.parent / "lib", small.parent / "cli"
    draw = "agents.own.margin~uniform(20%,40%)"
    rows = sim.monte_carlo(small, 6, 3, [draw], out=by_hand / "m.parquet", charts=["png"])
    code, text, err = cli(
        capsys, "mc", small, "--runs", "6", "--seed", "3", "--vary", draw,
        "-o", by_cli / "m.parquet", "--charts", "png",
    )  # fmt: skip
    assert (code, err) == (0, "")
    same_parquet(by_hand / "m.parquet", by_cli / "m.parquet")
    same_parquet(by_hand / "m.series.parquet", by_cli / "m.series.parquet")
    same_folder(by_hand / "m.charts", by_cli / "m.charts", differ=("scenario",))
    assert "percentiles over the runs:" in text and not rows.attrs["by_run"]
    assert (rows.attrs["runs"], rows.attrs["errors"], rows.attrs["seed"]) == (6, 0, 3)


def test_sim_sensitivity_writes_what_roundtrip_sensitivity_writes(small, capsys) -> None:
    by_hand, by_cli = small.parent / "lib", small.parent / "cli"
    table = sim.sensitivity(small, swing=0.1, out=by_hand, charts="png")
    code, text, err = cli(
        capsys, "sensitivity", small, "--swing", "10%", "-o", by_cli, "--charts", "png", "--csv"
    )
    assert (code, err) == (0, "")
    assert text == swings.to_csv(table)
    same_folder(by_hand, by_cli)  # the marker names the same scenario file: all alike
    assert table.attrs["files"] == ["sensitivity.csv", "tornado.png"]


def test_sim_compare_gives_what_roundtrip_compare_prints(small, tmp_path, capsys) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SMALL.replace("margin: 30%", "margin: 45%"))
    frame = sim.compare([small, other], ["agents.inv.label=Investor"])
    code, text, err = cli(capsys, "compare", small, other, "--set", "agents.inv.label=Investor")
    assert (code, err) == (0, "")
    assert text == compare_table.to_text(frame) + "\n"
    assert list(frame.columns) == ["small", "other"]


def test_a_study_refuses_what_its_command_refuses(small, capsys) -> None:
    with pytest.raises(sim.ScenarioError, match="nothing to sweep"):
        sim.sweep(small)
    with pytest.raises(sim.ScenarioError, match="nothing to draw"):
        sim.monte_carlo(small, 4, 0)
    with pytest.raises(ValueError, match="--workers sets the workers of a local cluster"):
        sim.sweep(small, [f"{SHARE}=0%,50%"], workers=1)
    code, _, err = cli(capsys, "sweep", small, "--vary", f"{SHARE}=0%,50%", "--workers", "1")
    assert code == 2 and "--workers sets the workers of a local cluster" in err
    with pytest.raises(ValueError, match="charts= needs out="):
        sim.sweep(small, [f"{SHARE}=0%,50%"], charts="png")


DRAWN = SMALL.replace("margin: 30%", "margin: {uniform: [20%, 40%]}")


def test_sensitivity_and_compare_read_a_file_with_distributions_at_its_medians(
    tmp_path, capsys
) -> None:
    """As run does: the margin drawn from 20% to 40% is read at its median, 30%, and each
    command says so once on stderr; the figures are those of the plain file."""
    drawn, plain = tmp_path / "drawn.yaml", tmp_path / "plain.yaml"
    drawn.write_text(DRAWN)
    plain.write_text(SMALL)
    note = (
        f"note: {drawn}: 1 input drawn from distributions: read at their medians "
        "(agents.own.margin=30%); roundtrip sweep / mc run them all\n"
    )
    code, text, err = cli(capsys, "sensitivity", drawn, "--csv")
    assert (code, err) == (0, note)
    assert text == swings.to_csv(sim.sensitivity(plain))
    code, text, err = cli(capsys, "compare", drawn, "--csv")
    assert (code, err) == (0, note)
    assert text == compare_table.to_csv(sim.compare([plain])).replace(",plain\n", ",drawn\n", 1)
    said: list[str] = []
    sim.sensitivity(drawn, say=said.append)
    assert said == [note.rstrip("\n")]
