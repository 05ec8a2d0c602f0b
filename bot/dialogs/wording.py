"""A business's own voice: its name and what it covers in the greeting and the off-topic reply,
and any reply reworded by key in ``<data dir>/replies.yml``.

``bot.dialogs.replies`` stays the one home of every sentence and its default wording. A key is
a reply's name there in lower case: ``greeting`` for ``GREETING``, ``case_opened`` for
``case_opened(number, position)``. A reworded sentence may use the reply's own facts as
placeholders — a function's parameters (``{number}``), and ``{business}`` / ``{covers}`` from
helpdesk.yml anywhere — and must keep the facts without which it would mislead (a function's
parameters that have no default). Everything is checked when the desk starts; a mistake is a
``ConfigError`` naming the file and the key.

The wording is the process's, like its locale: ``use_wording`` puts it in place when the desk
is built (one desk per process), so the hundred places that say ``replies.X`` need no wiring.
Building a desk always puts its whole wording in place, defaults included, so nothing of an
earlier desk in the same process survives.
"""

from __future__ import annotations

import inspect
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config import Business
from bot.dialogs import replies
from bot.errors import ConfigError

# parameter types a reworded sentence can show (datetimes take a format: {opens_at:%H:%M})
_SHOWABLE = frozenset({"str", "int", "datetime", "str | None", "int | None"})
_BUSINESS_FACTS = ("business", "covers")


@dataclass(frozen=True)
class _Reply:
    key: str
    default: Any  # the str constant or the function
    placeholders: frozenset[str]
    required: frozenset[str]


_ORIGINALS: dict[str, Any] = {}


def _originals() -> dict[str, Any]:
    """``bot.dialogs.replies`` as written, before any wording was put in place."""
    if not _ORIGINALS:
        _ORIGINALS.update(
            {name: value for name, value in vars(replies).items() if not name.startswith("__")}
        )
    return _ORIGINALS


def _catalog() -> dict[str, _Reply]:
    """Every reply that can be reworded, by key, from ``bot.dialogs.replies`` itself."""
    catalog: dict[str, _Reply] = {}
    for name, value in _originals().items():
        if name.startswith("_") or name in _DEFAULTS_ONLY:
            continue
        if isinstance(value, str) and name.isupper():
            facts = frozenset(_BUSINESS_FACTS)
            catalog[name.lower()] = _Reply(name.lower(), value, facts, frozenset())
        elif inspect.isfunction(value) and value.__module__ == replies.__name__:
            reply = _function_reply(name, value)
            if reply is not None:
                catalog[name] = reply
    return catalog


def _function_reply(name: str, function: Callable[..., Any]) -> _Reply | None:
    signature = inspect.signature(function)
    if signature.return_annotation != "str":
        return None  # buttons, lists of lines: not a sentence
    params = signature.parameters.values()
    if any(str(p.annotation) not in _SHOWABLE for p in params):
        return None  # built from lists or switches: reworded only in replies.py
    names = frozenset(p.name for p in params)
    required = frozenset(p.name for p in params if p.default is inspect.Parameter.empty)
    return _Reply(name, function, names | frozenset(_BUSINESS_FACTS), required)


# the business-aware defaults' own templates (see ``default_texts``), not replies themselves
_DEFAULTS_ONLY = frozenset({"GREETING_FOR_BUSINESS", "OFF_TOPIC_FOR_BUSINESS"})


@dataclass(frozen=True)
class Wording:
    """The replies in force: the defaults, the business's facts, the business's rewordings."""

    business: Business = field(default_factory=Business)
    overrides: Mapping[str, str] = field(default_factory=dict)

    def facts(self) -> dict[str, str]:
        return {"business": self.business.name, "covers": self.business.covers}

    def texts(self) -> dict[str, str]:
        """The constant replies as they will be said, by module name (``GREETING``)."""
        catalog = _catalog()
        texts = {
            reply.key.upper(): reply.default
            for reply in catalog.values()
            if isinstance(reply.default, str)
        }
        texts.update(_business_defaults(self.business))
        for key, template in self.overrides.items():
            if isinstance(catalog[key].default, str):
                texts[key.upper()] = template.format(**self.facts())
        return texts

    def functions(self) -> dict[str, Callable[..., str]]:
        """The reworded function replies, by name."""
        catalog = _catalog()
        return {
            key: _reworded(catalog[key].default, template, self.facts())
            for key, template in self.overrides.items()
            if not isinstance(catalog[key].default, str)
        }


def _business_defaults(business: Business) -> dict[str, str]:
    """The greeting and the off-topic reply name the business and what the bot covers."""
    if not business.name and not business.covers:
        return {}
    name = business.name or "our"
    about = f" about {business.covers}" if business.covers else ""
    originals = _originals()
    greeting = originals["GREETING_FOR_BUSINESS"].format(business=name, about=about)
    if business.name and business.covers:
        scope = f"{business.name}: {business.covers}"
    else:
        scope = business.covers or f"questions about {business.name}"
    off_topic = originals["OFF_TOPIC_FOR_BUSINESS"].format(scope=scope)
    return {"GREETING": greeting, "OFF_TOPIC": off_topic}


def _reworded(
    function: Callable[..., str], template: str, facts: Mapping[str, str]
) -> Callable[..., str]:
    signature = inspect.signature(function)

    def say(*args: Any, **kwargs: Any) -> str:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = {k: ("" if v is None else v) for k, v in bound.arguments.items()}
        return template.format(**facts, **values)

    say.__name__ = function.__name__
    say.__doc__ = function.__doc__
    return say


def _placeholders(template: str, where: str) -> set[str]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:  # a lone "{" or "}"
        raise ConfigError(f"{where}: {exc} (write {{{{ or }}}} for a literal brace)") from exc
    names = set()
    for name in fields:
        if not name or not name.isidentifier():
            raise ConfigError(f"{where}: placeholders are names in braces, like {{number}}")
        names.add(name)
    return names


def check_overrides(raw: Mapping[str, Any], source: str) -> dict[str, str]:
    """The rewordings in ``raw`` (from ``source``), each checked against its reply."""
    catalog = _catalog()
    checked: dict[str, str] = {}
    for key, template in raw.items():
        where = f"{source}: {key}"
        reply = catalog.get(str(key))
        if reply is None:
            raise ConfigError(
                f"{where}: there is no reply called {key!r} (keys are the names in "
                "bot/dialogs/replies.py in lower case, e.g. greeting, off_topic)"
            )
        if not isinstance(template, str) or not template.strip():
            raise ConfigError(f"{where}: expected the reply's text")
        used = _placeholders(template, where)
        unknown = sorted(used - reply.placeholders)
        if unknown:
            allowed = ", ".join(f"{{{n}}}" for n in sorted(reply.placeholders))
            raise ConfigError(
                f"{where}: unknown placeholder {{{unknown[0]}}} (this reply can use {allowed})"
            )
        missing = sorted(reply.required - used)
        if missing:
            raise ConfigError(f"{where}: the reply must contain {{{missing[0]}}}")
        checked[str(key)] = template
    return checked


def load_wording(path: Path, business: Business) -> Wording:
    """The business's wording: ``path`` (replies.yml) may be absent — the defaults then."""
    if not path.is_file():
        return Wording(business=business)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of reply keys to their text")
    return Wording(business=business, overrides=check_overrides(raw, str(path)))


def use_wording(wording: Wording) -> None:
    """Put ``wording`` in place for this process (every reply not reworded: its default)."""
    for name, value in _originals().items():  # first the defaults, so nothing earlier survives
        setattr(replies, name, value)
    for name, text in wording.texts().items():
        setattr(replies, name, text)
    for name, function in wording.functions().items():
        setattr(replies, name, function)


_originals()
