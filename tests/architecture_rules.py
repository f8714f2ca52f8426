"""The package's shape as rules a test can hold: imports run one way along the declared layers, no
underscore name crosses modules, no import cycles, and no module or function past its size.

Read from the source with ``ast``, never by importing it, so a fixture package on disk is checked
the same way as ``sim``. The rules (docs/architecture.md states them for readers):

* A module belongs to the layer named by its first part below the package (``sim.model.jit`` to
  ``model``; the package's ``__main__``, which runs the command, to the last). The ``LAYERS``
  tuple in the package's ``__init__.py`` is the one declaration of their order. A module may
  import only from its own layer and the layers before it. Every import counts: at module level,
  inside a function, and under ``if TYPE_CHECKING:`` (a type named is a dependency too).
* The package's ``__init__.py`` is the front door. Its lazy names (PEP 562 ``__getattr__``) and its
  ``TYPE_CHECKING`` block are exempt: they run only when a user asks for a name. What it imports
  at module level runs before every module of the package, so it may import none of them. A
  module that reaches a name through the front door (``from sim import run``, or ``import sim``
  then ``sim.run(...)``) is checked as if it imported the module the front door's
  ``TYPE_CHECKING`` block names for it (``sim.runs.runner``).
* No name starting with one underscore is taken from another module of the package, by import
  (``from sim.x import _y``) or as an attribute of an imported module (``x._y``). Dunder names
  (``__version__``) are public.
* No cycle of imports between modules, counting imports inside functions (they run, later) and
  not those under ``TYPE_CHECKING`` (they never run). Importing ``a.b.c`` is an edge to ``a.b.c``
  only, not to the packages above it.
* No module over ``MAX_MODULE_LINES`` lines, no function or method over ``MAX_FUNCTION_LINES``
  (from its ``def`` line to its last, decorators aside), except those listed on the
  architecture page; at most ``MAX_EXCEPTIONS`` of them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80
MAX_EXCEPTIONS = 3


@dataclass(frozen=True)
class Edge:
    """One import of a package module by another: where it is written and how it runs."""

    importer: str
    target: str
    line: int
    in_function: bool
    type_only: bool

    def where(self) -> str:
        return "inside a function" if self.in_function else "at module level"


@dataclass
class Package:
    """A package read from disk: its modules' syntax trees, its layers, its front door's names."""

    root: Path  # the folder holding the package folder
    name: str
    modules: dict[str, Path] = field(default_factory=dict)  # dotted name -> file
    trees: dict[str, ast.Module] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    lazy: dict[str, str] = field(default_factory=dict)  # front door name -> defining module

    @classmethod
    def read(cls, root: Path, name: str) -> Package:
        package = cls(root=root, name=name)
        for path in sorted((root / name).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            package.modules[dotted] = path
            package.trees[dotted] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        front = package.trees[name]
        package.layers = _declared_layers(front)
        for node in _type_checking_blocks(front):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    for alias in stmt.names:
                        package.lazy[alias.asname or alias.name] = stmt.module
        return package

    def path(self, module: str) -> str:
        return self.modules[module].relative_to(self.root).as_posix()

    def layer(self, module: str) -> int | None:
        """The index of a module's layer; None for the front door or a module outside them."""
        parts = module.split(".")
        if parts[1:] == ["__main__"]:  # ``python -m`` runs it as the command: the last layer
            return len(self.layers) - 1
        if len(parts) < 2 or parts[1] not in self.layers:
            return None
        return self.layers.index(parts[1])


def _declared_layers(front: ast.Module) -> tuple[str, ...]:
    for node in front.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "LAYERS" for t in node.targets)
            and isinstance(value := ast.literal_eval(node.value), tuple)
        ):
            return tuple(str(v) for v in value)
    raise ValueError("the package's __init__.py declares no LAYERS tuple")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _type_checking_blocks(tree: ast.Module) -> Iterator[ast.If]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield node


@dataclass(frozen=True)
class _Context:
    in_function: bool = False
    type_only: bool = False


def _statements(
    tree: ast.AST, context: _Context = _Context()
) -> Iterator[tuple[ast.AST, _Context]]:
    """Every node of a module with whether it sits in a function or a ``TYPE_CHECKING`` block."""
    for child in ast.iter_child_nodes(tree):
        yield child, context
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inner = _Context(True, context.type_only)
            yield from _statements(child, inner)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            yield child.test, context
            for stmt in child.body:
                yield stmt, _Context(context.in_function, True)
                yield from _statements(stmt, _Context(context.in_function, True))
            for stmt in child.orelse:
                yield stmt, context
                yield from _statements(stmt, context)
        else:
            yield from _statements(child, context)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass
class Violations:
    """What the rules found, one readable line each."""

    order: list[str] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    cycles: list[str] = field(default_factory=list)
    size: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.order, *self.private, *self.cycles, *self.size]


class _ModuleReader:
    """The edges and underscore names of one module."""

    def __init__(self, package: Package, module: str) -> None:
        self.package = package
        self.module = module
        self.is_package = package.modules[module].name == "__init__.py"
        self.edges: list[Edge] = []
        self.private: list[tuple[int, str, str]] = []  # line, name, the module it belongs to
        self.bound: dict[str, str] = {}  # a name this module binds to a package module

    def inside(self, name: str) -> bool:
        return name == self.package.name or name.startswith(self.package.name + ".")

    def edge(self, target: str, node: ast.AST, context: _Context) -> None:
        if target != self.module:
            line = getattr(node, "lineno", 0)
            self.edges.append(
                Edge(self.module, target, line, context.in_function, context.type_only)
            )

    def base_of(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.module.split(".")
        if not self.is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        return ".".join([*parts, *([node.module] if node.module else [])])

    def read(self) -> None:
        nodes = list(_statements(self.package.trees[self.module]))
        for node, context in nodes:  # imports first, so that attributes can be resolved
            if isinstance(node, ast.Import):
                self.read_import(node, context)
            elif isinstance(node, ast.ImportFrom):
                self.read_import_from(node, context)
        parents = {
            id(child)
            for node, _ in nodes
            if isinstance(node, ast.Attribute)
            for child in [node.value]
        }
        for node, context in nodes:
            if isinstance(node, ast.Attribute) and id(node) not in parents:
                self.read_attribute(node, context)

    def read_import(self, node: ast.Import, context: _Context) -> None:
        for alias in node.names:
            if not self.inside(alias.name):
                continue
            target = self.longest_module(alias.name)
            self.edge(target, node, context)
            if alias.asname:
                self.bound[alias.asname] = target
            else:
                self.bound[alias.name.split(".")[0]] = self.package.name
            if any(_is_private(part) for part in alias.name.split(".")[1:]):
                self.private.append((node.lineno, alias.name, target))

    def read_import_from(self, node: ast.ImportFrom, context: _Context) -> None:
        base = self.base_of(node)
        if not self.inside(base):
            return
        for alias in node.names:
            dotted = f"{base}.{alias.name}"
            if dotted in self.package.modules:
                self.edge(dotted, node, context)
                self.bound[alias.asname or alias.name] = dotted
                if _is_private(alias.name):
                    self.private.append((node.lineno, alias.name, base))
                continue
            target = self.longest_module(base)
            if target == self.package.name and alias.name in self.package.lazy:
                target = self.package.lazy[alias.name]
            self.edge(target, node, context)
            if _is_private(alias.name) and target != self.module:
                self.private.append((node.lineno, alias.name, target))

    def read_attribute(self, node: ast.Attribute, context: _Context) -> None:
        chain: list[str] = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in self.bound:
            return
        module = self.bound[value.id]
        while chain and f"{module}.{chain[0]}" in self.package.modules:
            module = f"{module}.{chain.pop(0)}"
        if module != self.bound[value.id]:
            self.edge(module, node, context)
        if not chain:
            return
        if module == self.package.name and chain[0] in self.package.lazy:
            self.edge(self.package.lazy[chain[0]], node, context)
        elif _is_private(chain[0]) and module != self.module:
            self.private.append((node.lineno, chain[0], module))

    def longest_module(self, dotted: str) -> str:
        parts = dotted.split(".")
        while parts and ".".join(parts) not in self.package.modules:
            parts.pop()
        return ".".join(parts) or self.package.name


def read_edges(package: Package) -> tuple[list[Edge], list[str]]:
    """Every import edge between the package's modules, and the underscore names taken across."""
    edges: list[Edge] = []
    private: list[str] = []
    for module in package.modules:
        reader = _ModuleReader(package, module)
        reader.read()
        edges += reader.edges
        for line, name, owner in reader.private:
            private.append(
                f"{package.path(module)}:{line}: {module} takes {name} from {owner}; an "
                "underscore name belongs to its module (make it public and documented, or move it)"
            )
    return edges, private


def order_violations(package: Package, edges: list[Edge]) -> list[str]:
    """Imports against the declared order, front door imports that run, modules outside layers."""
    found = [
        f"{package.path(m)}: {m} is in no layer of {package.name}.LAYERS {package.layers}"
        for m in package.modules
        if m != package.name and package.layer(m) is None
    ]
    for e in edges:
        where = f"{package.path(e.importer)}:{e.line}"
        if e.importer == package.name:
            if not (e.in_function or e.type_only):
                found.append(
                    f"{where}: the front door imports {e.target} whenever the package is "
                    "imported; name it lazily (__getattr__) or under TYPE_CHECKING"
                )
            continue
        mine, theirs = package.layer(e.importer), package.layer(e.target)
        if mine is not None and theirs is not None and theirs > mine:
            found.append(
                f"{where}: {e.importer} ({package.layers[mine]}) imports {e.target} "
                f"({package.layers[theirs]}), a later layer, {e.where()}"
                + (" under TYPE_CHECKING" if e.type_only else "")
            )
    return found


def cycle_violations(package: Package, edges: list[Edge]) -> list[str]:
    """One line per knot of modules that import each other, with one cycle through it."""
    graph = nx.DiGraph()
    for e in edges:
        if not e.type_only and package.name not in (e.importer, e.target):
            graph.add_edge(e.importer, e.target, edge=e)
    found = []
    for knot in nx.strongly_connected_components(graph):
        if len(knot) < 2:
            continue
        cycle = nx.find_cycle(graph.subgraph(knot))
        steps = []
        for a, b in cycle:
            e = graph.edges[a, b]["edge"]
            steps.append(f"{a} -> {b} ({package.path(a)}:{e.line}, {e.where()})")
        others = sorted(knot - {a for a, _ in cycle})
        found.append(
            "import cycle: "
            + "; ".join(steps)
            + (f"; the same knot holds {', '.join(others)}" if others else "")
        )
    return sorted(found)


def function_sizes(tree: ast.Module) -> Iterator[tuple[str, int, int]]:
    """Every function and method as (qualified name, first line, number of lines)."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    yield name, child.lineno, (child.end_lineno or child.lineno) - child.lineno + 1
                yield from walk(child, name + ".")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def size_violations(package: Package, exceptions: dict[str, str]) -> list[str]:
    """Modules and functions past their size and not excepted, and exceptions that no longer
    apply (an entry on the page for a module that has shrunk, or that names nothing)."""
    found = []
    if len(exceptions) > MAX_EXCEPTIONS:
        found.append(f"{len(exceptions)} size exceptions listed; at most {MAX_EXCEPTIONS}")
    over: set[str] = set()
    for module, path in package.modules.items():
        rel = package.path(module)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            over.add(rel)
            if rel not in exceptions:
                found.append(f"{rel}: {lines} lines, over {MAX_MODULE_LINES}")
        for name, line, length in function_sizes(package.trees[module]):
            key = f"{rel}::{name}"
            if length > MAX_FUNCTION_LINES:
                over.add(key)
                if key not in exceptions:
                    found.append(
                        f"{rel}:{line}: {name} is {length} lines, over {MAX_FUNCTION_LINES}"
                    )
    found += [
        f"size exception {key} is not over its limit (or names nothing); remove it from the page"
        for key in sorted(set(exceptions) - over)
    ]
    return found


EXCEPTIONS_HEADING = "## Size exceptions"


def read_exceptions(page: Path) -> dict[str, str]:
    """The size exceptions listed on the architecture page: ``- `path` : reason`` or
    ``- `path::function`: reason``, one line each, under its heading."""
    text = page.read_text(encoding="utf-8")
    if EXCEPTIONS_HEADING not in text:
        raise ValueError(f"{page.name} has no {EXCEPTIONS_HEADING!r} section")
    section = text.split(EXCEPTIONS_HEADING, 1)[1].split("\n## ", 1)[0]
    return {
        m["key"]: m["reason"].strip()
        for m in re.finditer(r"^- `(?P<key>[^`]+)`:(?P<reason>.*)$", section, flags=re.M)
    }


def check(root: Path, name: str, exceptions: dict[str, str] | None = None) -> Violations:
    """Every rule on the package ``root/name``; sizes only when ``exceptions`` is given."""
    package = Package.read(root, name)
    edges, private = read_edges(package)
    return Violations(
        order=order_violations(package, edges),
        private=private,
        cycles=cycle_violations(package, edges),
        size=size_violations(package, exceptions) if exceptions is not None else [],
    )
