"""`roundtrip explore`: the page, opened in a real headless browser (Debian's chromium) with no
network, shows the exact run of the point its sliders select; and the command's refusals.

The browser is driven over the Chrome DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages ending in a NUL byte on the browser's file descriptors 3 and 4), with nothing but
the standard library. Without chromium the browser tests are skipped, except under ``CI=true``,
where they fail: .ci/run installs it.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.analysis.tables import money, percent
from sim.cli import main
from sim.views.page import FIGURES, is_page

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "amazon_openai_50b.yaml"
SHARE = "agents.openai.spending.compute.providers.aws"
# a 2x2 grid: the share at AWS, and a growth past which the run fails (flows past $45T)
VARY = [f"{SHARE}=15%,37.5%", "agents.openai.revenue.growth=50%,180%"]
# runs a program with the descriptors argv[1] and argv[2] at 3 and 4, where chromium's
# --remote-debugging-pipe reads its commands and writes its answers
AT_3_AND_4 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "page.html"
    args = ["explore", str(SCENARIO), "-o", str(out)]
    for v in VARY:
        args += ["--vary", v]
    assert main(args) == 0
    return out


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


class Browser:
    """A headless chromium with one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, tmp: Path) -> None:
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # above 4, so that putting them at 3 and 4 below cannot overwrite one another
        ins = fcntl.fcntl(to_browser, fcntl.F_DUPFD_CLOEXEC, 10)
        outs = fcntl.fcntl(from_browser, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_browser, from_browser):
            os.close(fd)
        args = [
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--remote-debugging-pipe",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: no network at all
            f"--user-data-dir={tmp / 'profile'}",
            "--window-size=1400,1100",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            [sys.executable, "-c", AT_3_AND_4, str(ins), str(outs), _chromium(), *args],
            pass_fds=(ins, outs),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(ins)
        os.close(outs)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message(timeout=30)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply["result"])
            self.events.append(reply)

    def _message(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self._buffer += chunk
        text, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(text))

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        found = next((e for e in self.events if e.get("method") == method), None)
        while found is None:
            event = self._message(timeout)
            self.events.append(event)
            found = event if event.get("method") == method else None
        return found

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):  # it may be gone already
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._write)
        os.close(self._read)


@pytest.fixture(scope="module")
def browser(page: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        b.call("Page.navigate", session=True, url=page.as_uri())
        b.wait_for("Page.loadEventFired")
        yield b
    finally:
        b.close()


def _move(browser: Browser, slider: int, value: int) -> None:
    """Move slider ``slider`` to ``value`` as a person does: an input event on the range."""
    browser.evaluate(
        f"(() => {{ const s = document.getElementById('s{slider}'); s.value = '{value}'; "
        "s.dispatchEvent(new Event('input')); })()"
    )


def _shown(browser: Browser) -> dict[str, Any]:
    return dict(
        browser.evaluate(
            "({figures: Object.fromEntries([...document.querySelectorAll('#figures td.v')]"
            ".map(td => [td.id.slice(2), td.textContent])), "
            "command: document.getElementById('command').textContent, "
            "error: document.getElementById('error').hidden ? null : "
            "document.getElementById('error').textContent, "
            "lines: document.getElementById('chart').data.map(t => t.y.length), "
            "csv: window.roundtripPage.csv()})"
        )
    )


def _sets(command: str) -> list[str]:
    words = command.replace("\\\n", " ").split()
    assert words[:3] == ["roundtrip", "run", str(SCENARIO)]
    return [words[k + 1] for k, w in enumerate(words) if w == "--set"]


def test_the_page_loads_with_no_network_and_nothing_fetched(page: Path, browser: Browser) -> None:
    text = page.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text  # every script and style inline
    requests = [e["params"]["request"]["url"] for e in browser.events
                if e.get("method") == "Network.requestWillBeSent"]  # fmt: skip
    assert requests == [page.as_uri()]  # the page itself, and nothing else
    failed = [e for e in browser.events if e.get("method") == "Network.loadingFailed"]
    thrown = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    errors = [e for e in browser.events if e.get("method") == "Log.entryAdded"
              and e["params"]["entry"]["level"] == "error"]  # fmt: skip
    assert (failed, thrown, errors) == ([], [], [])
    assert browser.evaluate("typeof Plotly") == "object"
    assert browser.evaluate("document.querySelectorAll('input[type=range]').length") == 2


def test_moving_a_slider_shows_the_exact_run_of_that_point(
    browser: Browser, tmp_path: Path
) -> None:
    _move(browser, 0, 0)
    _move(browser, 1, 0)
    before = _shown(browser)
    _move(browser, 0, 1)  # the share at AWS: 15% -> 37.5%
    after = _shown(browser)
    assert after["figures"] != before["figures"]
    for shown in (before, after):
        sets = _sets(shown["command"])
        assert f"{SHARE}={'15%' if shown is before else '37.5%'}" in sets
        m = sim.run(sim.load_scenario(SCENARIO, sets)).metrics_dict()["investors"]["amazon"]
        for key, _, _ in FIGURES:  # as shown, and to the cent in the CSV
            want = percent(m[key]) if key.endswith("_ratio") else money(m[key])
            assert shown["figures"][key] == want, key
        rows = {r["key"]: r for r in csv.DictReader(io.StringIO(shown["csv"])) if r["key"]}
        for key, _, _ in FIGURES:
            assert float(rows[key]["value"]) == m[key], key
        assert rows[SHARE]["value"] == ("15%" if shown is before else "37.5%")
        assert shown["error"] is None and shown["lines"] == [97, 97]  # run and twin, monthly
    shot = browser.call("Page.captureScreenshot", session=True, format="png")
    path = tmp_path / "page.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 20_000  # a drawn page, not a blank one
    print(f"screenshot: {path}")


def test_a_point_whose_run_fails_shows_its_error_and_no_figure(browser: Browser) -> None:
    _move(browser, 1, 1)  # growth 180%: flows past $45 trillion, refused
    shown = _shown(browser)
    assert "flows grow past" in shown["error"]
    assert set(shown["figures"].values()) == {"\u2014"}
    assert shown["lines"] == [0, 0]
    with pytest.raises(sim.ScenarioError, match="flows grow past"):
        sim.run(sim.load_scenario(SCENARIO, _sets(shown["command"])))
    _move(browser, 1, 0)
    assert _shown(browser)["error"] is None


def test_the_chart_saves_as_png_and_svg_offline(browser: Browser) -> None:
    for fmt, head in (("png", "data:image/png;base64,"), ("svg", "data:image/svg+xml,")):
        url = browser.evaluate(
            f"Plotly.toImage(document.getElementById('chart'), {{format: '{fmt}', "
            "width: 800, height: 400})"
        )
        assert url.startswith(head), url[:40]
    assert not [e for e in browser.events if e.get("method") == "Network.loadingFailed"]


def test_a_page_is_marked_and_rewritten_only_over_a_page(page: Path, tmp_path: Path) -> None:
    assert is_page(page)
    mine = tmp_path / "notes.html"
    mine.write_text("<!DOCTYPE html><p>my notes</p>")
    assert not is_page(mine)


@pytest.mark.parametrize(
    "out, extra, message",
    [
        ("notes.html", [], "not a page roundtrip wrote"),
        ("folder.html", [], "this is a folder"),
        ("link.html", [], "symbolic link"),
        ("missing/page.html", [], "does not exist"),
        ("page.txt", [], "a page is an .html file"),
        ("page.html", ["--vary", "agents.nobody.margin=10%,20%"], "nobody"),
        ("page.html", ["--vary", "agents.aws.margin=10%..x"], "agents.aws.margin"),
        ("page.html", ["--set", "agents.aws.margin=300%"], "agents.aws.margin"),
        ("page.html", ["--vary", "start=2026-01-01,2026-06-01"], "moves the calendar"),
    ],
)
def test_bad_paths_and_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str, extra: list[str], message: str
) -> None:
    (tmp_path / "notes.html").write_text("<!DOCTYPE html><p>my notes</p>")
    (tmp_path / "folder.html").mkdir()
    (tmp_path / "link.html").symlink_to(tmp_path / "notes.html")
    code = main(["explore", str(SCENARIO), "-o", str(tmp_path / out), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "notes.html").read_text() == "<!DOCTYPE html><p>my notes</p>"
    assert not (tmp_path / "page.html").exists()
