"""Rasa's inline entity annotations inside training examples.

Three forms are understood, as in Rasa 3:

* ``[Berlin](city)`` — the value is the annotated text;
* ``[NYC](city:New York)`` — an explicit value (the text becomes a synonym of it);
* ``[NYC]{"entity": "city", "value": "New York"}`` — the JSON form, which may also carry Rasa's
  entity ``role`` and ``group`` (``[Berlin]{"entity": "city", "role": "departure"}``).

``strip_annotations`` returns the plain text and the entity spans measured in that plain text.
A ``[...]`` that is not followed by ``(`` or ``{`` is ordinary text, as in Rasa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class AnnotationError(ValueError):
    """An annotation that cannot be parsed; the message says why."""


@dataclass(frozen=True)
class EntitySpan:
    """An annotated entity in an example's plain text: ``text[start:end]``."""

    start: int
    end: int
    entity: str
    value: str
    role: str | None = None
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        span: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "entity": self.entity,
            "value": self.value,
        }
        # only when set: data without roles keeps its fingerprint (no retraining)
        if self.role is not None:
            span["role"] = self.role
        if self.group is not None:
            span["group"] = self.group
        return span


# what Rasa 3's JSON annotation may say; anything else is refused by name
JSON_ANNOTATION_KEYS = ("entity", "value", "role", "group")


def annotate(surface: str, span: EntitySpan) -> str:
    """``surface`` marked up as ``span``: the short form where it says everything, else JSON."""
    if span.value == surface and span.role is None and span.group is None:
        return f"[{surface}]({span.entity})"
    target: dict[str, str] = {"entity": span.entity}
    if span.value != surface:
        target["value"] = span.value
    if span.role is not None:
        target["role"] = span.role
    if span.group is not None:
        target["group"] = span.group
    return f"[{surface}]" + json.dumps(target, ensure_ascii=False)


def strip_annotations(example: str) -> tuple[str, list[EntitySpan]]:
    """Remove annotation markup; return the plain text and its entity spans."""
    out: list[str] = []
    spans: list[EntitySpan] = []
    length = 0
    i = 0
    while i < len(example):
        char = example[i]
        if char != "[":
            out.append(char)
            length += 1
            i += 1
            continue
        close = example.find("]", i + 1)
        if close < 0:
            raise AnnotationError(f"unclosed '[' at column {i + 1} in {example!r}")
        inner = example[i + 1 : close]
        after = example[close + 1 : close + 2]
        if after not in ("(", "{"):
            out.append(example[i : close + 1])  # plain brackets, not an annotation
            length += close + 1 - i
            i = close + 1
            continue
        if not inner.strip():
            raise AnnotationError(f"empty annotated text at column {i + 1} in {example!r}")
        target, i = _parse_target(example, close + 1, inner)
        spans.append(EntitySpan(length, length + len(inner), **target))
        out.append(inner)
        length += len(inner)
    return "".join(out), spans


def _parse_target(example: str, at: int, inner: str) -> tuple[dict[str, Any], int]:
    """Parse ``(entity[:value])`` or ``{json}`` starting at ``at``; return the span's entity,
    value (role, group) and where the annotation ends."""
    closing = ")" if example[at] == "(" else "}"
    end = example.find(closing, at + 1)
    if end < 0:
        raise AnnotationError(f"unclosed '{example[at]}' at column {at + 1} in {example!r}")
    body = example[at + 1 : end]
    if closing == ")":
        entity, _, value = body.partition(":")
        entity, value = entity.strip(), value.strip()
        if not entity:
            raise AnnotationError(f"annotation without an entity name in {example!r}")
        return {"entity": entity, "value": value or inner}, end + 1
    try:
        parsed = json.loads("{" + body + "}")
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"invalid JSON annotation in {example!r}: {exc.msg}") from exc
    if not isinstance(parsed, dict):
        raise AnnotationError(f"JSON annotation must be an object in {example!r}")
    unknown = sorted(set(parsed) - set(JSON_ANNOTATION_KEYS))
    if unknown:
        raise AnnotationError(
            f"unsupported key(s) {', '.join(map(repr, unknown))} in the annotation in {example!r}"
            f" (Rasa 3 annotations take {', '.join(JSON_ANNOTATION_KEYS)})"
        )
    entity_name = parsed.get("entity")
    if not isinstance(entity_name, str) or not entity_name.strip():
        raise AnnotationError(f"JSON annotation needs a string 'entity' in {example!r}")
    raw_value = parsed.get("value", inner)
    if not isinstance(raw_value, str | int | float):
        raise AnnotationError(f"JSON annotation 'value' must be a string in {example!r}")
    target: dict[str, Any] = {"entity": entity_name.strip(), "value": str(raw_value)}
    for key in ("role", "group"):
        if key in parsed:
            label = parsed[key]
            if not isinstance(label, str | int) or not str(label).strip():
                raise AnnotationError(f"JSON annotation {key!r} must be a name in {example!r}")
            target[key] = str(label).strip()
    return target, end + 1
