"""The resolved inputs written back as YAML (``scenario.resolved.yaml``), and the inputs hash.

ruamel.yaml emits the text from its commented mappings and lists, so each source comment is part
of the document it describes: never pasted into dumped text, which broke the file when a long
value wrapped or a multi-line one was folded. Read back with ``sim.inputs.loader``, the text gives
the
same inputs and each comment lands on the same dotted path. The rules that make it so:

- Strings: plain where the loader reads them back as the same text; in single quotes where a
  plain one would read as something else (``'no'``, ``'1e9'``, ``'2026-01-01'``, ``''``); in
  double quotes, with escapes, where they hold a tab, a carriage return, a control character or
  a character YAML reads as a line break; over several lines as a literal block (``|``). No
  line is ever wrapped, so every other value stays on one line.
- Comments: beside the value on its line (``margin: 0.35  # ...``; after the key for a mapping
  or a list), folded to one line. Above the item for a list item, and above the key for text
  written as a block, one ``#`` line per line of the comment; the loader joins them with spaces.
  So a comment comes back exactly when it is one line with no spaces at its ends (as the loader
  reads every comment from a file); otherwise its words come back, whitespace folded.
- No anchors or aliases: equal inputs give equal text however they were built.

ruamel.yaml is imported only when a file is written: ``roundtrip run`` starts without it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import sys
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import ScalarNode

from sim.inputs.document import LINE_BREAK, StrictLoader  # how the loader reads a plain scalar
from sim.inputs.scenario import Scenario

if TYPE_CHECKING:
    from ruamel.yaml import YAML

_STR = "tag:yaml.org,2002:str"
# Characters written as escapes in double quotes: all but printable text and "\n". YAML may not
# hold control characters as they are; the loader reads \r, \x85, \u2028 and \u2029 as line
# breaks and skips a byte-order mark, so none of them survives plain, quoted or in a block.
_ESCAPE = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# Characters a YAML file may not hold at all (in a comment they are written as escapes).
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _PlainDumper(yaml.SafeDumper):
    """Writes every value out in full: no ``&id001`` anchors and ``*id001`` aliases, which
    PyYAML would otherwise add where two inputs happen to be the same object (a contract's
    default start is the scenario's start), making equal inputs dump to different texts."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def inputs_hash(scenario: Scenario) -> str:
    """Short hash of the resolved inputs: names the exact run a chart or report came from.

    The SHA-256 of the inputs dumped by PyYAML with sorted keys: a canonical text of the
    values alone (the comments and the styles of the resolved file play no part), so a
    scenario and the scenario read back from its resolved file have the same hash."""
    text = yaml.dump(
        scenario.resolved,
        Dumper=_PlainDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def resolved_yaml(scenario: Scenario, *, sort_keys: bool = False) -> str:
    """The resolved inputs as YAML text without comments, the same for equal inputs."""
    return _dump(_tree(scenario.resolved, "", {}, 0, sort_keys))


def resolved_yaml_with_sources(scenario: Scenario) -> str:
    """The resolved inputs as YAML, each with the source comment written beside it in the
    scenario file (or the ``--set`` that changed it), so a run folder keeps its sources: read
    back, the comments land on the same inputs. A list item's comment goes on a line above it."""
    return resolved_yaml_of(scenario.resolved, scenario.comments)


def resolved_yaml_of(resolved: dict[str, Any], comments: dict[str, str]) -> str:
    """``resolved_yaml_with_sources`` of resolved inputs and their comments as given."""
    return _dump(_tree(resolved, "", comments, 0, False))


# ---------------------------------------------------------------------------------------------
# The commented tree
# ---------------------------------------------------------------------------------------------


def _tree(value: Any, path: str, comments: dict[str, str], column: int, sort_keys: bool) -> Any:
    """``value`` as ruamel's commented mappings and lists with styled strings, and the comment
    of each dotted path under ``path`` attached where the loader reads it back. ``column`` is
    where this mapping's keys or this list's dashes start (mappings indent by 2, lists by 2
    more, their items' keys by 2 after the dash), for the comment lines above them."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(value, dict):
        node = CommentedMap()
        for key in sorted(value) if sort_keys else value:
            here = f"{path}.{key}" if path else str(key)
            node[key] = _tree(value[key], here, comments, column + 2, sort_keys)
            text = comments.get(here)
            if text is None:
                continue
            if isinstance(node[key], LiteralScalarString):
                # a block starts on the key's line and ends lines below: the comment goes above
                # (never on a list item's first key, whose lines above are the item's: those
                # are a deal's kind and a tranche's date)
                _above(node, key, text, column)
            else:
                _beside(node, key, text)
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        for i, item in enumerate(value):
            seq.append(_tree(item, f"{path}.{i}", comments, column + 2, sort_keys))
            text = comments.get(f"{path}.{i}")
            if text is not None:
                _above(seq, i, text, column)
        return seq
    if isinstance(value, str):
        return _styled(value)
    return value


def _styled(text: str) -> str:
    """``text`` marked with the style that reads back as exactly ``text`` (see the module doc)."""
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )

    if _ESCAPE.search(text):
        return DoubleQuotedScalarString(text)
    if "\n" in text:
        last_line = text.rstrip("\n").rsplit("\n", 1)[-1]
        if last_line.lstrip().startswith("#"):
            # the loader would take this last line of the block for a comment above the next key
            return DoubleQuotedScalarString(text)
        # should a block not hold some text, the emitter writes it in double quotes instead, on
        # one line: its comment, put above, still reads back
        return LiteralScalarString(text)
    if not _reads_as_text(text):
        return SingleQuotedScalarString(text)
    return text


def _reads_as_text(text: str) -> bool:
    """Whether a plain scalar ``text`` is read as text by the loader (YAML 1.2 rules: ``1e9`` is
    a number) and by YAML 1.1 readers such as PyYAML's own (``no`` and ``on`` are booleans)."""
    return all(r.resolve(ScalarNode, text, (True, False)) == _STR for r in _resolvers())


@functools.cache
def _resolvers() -> tuple[yaml.SafeLoader, ...]:
    return StrictLoader(""), yaml.SafeLoader("")


def _printable(text: str) -> str:
    """``text`` with the characters a YAML file cannot hold written as escapes (``\\x00``)."""
    return _NOT_PRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def _comment_lines(text: str) -> list[str]:
    """The comment's lines, stripped, empty ones dropped."""
    return [line.strip() for line in LINE_BREAK.split(_printable(text)) if line.strip()]


def _beside(node: Any, key: str, text: str) -> None:
    """``# text`` after the value of mapping ``node``'s ``key`` on its line (after the key for a
    mapping or list), two spaces after it, on one line."""
    one = _printable(text).rstrip()
    if LINE_BREAK.search(one):
        one = " ".join(_comment_lines(one))  # several lines joined with spaces
    if not one.strip():
        return
    # with the '#' put at column 0 ruamel writes it one space after the value; the token's own
    # leading space makes the two that the scenario files use
    node.yaml_add_eol_comment("# " + one, key, column=0)
    token = node.ca.items[key][2]  # where ruamel keeps the comment after a mapping's value
    token.value = " " + token.value


def _above(node: Any, key: Any, text: str, column: int) -> None:
    """``# line`` for each line of ``text``, on the lines right above ``key`` (or item)."""
    lines = _comment_lines(text)
    if lines:
        node.yaml_set_comment_before_after_key(key, before="\n".join(lines), indent=column)


# ---------------------------------------------------------------------------------------------
# The emitter
# ---------------------------------------------------------------------------------------------


@functools.cache
def _representer() -> type:
    """ruamel's round-trip representer, writing ``null`` out and never an anchor or alias."""
    from ruamel.yaml.representer import RoundTripRepresenter

    class PlainRepresenter(RoundTripRepresenter):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # a date used twice (a contract's default start) is written twice

    def null(representer: Any, data: None) -> Any:  # ruamel leaves a null value empty
        return representer.represent_scalar("tag:yaml.org,2002:null", "null")

    PlainRepresenter.add_representer(type(None), null)  # on the subclass only
    return PlainRepresenter


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    y = YAML(typ="rt", pure=True)
    y.Representer = _representer()
    y.width = sys.maxsize  # never wrap a line: a value and its comment stay on one line
    y.indent(mapping=2, sequence=4, offset=2)  # list items indented under their key
    y.allow_unicode = True
    return y


def _dump(tree: Any) -> str:
    out = io.StringIO()
    _yaml().dump(tree, out)
    return out.getvalue()
