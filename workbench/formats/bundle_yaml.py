"""Text bundles (``*.yaml``) <-> `Bundle`: the git-friendly form of a project.

Loading keeps YAML line numbers so every problem names the file, the line and the field
(docs/bundle-format.md shows examples). Dumping is deterministic, so ``dump(load(dump(b)))``
is byte-identical to ``dump(b)`` and a bundle kept in git only changes where the project did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import json
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import Any, NoReturn, cast, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from workbench.core.errors import BadInput
from workbench.core.models import BUNDLE_FORMAT_VERSION, BUNDLE_FORMAT_VERSIONS, Bundle

MAX_BUNDLE_BYTES = 50 * 1024 * 1024
MAX_PROBLEMS = 3
MAX_DEPTH = 100
# Aliases (*name) may repeat a value, but not blow a small file up into millions of values.
MAX_ALIAS_EXPANSION = 1_000_000
SCHEMA_PATH = Path("docs") / "bundle.schema.json"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_NO_WRAP = 1 << 30
# Line breaks YAML 1.1 knows besides "\n"; a block literal would not keep them as written.
_ODD_BREAKS = frozenset("\r\x85\u2028\u2029")
_BREAKS = _ODD_BREAKS | {"\n"}
_FLOW_LIST_WIDTH = 60
# Typed scalars we construct one by one before the document, so a bad one names its line.
_TYPED_TAGS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "base64 binary data",
}
_MAX_DIGITS = 4000  # below Python's int-from-text limit (4300), which has no line or field
# Order of a version's keys: number and note first, so a long system prompt doesn't bury them.
_VERSION_KEYS = ("version", "note", "created_at")

Loc = tuple[str | int, ...]

try:
    from yaml._yaml import CParser

    _HAVE_LIBYAML = True
except ImportError:  # PyYAML built without libyaml: same results, slower
    _HAVE_LIBYAML = False


def _new_loader(text: str) -> Any:
    """A safe loader: libyaml's parser (fast) under PyYAML's Python composer.

    The composer is the Python one on purpose: libyaml's recursive composer crashes the whole
    process on deeply nested input, while the Python one raises RecursionError, which we report.
    """
    if not _HAVE_LIBYAML:
        return yaml.SafeLoader(text)
    return _FastLoader(text)


if _HAVE_LIBYAML:

    class _FastLoader(Composer, CParser, SafeConstructor, Resolver):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


# --- loading ---------------------------------------------------------------------------------


def load_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read and validate a bundle file; any problem is a `BadInput` naming file, line and field."""
    source = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG  # let open() below say what is wrong
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        # A FIFO or a device would block the read (or never end): refuse before opening it.
        raise BadInput("is not a regular file (a pipe, socket or device?)", source=source)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BUNDLE_BYTES + 1)
    except FileNotFoundError:
        raise BadInput("file not found.", source=source, hint="Check the path.") from None
    except IsADirectoryError:
        raise BadInput("is a folder, not a bundle file", source=source) from None
    except OSError as exc:
        raise BadInput(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    if len(raw) > MAX_BUNDLE_BYTES:
        _too_big(source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput(
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded).",
            source=source,
            line=line,
            hint="Save it with UTF-8 encoding.",
        ) from None
    return loads_bundle(text, source=source)


def loads_bundle(text: str, source: str = "<bundle>") -> Bundle:
    """Parse and validate bundle text; `source` names it in error messages."""
    if len(text) > MAX_BUNDLE_BYTES:
        _too_big(source)
    text = text.removeprefix("\ufeff")
    loader, root, data = _parse(text, source)
    try:
        _check_format_version(loader, root, data, source)
        try:
            bundle = Bundle.model_validate(data)
        except ValidationError as exc:
            raise_problems(problems_from(exc, loader, root, data), source)
        problems = [
            Problem(locate(loader, root, loc)[1], loc, text, hint)
            for loc, text, hint in _unexportable(data, bundle.model_dump(mode="python"), ())
        ]
        if problems:
            raise_problems(problems, source)
        return bundle
    finally:
        loader.dispose()


def _unexportable(raw: Any, parsed: Any, loc: Loc) -> list[tuple[Loc, str, str]]:
    """Values the model accepted but should not have: a boolean read as a number (`version:
    true` would be 1), and dates that cannot be written back as UTC (year 9999 at -14:00)."""
    if isinstance(raw, dict) and isinstance(parsed, dict):
        return [
            found
            for key, value in raw.items()
            if isinstance(key, str) and key in parsed
            for found in _unexportable(value, parsed[key], (*loc, key))
        ]
    if isinstance(raw, list) and isinstance(parsed, list) and len(raw) == len(parsed):
        return [
            found
            for index, (item, value) in enumerate(zip(raw, parsed, strict=True))
            for found in _unexportable(item, value, (*loc, index))
        ]
    if isinstance(raw, bool) and isinstance(parsed, int | float) and not isinstance(parsed, bool):
        return [(loc, f"expected a number, but YAML reads `{str(raw).lower()}` as a boolean",
                 "Write the number itself.")]  # fmt: skip
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None:
        try:
            parsed.astimezone(dt.UTC)
        except OverflowError:
            return [(loc, f"the date {parsed.isoformat()} is out of range once converted to UTC",
                     "Use a date between years 1 and 9999 in UTC.")]  # fmt: skip
    return []


def _too_big(source: str) -> NoReturn:
    raise BadInput(
        f"the bundle is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB.",
        source=source,
        hint="Keep large datasets in the project file (.pwb), or split the bundle.",
    )


def _parse(text: str, source: str) -> tuple[Any, MappingNode, dict[str, Any]]:
    """Compose the node tree (for line numbers), vet it, then build plain Python data."""
    try:
        loader = _new_loader(text)
        root = loader.get_single_node()
        if root is None:
            raise BadInput(
                "the file is empty.",
                source=source,
                hint="A bundle starts with `workbench: 1` and `name: ...`.",
            )
        _vet_tree(loader, root, source)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except yaml.reader.ReaderError as exc:
        line = text[: max(text.find(chr(exc.character)), 0)].count("\n") + 1
        raise BadInput(
            f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML text.",
            source=source,
            line=line,
            hint='Remove it, or write it as an escape inside double quotes ("\\u0007").',
        ) from None
    except RecursionError:
        raise _too_deep(source, _line_reached(loader)) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2024-13-45
        raise BadInput(f"invalid value: {exc}", source=source) from None
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        raise BadInput(
            "the top level must be a mapping of `key: value` lines.",
            source=source,
            line=root.start_mark.line + 1,
            hint="A bundle starts with `workbench: 1` and `name: ...`.",
        )
    return loader, root, data


def _line_reached(loader: Any) -> int | None:
    """The line of the next event the parser holds: where the nesting became too deep."""
    try:
        return int(loader.peek_event().start_mark.line) + 1
    except Exception:  # a parser left broken by the recursion: no line rather than a crash
        return None


def _syntax_error(exc: yaml.MarkedYAMLError, source: str) -> BadInput:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "cannot parse"
    if "nesting depth" in problem:  # newer libyaml limits nesting itself; say it the same way
        return _too_deep(source, mark.line + 1 if mark else None)
    hint = "Check the indentation and quoting on this line and the one before."
    if exc.context and exc.problem and exc.problem.startswith("but "):
        problem = f"{exc.context} {exc.problem}"  # "expected a single document ... but found"
        hint = "A bundle is one YAML document; remove the `---` line."
    elif exc.context and exc.context_mark and exc.problem:
        problem += f" ({exc.context} on line {exc.context_mark.line + 1})"
    if "\\t" in problem or "tab" in problem:  # the Python and libyaml parsers word it apart
        hint = "Indent with spaces, not tabs."
    elif "constructor for the tag" in problem:
        hint = "Tags such as !!python/... are not allowed in bundles."
    where = f" at column {mark.column + 1}" if mark else ""
    return BadInput(
        _sentence(f"invalid YAML{where}: {problem}"),
        source=source,
        line=mark.line + 1 if mark else None,
        hint=hint,
    )


def _too_deep(source: str, line: int | None) -> BadInput:
    return BadInput(
        f"the YAML is nested more than {MAX_DEPTH} levels deep.",
        source=source,
        line=line,
        hint="Flatten the structure.",
    )


def _vet_tree(loader: Any, root: Node, source: str) -> None:
    """Reject duplicate keys, deep nesting, recursive aliases and alias bombs."""
    sizes: dict[int, int] = {}  # expanded node count per distinct node
    active: set[int] = set()

    def visit(node: Node, path: Loc) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        line = node.start_mark.line + 1
        if key in active:
            raise BadInput("an alias (*name) refers to itself", source=source, line=line)
        if len(path) > MAX_DEPTH:
            raise _too_deep(source, line)
        active.add(key)
        total = 1
        if isinstance(node, MappingNode):
            _check_duplicate_keys(loader, node, path, source)
            for key_node, value_node in node.value:
                step = _key_value(loader, key_node)
                total += visit(key_node, path) + visit(value_node, (*path, _as_step(step)))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                total += visit(item, (*path, index))
        elif isinstance(node, ScalarNode) and node.tag in _TYPED_TAGS:
            _check_scalar(loader, node, path, source)
        active.discard(key)
        sizes[key] = total
        return total

    if visit(root, ()) - len(sizes) > MAX_ALIAS_EXPANSION:
        raise BadInput(
            "aliases (*name) expand to too many values.",
            source=source,
            hint="Write the values out, or use fewer nested aliases.",
        )


def _check_scalar(loader: Any, node: ScalarNode, path: Loc, source: str) -> None:
    """Construct one typed scalar (`!!float`, a date, a number) so its error names the line."""
    kind = _TYPED_TAGS[node.tag]
    text = node.value
    message = None
    if node.tag == "tag:yaml.org,2002:int" and sum(c.isdigit() for c in text) > _MAX_DIGITS:
        digits = sum(c.isdigit() for c in text)
        message = f"a number with {digits} digits is far too long for any field"
    elif not text.strip():
        message = f"the value is empty, but its tag asks for {kind}"
    else:
        try:
            loader.yaml_constructors[node.tag](loader, node)
        except yaml.YAMLError:
            return  # the document's own construction reports it with its line
        except Exception as exc:  # PyYAML's constructors fail in many ways on odd text
            shown = text if len(text) <= 40 else text[:40] + "…"
            detail = f" ({_first_line(exc)})" if isinstance(exc, ValueError) else ""
            message = f"`{shown}` is not {kind}{detail}"
    if message is not None:
        raise BadInput(
            _sentence(message),
            source=source,
            line=node.start_mark.line + 1,
            field=_format_field(path) or None,
            hint="Write a valid value, or put text in quotes.",
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_duplicate_keys(loader: Any, node: MappingNode, path: Loc, source: str) -> None:
    # PyYAML silently keeps the last of two equal keys; in a hand-edited bundle that hides a bug.
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = _key_value(loader, key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise BadInput(
                f"duplicate key '{key_node.value}' (first on line {seen[key]}).",
                source=source,
                line=line,
                field=_format_field((*path, _as_step(key))),
                hint="Remove or rename one of them; YAML would silently keep only the last.",
            )
        seen[key] = line


def _key_value(loader: Any, node: Node) -> Any:
    """The Python value of a scalar key (so `1` and `"1"` differ, `yes` and `true` do not)."""
    if isinstance(node, ScalarNode):
        constructor = loader.yaml_constructors.get(node.tag)
        if constructor is not None:
            try:
                value = constructor(loader, node)
                hash(value)
                return value
            except Exception:  # unusual tags: fall back to the text as written
                pass
        return (node.tag, node.value)
    return ("node", id(node))


def _as_step(key: Any) -> str | int:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)


def _format_field(loc: Loc) -> str:
    """('prompts', 0, 'params', 'model') -> 'prompts[0].params.model'."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        elif re.fullmatch(r"[A-Za-z0-9_\-]+", step):
            out += f".{step}" if out else step
        else:
            out += f"[{json.dumps(step, ensure_ascii=False)}]"
    return out


def _check_format_version(
    loader: Any, root: MappingNode, data: dict[str, Any], source: str
) -> None:
    version = data.get("workbench", BUNDLE_FORMAT_VERSION)
    if type(version) is int and version in BUNDLE_FORMAT_VERSIONS:
        return
    line = locate(loader, root, ("workbench",))[1]
    newest = BUNDLE_FORMAT_VERSION
    if type(version) is int and version > newest:
        message = (
            f"this bundle uses format version {version}; this Workbench reads versions 1 to "
            f"{newest}"
        )
        hint = "Upgrade Prompt Workbench to open it."
    else:
        message = (
            f"unsupported bundle format version {_show(version)}; expected `workbench: 1` "
            f"or `workbench: {newest}`"
        )
        hint = f"Set `workbench: {newest}` on the first line."
    raise_problems([Problem(line, ("workbench",), message, hint)], source)


# --- mapping validation errors to lines --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle, at a line and field."""

    line: int | None
    loc: Loc
    text: str
    hint: str | None = None


def raise_problems(problems: list[Problem], source: str) -> NoReturn:
    """Raise one `BadInput`: the first problem (by line) first, up to MAX_PROBLEMS, one a line."""
    problems = sorted(problems, key=lambda p: p.line or 0)
    first = problems[0]
    lines = [first.text]
    for problem in problems[1:MAX_PROBLEMS]:
        where = f"{source}:{problem.line}" if problem.line else source
        lines.append(f"  {where} (field '{_format_field(problem.loc)}'): {problem.text}")
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"  ...and {len(problems) - MAX_PROBLEMS} more problem(s).")
    lines = [_sentence(line) for line in lines]
    hint = first.hint
    if len(problems) > 1:
        hint = "Fix these fields; docs/bundle-format.md lists every field and its type."
    raise BadInput(
        "\n".join(lines),
        source=source,
        line=first.line,
        field=_format_field(first.loc) or None,
        hint=hint,
    )


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def problems_from(exc: ValidationError, loader: Any, root: Node, data: Any) -> list[Problem]:
    """Turn pydantic's errors into problems located at the YAML lines they came from."""
    problems = []
    for error in exc.errors(include_url=False):
        is_key = "[key]" in error["loc"]
        loc: Loc = _without_union_tags(
            tuple(step for step in error["loc"] if step != "[key]"), data
        )
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "value_error":
            loc = _refine(loc, message, data)
        found, line, node = locate(loader, root, loc)
        text, hint = _describe(error["type"], message, error.get("input"), loc, is_key)
        if found == loc and isinstance(node, ScalarNode) and error["type"] == "string_type":
            kind = _YAML_KINDS.get(node.tag.rsplit(":", 1)[-1])
            if kind and not is_key:
                text = f"expected text, but YAML reads `{node.value}` as {kind}"
                hint = f'Put it in quotes: "{node.value}".'
        problems.append(Problem(line, loc, text, hint))
    return problems


def _without_union_tags(loc: Loc, data: Any) -> Loc:
    """Drop the steps pydantic adds for union members (``content.text``, ``[0].tool_use``).

    A step that is no key of the data at that point is a union tag, unless it is the last step
    (the name of a missing field).
    """
    out: list[str | int] = []
    target = data
    for index, step in enumerate(loc):
        last = index == len(loc) - 1
        present = (isinstance(target, dict) and step in target) or (
            isinstance(target, list) and isinstance(step, int) and step < len(target)
        )
        if present:
            target = cast(Any, target)[step]
        elif isinstance(step, str) and not (last and isinstance(target, dict)):
            continue
        else:
            target = None
        out.append(step)
    return tuple(out)


_YAML_KINDS = {
    "bool": "a boolean",
    "int": "a number",
    "float": "a number",
    "null": "null (no value)",
    "timestamp": "a date",
}


def locate(loader: Any, root: Node, loc: Loc) -> tuple[Loc, int, Node]:
    """Follow `loc` down the node tree as far as it goes: (path found, its line, its node)."""
    node, line, found = root, root.start_mark.line + 1, cast(Loc, ())
    for step in loc:
        if isinstance(node, MappingNode):
            # The last of equal keys wins when loading (merge keys `<<` come first).
            match = next(
                (
                    (key, value)
                    for key, value in reversed(node.value)
                    if _key_matches(_key_value(loader, key), step)
                ),
                None,
            )
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
        found = (*found, step)
    return found, line, node


def _key_matches(key: Any, step: str | int) -> bool:
    if isinstance(key, bool | tuple):
        return False
    return bool(key == step) or str(key) == str(step)


def _describe(
    kind: str, message: str, value: Any, loc: Loc, is_key: bool
) -> tuple[str, str | None]:
    """The problem text (first letter lower-case, so it reads after 'file:line:') and a hint."""
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            text = f"unknown field '{name}'; did you mean '{close[0]}'?"
        else:
            text = f"unknown field '{name}'; expected one of: {', '.join(allowed)}"
        return text, "Check the spelling; docs/bundle-format.md lists every field."
    if kind == "missing":
        return f"missing required field '{name}'", f"Add `{name}: ...` here."
    if kind == "invalid_key" or is_key:
        return f"the key {_show(loc[-1] if loc else value)} must be text", "Put it in quotes."
    if kind == "value_error":
        hint = "Names must be unique; rename one." if "duplicate" in message else None
        if "label" in message:
            hint = "Point the label at an existing version, or remove it."
        return message, hint
    text = message[:1].lower() + message[1:]
    if kind == "string_type":
        text = "expected text"
    if not isinstance(value, dict | list):
        text += f" (got {_show(value)})"
    if name == "role" and value == "system":
        return text, "Put the system prompt in the version's `system:` field instead."
    return text, None


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(loc: Loc) -> list[str]:
    """Field names of the model at `loc` (for 'did you mean'), following the model's types."""
    kind: Any = Bundle
    for step in loc:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(step) if isinstance(step, str) else None
            if field is None:
                return []
            kind = _unwrap_optional(field.annotation)
        elif get_origin(kind) in (list, dict):
            kind = _unwrap_optional(get_args(kind)[-1])
        else:
            return []
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


def _unwrap_optional(kind: Any) -> Any:
    args = [a for a in get_args(kind) if a is not type(None)]
    return args[0] if len(args) == 1 and get_origin(kind) is not list else kind


def _refine(loc: Loc, message: str, data: Any) -> Loc:
    """Point a model-level error (duplicates, dangling labels) at the entry that causes it."""
    target = data
    for step in loc:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return loc
    if not isinstance(target, dict):
        return loc
    label = re.search(r"label '([^']*)'", message)
    if label and label[1] in (target.get("labels") or {}):
        return (*loc, "labels", label[1])
    duplicate = re.search(r"duplicate (prompt|dataset|model) name", message)
    if duplicate:
        section, key = {"prompt": ("prompts", "name"), "dataset": ("datasets", "name")}.get(
            duplicate[1], ("models", "id")
        )
        return _second_of(target.get(section), section, key, loc)
    if "version numbers must be unique" in message:
        return _second_of(target.get("versions"), "versions", "version", loc)
    return loc


def _second_of(items: Any, section: str, key: str, loc: Loc) -> Loc:
    """The location of the first item whose `key` repeats an earlier item's."""
    seen = set()
    for index, item in enumerate(items if isinstance(items, list) else []):
        value = item.get(key) if isinstance(item, dict) else None
        if value is not None and not isinstance(value, dict | list):
            if value in seen:
                return (*loc, section, index, key)
            seen.add(value)
    return loc


# --- dumping ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, indented lists, no anchors: the same bundle always gives the same text."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None
    if _ODD_BREAKS.intersection(text):
        style = '"'  # escaped: quoted or literal styles would turn them into plain newlines
    elif "\n" in text:
        # A literal block for prompts and documents, unless it would start with a hard-to-see
        # break or space. The emitter falls back to double quotes if a literal can't hold it.
        style = '"' if text[0] in " \n" else "|"
    return dumper.represent_scalar(_STR_TAG, text, style=style)


def _represent_datetime(dumper: yaml.SafeDumper, value: dt.datetime) -> yaml.ScalarNode:
    # Naive datetimes are taken to be UTC; all are written as ISO 8601 UTC with "Z".
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    with contextlib.suppress(OverflowError):  # year 9999 at -14:00 has no UTC form: keep it
        value = value.astimezone(dt.UTC)
    text = value.isoformat().replace("+00:00", "Z")
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.SequenceNode:
    # Short lists of one-line scalars (tags, stop sequences) read better on one line.
    flat = all(
        isinstance(i, str | int | float) and not (isinstance(i, str) and _BREAKS & set(i))
        for i in items
    )
    short = flat and sum(len(str(i)) + 2 for i in items) <= _FLOW_LIST_WIDTH
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=short)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dt.datetime, _represent_datetime)


def dump_bundle(bundle: Bundle) -> str:
    """Deterministic YAML for `bundle`: `workbench: N` first, defaults (but settings) left out.

    N is 1 when nothing needs format 2, so bundles of older projects stay as they were.
    """
    data = bundle.model_dump(mode="python", exclude_defaults=True)
    data["workbench"] = BUNDLE_FORMAT_VERSION if bundle.needs_format_2() else 1
    # Settings are few and always written, so the quality bar shows in every bundle.
    data["settings"] = bundle.settings.model_dump(mode="python", exclude_none=True)
    for prompt in data.get("prompts", []):
        prompt["versions"] = [
            {**{k: v[k] for k in _VERSION_KEYS if k in v}, **v} for v in prompt.get("versions", [])
        ]
    document = {key: data[key] for key in Bundle.model_fields if key in data}
    text = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=_NO_WRAP,
        indent=2,
    )
    # A blank line before each section, for the eye. Only top-level keys start a line at
    # column 0, and a blank line after an empty line could extend a `|+` literal, so skip those.
    return re.sub(r"(?<=[^\n])\n(?=(?:settings|models|prompts|datasets):)", "\n\n", text)


def save_bundle(bundle: Bundle, path: str | os.PathLike[str]) -> None:
    """Write `bundle` to `path` atomically: a temp file in the same folder, fsync, rename."""
    target = Path(path)
    payload = dump_bundle(bundle).encode("utf-8")
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: never reuse someone else's file; mode 0o666 lets the umask decide, as for open().
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise BadInput(
            _sentence(f"cannot write the bundle: {exc.strerror or exc}"),
            source=os.fspath(path),
            hint="Check that the folder exists and is writable.",
        ) from None
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders, and need not.
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- JSON Schema -----------------------------------------------------------------------------


def bundle_json_schema() -> dict[str, Any]:
    """The JSON Schema of a bundle (what docs/bundle.schema.json holds)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Bundle.model_json_schema(),
    }


def bundle_json_schema_text() -> str:
    """The schema as the text committed in docs/bundle.schema.json."""
    return json.dumps(bundle_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_bundle_json_schema(path: str | os.PathLike[str] = SCHEMA_PATH) -> None:
    """Regenerate the schema file: ``python -m workbench.formats.bundle_yaml [PATH]``."""
    Path(path).write_text(bundle_json_schema_text(), encoding="utf-8", newline="\n")


if __name__ == "__main__":
    write_bundle_json_schema(sys.argv[1] if len(sys.argv) > 1 else SCHEMA_PATH)
