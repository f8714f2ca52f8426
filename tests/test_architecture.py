"""The package's shape holds: imports run one way along ``sim.LAYERS``, no underscore name crosses
modules, no import cycles, no module or function past its size but the few the architecture page
lists. The rules are in tests/architecture_rules.py; the fixture packages show each one failing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from architecture_rules import (
    MAX_EXCEPTIONS,
    MAX_FUNCTION_LINES,
    MAX_MODULE_LINES,
    Package,
    check,
    read_exceptions,
)

import sim

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "architecture"


def _report(lines: list[str]) -> str:
    return "\n" + "\n".join(lines)


# --- the real package ------------------------------------------------------------------------


def test_sim_imports_run_one_way_along_its_layers() -> None:
    found = check(ROOT, "sim").order
    assert not found, _report(found)


def test_sim_modules_take_no_underscore_name_from_another() -> None:
    found = check(ROOT, "sim").private
    assert not found, _report(found)


def test_sim_has_no_import_cycle() -> None:
    found = check(ROOT, "sim").cycles
    assert not found, _report(found)


def test_sim_modules_and_functions_stay_within_their_size_but_the_listed_exceptions() -> None:
    found = check(ROOT, "sim", read_exceptions(PAGE)).size
    assert not found, _report(found)


def test_the_rules_read_the_layers_sim_declares() -> None:
    package = Package.read(ROOT, "sim")
    assert package.layers == sim.LAYERS
    # every lazy name of the front door is resolved to its home, so none escapes the order
    assert set(sim.__all__) <= set(package.lazy)
    assert all(package.lazy[name] in package.modules for name in sim.__all__)


def test_the_page_lists_at_most_three_size_exceptions_each_with_its_reason() -> None:
    exceptions = read_exceptions(PAGE)
    assert len(exceptions) <= MAX_EXCEPTIONS
    assert all(reason for reason in exceptions.values()), exceptions
    page = PAGE.read_text(encoding="utf-8")
    assert f"{MAX_MODULE_LINES} lines" in page and f"{MAX_FUNCTION_LINES} lines" in page


# --- the fixture packages: each rule fails where it should -----------------------------------


def test_a_clean_package_passes_every_rule() -> None:
    found = check(FIXTURES / "clean", "app", {})
    assert not found.all(), _report(found.all())


def test_an_import_of_a_later_layer_fails() -> None:
    found = check(FIXTURES / "wrong_order", "app")
    assert found.order == [
        "app/core.py:3: app.core (core) imports app.views (views), a later layer, at module level"
    ]
    assert not found.private and not found.cycles


def test_an_underscore_name_imported_from_another_module_fails() -> None:
    found = check(FIXTURES / "underscore", "app")
    assert len(found.private) == 1
    assert found.private[0].startswith("app/views.py:3: app.views takes _double from app.core;")
    assert not found.order and not found.cycles


def test_a_cycle_at_module_level_fails() -> None:
    found = check(FIXTURES / "cycle_module_level", "app")
    assert found.cycles == [
        "import cycle: app.core.a -> app.core.b (app/core/a.py:3, at module level); "
        "app.core.b -> app.core.a (app/core/b.py:3, at module level)"
    ]
    assert not found.order and not found.private


def test_a_cycle_through_an_import_inside_a_function_fails() -> None:
    found = check(FIXTURES / "cycle_in_function", "app")
    assert found.cycles == [
        "import cycle: app.core.a -> app.core.b (app/core/a.py:3, at module level); "
        "app.core.b -> app.core.a (app/core/b.py:5, inside a function)"
    ]
    assert not found.order and not found.private


# --- the other ways an import is written, in packages built for the test ---------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write ``app`` (layers core, views unless given) from path -> source; return its root."""
    files = {"app/__init__.py": 'LAYERS = ("core", "views")\n', **files}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_a_relative_import_of_a_later_layer_inside_a_function_fails(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "app/core/__init__.py": "",
            "app/core/sums.py": """\
                def total():
                    from ..views import shout
                    return shout()
            """,
            "app/views.py": "def shout():\n    return 1\n",
        },
    )
    assert check(root, "app").order == [
        "app/core/sums.py:2: app.core.sums (core) imports app.views (views), a later layer, "
        "inside a function"
    ]


def test_a_later_layer_reached_through_the_front_door_fails(tmp_path: Path) -> None:
    front = """\
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from app.views import shout as shout
        LAYERS = ("core", "views")
        __version__ = "1"
    """
    root = _package(
        tmp_path,
        {
            "app/__init__.py": front,
            "app/core.py": """\
                import app
                from app import shout
                def total():
                    return app.shout() + shout() + len(app.__version__)
            """,
            "app/views.py": "def shout():\n    return 1\n",
        },
    )
    found = check(root, "app")
    assert found.order == [
        "app/core.py:2: app.core (core) imports app.views (views), a later layer, at module level",
        "app/core.py:4: app.core (core) imports app.views (views), a later layer, "
        "inside a function",
    ]
    # the front door's own TYPE_CHECKING import of the last layer is exempt
    assert not found.cycles and not found.private


def test_a_front_door_importing_a_layer_when_the_package_is_imported_fails(
    tmp_path: Path,
) -> None:
    root = _package(
        tmp_path,
        {
            "app/__init__.py": 'from app.views import shout\nLAYERS = ("core", "views")\n',
            "app/core.py": "",
            "app/views.py": "def shout():\n    return 1\n",
        },
    )
    assert check(root, "app").order == [
        "app/__init__.py:1: the front door imports app.views whenever the package is imported; "
        "name it lazily (__getattr__) or under TYPE_CHECKING"
    ]


def test_a_type_checking_import_keeps_the_order_but_makes_no_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "app/core.py": """\
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from app.views import Page
                def first(page: "Page") -> int:
                    return 1
            """,
            "app/views.py": "from app.core import first\nclass Page:\n    pass\n",
        },
    )
    found = check(root, "app")
    assert found.order == [
        "app/core.py:3: app.core (core) imports app.views (views), a later layer, "
        "at module level under TYPE_CHECKING"
    ]
    assert not found.cycles


def test_an_underscore_attribute_of_an_imported_module_fails_and_a_dunder_does_not(
    tmp_path: Path,
) -> None:
    root = _package(
        tmp_path,
        {
            "app/core.py": "__all__ = []\ndef _double(x):\n    return 2 * x\n",
            "app/views.py": """\
                from app import core
                import app.core as c
                def show():
                    return core._double(1) + c._double(2) + len(core.__all__)
            """,
        },
    )
    found = check(root, "app")
    assert [line.split(";")[0] for line in found.private] == [
        "app/views.py:4: app.views takes _double from app.core",
        "app/views.py:4: app.views takes _double from app.core",
    ]


def test_a_module_outside_the_layers_fails_and_main_is_in_the_last(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "app/core.py": "",
            "app/views.py": "",
            "app/extra.py": "",
            "app/__main__.py": "from app.views import *  # noqa\n",
        },
    )
    assert check(root, "app").order == [
        "app/extra.py: app.extra is in no layer of app.LAYERS ('core', 'views')"
    ]


def test_sizes_fail_past_their_limits_unless_listed(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))  # with def: one over
    long_function = f"class Book:\n    def read(self):\n{textwrap.indent(body, '    ')}"
    filler = "\n" * (MAX_MODULE_LINES + 1 - len(long_function.splitlines()))
    root = _package(
        tmp_path,
        {
            "app/core.py": long_function + filler,
            "app/views.py": "def short():\n    return 1\n",
        },
    )
    assert check(root, "app", {}).size == [
        f"app/core.py: {MAX_MODULE_LINES + 1} lines, over {MAX_MODULE_LINES}",
        f"app/core.py:2: Book.read is {MAX_FUNCTION_LINES + 1} lines, over {MAX_FUNCTION_LINES}",
    ]
    listed = {"app/core.py": "one table", "app/core.py::Book.read": "one loop"}
    assert check(root, "app", listed).size == []
    stale = {**listed, "app/views.py::short": "no longer long"}
    assert check(root, "app", stale).size == [
        "size exception app/views.py::short is not over its limit (or names nothing); "
        "remove it from the page"
    ]
    too_many = {**listed, "a": "", "b": ""}
    assert check(root, "app", too_many).size[0] == "4 size exceptions listed; at most 3"


def test_the_exceptions_are_read_from_their_section_of_the_page(tmp_path: Path) -> None:
    page = tmp_path / "architecture.md"
    page.write_text(
        "# Architecture\n\n- `not/this.py`: elsewhere\n\n## Size exceptions\n\n"
        "- `sim/cli.py`: the commands' options in one place\n"
        "- `sim/x.py::Big.f`: one table of cases\n\n## Next\n\n- `nor/this.py`: after\n",
        encoding="utf-8",
    )
    assert read_exceptions(page) == {
        "sim/cli.py": "the commands' options in one place",
        "sim/x.py::Big.f": "one table of cases",
    }


@pytest.mark.parametrize("heading", ["", "## Sizes\n"])
def test_a_page_without_the_section_is_refused(tmp_path: Path, heading: str) -> None:
    page = tmp_path / "architecture.md"
    page.write_text(f"# Architecture\n{heading}", encoding="utf-8")
    with pytest.raises(ValueError, match="Size exceptions"):
        read_exceptions(page)
