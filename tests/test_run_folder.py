"""Run folders: written whole or not at all, never over someone else's files."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import cli

import sim
from sim.output import _umask, read_run, write_run
from sim.result import inputs_hash

BUNDLED = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
RUN_FILES = {"metrics.json", "ledger.parquet", "balances.parquet", "scenario.resolved.yaml"}
RUN_FILES |= {"scenario.source.yaml"}
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


def test_out_on_a_folder_of_other_files_exits_2_and_leaves_it_alone(tmp_path, capsys) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    code, out, err = cli(capsys, "run", BUNDLED, "--out", other)
    assert code == 2
    assert err.startswith(f"error: {other}: this folder holds files that are not a run's; ")
    assert "choose an empty or new folder with --out" in err
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    assert (other / "notes.txt").read_text() == "keep me"
    assert {p.name for p in tmp_path.iterdir()} == {"mine"}


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


def test_a_previous_run_folder_is_replaced_whole(tmp_path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "s.yaml", "--out", out)[0] == 0
    (out / "stale.txt").write_text("from before")
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out, "--set", "step=1d")
    assert (code, err) == (0, "")
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert pd.read_parquet(out / "balances.parquet").step.max() == 365
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}
    assert os.stat(out).st_mode & 0o077 == 0o077 & ~_umask()  # not left private like a temp


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
    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)  # after metrics.json is written
    code, out_text, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out, "--set", "step=1d")
    assert code == 1
    assert "No space left on device" in err and "Traceback" not in out_text + err
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
    code, _, err = cli(capsys, "run", tmp_path / "s.yaml", "--out", out, "--set", "step=1d")
    assert code == 1 and "Input/output error" in err
    assert len(calls) == 3  # the third put the previous run back
    assert (out / "metrics.json").read_text() == metrics
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}


def test_the_resolved_inputs_keep_their_source_comments_and_read_back_the_same(tmp_path):
    scenario = sim.load_scenario("scenarios/amazon_openai_50b.yaml", ["agents.aws.margin=30%"])
    out = tmp_path / "run"
    write_run(sim.run(scenario), out)
    text = (out / "scenario.resolved.yaml").read_text()
    assert "pre_money: 730000000000  # 2026-02-27 [C]" in text
    assert "margin: 0.3  # set by --set agents.aws.margin=30%" in text
    back = read_run(out).scenario
    assert back.comments == scenario.comments
    assert inputs_hash(back) == inputs_hash(scenario)
