"""Step 1 of the scenario pipeline: YAML text -> plain data with positions, comments and overrides.

PyYAML composes the node tree (so every value keeps its line and column); we walk the nodes
ourselves, which makes the reading strict and safe: no object construction, no duplicate keys,
YAML 1.2 booleans only. ``sim.inputs.loader.load_scenario`` runs the whole pipeline (read,
override, read at the first point, validate).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import stat
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.errors import ScenarioError
from sim.inputs.models import SECTIONS
from sim.inputs.units import shown, ungrouped
from sim.inputs.values import did_you_mean

YamlPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line, column

EMPTY_FILE = (
    "the file is empty; a scenario is a mapping with keys name, start, horizon, step, agents, deals"
)
# The largest scenario file read, in bytes: about 100 times the largest bundled scenario
# (whole_web.yaml, 10 kB). Read with a bounded read, so /dev/zero or an endless pipe stops here.
MAX_BYTES = 1_000_000
# A document may hold, and expand to (through aliases), at most this many keys and values: stops
# "billion laughs", and bounds the time to read a file at MAX_BYTES (PyYAML composes about 40,000
# a second; whole_web.yaml holds about 600).
MAX_VALUES = 50_000
# roundtrip's own resolved YAML (a run folder's scenario.resolved.yaml, a results file's metadata)
# states every default and source comment: a file at the limits resolves to more, so it is read
# with limits this many times as large
OWN_SCALE = 4

_TAG = "tag:yaml.org,2002:"
_BOOL, _INT, _FLOAT, _NULL, _STR = (_TAG + t for t in ("bool", "int", "float", "null", "str"))
_TIMESTAMP, _MAP, _SEQ, _MERGE = (_TAG + t for t in ("timestamp", "map", "seq", "merge"))
_BOOLEANS = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}


class StrictLoader(yaml.SafeLoader):
    """The YAML reader of scenario files (and the rule sim/inputs/resolved.py writes by): a
    SafeLoader resolving plain scalars as YAML 1.2 does: ``no``/``on`` stay text, no ``1:30``;
    it stops composing at more than MAX_VALUES values (aliases count one each here)."""

    def __init__(self, stream: str, max_values: int = MAX_VALUES) -> None:
        super().__init__(stream)
        self.composed = 0
        self.max_values = max_values

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self.composed += 1
        if self.composed > self.max_values:
            raise _TooManyValues(self.peek_event().start_mark, self.max_values)
        return super().compose_node(parent, index)


class _TooManyValues(Exception):
    def __init__(self, mark: yaml.Mark, limit: int) -> None:
        self.mark, self.limit = mark, limit


# Drop YAML 1.1's booleans (yes/no/on/off), octal, sexagesimal and dot-less floats; keep null,
# timestamps (ISO dates) and integers with underscores (2_500_000).
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)
StrictLoader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)\Z"), list("-+0123456789")
)
StrictLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)\Z"
    ),
    list("-+.0123456789"),
)


@dataclass
class YamlDoc:
    """A scenario as plain data, with where each value came from.

    ``positions`` maps a path (keys and list indices) to the value's line and column;
    ``key_positions`` to its key's. ``overrides`` maps each path set by an override to its
    label (``--set a.b=1``), so that errors about it name the override instead of the file.
    """

    data: dict[str, Any]
    positions: dict[YamlPath, Position]
    key_positions: dict[YamlPath, Position]
    comments: dict[str, str]
    filename: str
    overrides: dict[YamlPath, str] = field(default_factory=dict)

    def override_for(self, path: YamlPath) -> str | None:
        """The override that set ``path`` or a parent of it, or (for a container) a value in it."""
        for p, label in reversed(self.overrides.items()):
            if path[: len(p)] == p:
                return label
        if path:
            for p, label in reversed(self.overrides.items()):
                if p[: len(path)] == path:
                    return label
        return None

    def where(self, path: YamlPath, *, key: bool = False) -> tuple[str, int | None, int | None]:
        """File, line and column to report for ``path`` (its nearest ancestor's if not there)."""
        label = self.override_for(path)
        if label is not None:
            return label, None, None
        pos = (self.key_positions if key else self.positions).get(path)
        for n in range(len(path), 0, -1):
            pos = pos or self.key_positions.get(path[:n]) or self.positions.get(path[:n])
        line, column = pos or (1, 1)
        return self.filename, line, column

    def error(self, path: YamlPath, message: str, *, key: bool = False) -> ScenarioError:
        """A ScenarioError about the value (or with ``key``, the key) at ``path``."""
        file, line, column = self.where(path, key=key)
        return ScenarioError(
            one_line(message), file=file, line=line, column=column, path=dotted(path) or None
        )


def dotted(path: YamlPath) -> str:
    """``("deals", 0, "at")`` -> ``"deals.0.at"``, the form users write in ``--set``."""
    return ".".join(one_line(str(p)) for p in path)


def one_line(text: str) -> str:
    """``text`` with control characters and line breaks escaped (``\\n``), for a message that
    quotes what the user wrote and must stay on one line."""
    if all(unicodedata.category(c) not in _BREAKING for c in text):
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in _BREAKING else c
        for c in text
    )


# Unicode categories that break a line or are not text: controls, line and paragraph
# separators, lone surrogates (what undecodable bytes in a command line become).
_BREAKING = ("Cc", "Zl", "Zp", "Cs")


# ---------------------------------------------------------------------------------------------
# Reading YAML
# ---------------------------------------------------------------------------------------------


def read_yaml(text: str, filename: str, *, scale: int = 1) -> YamlDoc:
    """Parse one scenario document strictly, keeping positions and comments; ``scale``
    multiplies the limits (OWN_SCALE for roundtrip's own resolved YAML)."""
    node = _compose(text, filename, EMPTY_FILE, scale)
    if not isinstance(node, MappingNode):
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        what = "a list" if isinstance(node, SequenceNode) else f"the value {shown(node.value)}"
        raise ScenarioError(
            f"a scenario is a mapping with keys name, start, horizon, step, agents, deals; "
            f"this file holds {what}",
            file=filename,
            line=line,
            column=col,
        )
    walker = _Walker(text, filename, max_values=MAX_VALUES * scale)
    data = walker.walk(node, ())
    assert isinstance(data, dict)
    return YamlDoc(data, walker.positions, walker.key_positions, walker.comments, filename)


def read_value(text: str, label: str) -> Any:
    """One value written on the command line (``60%``, ``5y``, ``{a: 1}``), read as strictly."""
    if not text.strip():
        return ""
    try:
        node = _compose(text, label, "")
    except ScenarioError as e:  # a line and column inside one value would only confuse
        raise ScenarioError(e.message, file=label) from None
    return _Walker(text, label, keep_marks=False).walk(node, ())


def _compose(text: str, filename: str, empty_message: str, scale: int = 1) -> Node:
    if len(text) > MAX_BYTES * scale:  # text given directly (a notebook, --set); files are
        raise ScenarioError(  # bounded as they are read
            f"the text is longer than {MAX_BYTES * scale:,} characters, the limit for a scenario",
            file=filename,
        )
    loader = None
    try:
        # refuses control characters here, before parsing
        loader = StrictLoader(text, MAX_VALUES * scale)
        node = loader.get_single_node()
    except yaml.reader.ReaderError as e:
        raise _character_error(e, text, filename) from None
    except yaml.MarkedYAMLError as e:
        raise _yaml_error(e, filename) from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"not valid YAML: {one_line(str(e))}", file=filename) from None
    except RecursionError:
        raise ScenarioError("not valid YAML: nested too deeply", file=filename) from None
    except _TooManyValues as e:
        raise ScenarioError(
            f"the document holds more than {e.limit:,} keys and values; a scenario holds "
            f"at most {e.limit:,}",
            file=filename,
            line=e.mark.line + 1,
            column=e.mark.column + 1,
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL and not node.value):
        raise ScenarioError(empty_message or "no value given", file=filename)
    return node


def _character_error(e: yaml.reader.ReaderError, text: str, filename: str) -> ScenarioError:
    """A character YAML refuses (NUL, a control character, a lone surrogate), where it is."""
    char = chr(e.character) if isinstance(e.character, int) else str(e.character)
    before = LINE_BREAK.split(text[: e.position])
    return ScenarioError(
        f"the character {char!r} (U+{ord(char[:1] or chr(0)):04X}) is not allowed; "
        "YAML text holds printable characters, tabs and line breaks only",
        file=filename,
        line=len(before),
        column=len(before[-1]) + 1,
    )


def _yaml_error(e: yaml.MarkedYAMLError, filename: str) -> ScenarioError:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    if (e.context or "").startswith("expected a single document"):
        return ScenarioError(
            "the file holds more than one YAML document (a second '---'); "
            "a scenario is one mapping",
            file=filename,
            line=line,
            column=column,
        )
    message = f"not valid YAML: {e.problem or e.context}"
    if e.context and e.problem and e.context_mark:
        message += f" ({e.context} at line {e.context_mark.line + 1})"
    return ScenarioError(one_line(message), file=filename, line=line, column=column)


# Python refuses to read integers longer than this (sys.get_int_max_str_digits()); no input needs
# one, and the value parsers bound every number far below it.
_MAX_INT_DIGITS = 4300


def _integer(text: str) -> int:
    if len(text.lstrip("+-").lstrip("0")) > _MAX_INT_DIGITS:
        raise ValueError(f"more than {_MAX_INT_DIGITS:,} digits")
    return int(text)


def _float(text: str) -> float:
    """A YAML float; one that a float cannot hold is refused, not read as inf or 0."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("too large for any input (at most about 1.8e308)")
    if value == 0 and re.search("[1-9]", text.lower().partition("e")[0]):
        raise ValueError("too small to tell from 0 (at least about 5e-324)")
    return value


# Matched from a column on (``pattern.match(line, column)``), never on a slice: slicing a long line
# once per value is quadratic (a 1 MB flow list on one line took seconds).
_SAME_LINE_COMMENT = re.compile(r"\s*#\s?(.*?)\s*$")
_AFTER_KEY_COMMENT = re.compile(r"\s*:\s*(?:[&!][^\s]*\s+)*#\s?(.*?)\s*$")
LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")


class _Walker:
    """Turns composed nodes into plain values, recording positions and comments on the way."""

    def __init__(
        self, text: str, filename: str, *, keep_marks: bool = True, max_values: int = MAX_VALUES
    ) -> None:
        self.lines = LINE_BREAK.split(text)
        self.filename = filename
        self.keep_marks = keep_marks
        self.positions: dict[YamlPath, Position] = {}
        self.key_positions: dict[YamlPath, Position] = {}
        self.comments: dict[str, str] = {}
        self._claimed: set[int] = set()  # lines whose comment block above was already used
        self._open: set[int] = set()  # collection nodes being walked (a cycle means alias loop)
        self._count = 0
        self.max_values = max_values
        self._constructor = StrictLoader("")

    def fail(self, node: Node, message: str, path: YamlPath) -> ScenarioError:
        message = one_line(message)
        if not self.keep_marks:
            return ScenarioError(message, file=self.filename)
        return ScenarioError(
            message,
            file=self.filename,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
            path=dotted(path) or None,
        )

    def count(self, node: Node, path: YamlPath) -> None:
        """One more key or value; refused past MAX_VALUES (reached through aliases only, as the
        composer counts the same nodes, each alias once)."""
        self._count += 1
        if self._count > self.max_values:
            raise self.fail(
                node,
                f"the document expands to more than {self.max_values:,} keys and values "
                f"(through aliases); a scenario holds at most {self.max_values:,}",
                path,
            )

    def walk(self, node: Node, path: YamlPath) -> Any:
        self.count(node, path)
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) in self._open:
            raise self.fail(node, "an alias refers to a value that contains it", path)
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self.check_tag(node, _SEQ, path)
                items = []
                for i, child in enumerate(node.value):
                    self.note_comments((*path, i), child.start_mark.line, child)
                    items.append(self.walk(child, (*path, i)))
                return items
            assert isinstance(node, MappingNode)
            return self.mapping(node, path)
        finally:
            self._open.discard(id(node))

    def mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        self.check_tag(node, _MAP, path)
        out: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a key must be a plain name, not a list or mapping", path)
            if key_node.tag == _MERGE:
                raise self.fail(
                    key_node, "merge keys ('<<') are not supported; write keys out", path
                )
            self.check_tag(key_node, None, path)
            self.count(key_node, path)
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in out:
                raise self.fail(
                    key_node,
                    f"duplicate key {shown(key)} "
                    f"(first at line {key_lines[key]}, again at line {line})",
                    (*path, key),
                )
            key_lines[key] = line
            child = (*path, key)
            self.key_positions[child] = (line, key_node.start_mark.column + 1)
            self.note_comments(child, key_node.start_mark.line, value_node, key_node)
            out[key] = self.walk(value_node, child)
        return out

    def check_tag(self, node: Node, expected: str | None, path: YamlPath) -> None:
        """Only the plain YAML types are allowed: no ``!!python/...``, ``!!binary``, ``!custom``."""
        plain = (_BOOL, _INT, _FLOAT, _NULL, _STR, _TIMESTAMP, _TAG + "value")
        if node.tag == expected or (expected is None and node.tag in plain):
            return
        tag = node.tag.replace(_TAG, "!!")
        raise self.fail(
            node,
            f"the tag {shown(tag)} is not allowed; a scenario holds only plain values "
            "(text, numbers, dates, true/false, lists and mappings)",
            path,
        )

    def scalar(self, node: ScalarNode, path: YamlPath) -> Any:
        self.check_tag(node, None, path)
        text = node.value
        try:
            if node.tag == _BOOL:
                if text not in _BOOLEANS:
                    raise ValueError("booleans are true or false")
                return _BOOLEANS[text]
            if node.tag == _INT:  # the separators by the grammar of every number (sim.inputs.units)
                return _integer(ungrouped(text))
            if node.tag == _FLOAT:
                return _float(ungrouped(text))
            if node.tag == _NULL:
                return None
            if node.tag == _TIMESTAMP:
                value = self._constructor.construct_yaml_timestamp(node)
                assert isinstance(value, dt.date)
                return value
        except (ValueError, OverflowError) as e:  # OverflowError: a time zone past year 9999
            what = {_TIMESTAMP: "date", _INT: "integer", _FLOAT: "number"}.get(node.tag, "value")
            reason = one_line(str(e))
            if node.tag == _TIMESTAMP and len(text) > len("2026-03-01"):  # a time, a time zone
                reason = "expected a date such as 2026-03-01, without a time"
            raise self.fail(node, f"invalid {what} {shown(text)}: {reason}", path) from None
        return text

    def note_comments(
        self, path: YamlPath, line0: int, value: Node, key: Node | None = None
    ) -> None:
        """Comment lines directly above ``line0`` and a ``# ...`` after the value on its line."""
        if not self.keep_marks:
            return
        parts: list[str] = []
        if line0 not in self._claimed:
            self._claimed.add(line0)
            above: list[str] = []
            i = line0 - 1
            while i >= 0 and self.lines[i].strip().startswith("#"):
                above.append(self.lines[i].strip().lstrip("#").strip())
                i -= 1
            parts.extend(reversed(above))
        start, end = value.start_mark, value.end_mark
        match = None
        if start.line == line0 and end.line == line0 and end.line < len(self.lines):
            match = _SAME_LINE_COMMENT.match(self.lines[end.line], end.column)
        elif key is not None and start.line > line0:
            match = _AFTER_KEY_COMMENT.match(self.lines[line0], key.end_mark.column)
        if match and match.group(1):
            parts.append(match.group(1))
        text = " ".join(p for p in parts if p)
        if text:
            self.comments[dotted(path)] = text


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------

Overrides = Mapping[str, object] | Sequence[str] | None


def apply_overrides(doc: YamlDoc, overrides: Overrides = None, **kw: object) -> YamlDoc:
    """A copy of ``doc`` with each ``dotted.path=value`` set; errors name the override."""
    items: list[tuple[str, object, str]] = []  # (dotted path, value, label)
    if isinstance(overrides, Mapping):
        for k, v in overrides.items():
            items.append((str(k), v, f"--set {clip(one_line(str(k)))}={_show(v)}"))
    elif overrides is not None:
        if isinstance(overrides, str):
            overrides = [overrides]
        for text in overrides:
            label = f"--set {clip(one_line(str(text)))}"
            name, eq, value_text = str(text).partition("=")
            if not eq:
                raise ScenarioError("expected path=value, such as horizon=5y", file=label)
            items.append((name.strip(), read_value(value_text, label), label))
    for k, v in kw.items():
        name = k.replace("__", ".")
        items.append((name, v, f"--set {name}={_show(v)}"))
    return set_values(doc, items)


def set_values(doc: YamlDoc, items: Sequence[tuple[str, object, str]]) -> YamlDoc:
    """A copy of ``doc`` with each ``(dotted path, value, label)`` set, the value used as given;
    errors about a value name its label instead of a line (``--set``, ``--vary``)."""
    if not items:
        return doc
    doc = replace(
        doc,
        data=_copied_along(doc.data, [name for name, _, _ in items]),
        positions=dict(doc.positions),
        key_positions=dict(doc.key_positions),
        comments=dict(doc.comments),
        overrides=dict(doc.overrides),
    )
    for name, value, label in items:
        leaf = not isinstance(_get(doc.data, name), dict | list)  # nothing below it to forget
        path = _set(doc.data, name, copy.deepcopy(value), label)
        prefix = dotted(path)
        for table in (doc.positions, doc.key_positions, doc.overrides):
            if leaf:
                table.pop(path, None)
            else:
                for p in [p for p in table if p[: len(path)] == path]:
                    del table[p]
        if leaf:
            doc.comments.pop(prefix, None)
        else:
            for c in [c for c in doc.comments if c == prefix or c.startswith(prefix + ".")]:
                del doc.comments[c]
        doc.comments[prefix] = f"set by {label}"
        doc.overrides[path] = label
    return doc


def _get(data: Any, name: str) -> Any:
    """The value at a dotted name, or None where there is none."""
    for part in name.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isascii() and part.isdigit() and len(part) <= 9:
            data = data[int(part)] if int(part) < len(data) else None
        else:
            return None
    return data


def _copied_along(data: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``data`` with every mapping and list on the way to each dotted name copied (shallow),
    so that setting the names changes only the copy; what no name reaches is shared with
    ``data``, which is never changed (a Monte Carlo draw copies a few small mappings, not the
    whole document). A name that does not exist is copied as far as it goes (``_set`` then
    says what is wrong)."""
    root = dict(data)
    for name in names:
        node: Any = root
        for part in name.split(".")[:-1]:
            if isinstance(node, dict) and part in node:
                key: str | int = part
            elif isinstance(node, list) and part.isascii() and part.isdigit() and len(part) <= 9:
                key = int(part)
                if key >= len(node):
                    break
            else:
                break
            child = node[key]
            if isinstance(child, dict):
                child = dict(child)
            elif isinstance(child, list):
                child = list(child)
            else:
                break
            node[key] = child
            node = child
    return root


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, ending in ``...`` if cut (a quoted value)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | dt.date) or (isinstance(value, int) and abs(value) < 10**40):
        return str(value)
    if isinstance(value, str):
        return clip(one_line(value), 80)
    return shown(value, 80)


def _set(data: dict[str, Any], name: str, value: object, label: str) -> YamlPath:
    """Set ``data[a][b]...[z] = value``; every parent must exist, the last key may be new."""
    parts = name.split(".")
    if not name or any(not p.strip() for p in parts):
        raise ScenarioError(
            f"{shown(name)} is not a dotted path such as agents.aws.margin", file=label
        )
    node: Any = data
    path: YamlPath = ()
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if part not in node and not last and not path and part in SECTIONS:
                node[part] = {}  # a section of defaults the file left out
            if part not in node and not last:
                where = dotted(path) or "the top level"
                raise ScenarioError(
                    f"no key {shown(part)} under {where}{did_you_mean(part, list(node))}; "
                    f"keys there: {', '.join(map(str, node)) or 'none'} "
                    f"(to add it, set its whole value at once: {dotted((*path, part))}=...)",
                    file=label,
                )
            key: str | int = part
        elif isinstance(node, list):
            where = dotted(path) or "the top level"
            indices = f"indices 0..{len(node) - 1}" if node else "no items yet; index 0 adds one"
            if not (part.isascii() and part.isdigit()):  # "²" is a digit to str.isdigit
                raise ScenarioError(
                    f"{where} is a list ({indices}); expected an index, got {shown(part)}",
                    file=label,
                )
            key = int(part) if len(part) <= 9 else len(node) + 1  # never int() a long string
            if key > len(node) or (key == len(node) and not last):
                raise ScenarioError(
                    f"{where} has {len(node)} items ({indices}); index {clip(part, 20)} is "
                    "out of range",
                    file=label,
                )
            if key == len(node):
                node.append(None)
        else:
            where = dotted(path) or "the top level"
            raise ScenarioError(
                f"{where} is {shown(node)}, not a mapping or list; "
                f"cannot set {shown(part)} inside it",
                file=label,
            )
        path = (*path, key)
        if last:
            node[key] = value
        else:
            node = node[key]
    return path


def read_doc(path: str | os.PathLike[str], overrides: Overrides = None) -> YamlDoc:
    """A scenario file as plain data with positions, overrides applied, not yet validated: what
    a tool that changes inputs one by one (sim/analysis/sensitivity.py) starts from."""
    filename = os.fspath(path)
    try:
        return apply_overrides(read_yaml(read_scenario_text(filename), filename), overrides)
    except ScenarioError as e:
        on_one_line(e)
        raise


def on_one_line(e: ScenarioError) -> None:
    """Escape onto one line what ``e`` quotes of the input (names, file names, text): a user's
    mistake is one line on the terminal, whatever characters the input holds."""
    e.message = one_line(e.message)
    e.file = e.file and one_line(e.file)
    e.path = e.path and one_line(e.path)


def read_scenario_text(filename: str, *, scale: int = 1) -> str:
    """A scenario file's text, or a ScenarioError saying why it cannot be read; never more than
    MAX_BYTES (times ``scale``) + 1 bytes are read (a device, pipe or /proc file is read the
    same way)."""
    raw = read_bounded(filename, MAX_BYTES * scale, "a scenario file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioError(
            f"not UTF-8 text (byte {e.start}); a scenario file is UTF-8 text", file=filename
        ) from None


def read_bounded(filename: str, limit: int, what: str) -> bytes:
    """The bytes of ``filename``, refused (ScenarioError) past ``limit``: a regular file by its
    size, before reading; anything else (a pipe, a device, /proc) by reading at most ``limit +
    1`` bytes. Opening never waits for a pipe's writer (O_NONBLOCK); a directory is refused."""
    too_big = f"the file is larger than {limit:,} bytes, the limit for {what}"
    try:
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError("no such file", file=filename) from None
    except IsADirectoryError:
        raise ScenarioError(f"this is a directory, not {what}", file=filename) from None
    except OSError as e:
        raise ScenarioError(f"cannot read the file: {e.strerror or e}", file=filename) from None
    try:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise ScenarioError(f"this is a directory, not {what}", file=filename)
        if stat.S_ISREG(mode.st_mode) and mode.st_size > limit:
            raise ScenarioError(too_big, file=filename)
        os.set_blocking(fd, True)  # a pipe's writer may still be writing
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except IsADirectoryError:
        raise ScenarioError(f"this is a directory, not {what}", file=filename) from None
    except OSError as e:
        raise ScenarioError(f"cannot read the file: {e.strerror or e}", file=filename) from None
    finally:
        os.close(fd)
    if size > limit:
        raise ScenarioError(too_big, file=filename)
    if size == 0 and stat.S_ISFIFO(mode.st_mode):
        raise ScenarioError(
            f"this pipe gave no text (no program was writing to it); give {what}", file=filename
        )
    return b"".join(chunks)
