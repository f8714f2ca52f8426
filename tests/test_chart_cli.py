"""`roundtrip run --charts` and `roundtrip chart`: charts written into the run folder, all or
nothing; redrawn from a finished run's files without running; bad input exits 2 and writes
nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli

from sim.cli import main
from sim.views import charts
from sim.views.charts import CHARTS

pypdf = pytest.importorskip("pypdf")

SMALL = """\
name: small
start: 2026-01-01
horizon: 2y
step: 1mo
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 1B
    revenue: {annual: 20B}
    spending: {compute: {annual: 24B, providers: {own: 50%, rival: 30%}}}
  own: {kind: cloud, margin: 50%}
  rival: {kind: cloud, margin: 10%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 5B}]}
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (names relative to it) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    (tmp_path / "small.yaml").write_text(SMALL)
    return tmp_path / "small.yaml"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """One run of SMALL with its PNG charts, drawn once for the module."""
    folder = tmp_path_factory.mktemp("finished")
    (folder / "small.yaml").write_text(SMALL)
    argv = ["run", folder / "small.yaml", "--out", folder / "run", "--charts", "png"]
    assert main([str(a) for a in argv]) == 0
    return folder / "run"


@pytest.fixture
def run_folder(finished_run, tmp_path, capsys) -> Path:
    """A fresh copy of the finished run for each test to change."""
    capsys.readouterr()
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def test_run_with_charts_writes_every_chart_in_each_format(tmp_path, capsys, scenario_file):
    out = tmp_path / "run"
    code, text, err = cli(capsys, "run", scenario_file, "--out", out, "--charts", "png,svg")
    assert (code, err) == (0, "")
    assert "charts/ (png, svg)" in text
    assert sorted(p.name for p in (out / "charts").iterdir()) == sorted(
        f"{name}.{fmt}" for name in CHARTS for fmt in ("png", "svg")
    )
    assert {p.name for p in tmp_path.iterdir()} == {"small.yaml", "run"}  # no temporary folder


def test_chart_size_and_dpi_set_the_png_size(tmp_path, capsys, scenario_file) -> None:
    out = tmp_path / "run"
    argv = ["--charts", "png", "--chart-size", "8x4.5", "--dpi", "100"]
    assert cli(capsys, "run", scenario_file, "--out", out, *argv)[0] == 0
    data = (out / "charts" / "cumulative.png").read_bytes()
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (800, 450)


def test_chart_redraws_from_the_folder_without_running_again(run_folder, capsys) -> None:
    ledger = run_folder / "ledger.parquet"
    before = ledger.stat().st_mtime_ns
    pngs = {p.name: p.read_bytes() for p in (run_folder / "charts").iterdir()}
    argv = ["--format", "pdf", "--size", "10x5.625", "--dpi", "100"]
    code, out, err = cli(capsys, "chart", run_folder, *argv)
    assert (code, err) == (0, "")
    listed = "run_vs_twin.pdf, cumulative.pdf, investor_cash.pdf, substitution.pdf, flows.pdf"
    assert out.startswith(f"Wrote {run_folder / 'charts'}/: {listed}")
    assert ledger.stat().st_mtime_ns == before
    for name in CHARTS:
        page = pypdf.PdfReader(run_folder / "charts" / f"{name}.pdf").pages[0]
        assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, 720, 405])
    # the PNGs drawn by the run are kept, untouched; nothing else is left beside them
    assert {p.name: p.read_bytes() for p in (run_folder / "charts").glob("*.png")} == pngs
    assert {p.suffix for p in (run_folder / "charts").iterdir()} == {".png", ".pdf"}
    # nothing hidden but the run folder's marker (no temporary folder left behind)
    assert [p.name for p in run_folder.iterdir() if p.name.startswith(".")] == [".roundtrip-run"]


def test_chart_only_redraws_the_charts_named(run_folder, capsys) -> None:
    code, out, _ = cli(
        capsys, "chart", run_folder, "--only", "lab_cash,cumulative", "--format", "svg"
    )
    assert code == 0
    assert sorted(p.name for p in (run_folder / "charts").glob("*.svg")) == [
        "cumulative.svg",
        "lab_cash.svg",
    ]


def test_the_same_run_folder_redraws_to_the_same_bytes(run_folder, capsys) -> None:
    # the folder holds the twin's series (twin_series.parquet): every chart the run drew,
    # those of what the investment caused included, is redrawn byte for byte
    first = snapshot(run_folder / "charts")
    assert cli(capsys, "chart", run_folder)[0] == 0
    assert snapshot(run_folder / "charts") == first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--charts", "gif"], "unknown chart format 'gif'; choose from png, svg, pdf"),
        (["--charts", ""], "no chart format; choose from png, svg, pdf"),
        (["--charts", "png", "--chart-size", "2x1"], "6 to 40 inches wide and 4 to 40 high"),
        (["--charts", "png", "--chart-size", "wide"], "expected WIDTHxHEIGHT in inches"),
        (["--charts", "png", "--dpi", "5"], "dpi is 50 to 600, got 5"),
        (["--dpi", "100"], "--chart-size and --dpi apply to charts: add --charts png"),
    ],
)
def test_run_with_bad_chart_options_exits_2_and_writes_nothing(
    tmp_path, capsys, scenario_file, argv, message
) -> None:
    code, out, err = cli(capsys, "run", scenario_file, "--out", tmp_path / "run", *argv)
    assert code == 2
    assert message in err
    assert {p.name for p in tmp_path.iterdir()} == {"small.yaml"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "png,jpeg"], "unknown chart format 'jpeg'; choose from png, svg, pdf"),
        (
            ["--only", "pie"],
            "unknown chart 'pie'; choose from run_vs_twin, cumulative, investor_cash, "
            "substitution, flows, own_dollars, paths, lab_cash",
        ),
        (["--size", "0x0"], "6 to 40 inches wide"),
        (["--size", "10by5"], "expected WIDTHxHEIGHT in inches such as 13.33x7.5, got '10by5'"),
        (["--dpi", "2000"], "dpi is 50 to 600, got 2000"),
        (["--size", "40x20", "--dpi", "600"], "over 12,000 pixels a side"),
    ],
)
def test_chart_with_bad_options_exits_2_and_changes_nothing(
    run_folder, capsys, argv, message
) -> None:
    before = snapshot(run_folder.parent)
    code, out, err = cli(capsys, "chart", run_folder, *argv)
    assert code == 2
    assert message in err
    assert snapshot(run_folder.parent) == before


def corrupt(folder: Path, how: str) -> str:
    """Damage a run folder; returns the message ``roundtrip chart`` must give."""
    if how == "missing":
        for p in folder.rglob("*"):
            if p.is_file():
                p.unlink()
        for p in sorted(folder.rglob("*"), reverse=True):
            p.rmdir()
        folder.rmdir()
        return f"error: {folder}: no run folder here; write one with: roundtrip run"
    if how == "no metrics":
        (folder / "metrics.json").unlink()
        return f"error: {folder}: not a complete run folder: metrics.json missing"
    if how == "bad ledger":
        data = (folder / "ledger.parquet").read_bytes()
        (folder / "ledger.parquet").write_bytes(data[: len(data) // 2] + b"\0garbage")
        return f"error: {folder / 'ledger.parquet'}: is not a readable Parquet file"
    if how == "bad json":
        (folder / "metrics.json").write_text('{"investors": {')
        return f"error: {folder / 'metrics.json'}:1:16: is not valid JSON"
    if how == "other run's metrics":
        m = json.loads((folder / "metrics.json").read_text())
        m["investors"] = {"someone_else": m["investors"]["inv"]}
        (folder / "metrics.json").write_text(json.dumps(m))
        return f"error: {folder / 'metrics.json'}: does not match the run's scenario "
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["missing", "no metrics", "bad ledger", "bad json", "other run's metrics"]
)
def test_chart_on_a_deleted_or_damaged_run_folder_exits_2_with_a_clear_message(
    run_folder, capsys, how
) -> None:
    message = corrupt(run_folder, how)
    before = snapshot(run_folder.parent)
    code, out, err = cli(capsys, "chart", run_folder)
    assert code == 2
    assert err.startswith(message), err
    assert snapshot(run_folder.parent) == before


def test_charts_as_a_file_exits_2(tmp_path, capsys, scenario_file) -> None:
    out = tmp_path / "run"
    assert cli(capsys, "run", scenario_file, "--out", out)[0] == 0
    (out / "charts").write_text("not a folder")
    code, _, err = cli(capsys, "chart", out)
    assert code == 2
    assert err == f"error: {out / 'charts'}: this exists and is not a folder\n"


def test_a_chart_that_fails_leaves_no_run_folder_and_old_charts_as_they_were(
    run_folder, tmp_path, capsys, scenario_file, monkeypatch
) -> None:
    def broken(run, *, size=charts.SLIDE_SIZE):
        raise RuntimeError("boom")

    monkeypatch.setitem(CHARTS, "lab_cash", broken)
    new = tmp_path / "new"
    code, _, err = cli(capsys, "run", scenario_file, "--out", new, "--charts", "png")
    assert code == 1 and "RuntimeError: boom" in err
    assert not new.exists()
    before = snapshot(run_folder.parent)
    assert cli(capsys, "chart", run_folder, "--format", "svg")[0] == 1
    assert snapshot(run_folder.parent) == before


def test_help_names_every_chart() -> None:
    from sim.cli import chart

    help_text = " ".join(p.help or "" for p in chart.params)
    assert all(name in help_text for name in CHARTS)
