"""Loader and writer for Rasa's YAML NLU training format (version "3.1").

A training file looks like this::

    version: "3.1"
    nlu:
    - intent: order_status
      examples: |
        - where is my order [LM-204518](order_number)?
    - synonym: light strip
      examples: |
        - lightstrip
    - regex: order_number
      examples: |
        - LM-\\d{6}
    - lookup: product
      examples: |
        - bulb

``load_training_data`` accepts one file or a directory (every ``*.yml``/``*.yaml`` below it,
sorted and merged). Anything malformed raises ``NluDataError`` naming file, line and reason.
Line numbers come from the YAML node marks, so they point at the offending example.

Rasa 3.x features read and written back (``to_rasa_document``): synonyms, regexes, lookup
tables, entity roles and groups (``[Berlin]{"entity": "city", "role": "departure"}``), and
``metadata`` on an intent or on one example (the long form ``- text: …`` / ``metadata: …``).
Stories and rules in the same files are skipped. Refused with a sentence that says so:
retrieval-intent ``responses`` (they belong to the Rasa project's domain), ``metadata`` on a
synonym, regex or lookup, and keys Rasa itself does not know.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nlu.errors import NluDataError
from nlu.markup import AnnotationError, EntitySpan, annotate, strip_annotations

__all__ = [
    "DataPath",
    "EntitySpan",
    "Example",
    "NluDataError",
    "TrainingData",
    "load_training_data",
    "marked_up",
    "parse_training_documents",
    "parse_training_yaml",
    "to_rasa_document",
    "to_rasa_yaml",
]

logger = logging.getLogger(__name__)

_STR_TAG = "tag:yaml.org,2002:str"
_ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
_IGNORED_TOP_LEVEL = {"stories", "rules"}  # other Rasa training data; not ours to read
# Rasa training data the help desk cannot use, and why: said instead of "unknown key"
_UNSUPPORTED_TOP_LEVEL = {
    "responses": "retrieval-intent responses are not supported here; keep them in the Rasa "
    "project (domain or responses file) and give the help desk plain intents",
}
_EXAMPLE_KEYS = ("text", "metadata")


@dataclass(frozen=True)
class Example:
    """One training example: plain text (markup removed) and its annotated entities."""

    text: str
    entities: tuple[EntitySpan, ...] = ()
    metadata: Any = None  # Rasa's per-example ``metadata``, kept for export; not used to train


@dataclass
class TrainingData:
    """Everything an NLU file holds, merged across files."""

    intents: dict[str, list[Example]] = field(default_factory=dict)
    intent_metadata: dict[str, Any] = field(default_factory=dict)  # an intent item's metadata
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-cased variant -> canonical
    regexes: dict[str, list[str]] = field(default_factory=dict)  # entity -> patterns
    lookups: dict[str, list[str]] = field(default_factory=dict)  # entity -> values
    warnings: list[str] = field(default_factory=list)

    def texts(self, intent: str) -> list[str]:
        return [example.text for example in self.intents.get(intent, [])]

    def pairs(self) -> tuple[list[str], list[str]]:
        """All examples as parallel lists: texts and their intent labels."""
        texts: list[str] = []
        labels: list[str] = []
        for intent, examples in self.intents.items():
            for example in examples:
                texts.append(example.text)
                labels.append(intent)
        return texts, labels

    @property
    def example_count(self) -> int:
        return sum(len(examples) for examples in self.intents.values())

    def fingerprint(self) -> str:
        """A sha256 of the content (not of the files): comments and layout do not count."""
        content = {
            "intents": {
                name: [[e.text, [s.to_dict() for s in e.entities]] for e in examples]
                for name, examples in self.intents.items()
            },
            "synonyms": dict(sorted(self.synonyms.items())),
            "regexes": self.regexes,
            "lookups": self.lookups,
        }
        blob = json.dumps(content, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


DataPath = str | Path | Sequence[str | Path]


def load_training_data(path: DataPath) -> TrainingData:
    """Load a Rasa NLU file, or every ``*.yml``/``*.yaml`` file under a directory; several
    paths (the bundled dialog intents, then a business's own topics) merge in the order given."""
    roots = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    if not roots:
        raise NluDataError("", None, "no training data given")
    builder = _Builder()
    for root in roots:
        for file in _files_under(root):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise NluDataError(str(file), None, f"cannot read: {exc}") from exc
            builder.add_document(text, str(file))
    return builder.finish(" + ".join(str(root) for root in roots))


def _files_under(root: Path) -> list[Path]:
    if root.is_dir():
        files = sorted(
            (p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()),
            key=lambda p: p.relative_to(root).as_posix(),
        )
        if not files:
            raise NluDataError(str(root), None, "no *.yml or *.yaml files in this directory")
        return files
    if root.is_file():
        return [root]
    raise NluDataError(str(root), None, "no such file or directory")


def parse_training_documents(documents: Sequence[tuple[str, str]]) -> TrainingData:
    """Several documents' texts, each with its source for error messages, merged in order (as
    ``load_training_data`` merges files)."""
    builder = _Builder()
    for text, source in documents:
        builder.add_document(text, source)
    return builder.finish(" + ".join(source for _, source in documents))


def parse_training_yaml(text: str, source: str = "<string>") -> TrainingData:
    """Parse one document's text (``source`` is used in error messages)."""
    builder = _Builder()
    builder.add_document(text, source)
    return builder.finish(source)


# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes and marks,
# some twenty times faster, and a start parses the training files several times
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Builder:
    """Accumulates items from several files, checking each as it goes."""

    def __init__(self) -> None:
        self.data = TrainingData()
        self._seen: dict[str, tuple[str, str]] = {}  # normalised text -> (intent, where)

    def add_document(self, text: str, source: str) -> None:
        try:
            root = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise NluDataError(source, line, f"not valid YAML: {problem}") from exc
        if root is None:
            return  # an empty file contributes nothing
        if not isinstance(root, MappingNode):
            raise NluDataError(source, _line(root), "expected a mapping with 'version' and 'nlu'")
        for key_node, value_node in root.value:
            key = _scalar(key_node, source, "top-level key")
            if key == "version":
                _scalar(value_node, source, "version")
            elif key == "nlu":
                if not isinstance(value_node, SequenceNode):
                    raise NluDataError(source, _line(value_node), "'nlu' must be a list of items")
                for item in value_node.value:
                    self._add_item(item, source)
            elif key in _UNSUPPORTED_TOP_LEVEL:
                why = _UNSUPPORTED_TOP_LEVEL[key]
                raise NluDataError(source, _line(key_node), f"{key!r}: {why}")
            elif key not in _IGNORED_TOP_LEVEL:
                raise NluDataError(source, _line(key_node), f"unknown top-level key {key!r}")

    def _add_item(self, node: Node, source: str) -> None:
        if not isinstance(node, MappingNode):
            raise NluDataError(source, _line(node), "each 'nlu' item must be a mapping")
        kind: str | None = None
        name = ""
        examples_node: Node | None = None
        metadata_node: Node | None = None
        for key_node, value_node in node.value:
            key = _scalar(key_node, source, "key")
            if key in _ITEM_KINDS:
                if kind is not None:
                    raise NluDataError(
                        source, _line(key_node), f"item has both {kind!r} and {key!r}"
                    )
                kind = key
                name = _scalar(value_node, source, f"{key} name").strip()
                if not name:
                    raise NluDataError(source, _line(value_node), f"empty {key} name")
            elif key == "examples":
                examples_node = value_node
            elif key == "metadata":
                metadata_node = value_node
            else:
                raise NluDataError(source, _line(key_node), f"unknown key {key!r} in nlu item")
        if kind is None:
            raise NluDataError(
                source, _line(node), "item needs one of 'intent', 'synonym', 'regex', 'lookup'"
            )
        if examples_node is None:
            raise NluDataError(source, _line(node), f"{kind} {name!r} has no 'examples'")
        if metadata_node is not None and kind != "intent":
            raise NluDataError(
                source,
                _line(metadata_node),
                f"'metadata' on a {kind} is not supported (Rasa "
                "reads it on intents and examples only)",
            )
        if metadata_node is not None:
            self.data.intent_metadata[name] = _python(metadata_node)
        lines = _example_lines(examples_node, source)
        if not lines:
            raise NluDataError(source, _line(examples_node), f"{kind} {name!r} has no examples")
        if kind == "intent":
            self._add_intent(name, lines, source)
        else:
            getattr(self, f"_add_{kind}")(name, [(text, line) for text, line, _ in lines], source)

    def _add_intent(self, name: str, lines: list[_ExampleLine], source: str) -> None:
        examples = self.data.intents.setdefault(name, [])
        for raw, line, metadata in lines:
            try:
                text, spans = strip_annotations(raw)
            except AnnotationError as exc:
                raise NluDataError(source, line, str(exc)) from exc
            text = " ".join(text.split())
            if not text:
                raise NluDataError(source, line, "empty example")
            key = text.casefold()
            if key in self._seen:
                other_intent, where = self._seen[key]
                if other_intent != name:
                    message = (
                        f"{source}:{line}: {text!r} is already an example of {other_intent!r} "
                        f"({where}); ignored under {name!r}"
                    )
                    self.data.warnings.append(message)
                    logger.warning(message)
                continue  # a duplicate is dropped
            self._seen[key] = (name, f"{source}:{line}")
            examples.append(Example(text, tuple(spans), metadata))
            for span in spans:
                surface = text[span.start : span.end]
                if span.value != surface:
                    self.data.synonyms.setdefault(surface.casefold(), span.value)

    def _add_synonym(self, name: str, lines: list[tuple[str, int]], source: str) -> None:
        for variant, line in lines:
            key = variant.casefold()
            existing = self.data.synonyms.get(key)
            if existing is not None and existing != name:
                raise NluDataError(
                    source, line, f"{variant!r} is already a synonym of {existing!r}"
                )
            self.data.synonyms[key] = name

    def _add_regex(self, name: str, lines: list[tuple[str, int]], source: str) -> None:
        patterns = self.data.regexes.setdefault(name, [])
        for pattern, line in lines:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise NluDataError(source, line, f"invalid regex {pattern!r}: {exc}") from exc
            if pattern not in patterns:
                patterns.append(pattern)

    def _add_lookup(self, name: str, lines: list[tuple[str, int]], source: str) -> None:
        values = self.data.lookups.setdefault(name, [])
        for value, _line_no in lines:
            if value not in values:
                values.append(value)

    def finish(self, source: str) -> TrainingData:
        if not self.data.intents:
            raise NluDataError(source, None, "no intents found")
        return self.data


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar(node: Node, source: str, what: str) -> str:
    if not isinstance(node, ScalarNode) or node.tag != _STR_TAG:
        raise NluDataError(source, _line(node), f"{what} must be a string")
    return str(node.value)


# an example's text, its 1-based line, and its metadata (None when it has none)
_ExampleLine = tuple[str, int, Any]


def _python(node: Node) -> Any:
    """A YAML node as plain Python data (for ``metadata``)."""
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _example_lines(node: Node, source: str) -> list[_ExampleLine]:
    """The examples of an ``examples`` value, with their 1-based line numbers."""
    if isinstance(node, SequenceNode):  # Rasa's long form: a list of {text, metadata}
        result: list[_ExampleLine] = []
        for item in node.value:
            if not isinstance(item, MappingNode):
                raise NluDataError(source, _line(item), "each example must be a mapping")
            fields = {_scalar(k, source, "example key"): v for k, v in item.value}
            unknown = sorted(set(fields) - set(_EXAMPLE_KEYS))
            if unknown:
                raise NluDataError(
                    source,
                    _line(item),
                    f"unknown key {unknown[0]!r} in an example "
                    f"(Rasa's long form takes {', '.join(_EXAMPLE_KEYS)})",
                )
            if "text" not in fields:
                raise NluDataError(source, _line(item), "example mapping needs 'text'")
            text = _scalar(fields["text"], source, "example text").strip()
            metadata = _python(fields["metadata"]) if "metadata" in fields else None
            result.append((text, _line(fields["text"]), metadata))
        return result
    block = _scalar(node, source, "examples")
    # A block scalar's mark is the '|' indicator: its content starts on the next line.
    first = _line(node) + (1 if getattr(node, "style", None) in ("|", ">") else 0)
    result = []
    for offset, raw_line in enumerate(block.splitlines()):
        stripped = raw_line.strip()
        if not stripped:
            continue
        line = first + offset
        if not stripped.startswith("-"):
            raise NluDataError(source, line, f"example must start with '- ': {stripped!r}")
        text = stripped[1:].strip()
        if not text:
            raise NluDataError(source, line, "empty example")
        result.append((text, line, None))
    return result


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/ ]*$")


def to_rasa_yaml(intent_examples: dict[str, list[str]]) -> str:
    """Write plain examples (no annotations) as a Rasa 3.1 NLU document.

    Square brackets are annotation syntax in Rasa's format and cannot be escaped, so they are
    written as parentheses; line breaks and control characters become spaces.
    """
    out = ['version: "3.1"', "nlu:"]
    for intent, examples in intent_examples.items():
        name = intent if _plain_scalar_ok(intent) else json.dumps(intent)
        cleaned = []
        for example in examples:
            text = _CONTROL.sub(" ", example).replace("[", "(").replace("]", ")")
            text = " ".join(text.split())
            if text:
                cleaned.append(text)
        if not cleaned:
            continue
        out.append(f"- intent: {name}")
        out.append("  examples: |")
        out.extend(f"    - {text}" for text in cleaned)
    return "\n".join(out) + "\n"


def _plain_scalar_ok(name: str) -> bool:
    """Whether ``name`` reads back as this same string unquoted (``yes``, ``no``, ``null``,
    ``1.5`` would turn into other types)."""
    if not _SIMPLE_NAME.match(name):
        return False
    try:
        return bool(yaml.safe_load(name) == name)
    except yaml.YAMLError:
        return False


def to_rasa_document(data: TrainingData, *, header: str = "") -> str:
    """All of ``data`` as one Rasa 3.1 NLU document that a Rasa assistant trains on: intents
    with their entity annotations (roles and groups too) and metadata, synonyms, regexes and
    lookup tables. ``load`` of the result gives ``data`` back (``helpdesk nlu export`` checks)."""
    out = [f"# {line}" if line else "#" for line in header.splitlines()]
    out += ['version: "3.1"', "nlu:"]
    for intent, examples in data.intents.items():
        if not examples:
            continue
        out.append(f"- intent: {_yaml_name(intent)}")
        if intent in data.intent_metadata:
            out.append(f"  metadata: {_flow(data.intent_metadata[intent])}")
        marked = [marked_up(example) for example in examples]
        if any(example.metadata is not None for example in examples):
            out.append("  examples:")  # the long form: one mapping per example
            for example, text in zip(examples, marked, strict=True):
                out.append(f"  - text: {_flow(text)}")
                if example.metadata is not None:
                    out.append(f"    metadata: {_flow(example.metadata)}")
        else:
            out.append("  examples: |")
            out.extend(f"    - {text}" for text in marked)
    by_canonical: dict[str, list[str]] = {}
    for variant, canonical in data.synonyms.items():
        if variant != canonical:
            by_canonical.setdefault(canonical, []).append(variant)
    for canonical, variants in by_canonical.items():
        out += _block("synonym", canonical, variants)
    for entity, patterns in data.regexes.items():
        out += _block("regex", entity, patterns)
    for entity, values in data.lookups.items():
        out += _block("lookup", entity, values)
    return "\n".join(out) + "\n"


def marked_up(example: Example) -> str:
    """The example's text with its entities annotated again."""
    text, cursor, parts = example.text, 0, []
    for span in sorted(example.entities, key=lambda s: s.start):
        parts.append(text[cursor : span.start])
        parts.append(annotate(text[span.start : span.end], span))
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)


def _block(kind: str, name: str, lines: list[str]) -> list[str]:
    return [
        f"- {kind}: {_yaml_name(name)}",
        "  examples: |",
        *(f"    - {line}" for line in lines),
    ]


def _yaml_name(name: str) -> str:
    return name if _plain_scalar_ok(name) else json.dumps(name, ensure_ascii=False)


def _flow(value: Any) -> str:
    """``value`` on one line: JSON, which YAML reads as the same data."""
    return json.dumps(value, ensure_ascii=False)


def describe(data: TrainingData) -> dict[str, Any]:
    """Counts for status output."""
    return {
        "intents": len(data.intents),
        "examples": data.example_count,
        "synonyms": len(data.synonyms),
        "regexes": len(data.regexes),
        "lookups": len(data.lookups),
    }
