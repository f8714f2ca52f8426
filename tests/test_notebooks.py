"""Every shipped notebook runs in a real Jupyter kernel (ipykernel, this Python), from its own
folder, with no cell raising; every cell that draws a chart shows it as one PNG (one chart a cell),
and no other cell shows an image; no notebook is stored with outputs. Prose cannot drift from the
numbers: markdown holds no figure, every printed sentence with a figure or a direction comes from
a cell that asserts, and every notebook ends with its answer, printed and asserted."""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook, new_output

from sim.views.charts import CHARTS, COMPARE_CHARTS, RANGE_CHARTS, SENSITIVITY_CHARTS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHART_FUNCTIONS = frozenset(
    chart.__name__
    for registry in (CHARTS, RANGE_CHARTS, SENSITIVITY_CHARTS, COMPARE_CHARTS)
    for chart in registry.values()
)
CHART_TAG = "chart"  # tags a cell that draws a chart in some other way
PNG = b"\x89PNG\r\n\x1a\n"

# A figure: money ($ before a digit: "$50B", "-$71.5B", "$0.00B"), a number with a scale
# ("1.2T", "50 B", "30 billion"), or a percentage ("17%", "17.1 %", "40 percent"). Bare numbers
# ("Notebook 02", "2026", "section 3", "S1") are not figures: they are names and dates.
NUMBER = r"\d[\d,]*(?:\.\d+)?"
SCALE = r"\s?(?:[KMBT]|bn|thousand|million|billion|trillion)\b"
FIGURE = re.compile(
    rf"\${NUMBER}(?:{SCALE})?|(?<![\w.]){NUMBER}{SCALE}|{NUMBER}\s?(?:%|percent\b|per cent\b)",
    re.IGNORECASE,
)
# words that state which way a result goes
DIRECTION = re.compile(
    r"\b(?:grows?|grew|falls?|fell|rises?|rose|drops?|increases?|decreases?|above|below|"
    r"more|less|higher|lower|larger|smaller|exceeds?|outweighs?|most|least)\b",
    re.IGNORECASE,
)
ANSWER = "## Answer"


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> Path:
    """A folder holding one kernel spec, ``python3``: ipykernel on the Python running the tests
    (not whatever ``python3`` kernel the machine has installed)."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = folder / "python3"
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return folder


def execute(nb: NotebookNode, folder: Path, kernels: Path, home: Path) -> NotebookNode:
    """Run every cell of ``nb`` in a fresh kernel started in ``folder``, then shut it down;
    raises ``CellExecutionError`` (with the traceback) at the first cell that raises."""
    km = KernelManager(
        kernel_name="python3",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]),
        connection_file=str(home / "kernel.json"),
    )
    client = NotebookClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(folder)}})
    # IPYTHONDIR: no profile, startup file or history of the user's in the kernel
    env = {**os.environ, "IPYTHONDIR": str(home / "ipython")}
    return client.execute(cleanup_kc=True, env=env)  # cleanup_kc: stop the kernel we started


def draws_a_chart(cell: NotebookNode) -> bool:
    """A cell calls a chart function (``flow_diagram(result)``, ``charts.lab_cash(r)``,
    ``CHARTS[name](r)``), or is tagged ``chart``. IPython syntax (``%magic``) is read as IPython
    reads it; comments and strings do not count."""
    if CHART_TAG in cell.get("metadata", {}).get("tags", []):
        return True
    tree = ast.parse(TransformerManager().transform_cell(cell.source))
    called = {called_name(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return bool(called & (CHART_FUNCTIONS | {"CHARTS"}))


def called_name(func: ast.expr) -> str:
    """``f`` of ``f(x)``, ``m.f(x)`` and ``f[k](x)``."""
    if isinstance(func, ast.Subscript):
        func = func.value
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def images(cell: NotebookNode) -> list[bytes]:
    """The PNGs a cell showed (as its value or with ``display``)."""
    return [
        base64.b64decode(out.data["image/png"])
        for out in cell.get("outputs", [])
        if out.output_type in ("execute_result", "display_data") and "image/png" in out.data
    ]


def test_there_is_a_notebook_and_it_draws_charts() -> None:
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert any(draws_a_chart(c) for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize(
    ("source", "tags", "expected"),
    [
        ("flow_diagram(result)", [], True),
        ("run_vs_twin(result)  # the clouds' revenue with and without the investment", [], True),
        ("from sim import charts\nfig = charts.lab_cash(result)\nfig", [], True),
        ("fig = CHARTS['flows'](result)\nfig", [], True),
        ("%matplotlib inline\ninvestor_cash(result)", [], True),
        ("plt.plot([1, 2])", ["chart"], True),
        ("sorted(CHARTS)  # save(CHARTS[name](result), 'out.svg')", [], False),
        ("print('lab_cash(result)')\ninvestor_flows(result, 'amazon')", [], False),
    ],
)
def test_a_chart_cell_is_one_that_calls_a_chart_or_is_tagged(source, tags, expected) -> None:
    assert draws_a_chart(new_code_cell(source, metadata={"tags": tags})) is expected


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_a_kernel_and_shows_every_chart(
    path: Path, kernels: Path, tmp_path: Path
) -> None:
    nb = execute(nbformat.read(path, as_version=4), path.parent, kernels, tmp_path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        shown = images(cell)
        if draws_a_chart(cell):  # one chart a cell: two images would be one chart shown twice
            assert len(shown) == 1, f"a chart cell showed {len(shown)} images:\n{cell.source}"
            assert shown[0].startswith(PNG)
        else:  # nothing left over from an earlier cell turns up here
            assert not shown, f"a cell that draws no chart showed an image:\n{cell.source}"
        if stated(cell):  # a figure or a direction printed: the cell checks what it says
            assert has_assert(cell.source), f"prints {stated(cell)[:2]} unasserted:\n{cell.source}"
    answer = [cell for cell in answer_cells(nb) if cell.cell_type == "code"]
    assert any(stated(cell) for cell in answer), "the answer prints no sentence"


def test_with_pyplot_inline_a_chart_shows_once_and_a_chart_not_shown_not_at_all(
    kernels: Path, tmp_path: Path
) -> None:
    """pyplot's inline backend shows every pyplot figure at the end of a cell and draws any
    Figure itself: a chart must still give one image, and none when it is not the cell's value."""
    cells = [
        "import sys\nprint(sys.executable, end='')",
        "import matplotlib.pyplot as plt\n%matplotlib inline\n"
        "import sim\nfrom sim.views.charts import investor_cash, lab_cash\n"
        "result = sim.run(sim.load_scenario('scenarios/toy_round_trip.yaml'))",
        "investor_cash(result)",
        "fig = lab_cash(result)\ndisplay(fig)",
        "fig = investor_cash(result)  # drawn, not shown",
        "plt.get_fignums()",
    ]
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb = execute(nb, ROOT, kernels, tmp_path)
    python, _, shown, displayed, not_shown, fignums = nb.cells
    assert python.outputs[0].text == sys.executable  # the kernel is this Python
    assert [len(images(c)) for c in (shown, displayed, not_shown)] == [1, 1, 0]
    assert images(shown)[0].startswith(PNG)
    assert fignums.outputs[0].data["text/plain"] == "[]"  # pyplot never saw a chart


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_opens_with_its_question_and_checks_a_figure_it_shows(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "?" in first.source.splitlines()[0], "the title asks the notebook's question"
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    asserts = [c for c in code if any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(c)))]
    assert asserts, "no cell checks a figure against the library or a closed form"


def test_the_notebooks_are_the_six_the_readme_links() -> None:
    readme = (ROOT / "README.md").read_text()
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_how_much_comes_back",
        "03_uncertainty",
        "04_deals_side_by_side",
        "05_explorer",
        "06_the_whole_web",
    ]
    for name in names:
        assert f"(notebooks/{name}.ipynb)" in readme


def figures(text: str) -> list[str]:
    """The figures in ``text`` (see FIGURE)."""
    return [m.group(0) for m in FIGURE.finditer(text)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Amazon's $50B", ["$50B"]),
        ("the round trip stays above 17%", ["17%"]),
        ("about 1.2T of compute", ["1.2T"]),
        ("caused $0.00B", ["$0.00B"]),
        ("Microsoft's -$71.5B", ["$71.5B"]),
        ("a 17.1 % share, 30 billion dollars, 40 percent", ["17.1 %", "30 billion", "40 percent"]),
        ("$1,214.85B of revenue", ["$1,214.85B"]),
        ("# 02 · How much comes back?", []),
        ("Notebook 02, section 3 of docs/model.md (2026), S1 and ST", []),
        ("a B2B seller with H100s, step 1mo over 8y", []),
        ("`net_cost_investment_only`, the $ sign alone", []),
    ],
)
def test_a_figure_is_money_a_scaled_number_or_a_percentage(text: str, found: list[str]) -> None:
    assert figures(text) == found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_markdown_cell_holds_a_figure(path: Path) -> None:
    """Figures are printed by cells that compute them; markdown explains mechanisms."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert not figures(cell.source), f"figures {figures(cell.source)} in:\n{cell.source}"


def has_assert(source: str) -> bool:
    tree = ast.parse(TransformerManager().transform_cell(source))
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def prints(source: str) -> bool:
    tree = ast.parse(TransformerManager().transform_cell(source))
    return any(
        isinstance(node, ast.Call) and called_name(node.func) == "print" for node in ast.walk(tree)
    )


def answer_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The cells after the last markdown cell, if it is headed ``## Answer``."""
    marks = [k for k, cell in enumerate(nb.cells) if cell.cell_type == "markdown"]
    if not marks or not nb.cells[marks[-1]].source.startswith(ANSWER):
        return []
    return nb.cells[marks[-1] + 1 :]


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS,
    ids=lambda p: p.name,
)
def test_a_notebook_ends_with_its_answer_printed_and_asserted(path: Path) -> None:
    """The last markdown cell is headed Answer; the code cells after it print and assert."""
    answer = answer_cells(nbformat.read(path, as_version=4))
    assert answer, f"the last markdown cell is not headed {ANSWER!r}"
    assert all(cell.cell_type == "code" for cell in answer)
    assert any(prints(cell.source) and has_assert(cell.source) for cell in answer)


def stated(cell: NotebookNode) -> list[str]:
    """The printed lines of an executed cell that state a figure or a direction."""
    text = "".join(out.text for out in cell.get("outputs", []) if out.output_type == "stream")
    return [line for line in text.splitlines() if figures(line) or DIRECTION.search(line)]


def test_a_printed_statement_is_a_line_with_a_figure_or_a_direction() -> None:
    said = new_code_cell("print(...)")
    said.outputs = [new_output("stream", name="stdout", text="caused $81.51B\nit falls\n25 runs\n")]
    assert stated(said) == ["caused $81.51B", "it falls"]
