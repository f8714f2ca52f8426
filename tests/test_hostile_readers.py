"""Hostile files for roundtrip's readers: scenario text of any size, damaged run folders and
results files, labels of any length and script, symbolic links in a run folder.

Each refusal is checked as the user sees it: exit 2, one line on stderr starting "error: ", the
file named with what is wrong, and nothing written (the folder byte for byte as it was, no
report file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import cli
from test_hostile_inputs import TOY, toy

import sim
from sim.inputs.loader import MAX_BYTES, MAX_VALUES, OWN_SCALE
from sim.runs import farm
from sim.views.charts import CHARTS, style

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: a file's bytes, a link's target, a folder's name."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            out[key] = "-> " + os.readlink(p)
        elif p.is_file():
            out[key] = p.read_bytes()
        else:
            out[key] = "dir"
    return out


def one_line_refusal(capsys: pytest.CaptureFixture[str], *argv: object) -> str:
    code, printed, err = cli(capsys, *argv)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "Warning" not in err
    return err.rstrip("\n")


# ---------------------------------------------------------------------------------------------
# Scenario text: bounded before parsing
# ---------------------------------------------------------------------------------------------


def test_dev_zero_is_refused_after_reading_at_most_the_limit(capsys) -> None:
    err = one_line_refusal(capsys, "validate", "/dev/zero")
    assert err == (
        f"error: /dev/zero: the file is larger than {MAX_BYTES:,} bytes, the limit for a "
        "scenario file"
    )


def _sparse(path: Path, size: int, head: bytes = b"name: x\n") -> Path:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)  # holes read as NUL bytes; nothing of it is read past the limit
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _sparse(d / "big.yaml", MAX_BYTES + 1), "the file is larger than 1,000,000"),
        (lambda d: (d / "folder.yaml").mkdir() or d / "folder.yaml", "this is a directory"),
        (lambda d: os.mkfifo(d / "pipe.yaml") or d / "pipe.yaml", "this pipe gave no text"),
        (lambda d: Path("/proc/self/status"), "found character '\\t' that cannot start"),
        (lambda d: _sparse(d / "nul.yaml", 100), "the character '\\x00' (U+0000) is not"),
        (lambda d: _bytes(d, b"name: \xff\xfe\n"), "not UTF-8 text (byte 6)"),
        (lambda d: _bytes(d, "\ufeff[1]\n".encode()), "this file holds a list"),
    ],
    ids=["over-limit", "directory", "fifo-no-writer", "proc-file", "nul", "bad-utf8", "bom"],
)
def test_a_file_that_is_no_scenario_text_is_refused_in_one_line(
    capsys, tmp_path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    err = one_line_refusal(capsys, "validate", path)
    assert err.startswith(f"error: {path}") and message in err, err


def _bytes(d: Path, data: bytes) -> Path:
    (d / "x.yaml").write_bytes(data)
    return d / "x.yaml"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * (MAX_BYTES + 1), "the text is longer than 1,000,000 characters"),
        ("[" + ",".join(["1"] * MAX_VALUES) + "]", "more than 50,000 keys and values"),
    ],
    ids=["huge-value", "too-many-values"],
)
def test_a_set_value_past_the_limits_is_refused(capsys, tmp_path, value: str, message) -> None:
    (tmp_path / "toy.yaml").write_text(TOY)
    err = one_line_refusal(capsys, "validate", tmp_path / "toy.yaml", "--set", f"name={value}")
    assert message in err and "--set name=" in err


# The worst files at the limit, each 1,000,000 bytes or a little less: what costs PyYAML most per
# byte (a flow list of one-digit items, keys, anchors, tags), what the walker expands (aliases),
# deep nesting, one huge string, a file of comments.
_HEAD = "name: x\nstart: 2026-01-01\nhorizon: 1y\nagents:\n  a: {kind: investor}\ndeals: "
AT_LIMIT = {
    "flow_list": _HEAD + "[" + ",".join(["1"] * ((MAX_BYTES - len(_HEAD)) // 2 - 1)) + "]\n",
    "keys": "".join(f"k{i}: 1\n" for i in range(MAX_BYTES // 11)),
    "aliases": "a: &a [1,2,3,4,5,6,7,8,9,10]\nb: [" + ",".join(["*a"] * 333_300) + "]\n",
    "few_aliases": "a: &a [" + ",".join(["1"] * 1000) + "]\nb: [" + ",".join(["*a"] * 60) + "]\n",
    "anchors": "a: [" + ",".join(f"&a{i} 1" for i in range(MAX_BYTES // 14)) + "]\n",
    "tags": "a: [" + ",".join(["!!str 1"] * (MAX_BYTES // 9)) + "]\n",
    "deep": "a: " + "[" * (MAX_BYTES // 2 - 5) + "]" * (MAX_BYTES // 2 - 5) + "\n",
    "string": "name: " + "x" * (MAX_BYTES - 30) + "\nstart: 2026-01-01\n",
    "comments": "#\n" * (MAX_BYTES // 2 - 5) + "a: 1\n",
}
# and a valid scenario near the limit: the toy's one tranche as 9,000 (about 380 kB)
VALID_AT_LIMIT = toy(
    "      - {at: 2026-01-01, amount: 12B}\n",
    "".join(f"      - {{at: 2026-01-{1 + i % 28:02d}, amount: 1M}}\n" for i in range(9000)),
)
_MEASURE = textwrap.dedent(
    """
    import contextlib, io, json, resource, sys, time
    from sim.cli import main
    before = resource.getrusage(resource.RUSAGE_SELF)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", sys.argv[1]])
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    # this process's peak: VmHWM, not ru_maxrss, which Linux carries over an exec from the
    # parent (a test process of several hundred MB would count as this one's)
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(json.dumps([code, cpu, int(status.split()[0]), err.getvalue()]))
    """
)


def test_every_worst_file_at_the_limit_is_answered_in_under_5_s_and_500_mb(tmp_path) -> None:
    # ~15 s of CPU in all (ten files at about 1.5 s each, the start of Python included), the
    # must-show of bounded input: each file in a process of its own, as a user runs validate, so
    # that the peak memory is that file's; two at a time on the two cores
    files = {**AT_LIMIT, "valid": VALID_AT_LIMIT}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    running = {}
    for name, text in files.items():
        data = text.encode()
        assert len(data) <= MAX_BYTES, name
        (tmp_path / f"{name}.yaml").write_bytes(data)
    names = list(files)
    figures = {}
    while names or running:
        while names and len(running) < 2:
            name = names.pop(0)
            running[name] = subprocess.Popen(
                [sys.executable, "-c", _MEASURE, str(tmp_path / f"{name}.yaml")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        name, proc = next(iter(running.items()))
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        figures[name] = json.loads(out)
        del running[name]
    for name, (code, cpu, peak_kb, err) in figures.items():
        # CPU time, not wall time: the machine's two cores may be shared
        assert cpu < 5.0, (name, cpu)
        assert peak_kb < 500 * 1024, (name, peak_kb)
        if name == "valid":
            assert (code, err) == (0, "")
        else:
            assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err


# ---------------------------------------------------------------------------------------------
# Run folders: every file checked as it is read
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    (folder / "toy.yaml").write_text(TOY)
    assert sim.cli.main(["run", str(folder / "toy.yaml"), "--out", str(folder / "run")]) == 0
    return folder / "run"


@pytest.fixture
def run_folder(finished, tmp_path, capsys) -> Path:
    capsys.readouterr()
    return Path(shutil.copytree(finished, tmp_path / "run", symlinks=True))


def _metrics_text(old: str, new: str) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        text = (d / "metrics.json").read_text()
        assert old in text
        (d / "metrics.json").write_text(text.replace(old, new, 1))

    return damage


def _metrics(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        m = json.loads((d / "metrics.json").read_text())
        edit(m)
        (d / "metrics.json").write_text(json.dumps(m))

    return damage


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data)


def _table(name: str, edit: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        pq.write_table(edit(pq.read_table(d / name)), d / name)

    return damage


def _column(name: str, column: str, values: Callable[[int], pa.Array]) -> Callable[[Path], None]:
    def edit(t: pa.Table) -> pa.Table:
        return t.set_column(t.schema.get_field_index(column), column, values(t.num_rows))

    return _table(name, edit)


def _marker(files: object) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        m = json.loads((d / ".roundtrip-run").read_text())
        m["files"] = files
        (d / ".roundtrip-run").write_text(json.dumps(m))

    return damage


def _replace_with_dir(name: str) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        (d / name).unlink()
        (d / name).mkdir()

    return damage


def _link(name: str, target: Callable[[Path], Path]) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        where = target(d)
        if (d / name).exists():
            (d / name).unlink()
        (d / name).parent.mkdir(exist_ok=True)
        os.symlink(where, d / name)

    return damage


def _outside(d: Path) -> Path:
    secret = d.parent / "secret.png"
    secret.write_bytes(b"not yours to copy")
    return secret


INVESTED = '"invested": 12000000000.0'
RUN_FOLDER_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # the cases
    "metrics-nan": (_metrics_text(INVESTED, '"invested": NaN'), "metrics.json", "NaN is not"),
    "metrics-10**400": (
        _metrics_text(INVESTED, '"invested": 1' + "0" * 400),
        "metrics.json",
        "investors.bigtech.invested is not a finite number",
    ),
    "metrics-string-for-number": (
        _metrics(lambda m: m["labs"]["labco"].__setitem__("revenue", "lots")),
        "metrics.json",
        "labs.labco.revenue is not a finite number",
    ),
    "ledger-dates-not-dates": (
        _column("ledger.parquet", "date", lambda n: pa.array(["soon"] * n)),
        "ledger.parquet",
        "column 'date' holds string, expected timestamps",
    ),
    "marker-lists-non-strings": (_marker([1, {"a": 2}]), ".roundtrip-run", "marker lists"),
    # our own
    "metrics-empty": (_write("metrics.json", b""), "metrics.json", "is not valid JSON"),
    "metrics-array": (_write("metrics.json", b"[1, 2]"), "metrics.json", "no investors and labs"),
    "metrics-investors-list": (
        _metrics(lambda m: m.__setitem__("investors", [1])),
        "metrics.json",
        "investors is not a mapping",
    ),
    "metrics-by-lab-wrong": (
        _metrics(lambda m: m["investors"]["bigtech"].__setitem__("by_lab", [])),
        "metrics.json",
        "by_lab is not a mapping",
    ),
    "metrics-date-not-date": (
        _metrics(lambda m: m["labs"]["labco"].__setitem__("cash_out_date", "soon")),
        "metrics.json",
        "labs.labco.cash_out_date is not a date",
    ),
    "metrics-bool-for-number": (
        _metrics(lambda m: m["investors"]["bigtech"].__setitem__("stake", True)),
        "metrics.json",
        "investors.bigtech.stake is not a finite number",
    ),
    "metrics-infinity": (
        _metrics_text(INVESTED, '"invested": -Infinity'),
        "metrics.json",
        "-Infinity is not",
    ),
    "metrics-bom": (
        lambda d: (d / "metrics.json").write_bytes(
            b"\xef\xbb\xbf" + (d / "metrics.json").read_bytes()
        ),
        "metrics.json",
        "is not valid JSON",
    ),
    "metrics-invalid-utf8": (
        _write("metrics.json", b'{"a": "\xff"}'),
        "metrics.json",
        "not UTF-8 text (byte 7)",
    ),
    "metrics-nul": (_write("metrics.json", b"\x00" * 10), "metrics.json", "is not valid JSON"),
    "metrics-deep": (_write("metrics.json", b"[" * 200_000), "metrics.json", "is not valid JSON"),
    "metrics-over-limit": (
        lambda d: _sparse(d / "metrics.json", 20_000_001, b"{"),
        "metrics.json",
        "larger than 20,000,000 bytes",
    ),
    "metrics-source-not-text": (
        _metrics(lambda m: m.__setitem__("source", ["x"])),
        "metrics.json",
        "source is not text",
    ),
    "marker-files-not-list": (_marker("ledger.parquet"), ".roundtrip-run", "marker lists"),
    "marker-a-directory": (_replace_with_dir(".roundtrip-run"), ".roundtrip-run", "directory"),
    "ledger-truncated": (
        lambda d: (d / "ledger.parquet").write_bytes((d / "ledger.parquet").read_bytes()[:900]),
        "ledger.parquet",
        "is not a readable Parquet file",
    ),
    "ledger-column-missing": (
        _table("ledger.parquet", lambda t: t.drop(["amount_cents"])),
        "ledger.parquet",
        "lacks the column(s) amount_cents",
    ),
    "ledger-column-renamed": (
        _table("ledger.parquet", lambda t: t.rename_columns(["when", *t.column_names[1:]])),
        "ledger.parquet",
        "lacks the column(s) day",
    ),
    "ledger-extra-column": (
        _table("ledger.parquet", lambda t: t.append_column("note", pa.array(["x"] * len(t)))),
        "ledger.parquet",
        "unexpected column 'note'",
    ),
    "ledger-cents-as-floats": (
        _column("ledger.parquet", "amount_cents", lambda n: pa.array([1.5] * n)),
        "ledger.parquet",
        "column 'amount_cents' holds double, expected whole numbers",
    ),
    "ledger-dates-as-date32": (
        _column("ledger.parquet", "date", lambda n: pa.array([0] * n, pa.date32())),
        "ledger.parquet",
        "column 'date' holds date32[day], expected timestamps",
    ),
    "ledger-negative-cents": (
        _column("ledger.parquet", "amount_cents", lambda n: pa.array([-100] * n)),
        "ledger.parquet",
        "column 'amount_cents' holds -100, below 0",
    ),
    "ledger-empty-payer": (
        _column("ledger.parquet", "payer", lambda n: pa.nulls(n, pa.string())),
        "ledger.parquet",
        "column 'payer' has empty values",
    ),
    "ledger-a-directory": (
        _replace_with_dir("ledger.parquet"),
        "",
        "not a complete run folder: ledger.parquet missing",
    ),
    "balances-foreign-table": (
        lambda d: pq.write_table(pa.table({"a": [1]}), d / "balances.parquet"),
        "balances.parquet",
        "is not a run's balances",
    ),
    "twin-series-negative-revenue": (
        _column("twin_series.parquet", "revenue_cents_run", lambda n: pa.array([-1] * n)),
        "twin_series.parquet",
        "holds -1, below 0",
    ),
    "resolved-not-yaml": (
        _write("scenario.resolved.yaml", b"name: [\n"),
        "scenario.resolved.yaml",
        "not valid YAML",
    ),
    "resolved-invalid-utf8": (
        _write("scenario.resolved.yaml", b"name: \xff\n"),
        "scenario.resolved.yaml",
        "not UTF-8 text",
    ),
    "resolved-over-limit": (
        # roundtrip's own resolved YAML states every default: its limits are OWN_SCALE times
        lambda d: _sparse(d / "scenario.resolved.yaml", OWN_SCALE * MAX_BYTES + 1),
        "scenario.resolved.yaml",
        "larger than 4,000,000 bytes",
    ),
    # symbolic links: never followed out of a run folder
    "metrics-a-link": (
        _link("metrics.json", lambda d: shutil.copy(d / "metrics.json", d.parent / "m.json")),
        "metrics.json",
        "is a symbolic link",
    ),
    "chart-a-link": (_link("charts/flows.png", _outside), "charts/flows.png", "is a symbolic link"),
    "charts-a-link": (_link("charts", lambda d: d.parent), "charts", "is a symbolic link"),
}


@pytest.mark.parametrize("case", list(RUN_FOLDER_CASES))
def test_chart_refuses_a_damaged_run_folder_in_one_line_and_writes_nothing(
    capsys, run_folder, case: str
) -> None:
    damage, file, message = RUN_FOLDER_CASES[case]
    damage(run_folder)
    before = snapshot(run_folder.parent)
    err = one_line_refusal(capsys, "chart", run_folder, "--only", "lab_cash")
    where = run_folder / file if file else run_folder
    assert err.startswith(f"error: {where}"), err
    assert message in err, err
    assert snapshot(run_folder.parent) == before  # nothing written, nothing copied


def test_run_into_a_folder_whose_marker_is_damaged_exits_2_and_changes_nothing(
    capsys, run_folder
) -> None:
    _marker([1, {"a": 2}])(run_folder)
    before = snapshot(run_folder.parent)
    err = one_line_refusal(
        capsys, "run", ROOT / "scenarios" / "toy_round_trip.yaml", "--out", run_folder
    )
    assert err.startswith(f"error: {run_folder / '.roundtrip-run'}: its .roundtrip-run file is ")
    assert "damaged or not roundtrip's" in err and "replaces nothing" in err
    assert snapshot(run_folder.parent) == before


def test_roundtrip_reads_its_own_resolved_yaml_past_the_limits_of_a_users_file() -> None:
    # 2,400 contracts of five keys: 26,400 of the 50,000 values; resolved, each states its id,
    # growth, start and payment terms too, 21 x 2,400 = 50,400 values: a run folder of a valid
    # file must still read back (sim.inputs.loader.parse_resolved, limits OWN_SCALE times as large).
    # About 5 s: three documents of 26,000 to 50,000 values parsed, which is the point.
    line = "  - {kind: compute_contract, lab: labco, cloud: bigcloud, total: 1M, over: 1y}\n"
    scenario = sim.parse_scenario(TOY + line * 2400, "many.yaml")
    resolved = sim.analysis.result.resolved_yaml_with_sources(scenario)
    with pytest.raises(sim.errors.ScenarioError, match="more than 50,000 keys and values"):
        sim.parse_scenario(resolved, "scenario.resolved.yaml")
    again = sim.inputs.loader.parse_resolved(resolved, "scenario.resolved.yaml")
    assert len(again.contracts) == 2400


def test_a_marker_linked_to_dev_zero_is_read_no_further_than_its_limit(capsys, run_folder) -> None:
    (run_folder / ".roundtrip-run").unlink()
    os.symlink("/dev/zero", run_folder / ".roundtrip-run")
    before = snapshot(run_folder.parent)
    err = one_line_refusal(
        capsys, "run", ROOT / "scenarios" / "toy_round_trip.yaml", "--out", run_folder
    )
    assert err.startswith(f"error: {run_folder / '.roundtrip-run'}: its .roundtrip-run file is ")
    assert snapshot(run_folder.parent) == before


def test_an_undamaged_copy_still_redraws(capsys, run_folder) -> None:
    code, printed, err = cli(capsys, "chart", run_folder, "--only", "lab_cash")
    assert (code, err) == (0, "") and (run_folder / "charts" / "lab_cash.png").is_file()


# ---------------------------------------------------------------------------------------------
# Results files of sweep and mc, given to report
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    t = sim.load_template(ROOT / "scenarios" / "toy_round_trip.yaml")
    points = sim.ranges.vary.grid_points(t, ["agents.bigcloud.margin=30%,50%"])
    out = tmp_path_factory.mktemp("sweep") / "toy.sweep.parquet"
    farm.farm([(k, i, p) for k, (i, p) in enumerate(points)], out, kind="sweep")
    return out


def _results(edit: Callable[[pa.Table], pa.Table], meta: dict | None = None):
    def make(good: Path, where: Path) -> Path:
        table = pq.read_table(good)
        md = {**pq.read_metadata(good).metadata, **(meta or {}), b"ARROW:schema": None}
        table = edit(table).replace_schema_metadata({k: v for k, v in md.items() if v is not None})
        pq.write_table(table, where / "x.parquet")
        return where / "x.parquet"

    return make


def _metric(values: Callable[[int], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    column = "bigtech.invested"
    return lambda t: t.set_column(t.schema.get_field_index(column), column, values(t.num_rows))


def _copy_bytes(edit: Callable[[bytes], bytes]):
    def make(good: Path, where: Path) -> Path:
        (where / "x.parquet").write_bytes(edit(good.read_bytes()))
        return where / "x.parquet"

    return make


def _forty_million_rows(good: Path, where: Path) -> Path:
    n = 40_000_000
    meta = pq.read_schema(good).metadata
    table = pa.table({"run_id": np.zeros(n, dtype=np.int64), "error": pa.nulls(n, pa.string())})
    pq.write_table(table.replace_schema_metadata(meta), where / "x.parquet")
    return where / "x.parquet"


def _series_instead(good: Path, where: Path) -> Path:
    return farm.series_path(good)


def _damaged_series_beside(good: Path, where: Path) -> Path:
    shutil.copy(good, where / "x.parquet")
    pq.write_table(pa.table({"a": [1]}), where / "x.series.parquet")
    return where / "x.parquet"


RESULTS_CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    # the cases
    "metadata-missing": (_results(lambda t: t, {b"roundtrip.farm": None}), "no roundtrip metadata"),
    "series-file-given": (_series_instead, "this is the series file of a sweep or Monte Carlo"),
    "forty-million-rows": (_forty_million_rows, "holds 40,000,000 rows"),
    # our own
    "foreign-parquet": (
        lambda g, w: pq.write_table(pa.table({"a": [1]}), w / "x.parquet") or w / "x.parquet",
        "no roundtrip metadata",
    ),
    "foreign-with-metadata": (
        _results(lambda t: pa.table({"a": [1]}).replace_schema_metadata(t.schema.metadata)),
        "lacks the column(s) run_id, error",
    ),
    "seed-not-json": (_results(lambda t: t, {b"roundtrip.seed": b"[1"}), "roundtrip.seed"),
    "varied-not-text": (
        _results(lambda t: t, {b"roundtrip.varied": b"[1, 2]"}),
        "roundtrip.varied",
    ),
    "kind-unknown": (_results(lambda t: t, {b"roundtrip.kind": b"census"}), "the kind 'census'"),
    "scenario-invalid-utf8": (
        _results(lambda t: t, {b"roundtrip.scenario": b"\xff\xfe"}),
        "roundtrip.scenario",
    ),
    "scenario-not-yaml": (
        _results(lambda t: t, {b"roundtrip.scenario": b"name: ["}),
        "not valid YAML",
    ),
    "metric-as-text": (_results(_metric(lambda n: pa.array(["x"] * n))), "holds string"),
    "metric-infinite": (
        _results(_metric(lambda n: pa.array([float("inf")] * n))),
        "holds an infinite number",
    ),
    "rows-not-runs": (
        _results(lambda t: t.slice(0, 1)),
        "it holds 1 rows where its metadata counts 2 runs",
    ),
    "varied-column-missing": (
        _results(lambda t: t.drop(["in:agents.bigcloud.margin"])),
        "in:agents.bigcloud.margin",
    ),
    "input-column-a-list": (
        _results(lambda t: t.append_column("in:agents.labco.cash", pa.array([[1]] * t.num_rows))),
        "column 'in:agents.labco.cash' holds list<element: int64>, expected numbers, dates or text",
    ),
    "metric-column-missing": (_results(lambda t: t.drop(["labco.revenue"])), "labco.revenue"),
    "truncated": (_copy_bytes(lambda b: b[: len(b) // 2]), "is not a readable Parquet file"),
    "empty": (_copy_bytes(lambda b: b""), "is not a readable Parquet file"),
    "damaged-series-beside": (_damaged_series_beside, "x.series.parquet: is not a sweep's"),
}


@pytest.mark.parametrize("case", list(RESULTS_CASES))
def test_report_refuses_a_damaged_or_foreign_results_file_in_one_line(
    capsys, tmp_path, results, case: str
) -> None:
    make, message = RESULTS_CASES[case]
    path = make(results, tmp_path)
    out = tmp_path / "report.html"
    err = one_line_refusal(capsys, "report", path, "-o", out)
    assert message in err, err
    assert not out.exists() and not any(tmp_path.glob(".report*"))


def test_the_series_file_message_names_the_results_file(capsys, tmp_path, results) -> None:
    err = one_line_refusal(capsys, "report", farm.series_path(results), "-o", tmp_path / "r.html")
    assert err.endswith(f"give its results file, {results}")


# ---------------------------------------------------------------------------------------------
# Labels of any length and any script
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_labels() -> sim.Result:
    text = toy("label: LabCo", "label: " + "L" * 3000).replace(
        "label: BigTech", "label: " + "Big " * 750
    )
    return sim.run(sim.parse_scenario(text, "long.yaml"))


def test_a_3000_character_label_draws_every_chart_cut_to_40_characters(long_labels) -> None:
    for name, draw in CHARTS.items():
        with style.house_style():
            fig = draw(long_labels)
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        assert not any("L" * 41 in t or "Big " * 11 in t for t in texts), name
        title = fig.texts[0].get_text()
        assert title.count("\n") < style.MAX_TITLE_LINES, name
        fig.clear()


def test_fit_label_cuts_to_the_limit_with_an_ellipsis() -> None:
    assert style.fit_label("AWS") == "AWS"
    assert style.fit_label("x" * 40) == "x" * 40
    assert style.fit_label("x" * 41) == "x" * 39 + "…"  # 39 + 1 = 40 characters


def test_characters_no_font_has_are_drawn_as_a_question_mark_with_one_warning(capsys) -> None:
    from sim.views.charts.style import ChartFigure

    style._warned.clear()
    for _ in range(2):
        fig = ChartFigure()
        text = fig.text(0, 0, "LabCo 实验 🚀")
        style.drawable(fig)
        assert text.get_text() == "LabCo ?? ?"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: no chart font has")
    style._warned.clear()


def test_an_installed_font_that_has_the_characters_keeps_them(monkeypatch) -> None:
    from sim.views.charts.style import ChartFigure

    families, covered = style.fonts()
    monkeypatch.setattr(style, "fonts", lambda: (families, covered | {ord("实")}))
    fig = ChartFigure()
    text = fig.text(0, 0, "实")
    style.drawable(fig)
    assert text.get_text() == "实"


def test_a_fallback_font_draws_what_dejavu_sans_lacks_without_a_warning(
    monkeypatch, tmp_path, capsys
) -> None:
    # STIXGeneral ships with matplotlib and has U+1D400 (bold A), which DejaVu Sans lacks: it
    # stands in here for Noto Sans CJK, which this machine does not have
    import warnings

    from sim.views.charts.style import ChartFigure

    monkeypatch.setattr(style, "FALLBACK_FAMILIES", ("STIXGeneral",))
    style.fonts.cache_clear()
    style._warned.clear()
    try:
        assert style.fonts()[0] == ("DejaVu Sans", "STIXGeneral")
        fig = ChartFigure()
        text = fig.text(0.1, 0.5, "Lab \U0001d400")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib's own glyph warning would raise here
            style.save(fig, tmp_path / "x.png")
        assert text.get_text() == "Lab \U0001d400"
        assert capsys.readouterr().err == ""
    finally:
        style.fonts.cache_clear()
