"""The report: what the PDF and HTML hold, that they are reproducible, and the `report` command."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pypdf
import pytest

import sim
from sim.analysis.result import inputs_hash
from sim.cli import main
from sim.views.charts import CHARTS
from sim.views.report import (
    assumptions,
    build_report,
    format_input,
    question,
    reading,
    report_content,
    roundtrip_version,
)
from sim.views.report.content import CAUSED_HEADING, TRACED_HEADING, headline

ROOT = Path(__file__).resolve().parent.parent
# the report read word for word: the first $50B file, kept fixed in tests/data (the bundled one
# changes as sources come in); test_every_bundled_file_makes_a_report covers the bundled ones
BUNDLED = ROOT / "tests" / "data" / "amazon_openai_50b_first.yaml"
# A small scenario with comments in each place the loader reads them: beside a value, beside a
# flow mapping, above a key, above a list item, and none at all.
TINY = """\
name: tiny
start: 2026-01-01
horizon: 1y  # one year
agents:
  inv: {kind: investor, owns: [own]}  # the investor and its cloud
  lab:
    kind: lab
    # opening cash, assumed
    cash: 1B
    spending:
      compute: {annual: 12B, providers: {own: 60%}}
  own: {kind: cloud, margin: 30%}
deals:
  - kind: investment
    investor: inv
    lab: lab
    pre_money: 20B  # 2026-01-01 [C]
    tranches:
      # the only tranche
      - {at: 2026-01-01, amount: 5B}
"""


# A contract that came with the investment: with it the package pays for itself within the
# horizon; without it the investment alone does not (the figures: tests/test_charts.py LINKED).
LINKED = """\
name: linked
start: 2026-01-01
horizon: 2y
discount_rate: 10%
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 1B
    revenue: {annual: 20B}
    spending: {compute: {annual: 24B, providers: {own: 20%, rival: 80%}}}
  own: {kind: cloud, margin: 50%}
  rival: {kind: cloud, margin: 10%}
deals:
  - kind: investment
    id: stake
    investor: inv
    lab: lab
    pre_money: 45B
    tranches: [{at: 2026-01-01, amount: 5B}]
  - {kind: compute_contract, id: compute, lab: lab, cloud: own, total: 24B, over: 2y, with: stake}
"""


def flat(text: str) -> str:
    """Text with every run of whitespace (line breaks where a line wrapped) as one space."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def bundled() -> sim.Result:
    return sim.run(sim.load_scenario(BUNDLED))


@pytest.fixture(scope="module")
def reports(bundled, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    return {fmt: build_report(bundled, out / f"report.{fmt}") for fmt in ("pdf", "html")}


@pytest.fixture(scope="module")
def pdf_pages(reports) -> list[str]:
    return [flat(page.extract_text()) for page in pypdf.PdfReader(reports["pdf"]).pages]


def test_the_pdf_report_opens_and_asks_the_question_of_its_scenario(pdf_pages) -> None:
    assert len(pdf_pages) >= 4 + len(CHARTS)  # text pages and one page per chart
    assert pdf_pages[0].startswith("Amazon puts $50B into OpenAI")
    assert (
        "What did Amazon's investment in OpenAI add to the revenue and profit of its own cloud, "
        "what does the stake cost net of that, and whose dollars came back?"
    ) in pdf_pages[0]


def test_the_pdf_report_leads_with_what_the_investment_caused(pdf_pages) -> None:
    first, text = pdf_pages[0], " ".join(pdf_pages)
    # the headline, on the first page: the caused figures and the net cost, at the stated rate
    assert "present values at 8% a year" in first
    assert (
        "Amazon's $50.00B investment in OpenAI caused $8.16B of AWS revenue and $2.86B of "
        "profit by 2034-03-01. In present value at 8% a year, net of that profit the stake cost "
        "Amazon $45.13B, an effective post-money valuation of $758.14B against the stated "
        "$840.00B; not paid back within the horizon. Deciding assumption: OpenAI has no "
        "financing rule: the twin raises nothing (counterfactual.substitution: file)."
    ) in first
    for figure in (
        "invested $50.00B",
        "stake 5.95%",
        "incremental revenue, booked $8.16B",
        "incremental profit, booked $2.86B",
        "PV invested $47.41B",
        "PV incremental profit $2.28B",
        "net cost: PV invested less PV incremental profit $45.13B",
        "effective post-money: net cost / stake $758.14B",
        "post-money, stated or implied by the stake $840.00B",
        "incremental payback not within horizon",
        "at 8% a year (the scenario's discount_rate)",
    ):
        assert figure in text
    assert "($324.89B in the run, $316.74B in the twin)" in text
    assert "The discounted incremental profit has not repaid the investment by 2034-03-01." in text
    assert "the investment alone" not in text  # no contract came with this investment


def test_the_traced_figures_follow_as_whose_dollars_came_back(pdf_pages) -> None:
    text = " ".join(pdf_pages)
    caused = text.index("What the investment caused")
    traced = text.index("Whose dollars came back (traced)")
    assert caused < text.index("incremental revenue, booked $8.16B") < traced
    assert traced < text.index("round trip (traced) $19.92B")
    assert text.index("net cost: PV invested") < traced < text.index("relationship profit")
    for figure in (
        "round trip / invested 39.8%",
        "circular revenue share 6.1%",
        "relationship profit: with or without the investment $113.71B",
        "profit on its own dollars $6.97B",
    ):
        assert figure in text
    assert "$19.92B (39.8%) came back as revenue of AWS by 2034-03-01" in text
    assert "these are Amazon's own dollars; they are not what the investment caused" in text
    assert "revenue $1,214.85B" in text and "cash runs out 2029-12-01" in text


def test_nothing_says_the_stake_cost_nothing_while_its_net_cost_is_positive(
    bundled, pdf_pages
) -> None:
    assert bundled.metrics_dict()["investors"]["amazon"]["net_cost"] > 0
    said = " ".join(
        [*headline(bundled), *(p for _, points in reading(bundled) for p in points), *pdf_pages]
    ).lower()
    for words in ("cost nothing", "cost amazon nothing", "costs nothing", "free"):
        assert words not in said
    assert "the stake cost amazon $45.13b" in said


def test_a_contract_that_came_with_the_investment_shows_the_investment_alone(
    make_scenario,
) -> None:
    """With its contract the package more than pays for itself (net cost below 0, said as
    costing nothing); the investment alone does not, and the report says both."""
    run = sim.run(make_scenario(LINKED))
    m = run.metrics_dict()["investors"]["inv"]
    assert m["net_cost"] < 0 < m["net_cost_investment_only"]
    content = report_content(run)
    (said,) = content.headline
    assert "net of it the stake cost inv nothing (a net cost of -$4.16B)" in said
    assert "inv's investment in lab alone caused $1.00B" in said
    assert "a net cost of $4.54B." in said
    rows = content.caused.rows
    (heading,) = content.caused.sections
    assert rows[heading][0].startswith("the investment alone")
    alone = dict(rows[heading + 1 :])
    assert alone["incremental revenue, booked"] == "$1.00B"
    assert alone["net cost: PV invested less PV incremental profit"] == "$4.54B"
    assert alone["incremental payback"] == "not within horizon"
    assert dict(rows[:heading])["incremental payback"] == "2027-02-01"
    assert "at 10% a year" in content.caused_note and "10%" in content.subtitle
    (_, points), *_ = content.caused_reading
    assert any(p.startswith("The investment alone, against a twin that keeps") for p in points)


def test_the_pdf_report_has_every_chart_on_a_page_of_its_own(bundled, pdf_pages) -> None:
    for name, chart in CHARTS.items():
        title = flat(chart(bundled).texts[0].get_text())  # new_figure's first text: the title
        pages = [p for p in pdf_pages if title in p]
        assert len(pages) == 1, name
        assert "Key figures" not in pages[0] and "Assumptions" not in pages[0]


def test_the_pdf_report_lists_the_assumptions_with_their_source_comments(pdf_pages) -> None:
    text = " ".join(pdf_pages)
    assert "Assumptions Every input of the run" in text and "input value source comment" in text
    assert "deals.0.pre_money $730B 2026-02-27 [C]" in text
    assert (
        "deals.0.round_size $110B 2026-02-27 [C]: Amazon $50B, Nvidia $30B, SoftBank $30B" in text
    )
    assert "agents.openai.cash $40B Assumption: cash on hand after earlier rounds" in text
    assert "deals.0.tranches.1.amount $35B" in text and "deals.1.total $138B" in text
    assert "agents.aws.margin 35%" in text


def test_the_pdf_report_ends_with_the_conservation_check(pdf_pages) -> None:
    last = pdf_pages[-1]
    assert "Conservation check Books balance to the cent." in last
    assert "ledger records 1,054" in last
    assert "opening total: the agents' cash at the start $40,000,000,000.00" in last
    assert "closing total: every account at the end $40,000,000,000.00" in last


def test_every_pdf_page_names_the_scenario_file_inputs_hash_and_version(bundled, pdf_pages):
    for n, page in enumerate(pdf_pages, start=1):
        # the file was given by its absolute path: the page names the file, not its folder
        assert " of amazon_openai_50b_first.yaml (inputs " in page
        assert "data/amazon_openai_50b_first.yaml" not in page
        assert inputs_hash(bundled.scenario) in page
        assert f"roundtrip {roundtrip_version()} · page {n} of {len(pdf_pages)}" in page


def test_the_pdf_keeps_text_as_text_and_has_no_dates(reports) -> None:
    reader = pypdf.PdfReader(reports["pdf"])
    assert "/CreationDate" not in reader.metadata and "/ModDate" not in reader.metadata
    assert reader.metadata["/Title"] == "roundtrip report: Amazon puts $50B into OpenAI"
    fonts = {
        font["/BaseFont"].split("+")[-1]: font["/Subtype"]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts["DejaVuSans"] == "/Type0"  # TrueType (pdf.fonttype 42), not glyph outlines


def test_the_same_run_gives_the_same_bytes(bundled, reports, tmp_path) -> None:
    for fmt, first in reports.items():
        again = build_report(bundled, tmp_path / f"again.{fmt}")
        assert again.read_bytes() == first.read_bytes(), fmt


def test_the_html_report_is_one_self_contained_file(bundled, reports) -> None:
    page = reports["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for outside in ("http://", "https://", "<script", "<link", " src=", "@import", "url(http"):
        assert outside not in page
    assert page.count("<svg") == len(CHARTS)
    for name in CHARTS:
        assert f'<figure id="chart-{name}">\n<svg ' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # several charts in one page: their ids do not clash
    assert "$19.92B" in page and "Books balance to the cent." in page
    for a in assumptions(bundled.scenario):  # its name, then the path --set takes
        cell = f'{html.escape(a.name)}<br><code class="path">{html.escape(a.path)}</code>'
        assert f"<tr><td>{cell}</td><td>{html.escape(a.value)}</td>" in page
    assert (
        '<tr><td>Amazon OpenAI (amazon-openai): pre money<br><code class="path">deals.0.pre_money'
        "</code></td><td>$730B</td><td>2026-02-27 [C]</td></tr>" in page
    )


def test_the_assumptions_list_every_input_once_with_its_comment(make_scenario) -> None:
    s = make_scenario(TINY)

    def leaves(value, path=()):
        if isinstance(value, dict) and value:
            for k, v in value.items():
                yield from leaves(v, (*path, k))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            for i, v in enumerate(value):
                yield from leaves(v, (*path, str(i)))
        else:
            yield ".".join(path)

    rows = assumptions(s)
    assert [a.path for a in rows] == list(leaves(s.resolved))  # each leaf once, in file order
    comment = {a.path: (a.comment, a.comment_on) for a in rows}
    assert comment["horizon"] == ("one year", "horizon")  # beside the value
    assert comment["agents.lab.cash"] == ("opening cash, assumed", "agents.lab.cash")  # above
    assert comment["agents.inv.owns"] == ("the investor and its cloud", "agents.inv")  # parent's
    assert comment["deals.0.pre_money"] == ("2026-01-01 [C]", "deals.0.pre_money")
    assert comment["deals.0.tranches.0.at"] == ("the only tranche", "deals.0.tranches.0")
    assert comment["deals.0.tranches.0.amount"] == ("the only tranche", "deals.0.tranches.0")
    assert comment["agents.own.margin"] == ("", None) and comment["start"] == ("", None)
    shown = {a.path: a.value for a in rows}
    assert shown["deals.0.pre_money"] == "$20B" and shown["agents.own.margin"] == "30%"
    assert shown["agents.lab.spending.compute.providers.own"] == "60%"
    assert shown["deals.0.tranches.0.at"] == "2026-01-01"


def test_the_html_assumptions_table_has_a_row_per_input(make_scenario, tmp_path) -> None:
    s = make_scenario(TINY)
    page = build_report(sim.run(s), tmp_path / "tiny.html").read_text(encoding="utf-8")
    rows = re.findall(
        r'<tr><td>[^<]*<br><code class="path">([^<]*)</code></td>'
        r"<td>[^<]*</td><td[^>]*>([^<]*)</td>",
        page,
    )
    assert [path for path, _ in rows] == [a.path for a in assumptions(s)]
    notes = dict(rows)
    assert notes["deals.0.tranches.0.at"] == "the only tranche"
    assert notes["deals.0.tranches.0.amount"] == "as above"  # the same comment, said once
    assert question(s).startswith("What did inv's investment in lab add to the revenue")


def test_inputs_are_written_as_a_reader_would() -> None:
    # by the kind each input declares (sim.inputs.values), not by its key's name
    assert format_input(730_000_000_000, "amount") == "$730B"
    assert format_input(1_400_000_000_000, "amount") == "$1.4T"
    assert format_input(2_500_000, "amount") == "$2.5M"
    assert format_input("1234.56", "amount") == "$1,234.56"
    assert format_input(0.125, "share") == "12.5%"
    assert format_input(["aws", "gcp"], "mapping") == "aws, gcp"
    assert format_input("", "text") == "(empty)"


def test_every_amount_and_share_is_written_in_its_unit_whatever_its_key() -> None:
    # keys a table of names once missed were written as raw numbers: a post-money, a financing
    # limit, a yearly schedule, a stake, the discount rate
    def shown(name: str) -> dict[str, str]:
        return {a.path: a.value for a in assumptions(sim.load_scenario(ROOT / "scenarios" / name))}

    anthropic, fifty = shown("amazon_anthropic.yaml"), shown("amazon_openai_50b.yaml")
    assert anthropic["deals.0.post_money"] == "$380B"
    assert anthropic["agents.anthropic.financing.limit"] == "$100B"
    assert fifty["deals.3.schedule.2026"] == "$4B"
    assert shown("microsoft_openai.yaml")["deals.0.stake"] == "27%"
    assert fifty["discount_rate"] == "8%"


def test_the_report_command_writes_the_file(tmp_path, capsys) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY)
    out = tmp_path / "tiny.pdf"
    code = main(["report", str(tmp_path / "tiny.yaml"), "-o", str(out), "--set", "horizon=2y"])
    assert code == 0, capsys.readouterr().err
    assert f"Wrote {out}" in capsys.readouterr().out
    text = flat(" ".join(p.extract_text() for p in pypdf.PdfReader(out).pages))
    assert "horizon 2y set by --set horizon=2y" in text
    assert {p.name for p in tmp_path.iterdir()} == {"tiny.yaml", "tiny.pdf"}


@pytest.mark.parametrize(
    ("scenario", "out", "message"),
    [
        ("tiny.yaml", "report.docx", "a report is a .pdf or .html file; got '.docx'"),
        ("tiny.yaml", "report", "got no suffix"),
        ("tiny.yaml", "missing/report.pdf", "the folder"),
        ("nope.yaml", "report.pdf", "nope.yaml: no such file"),
        ("bad.yaml", "report.html", "bad.yaml:3:10: horizon"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, scenario, out, message) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "bad.yaml").write_text(TINY.replace("horizon: 1y", "horizon: soon"))
    before = {p.name for p in tmp_path.iterdir()}
    code = main(["report", str(tmp_path / scenario), "-o", str(tmp_path / out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert {p.name for p in tmp_path.iterdir()} == before


def test_a_bad_suffix_from_python_is_a_scenario_error(bundled, tmp_path) -> None:
    with pytest.raises(sim.ScenarioError, match=r"accepted: \.pdf, \.html"):
        build_report(bundled, tmp_path / "report.txt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml")), ids=str
)
def test_every_bundled_file_makes_a_report_that_leads_with_what_was_caused(name, tmp_path):
    result = sim.run(sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
    out = build_report(result, tmp_path / "report.html")
    text = flat(out.read_text())
    owners = [i for i, inv in result.scenario.investors.items() if inv.owns]
    if owners:  # caused figures before the traced ones, and the stake's cost only as net cost
        assert text.index("What the investment caused") < text.index("Whose dollars came back")
    net = {inv: result.metrics_dict()["investors"][inv]["net_cost"] for inv in owners}
    for inv, cost in net.items():  # "nothing" only for an investor whose net cost is 0 or less
        if cost > 0:
            assert f"cost {result.scenario.label(inv).lower()} nothing" not in text.lower()
    if all(cost > 0 for cost in net.values()):
        for words in ("cost nothing", "costs nothing"):
            assert words not in text.lower()


@pytest.mark.parametrize("which", ["kept in tests/data", "bundled"])
def test_a_tables_caption_is_on_the_page_of_the_tables_first_row(which, reports, tmp_path):
    """The note under each table of figures is its caption: on the page where the table starts,
    never carried over a page break (the bundled $50B file's first table once left its caption
    on the next page)."""
    if which == "bundled":
        result = sim.run(sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml"))
        path = build_report(result, tmp_path / "report.pdf")
    else:
        result, path = sim.run(sim.load_scenario(BUNDLED)), reports["pdf"]
    pages = [flat(page.extract_text()) for page in pypdf.PdfReader(path).pages]
    content = report_content(result)
    sections = (
        (CAUSED_HEADING, content.caused, content.caused_note),
        (TRACED_HEADING, content.traced, content.traced_note),
    )
    for heading, table, note in sections:
        start_of_table = f"{heading} {' '.join(table.header)} {' '.join(table.rows[0])}"
        [start] = [k for k, page in enumerate(pages) if start_of_table in page]
        words = flat(note).split()
        head, tail = " ".join(words[:8]), " ".join(words[-8:])
        assert head in pages[start] and tail in pages[start], (which, start, note)
