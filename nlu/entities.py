"""Entity extraction: built-in patterns, the data's regexes and lookup tables, and synonyms.

Built in are only what every desk has: ``email`` and ``case_number`` ("#12", "case 12",
"case no. 12", "ticket 12"; the value is the number). Everything about a business — its order
numbers, its product names — comes from its own training data: regexes (matched without regard
to case; the value is the matched text) and lookup tables (whole words, plurals included; the
value is the table's spelling). Synonyms then map values to canonical ones. Overlapping matches
are resolved longest-first, so one stretch of text yields one entity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BUILTIN_PATTERNS", "Entity", "EntityExtractor"]


@dataclass(frozen=True)
class Entity:
    """An entity found in a message: ``text`` is the matched surface, ``value`` its meaning."""

    entity: str
    value: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _digits(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group)


_Normalise = Callable[[re.Match[str]], str]

# name -> (pattern, how to turn a match into a value); all case-insensitive.
BUILTIN_PATTERNS: dict[str, tuple[str, _Normalise]] = {
    "email": (
        r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        lambda m: m.group(0).lower(),
    ),
    "case_number": (
        r"(?<![\w#])#\s?(\d{1,7})\b"
        r"|\b(?:case|ticket)(?:\s*(?:no\.?|nr\.?|number|num\.?|id))?\s*#?\s*(\d{1,7})\b",
        _digits,
    ),
}


@dataclass(frozen=True)
class _Rule:
    entity: str
    regex: re.Pattern[str]
    normalise: _Normalise | None  # None: the value is the matched text
    values: Mapping[str, str] | None = None  # lookup tables: casefolded match -> table spelling


class EntityExtractor:
    """Finds entities in text. Built from the training data's regexes, lookups and synonyms."""

    def __init__(
        self,
        *,
        regexes: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        synonyms: Mapping[str, str] | None = None,
        builtins: bool = True,
    ) -> None:
        self.regexes = {name: list(patterns) for name, patterns in (regexes or {}).items()}
        self.lookups = {name: list(values) for name, values in (lookups or {}).items()}
        self.synonyms = {key.casefold(): value for key, value in (synonyms or {}).items()}
        self.builtins = builtins
        self._rules = self._compile()

    def _compile(self) -> list[_Rule]:
        rules: list[_Rule] = []
        if self.builtins:
            for name, (pattern, normalise) in BUILTIN_PATTERNS.items():
                rules.append(_Rule(name, re.compile(pattern, re.IGNORECASE), normalise))
        for name, patterns in self.regexes.items():
            for pattern in patterns:
                rules.append(_Rule(name, re.compile(pattern, re.IGNORECASE), None))
        for name, values in self.lookups.items():
            if not values:
                continue
            table = {value.casefold(): value for value in values}
            alternation = "|".join(
                re.escape(value) for value in sorted(table, key=len, reverse=True)
            )
            regex = re.compile(rf"(?<!\w)(?:{alternation})(?:e?s)?(?!\w)", re.IGNORECASE)
            rules.append(_Rule(name, regex, None, table))
        return rules

    def extract(self, text: str) -> list[Entity]:
        """All entities in ``text``, without overlaps, in order of position."""
        candidates: list[tuple[int, int, int, Entity]] = []
        for priority, rule in enumerate(self._rules):
            for match in rule.regex.finditer(text):
                start, end = match.span()
                if start == end:
                    continue
                surface = match.group(0)
                value = self._value(rule, match)
                value = self.synonyms.get(value.casefold(), value)
                entity = Entity(rule.entity, value, start, end, surface)
                candidates.append((start, end, priority, entity))
        # Longest first; at equal length the earlier rule (built-in, then regex) wins.
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
        taken: list[Entity] = []
        for start, end, _priority, entity in candidates:
            if all(end <= other.start or start >= other.end for other in taken):
                taken.append(entity)
        return sorted(taken, key=lambda e: e.start)

    @staticmethod
    def _value(rule: _Rule, match: re.Match[str]) -> str:
        surface = match.group(0)
        if rule.values is not None:
            key = surface.casefold()
            for suffix in ("", "s", "es"):
                if suffix and key.endswith(suffix) and key[: -len(suffix)] in rule.values:
                    return rule.values[key[: -len(suffix)]]
                if not suffix and key in rule.values:
                    return rule.values[key]
            return surface
        if rule.normalise is not None:
            try:
                return rule.normalise(match)
            except StopIteration:
                return surface
        return surface

    def to_dict(self) -> dict[str, Any]:
        """The configuration, for saving next to a model."""
        return {
            "regexes": self.regexes,
            "lookups": self.lookups,
            "synonyms": self.synonyms,
            "builtins": self.builtins,
        }

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> EntityExtractor:
        return cls(
            regexes=config.get("regexes", {}),
            lookups=config.get("lookups", {}),
            synonyms=config.get("synonyms", {}),
            builtins=bool(config.get("builtins", True)),
        )
