"""Run folders: written whole or not at all, and only over what roundtrip wrote itself."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import cli

import sim
from sim.analysis.result import inputs_hash
from sim.io.output import MARKER, _umask, read_marker, read_run, write_atomically, write_run
from sim.io.output import RUN_FILES as RUN_FILE_NAMES

BUNDLED = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
RUN_FILES = set(RUN_FILE_NAMES)
RUN_FILES |= {"scenario.source.yaml", MARKER}
SMALL = """\
name: small
start: 2026-01-01
horizon: 1y
agents:
  inv: {kind: investor, owns: [own]}
  lab: {kind: lab, cash: 1B, spending: {compute: {annual: 12B, providers: {own: 60%}}}}
  own: {kind: cloud, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 5B}]}
"""


def test_without_out_the_run_goes_to_runs_and_the_file_stem(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "run", "s.yaml")
    assert code == 0
    assert "Wrote runs/s/" in out
    assert {p.name for p in (tmp_path / "runs" / "s").iterdir()} == RUN_FILES


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in folder.rglob("*")
    }


def test_out_on_a_folder_of_other_files_exits_2_and_leaves_it_alone(tmp_path, capsys) -> None:
    other = tmp_path / "mine"
    (other / "drafts").mkdir(parents=True)
    (other / "notes.txt").write_text("keep me")
    code, out, err = cli(capsys, "run", BUNDLED, "--out", other)
    assert code == 2
    assert err == (
        f"error: {other}: this folder holds files roundtrip did not write (drafts/, notes.txt); "
        "choose an empty or new folder with --out\n"
    )
    assert snapshot(other) == {"drafts": None, "notes.txt": b"keep me"}
    assert {p.name for p in tmp_path.iterdir()} == {"mine"}


def test_a_folder_with_a_metrics_json_but_no_marker_is_not_replaced(tmp_path, capsys) -> None:
    """Before the marker, any folder holding a metrics.json was replaced whole, with whatever
    else the user kept in it."""
    (tmp_path / "s.yaml").write_text(SMALL)
    mine = tmp_path / "mine"
    (mine / "data").mkdir(parents=True)
    (mine / "data" / "prices.csv").write_text("1,2,3\n")
    (mine / "metrics.json").write_text("{}")
    (mine / "notes.txt").write_text("keep me")
    before = snapshot(mine)
    code, out, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", mine)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {mine}: this folder has a metrics.json but no {MARKER} file")
    assert "remove or rename it yourself, or choose another folder with --out" in err
    assert err.count("\n") == 1
    assert snapshot(mine) == before
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "mine"}


def test_files_the_user_added_to_a_run_folder_survive_a_rerun(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    (out / "notes.txt").write_text("what I make of it")
    (out / "slides").mkdir()
    (out / "slides" / "deck.key").write_text("mine")
    before = snapshot(out)
    for extra in ([], ["--force"]):  # --force replaces another run, never the user's files
        code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out, *extra)
        assert code == 2
        assert err == (
            f"error: {out}: this run folder also holds files roundtrip did not write (notes.txt, "
            "slides/), which it will not delete; move them out, or choose another folder with "
            "--out\n"
        )
        assert snapshot(out) == before
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}


@pytest.mark.parametrize("out", [".", "sub/.."])
def test_out_on_the_current_folder_exits_2_and_writes_nothing(
    tmp_path, capsys, monkeypatch, out
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = cli(capsys, "run", BUNDLED, "--out", out)
    assert code == 2
    assert err.startswith(f"error: {out}: this is the current folder (or holds it); ")
    assert "choose a new folder with --out" in err
    assert list(tmp_path.rglob("*")) == [work]  # nothing beside it either (.old or .tmp)


def test_rerunning_the_edited_file_replaces_its_own_run_folder_whole(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out, "--charts", "png")[0] == 0
    assert (out / "charts" / "flows.png").exists()
    (tmp_path / "s.yaml").write_text(SMALL.replace("horizon: 1y", "horizon: 1y\nstep: 1d"))
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out)
    assert (code, err) == (0, "")
    assert {p.name for p in out.iterdir()} == RUN_FILES  # the old charts/ were ours: gone
    assert pd.read_parquet(out / "balances.parquet").step.max() == 365
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}
    assert os.stat(out).st_mode & 0o077 == 0o077 & ~_umask()  # not left private like a temp


def test_the_marker_names_the_run_and_every_file_written(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    argv = ["--set", "step=1w", "--charts", "svg"]
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out, *argv)[0] == 0
    marker = json.loads((out / MARKER).read_text())
    assert marker["format"] == 1
    assert marker["scenario"] == os.path.realpath(tmp_path / "s.yaml")
    assert marker["overrides"] == ["step=1w"]
    assert marker["inputs_hash"] == json.loads((out / "metrics.json").read_text())["inputs_hash"]
    charts = [f"charts/{name}.svg" for name in sim.views.charts.CHARTS]
    assert marker["files"] == sorted([*RUN_FILES - {MARKER}, "charts/", *charts])


def test_a_what_if_gets_a_folder_of_its_own_and_keeps_the_earlier_run(
    tmp_path, capsys, monkeypatch
) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "run", "s.yaml", "--charts", "png")[0] == 0
    plain = snapshot(tmp_path / "runs" / "s")
    code, out, err = cli(capsys, "run", "s.yaml", "--set", "agents.own.margin=20%")
    assert (code, err) == (0, "")
    what_if = sim.load_scenario("s.yaml", ["agents.own.margin=20%"])
    folder = f"runs/s-{inputs_hash(what_if)}"
    assert f"Wrote {folder}/ (--set gives a what-if a folder of its own): metrics.json" in out
    assert snapshot(tmp_path / "runs" / "s") == plain  # charts and all
    assert {p.name for p in (tmp_path / folder).iterdir()} == RUN_FILES
    metrics = json.loads((tmp_path / folder / "metrics.json").read_text())
    assert metrics["inputs_hash"] == inputs_hash(what_if)
    # the same what-if again replaces its own folder; the plain run still replaces its own
    assert cli(capsys, "run", "s.yaml", "--set", "agents.own.margin=20%")[0] == 0
    assert cli(capsys, "run", "s.yaml")[0] == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["s", folder[5:]]


def test_a_run_into_a_folder_holding_another_run_needs_force(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    before = snapshot(out)
    first = read_marker(out)
    assert first is not None
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out, "--set", "step=1d")
    assert code == 2
    assert err == (
        f"error: {out}: this folder holds another run (of {os.path.realpath(tmp_path / 's.yaml')}"
        f", inputs {first['inputs_hash']}); add --force to replace it, or choose another folder "
        "with --out\n"
    )
    assert snapshot(out) == before
    code, _, err = cli(
        capsys, "run", tmp_path / "s.yaml", "--out", out, "--set", "step=1d", "--force"
    )
    assert (code, err) == (0, "")
    assert pd.read_parquet(out / "balances.parquet").step.max() == 365
    # now the folder holds a what-if: the plain run of the file does not replace it unasked
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out)
    assert code == 2 and "with --set step=1d, inputs " in err and "add --force" in err


def test_a_file_of_the_same_name_elsewhere_does_not_replace_the_run(
    tmp_path, capsys, monkeypatch
) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "s.yaml").write_text(SMALL)
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "run", "a/s.yaml")[0] == 0
    code, _, err = cli(capsys, "run", "b/s.yaml")
    assert code == 2 and err.startswith("error: runs/s: this folder holds another run (of ")
    marker = read_marker(tmp_path / "runs" / "s")
    assert marker is not None and marker["scenario"] == os.path.realpath("a/s.yaml")


def test_chart_replaces_only_a_charts_folder_it_drew(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out, "--charts", "png")[0] == 0
    assert cli(capsys, "chart", out, "--format", "svg")[0] == 0
    assert "charts/flows.svg" in read_marker(out)["files"]  # recorded as roundtrip's own
    (out / "charts" / "mine").mkdir()
    (out / "charts" / "mine" / "sketch.png").write_bytes(b"not a chart of ours")
    before = snapshot(out)
    code, _, err = cli(capsys, "chart", out, "--format", "pdf")
    assert code == 2
    assert err == (
        f"error: {out / 'charts'}: this folder also holds files roundtrip did not write (mine/), "
        "which it will not delete; move them out first\n"
    )
    assert snapshot(out) == before
    (out / "charts" / "mine" / "sketch.png").unlink()
    (out / "charts" / "mine").rmdir()
    # every chart there is roundtrip's, those drawn by `chart` included: a rerun replaces them
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}


def test_chart_in_a_run_folder_without_a_marker_never_replaces_its_charts(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    (out / MARKER).unlink()  # as an older roundtrip left it
    assert cli(capsys, "chart", out)[0] == 0  # a new charts/ replaces nothing
    before = snapshot(out)
    code, _, err = cli(capsys, "chart", out, "--format", "svg")
    assert code == 2
    assert err.startswith(f"error: {out / 'charts'}: not replaced: {out} has no {MARKER} file ")
    assert snapshot(out) == before


@pytest.mark.parametrize("below", ["run", "a/b/run"])
def test_an_out_under_a_file_exits_2_before_running(tmp_path, capsys, monkeypatch, below) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    monkeypatch.setattr(sim, "run", lambda *a, **k: pytest.fail("ran before checking --out"))
    out = tmp_path / "notes.txt" / below
    code, text, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out)
    assert (code, text) == (2, "")
    assert err == (
        f"error: {out}: cannot be made: {tmp_path / 'notes.txt'} is a file, not a folder; "
        "choose another folder with --out, such as runs/my_run\n"
    )
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "notes.txt"}


def test_an_out_where_one_may_not_write_exits_2_before_running(
    tmp_path, capsys, monkeypatch
) -> None:
    """As os.access sees it, which holds for root too (permission bits do not stop root)."""
    (tmp_path / "s.yaml").write_text(SMALL)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: str(p) != str(locked) and real_access(p, mode)
    )
    monkeypatch.setattr(sim, "run", lambda *a, **k: pytest.fail("ran before checking --out"))
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", locked / "new" / "run")
    assert code == 2
    assert err == (
        f"error: {locked / 'new' / 'run'}: cannot write in {locked}: permission denied; "
        "choose another folder with --out, such as runs/my_run\n"
    )
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="permission bits do not stop root from writing")
def test_an_out_in_a_read_only_folder_exits_2_before_running(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        t0 = time.perf_counter()
        code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", locked / "run")
        assert time.perf_counter() - t0 < 0.5  # refused before running
        assert code == 2
        assert err.startswith(f"error: {locked / 'run'}: cannot write in {locked}: ")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_an_interrupted_write_leaves_nothing_not_even_the_folders_made_for_it(tmp_path) -> None:
    out = tmp_path / "new" / "deep" / "run"

    def fill(tmp: Path) -> None:
        (tmp / "half.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(out, fill, about={})
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_while_the_folder_is_moved_in_waits_until_it_is_in_place(
    tmp_path, monkeypatch
) -> None:
    out = tmp_path / "run"
    write_atomically(out, lambda tmp: (tmp / "a.txt").write_text("first"), about={})
    real_replace = os.replace

    def ctrl_c_then_replace(src: Path, dst: Path) -> None:  # Ctrl-C between the two moves
        signal.raise_signal(signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", ctrl_c_then_replace)
    with pytest.raises(KeyboardInterrupt) as caught:
        write_atomically(out, lambda tmp: (tmp / "a.txt").write_text("second"), about={})
    assert caught.value.__notes__ == [f"{out} was written in full"]
    assert (out / "a.txt").read_text() == "second"
    assert {p.name for p in tmp_path.iterdir()} == {"run"}  # no .old or .tmp folder left
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_failure_while_writing_keeps_the_previous_run_folder(
    tmp_path, capsys, monkeypatch
) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    metrics = (out / "metrics.json").read_text()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)
    monkeypatch.setattr(pq, "write_table", full_disk)  # after metrics.json is written
    argv = ["--out", out, "--set", "step=1d", "--force"]
    code, out_text, err = cli(capsys, "run", tmp_path / "s.yaml", *argv)
    assert (code, out_text) == (2, "")  # a full disk is the user's to fix: one line, exit 2
    assert err == (
        f"error: {out}: no space left on the disk while writing it; nothing was kept; free some "
        "space, or choose another folder with --out, such as runs/my_run\n"
    )
    assert (out / "metrics.json").read_text() == metrics
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}


def test_a_failed_swap_puts_the_previous_run_back(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    metrics = (out / "metrics.json").read_text()
    real_replace, calls = os.replace, []

    def flaky(src: Path, dst: Path) -> None:  # 1st: old run aside, 2nd: new run in place
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)
    monkeypatch.setattr(os, "replace", flaky)
    argv = ["--out", out, "--set", "step=1d", "--force"]
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", *argv)
    assert code == 1 and "Input/output error" in err
    assert len(calls) == 3  # the third put the previous run back
    assert (out / "metrics.json").read_text() == metrics
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}


def test_the_resolved_inputs_keep_their_source_comments_and_read_back_the_same(tmp_path):
    scenario = sim.load_scenario("scenarios/amazon_openai_50b.yaml", ["agents.aws.margin=30%"])
    out = tmp_path / "run"
    write_run(sim.run(scenario), out)
    text = (out / "scenario.resolved.yaml").read_text()
    assert "post_money: 852000000000  # 2026-03-31 [C]" in text
    assert "margin: 0.3  # set by --set agents.aws.margin=30%" in text
    back = read_run(out).scenario
    assert back.comments == scenario.comments
    assert inputs_hash(back) == inputs_hash(scenario)
